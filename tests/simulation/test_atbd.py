"""The S2 ATBD prior (truncated Gaussians, LAI co-distribution) and noise model (Weiss & Baret 2016)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import truncnorm

from leafjax.simulation import ATBD_CODISTRIBUTION, ATBD_MARGINALS, AtbdNoise, AtbdPrior, atbd_prior
from leafjax.simulation import sample_prosail_table

N = 40_000
GAUSSIANS = ("lai", "lidf_a", "hotspot", "n_struct", "chl", "lma", "brown", "soil_dryness", "soil_brightness")


def _tn(name):
    lo, hi, mean, sd = ATBD_MARGINALS[name]
    return truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)


@pytest.fixture(scope="module")
def independent():
    return {k: np.asarray(v) for k, v in atbd_prior(codistribution=False).sample(jax.random.key(0), N).items()}


def test_marginals_match_truncated_normal_moments(independent):
    s = independent
    cw_rel = s["ewt"] / (s["lma"] + s["ewt"])  # inverts ewt = lma·cw/(1 − cw)
    for name, x in [*((n, s[n]) for n in GAUSSIANS), ("cw_rel", cw_rel)]:
        lo, hi = ATBD_MARGINALS[name][:2]
        d = _tn(name)
        assert x.min() >= lo - 1e-12 and x.max() <= hi + 1e-12, name
        assert abs(x.mean() - d.mean()) < 4 * d.std() / np.sqrt(N), (name, x.mean(), d.mean())
        # the sample median's CDF value is 0.5 within 4 binomial standard errors
        assert abs(d.cdf(np.median(x)) - 0.5) < 4 * 0.5 / np.sqrt(N), name
    np.testing.assert_allclose(s["car"], 0.25 * s["chl"], rtol=1e-12)
    assert np.all(s["ant"] == 0)
    for name, (lo, hi) in {"sza": (20, 30), "vza": (0, 10), "raa": (0, 360)}.items():
        assert s[name].min() >= lo and s[name].max() <= hi and abs(s[name].mean() - (lo + hi) / 2) < 0.02 * (hi - lo)


def test_codistribution_narrows_ranges_with_lai(independent):
    s = {k: np.asarray(v) for k, v in atbd_prior().sample(jax.random.key(0), N).items()}
    lai = s["lai"]
    np.testing.assert_array_equal(lai, independent["lai"])  # same key: same draws, then the linear map
    frac = lai / 15.0
    for name in ("lidf_a", "chl", "n_struct", "lma", "brown", "soil_dryness", "soil_brightness"):
        (lo0, hi0), (lo1, hi1) = ATBD_MARGINALS[name][:2], ATBD_CODISTRIBUTION[name]
        lo, hi = lo0 + frac * (lo1 - lo0), hi0 + frac * (hi1 - hi0)
        expected = lo + (independent[name] - lo0) * (hi - lo) / (hi0 - lo0)
        np.testing.assert_allclose(s[name], expected, rtol=1e-10, atol=1e-12, err_msg=name)
        assert np.all(s[name] >= lo - 1e-9) and np.all(s[name] <= hi + 1e-9), name
    dense = lai > 10
    assert dense.sum() > 100
    assert s["chl"][dense].min() >= 20 + 10 * 25 / 15 - 1e-9  # chl in [36.7, 90] above lai 10
    assert s["soil_brightness"][dense].max() <= 3.5 - 10 * 2.3 / 15 + 1e-9
    assert independent["chl"][dense].min() < 30  # ...which the independent draws do not respect
    assert np.all(s["ewt"] / (s["lma"] + s["ewt"]) <= 0.85 - frac * 0.05 + 1e-9)  # cw_rel max 0.85 -> 0.80


def test_reproducible_per_key_dtype_and_validation():
    p = atbd_prior()  # N float64 draws: the program compiled for the co-distribution test
    a, b, c = p.sample(jax.random.key(3), N), p.sample(jax.random.key(3), N), p.sample(jax.random.key(4), N)
    assert set(a) == set(p.names) and isinstance(p, AtbdPrior)
    assert all(np.array_equal(a[k], b[k]) for k in a) and not np.array_equal(a["lai"], c["lai"])
    f = atbd_prior(sza=(40.0, 50.0)).sample(jax.random.key(3), 64, dtype=jnp.float32)
    assert all(v.dtype == jnp.float32 for v in f.values())
    assert float(f["sza"].min()) >= 40 and float(f["sza"].max()) <= 50
    with pytest.raises(ValueError, match="sza range"):
        atbd_prior(sza=(30.0, 20.0))
    with pytest.raises(ValueError, match="vza range"):
        atbd_prior(vza=(0.0, 95.0))
    with pytest.raises(ValueError, match="positive integer"):
        p.sample(jax.random.key(0), 0)


def test_atbd_noise_statistics():
    names = ("B02", "B3", "B4", "B8A")
    noise = AtbdNoise(band_names=names)
    np.testing.assert_array_equal(noise.independent_mask(4), [1, 1, 0, 0])
    r = 0.2
    x = np.asarray(noise(jax.random.key(0), jnp.full((N, 4), r)))
    e = x - r
    var_dep = 0.01**2 + (r * 0.02) ** 2
    var_ind = 0.01**2 + (r * 0.02) ** 2
    np.testing.assert_allclose(e.var(0), [var_dep + var_ind] * 2 + [var_dep] * 2, rtol=0.05)
    assert np.all(np.abs(e.mean(0)) < 4 * np.sqrt(2 * var_dep / N))
    corr = np.corrcoef(e.T)
    assert abs(corr[0, 1] - var_ind / (var_dep + var_ind)) < 0.03  # shared I-terms correlate B2 and B3
    assert abs(corr[0, 2]) < 0.03 and abs(corr[2, 3]) < 0.03
    np.testing.assert_array_equal(np.asarray(noise(jax.random.key(0), jnp.full((N, 4), r))), x)  # same key
    everywhere = AtbdNoise()  # no band names: the I-terms apply to every band, as the ATBD equation
    np.testing.assert_array_equal(everywhere.independent_mask(3), [1, 1, 1])
    assert everywhere.with_bands(names).band_names == names
    with pytest.raises(ValueError, match="4 band names but the signal has 3"):
        noise(jax.random.key(0), jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match="standard deviation"):
        AtbdNoise(additive_dependent=-0.1)


def test_prosail_table_from_the_atbd_prior_and_noise_bound_to_srf_bands():
    from leafjax.physics.canopy import Prosail
    from leafjax.simulation._prosail import bind_noise_bands
    from leafjax.spectral import load_srf

    wl = np.arange(400, 2401, 20)
    model = Prosail(wavelengths=wl, dtype=np.float64)
    cols = sample_prosail_table(atbd_prior(), N, jax.random.key(0), model)  # soil_brightness up to 3.5 is valid
    assert cols["lidf_type"][0] == "campbell" and cols["soil_brightness"].max() <= 3.5
    srf = load_srf("sentinel-2a", wl, dtype=np.float64)
    bound = bind_noise_bands(AtbdNoise(), srf)  # what iter_prosail and build_lut do with the srf
    assert bound.band_names == tuple(srf.band_names)
    assert list(np.flatnonzero(bound.independent_mask(srf.n_bands))) == [srf.band_names.index(b) for b in ("B2", "B3")]
