"""The Levenberg–Marquardt route on 8 simulated pixels (inverse crime: the pixels come from the inverted model, the
non-free parameters at the inversion's defaults).  Compiling the sky-lit PROSAIL solver with its fAPAR
derivation takes about half a minute on 2 cores, hence ``slow``; the product derivations of the route are
tested fast in ``test_derive.py``."""

import numpy as np
import pytest

from leafjax.inversion import Status
from leafjax.products import PRODUCTS, LMRoute, retrieve_products

from _products_scene import simulate

ROUTE = LMRoute(max_steps=60)


@pytest.fixture(scope="module")
def lm_scene(s2):
    from leafjax.inversion._canopy import DEFAULT_FIXED
    from leafjax.simulation._prosail import _complete

    srf, model = s2
    rng = np.random.default_rng(2)
    n = 8
    t = {k: np.full(n, v) for k, v in DEFAULT_FIXED.items()}
    t.update(lai=rng.uniform(0.5, 5, n), chl=rng.uniform(20, 70, n), ewt=rng.uniform(0.006, 0.025, n),
             lma=rng.uniform(0.003, 0.01, n), lidf_a=rng.uniform(40, 70, n), soil_brightness=rng.uniform(0.6, 1.4, n),
             sza=rng.uniform(25, 50, n), vza=rng.uniform(0, 10, n), raa=rng.uniform(0, 180, n))
    cols = _complete(model, t, n)
    geometry = {k: cols[k] for k in ("sza", "vza", "raa")}
    res = retrieve_products(simulate(model, srf, cols), geometry, srf, ROUTE, model=model)
    return cols, geometry, res


@pytest.mark.slow
def test_lm_recovers_lai_and_products_with_sigma(lm_scene):
    truth, _, res = lm_scene
    ok = res.status != Status.INVALID_INPUT
    assert ok.all()
    np.testing.assert_allclose(res.values["lai"], truth["lai"], atol=0.5)
    np.testing.assert_allclose(res.values["ccc"], 0.01 * truth["lai"] * truth["chl"], atol=0.35)
    np.testing.assert_allclose(res.values["cwc"], 1e4 * truth["lai"] * truth["ewt"], rtol=0.3)
    for p in PRODUCTS:
        assert np.all(np.isfinite(res.std[p])) and np.all(res.std[p] > 0), p
    assert np.all((res.values["fapar"] > 0) & (res.values["fapar"] < 1))
    assert np.max(res.rmse) < 0.005


@pytest.mark.slow
def test_lm_is_per_pixel(s2, lm_scene):
    srf, model = s2
    cols, geometry, res = lm_scene
    bands = simulate(model, srf, cols)
    halves = [retrieve_products(bands[s], {k: v[s] for k, v in geometry.items()}, srf, ROUTE, model=model)
              for s in (slice(0, 4), slice(4, None))]  # padded to the same 8 rows: one compilation
    np.testing.assert_allclose(np.concatenate([h.values["lai"] for h in halves]), res.values["lai"], atol=1e-3)
    np.testing.assert_allclose(np.concatenate([h.values["ccc"] for h in halves]), res.values["ccc"], atol=1e-3)
