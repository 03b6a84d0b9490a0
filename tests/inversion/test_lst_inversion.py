"""Physical per-pixel LST inversion (LST + band emissivities by LM with a Gaussian emissivity prior): exact recovery
and calibrated σ on synthetic atmospheric terms, input errors; on the shared thermal data (band model through
the retrieval-side atmosphere vs LBLRTM-truth observations) the RMSE and the coverage of σ."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from lst_truth import truth_samples

from leafjax._flags import Quality
from leafjax.inversion import invert_lst, make_lst_problem
from leafjax.inversion._lst import band_membership
from leafjax.physics.thermal._bands import vimi_response
from leafjax.physics.thermal._planck import planck_wavenumber
from leafjax.physics.thermal._toa import AtmosphericTerms, toa_brightness_temperature

N = 96  # one compiled shape for the synthetic tests


def synthetic_terms(n, seed=0, step=5.0):
    """Smooth water-vapour-like terms: τ = exp(−k(ν) W), path and sky radiance of an isothermal layer at T_air."""
    rng = np.random.default_rng(seed)
    nu = np.arange(800.0, 1325.1, step)
    w = rng.uniform(0.2, 5.0, n)[:, None]
    ta = rng.uniform(260.0, 305.0, n)
    k = 0.02 + 0.3 * ((nu - 1000.0) / 300.0) ** 2 + 0.05 * (nu > 1200.0)
    tau = np.exp(-k * w)
    b = np.asarray(planck_wavenumber(nu, ta[:, None]))
    terms = AtmosphericTerms(jnp.asarray(nu), jnp.asarray(tau), jnp.asarray(0.95 * (1.0 - tau) * b),
                             jnp.asarray((1.0 - tau**1.6) * b))
    return terms, ta


@pytest.fixture(scope="module")
def scene():
    terms, ta = synthetic_terms(N)
    srf = vimi_response(np.asarray(terms.wavenumber))
    rng = np.random.default_rng(1)
    eps = rng.uniform(0.93, 0.99, (N, 4))
    lst = ta + rng.uniform(-5.0, 15.0, N)
    spectral = make_lst_problem(srf).spectral_emissivity(jnp.asarray(eps))
    bt = np.asarray(toa_brightness_temperature(terms, spectral, jnp.asarray(lst), srf))
    return terms, eps, lst, bt


def test_membership_holds_band_emissivity_constant(scene):
    terms, eps, _, _ = scene
    srf = vimi_response(np.asarray(terms.wavenumber))
    m = band_membership(srf)
    np.testing.assert_allclose(np.asarray(srf.weights) @ m.T, np.eye(4), atol=1e-12)
    spectral = np.asarray(make_lst_problem(srf).spectral_emissivity(jnp.asarray(eps)))
    np.testing.assert_allclose(spectral @ np.asarray(srf.weights).T, eps, atol=1e-12)  # band means = band values


def test_exact_recovery_and_calibrated_sigma(scene):
    terms, eps, lst, bt = scene
    res = invert_lst(None, None, None, bt, eps, terms=terms)
    assert np.all(np.asarray(res.status) == 0)
    np.testing.assert_allclose(np.asarray(res.estimates["lst"]), lst, atol=1e-5)
    np.testing.assert_allclose(np.asarray(res.estimates["emissivity_b3"]), eps[:, 2], atol=1e-7)
    assert float(np.max(res.rmse)) < 1e-5  # K
    # NEdT 0.2 K and prior errors of 0.01 drawn as the problem assumes: σ must cover the errors
    rng = np.random.default_rng(2)
    res = invert_lst(None, None, None, bt + rng.normal(0, 0.2, bt.shape), eps + rng.normal(0, 0.01, eps.shape),
                     terms=terms)
    err = np.asarray(res.estimates["lst"]) - lst
    sd = np.asarray(res.std["lst"])
    assert 0.15 < np.sqrt(np.mean(err**2)) < 0.6 and 0.15 < sd.mean() < 0.5
    assert 0.55 <= np.mean(np.abs(err) < sd) <= 0.85 and np.mean(np.abs(err) < 2 * sd) >= 0.85
    assert np.all((np.asarray(res.quality) & int(Quality.POOR_FIT)) == 0)


def test_bad_inputs():
    terms, _ = synthetic_terms(4)
    srf = vimi_response(np.asarray(terms.wavenumber))
    with pytest.raises(ValueError, match="shape \\(b, 4\\)"):
        invert_lst(None, None, None, np.full((4, 3), 290.0), np.full((4, 4), 0.97), terms=terms)
    with pytest.raises(ValueError, match="4-band wavenumber response"):
        make_lst_problem(srf.select(["b3", "b4"]))
    with pytest.raises(ValueError, match="finite and > 0"):
        make_lst_problem(srf, nedt=0.0)
    problem = make_lst_problem(srf)
    with pytest.raises(ValueError, match="missing"):
        problem.context({"transmittance": terms.transmittance}, 4, (4,))
    with pytest.raises(ValueError, match="terms are for"):
        invert_lst(None, None, None, np.full((3, 4), 290.0), np.full((3, 4), 0.97), terms=terms)
    with pytest.raises(ValueError, match="transmittance"):  # a transmittance above one: validated before compute
        bad = AtmosphericTerms(terms.wavenumber, terms.transmittance * 2.0, terms.path_radiance, terms.downwelling)
        invert_lst(None, None, None, np.full((4, 4), 290.0), np.full((4, 4), 0.97), terms=bad)


def test_out_of_range_brightness_temperatures_are_flagged_not_inverted(scene):
    terms, eps, _, bt = scene
    bad = np.array(bt[:4])
    bad[0, 1] = 40.0  # a radiance passed as K, say
    res = invert_lst(None, None, None, bad, eps[:4], terms=terms[:4])
    assert int(res.status[0]) == 2 and np.isnan(float(res.estimates["lst"][0]))
    assert int(res.quality[0]) & int(Quality.OUT_OF_RANGE)
    assert np.all(np.asarray(res.status[1:]) == 0)


# ---- shared data: LBLRTM-truth observations ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def truth_set(shared_data):
    return truth_samples(shared_data / "thermal")


@pytest.mark.slow  # ~25 s: a second compiled program on the 526-channel truth grid
def test_truth_samples_with_the_truth_atmosphere(truth_set):
    """Perfect retrieval-side terms: only the within-band emissivity structure, noise and prior error remain."""
    s = truth_set
    rng = np.random.default_rng(0)
    res = invert_lst(None, None, None, s["bt"], s["eps"], terms=s["terms"])
    err = np.asarray(res.estimates["lst"]) - s["lst"]
    assert np.all(np.asarray(res.status) == 0) and np.sqrt(np.mean(err**2)) < 0.05  # measured 0.005 K
    noisy = s["bt"] + rng.normal(0, 0.2, s["bt"].shape)
    res = invert_lst(None, None, None, noisy, s["eps"] + rng.normal(0, 0.01, s["eps"].shape), terms=s["terms"])
    err = np.asarray(res.estimates["lst"]) - s["lst"]
    sd = np.asarray(res.std["lst"])
    assert np.sqrt(np.mean(err**2)) < 0.4  # measured 0.24 K (1120 samples)
    assert 0.55 <= np.mean(np.abs(err) < sd) <= 0.8 and np.mean(np.abs(err) < 2 * sd) >= 0.9  # 0.68 / 0.95


@pytest.mark.slow  # needs the fitted band model (fit at run time, cached)
def test_truth_samples_through_the_band_model(truth_set, shared_data):
    """The physics-only method: band model at the site atmospheres vs LBLRTM-truth observations (correct prior)."""
    inversion = pytest.importorskip("leafjax.inversion")
    if not hasattr(inversion, "cached_band_model"):
        pytest.skip("the band model (leafjax.inversion.cached_band_model) is not available")
    s = truth_set
    model = inversion.cached_band_model(shared_data / "thermal")
    atm = s["truth"].atmospheres[s["atm"]]
    res = invert_lst(model, atm, np.zeros(s["atm"].size), s["bt"], s["eps"], nedt=np.array([0.45, 0.35, 0.3, 0.3]))
    err = np.asarray(res.estimates["lst"]) - s["lst"]
    assert np.sqrt(np.mean(err**2)) < 1.0
    assert np.mean(np.asarray(res.status) == 0) > 0.99
