"""Look-up-table inversion: build_lut / query_lut (small tables; one compiled shape per function)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _compile_count import count_compiles

from leafjax.inversion import LUT_PRODUCTS, LookupTable, build_lut, query_lut
from leafjax.physics.canopy import Prosail
from leafjax.physics.sky import SkyIllumination
from leafjax.simulation import atbd_prior
from leafjax.spectral import load_srf

WL = np.arange(400, 2401, 20)
GEOMETRY = {"sza": 35.0, "vza": 5.0, "raa": 60.0}
N, PIX = 2000, 64


@pytest.fixture(scope="module")
def setup():
    srf = load_srf("sentinel-2a", WL, dtype=np.float64)
    model = Prosail(wavelengths=WL, dtype=np.float64)
    sky = SkyIllumination(aot550=0.1)
    lut = build_lut(model, srf, atbd_prior(), N, jax.random.key(0), geometry=GEOMETRY, sky=sky, chunk_size=1024)
    # independent draws of the same prior through the same model, geometry and sky (an "inverse crime" test:
    # the pixels are simulated with exactly the model that built the table)
    test = build_lut(model, srf, atbd_prior(), 1024, jax.random.key(1), geometry=GEOMETRY, sky=sky,
                     chunk_size=1024)
    return srf, lut, test


def test_table_contents(setup):
    srf, lut, _ = setup
    assert isinstance(lut, LookupTable) and lut.bands.shape == (N, srf.n_bands) and lut.size == N
    assert lut.band_names == tuple(srf.band_names)
    for name in ("lai", "chl", "ewt", "lma", "lidf_a", "soil_brightness", *LUT_PRODUCTS):
        assert lut.values[name].shape == (N,), name
    v = {k: np.asarray(x) for k, x in lut.values.items()}
    assert all(np.all(v[g] == x) for g, x in GEOMETRY.items())
    np.testing.assert_allclose(v["ccc"], v["lai"] * v["chl"] * 0.01, rtol=1e-12)
    np.testing.assert_allclose(v["cwc"], v["lai"] * v["ewt"] * 1e4, rtol=1e-12)
    assert np.all((v["fapar"] >= 0) & (v["fapar"] <= 1)) and np.all((v["fcover"] >= 0) & (v["fcover"] < 1))
    assert np.corrcoef(v["fapar"], v["fcover"])[0, 1] > 0.9
    assert np.all(np.isfinite(np.asarray(lut.bands))) and float(jnp.min(lut.bands)) >= 0


def test_exact_entry_with_k1_and_inverse_crime_recovery(setup):
    _, lut, test = setup
    idx = np.arange(0, N, N // PIX)[:PIX]
    est, sd, rmse = query_lut(lut, np.asarray(lut.bands)[idx], k=1)
    for name in ("lai", "chl", "fapar", "ccc"):
        np.testing.assert_array_equal(est[name], np.asarray(lut.values[name])[idx])
        assert np.all(sd[name] == 0)
    assert float(np.max(rmse)) < 1e-6
    obs = np.asarray(test.bands)[:PIX]
    est, sd, rmse = query_lut(lut, obs, k=10)
    truth = {k: np.asarray(v)[:PIX] for k, v in test.values.items()}
    r2 = {k: 1 - np.mean((est[k] - truth[k]) ** 2) / np.var(truth[k]) for k in ("lai", "fcover", "fapar", "ccc")}
    assert r2["lai"] > 0.6 and r2["fcover"] > 0.8 and r2["fapar"] > 0.8 and r2["ccc"] > 0.5, r2
    assert np.all(sd["lai"] > 0) and np.all(sd["fapar"] > 0) and np.all(np.isfinite(rmse))
    assert float(np.median(rmse)) < 0.02


def test_nan_bands_are_left_out(setup):
    _, lut, test = setup
    obs = np.asarray(test.bands)[:PIX].copy()
    obs[:, 0] = np.nan  # the first band missing everywhere ...
    obs[3] = np.nan  # ... and one pixel with no band at all
    est, sd, rmse = query_lut(lut, obs, k=10)
    sub = LookupTable(lut.bands[:, 1:], lut.values, lut.band_names[1:])
    ref, ref_sd, ref_rmse = query_lut(sub, obs[:, 1:], k=10)
    keep = np.arange(PIX) != 3
    for name in ("lai", "chl"):
        np.testing.assert_allclose(est[name][keep], ref[name][keep], rtol=1e-9)
        np.testing.assert_allclose(sd[name][keep], ref_sd[name][keep], rtol=1e-9)
        assert np.isnan(est[name][3]) and np.isnan(sd[name][3])
    np.testing.assert_allclose(rmse[keep], ref_rmse[keep], rtol=1e-6, atol=1e-9)
    assert np.isnan(rmse[3])


def test_second_query_and_chunking_do_not_recompile(setup):
    _, lut, test = setup
    obs = np.asarray(test.bands)
    first = query_lut(lut, obs[:96], k=10, chunk_size=32)  # 3 chunks of one shape
    with count_compiles() as c:
        second = query_lut(lut, obs[96:192], k=10, chunk_size=32)
    assert c.compiles == 0, c.names
    assert not np.array_equal(first[0]["lai"], second[0]["lai"])
    whole = query_lut(lut, obs[96:192], k=10, chunk_size=512)  # one chunk: the same numbers
    np.testing.assert_allclose(second[0]["lai"], whole[0]["lai"], rtol=1e-9)


def test_validation(setup):
    srf, lut, test = setup
    obs = np.asarray(test.bands)[:4]
    with pytest.raises(ValueError, match="observed must be"):
        query_lut(lut, obs[:, :3])
    with pytest.raises(ValueError, match="k must be an integer"):
        query_lut(lut, obs, k=N + 1)
    with pytest.raises(ValueError, match="names must be values"):
        query_lut(lut, obs, names=("nitrogen",))
    with pytest.raises(ValueError, match="band_weight"):
        query_lut(lut, obs, band_weight=np.zeros(srf.n_bands))
    model = Prosail(wavelengths=WL, dtype=np.float64)
    with pytest.raises(ValueError, match="geometry 'sza'"):
        build_lut(model, srf, atbd_prior(), 10, jax.random.key(0), geometry={"sza": 95.0})
    with pytest.raises(ValueError, match="n \\(table entries\\)"):
        build_lut(model, srf, atbd_prior(), 0, jax.random.key(0))
    est, _, _ = query_lut(lut, obs, fraction=0.005, names=("lai",))  # k = 10 from the fraction
    np.testing.assert_allclose(est["lai"], query_lut(lut, obs, k=10, names=("lai",))[0]["lai"])
