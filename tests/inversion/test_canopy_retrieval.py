"""Leaf/soil spectra retrieval and canopy trait inversion (small grids so the suite stays fast)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.canopy import GaussianNoise, Prosail, convolve, default_soil_basis, load_srf, simulate_prosail
from leafjax.inversion._canopy import DEFAULT_FIXED, invert_canopy
from leafjax.physics.canopy import fcover
from leafjax.transfer import HYBRID_TRAITS, predict_hybrid, simulate_band_training_set, train_hybrid
from leafjax.inversion._retrieval import (free_to_spectra, retrieve_free_spectra, retrieve_prospect_soil,
                                       spectra_to_free)
from leafjax.physics import ProspectD

WL = np.arange(400, 2401, 40)


def _rmse(a, b):
    return float(jnp.sqrt(jnp.mean((a - b) ** 2)))


def test_free_parametrisation_round_trip_and_bounds():
    z = jax.random.normal(jax.random.key(0), (50, 3)) * 4
    r, t, s = free_to_spectra(z)
    assert bool(jnp.all(r > 0) & jnp.all(t > 0) & jnp.all(r + t < 1) & jnp.all((s > 0) & (s < 1)))
    np.testing.assert_allclose(free_to_spectra(spectra_to_free(r, t, s))[0], r, rtol=1e-6)


@pytest.fixture(scope="module")
def scene():
    from experiments.canopy.scene import synthetic_scene

    return synthetic_scene(jax.random.key(1), 100, WL)


def test_free_retrieval_noise_free(scene):
    canopy, observed, truth = scene
    res = retrieve_free_spectra(canopy, observed, smoothness=0.0)
    for k in ("leaf_r", "leaf_t", "soil"):
        assert _rmse(getattr(res, k), truth[k]) < 1e-3, k


def test_parametric_retrieval_noise_free(scene):
    canopy, observed, truth = scene
    res = retrieve_prospect_soil(canopy, observed, ProspectD(WL), default_soil_basis(4, wavelengths=WL),
                                 max_steps=40)
    for k in ("leaf_r", "leaf_t", "soil"):
        assert _rmse(getattr(res, k), truth[k]) < 0.015, k
    assert abs(float(res.params["leaf"]["chl"]) - 45.0) < 5.0


def test_fcover_limits():
    f = fcover(jnp.asarray([0.0, 1.0, 3.0, 8.0]), jnp.asarray([57.0] * 4))  # one compilation
    assert float(f[0]) == 0.0
    assert bool(jnp.all(jnp.diff(f) > 0)) and float(f[-1]) > 0.95


# The canopy inversion below uses the shapes of tests/archive/test_canopy_archive.py (4 pixels, Sentinel-2A bands from a
# 10-nm float64 grid, free lai/chl/ewt/lma, default LUT) so that one compilation serves both.
CANOPY_GRID = np.arange(400, 2401, 10)


def test_canopy_inversion_recovers_lai_chl():
    from helpers import canopy_test_scene

    srf, model, t, obs = canopy_test_scene(CANOPY_GRID)
    res = invert_canopy(obs, {k: t[k] for k in ("sza", "vza", "raa")}, srf, model,
                        free=("lai", "chl", "ewt", "lma"), max_steps=30)
    assert np.all(np.asarray(res.status) == 0) and float(jnp.max(res.rmse)) < 1e-3
    np.testing.assert_allclose(res.params["lai"], t["lai"], atol=0.15)
    np.testing.assert_allclose(res.params["chl"], t["chl"], rtol=0.1)
    np.testing.assert_allclose(res.params["fcover"], fcover(t["lai"], t["lidf_a"]), atol=0.02)
    assert set(res.std) == {"lai", "chl", "ewt", "lma", "fcover"} and np.all(np.isfinite(np.asarray(res.std["lai"])))
    assert np.all(np.asarray(res.std["fcover"]) > 0) and res.fitted.shape == obs.shape


@pytest.mark.slow
def test_hybrid_learns_lai_fcover_on_held_out_pixels():
    """A small ResNet trained on 768 noisy band-level simulations; scored on 256 further independent draws of
    the prior (full-size numbers: experiments/canopy/README.md; here R² ≈ 0.73 lai, 0.75 chl, 0.94 fcover)."""
    wl = np.arange(400, 2401, 20)
    srf, model = load_srf("sentinel-2a", wl), Prosail(wavelengths=wl)
    x, y, cols = simulate_band_training_set(model, srf, 1024, jax.random.key(0),
                                            noise=GaussianNoise(additive=0.005), chunk_size=256)
    reg, _ = train_hybrid(model, srf, 0, jax.random.key(1), network="resnet", epochs=40, batch_size=128,
                          training_set=(x[:768], y[:768]), d=32, n_blocks=1)
    held = slice(768, None)
    pred = predict_hybrid(reg, x[held, :-3], {k: cols[k][held] for k in ("sza", "vza", "raa")})
    assert set(pred) == {"lai", "chl", "ewt", "fcover"}
    r2 = {t: 1 - np.sum((pred[t] - y[held, i]) ** 2) / np.sum((y[held, i] - y[held, i].mean()) ** 2)
          for i, t in enumerate(HYBRID_TRAITS)}
    assert r2["lai"] > 0.5 and r2["fcover"] > 0.8 and r2["chl"] > 0.5, r2
