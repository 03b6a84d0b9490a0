"""Canopy bands under direct + diffuse sky light, and the derived products ccc, cwc, fapar (small sizes)."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.inversion import CANOPY_PRODUCTS, invert_canopy, make_canopy_problem
from leafjax.inversion._canopy import DEFAULT_FIXED
from leafjax.inversion._canopy_problem import forward_bands
from leafjax.physics.canopy import Prosail, simulate_prosail
from leafjax.physics.sky import SkyIllumination
from leafjax.simulation import iter_prosail, prosail_products
from leafjax.spectral import convolve, load_srf

WL = np.arange(400, 2401, 20)
NPIX = 4


@pytest.fixture(scope="module")
def scene():
    srf = load_srf("sentinel-2a", WL, dtype=np.float64)
    model = Prosail(wavelengths=WL, dtype=np.float64)
    rng = np.random.default_rng(0)
    t = {k: np.full(NPIX, v) for k, v in DEFAULT_FIXED.items()}
    t.update(lai=rng.uniform(0.5, 5, NPIX), chl=rng.uniform(20, 70, NPIX), ewt=rng.uniform(0.006, 0.025, NPIX),
             sza=rng.uniform(20, 50, NPIX), vza=rng.uniform(0, 10, NPIX), raa=rng.uniform(0, 180, NPIX))
    return srf, model, t, SkyIllumination(aot550=0.2)


def test_forward_bands_under_sky(scene):
    srf, model, t, sky = scene
    vals = {k: jnp.asarray(v) for k, v in t.items()}
    out = simulate_prosail(t, model)
    direct = np.asarray(forward_bands(model, srf, vals))
    np.testing.assert_allclose(direct, np.asarray(convolve(out.rsot, srf)), rtol=1e-12)
    clear = SkyIllumination(aot550=0.0, pressure_hpa=0.0)  # no scatterer: no diffuse light
    np.testing.assert_allclose(np.asarray(forward_bands(model, srf, vals, clear)), direct, rtol=1e-12, atol=1e-15)
    hazy = np.asarray(forward_bands(model, srf, vals, sky))
    rdot = np.asarray(convolve(out.rdot, srf))
    lo, hi = np.minimum(direct, rdot), np.maximum(direct, rdot)
    assert np.all(hazy >= lo - 1e-12) and np.all(hazy <= hi + 1e-12)
    assert np.max(np.abs(hazy - direct)) > 1e-3  # the diffuse light changes the bands visibly
    # iter_prosail: the rsot entry is the same observed reflectance, and the products match prosail_products
    (_, res), = iter_prosail(model, t, srf=srf, sky=sky, products=True)
    np.testing.assert_allclose(res["rsot"], hazy, rtol=1e-10)
    ref = prosail_products(model, t)
    for k in ("fapar", "fcover", "ccc", "cwc"):
        np.testing.assert_allclose(res[k], ref[k], rtol=1e-10, err_msg=k)
    np.testing.assert_allclose(ref["ccc"], t["lai"] * t["chl"] * 0.01)
    assert np.all((ref["fapar"] > 0) & (ref["fapar"] < 1))
    blue = prosail_products(model, t, sky)["fapar"]  # direct/diffuse mixture: close to, not equal to black-sky
    assert np.all(np.abs(blue - ref["fapar"]) < 0.1) and np.any(blue != ref["fapar"])


def test_problem_predicts_under_sky_and_derives_products(scene):
    srf, model, t, sky = scene
    free = ("lai", "chl", "ewt", "lma")
    problem = make_canopy_problem(srf, model, free=free, sky=sky, products=CANOPY_PRODUCTS)
    geometry = {k: jnp.asarray(t[k]) for k in ("sza", "vza", "raa")}
    ctx = problem.context(geometry, NPIX, (NPIX,))
    theta = jnp.stack([jnp.asarray(t[n]) for n in free], axis=-1)
    pred, derived = eqx.filter_jit(lambda p, th, c: (p.predict(th, c), p.derived(th, c)))(problem, theta, ctx)
    vals = {k: jnp.asarray(v) for k, v in t.items()}
    np.testing.assert_allclose(np.asarray(pred), np.asarray(forward_bands(model, srf, vals, sky)), rtol=1e-10)
    truth = prosail_products(model, t)  # black-sky fAPAR of the same parameters
    assert set(derived) == set(CANOPY_PRODUCTS)
    for k in CANOPY_PRODUCTS:
        np.testing.assert_allclose(np.asarray(derived[k]), truth[k], rtol=1e-9, err_msg=k)


@pytest.mark.slow
def test_inversion_under_sky_with_products(scene):
    srf, model, t, sky = scene
    obs = np.asarray(forward_bands(model, srf, {k: jnp.asarray(v) for k, v in t.items()}, sky))
    geometry = {k: t[k] for k in ("sza", "vza", "raa")}
    res = invert_canopy(obs, geometry, srf, model, free=("lai", "chl", "ewt", "lma"), max_steps=30, sky=sky,
                        products=CANOPY_PRODUCTS)
    assert np.all(np.asarray(res.status) == 0) and float(jnp.max(res.rmse)) < 1e-3
    np.testing.assert_allclose(res.params["lai"], t["lai"], atol=0.15)
    truth = prosail_products(model, t)
    np.testing.assert_allclose(res.params["ccc"], truth["ccc"], rtol=0.15)
    np.testing.assert_allclose(res.params["cwc"], truth["cwc"], rtol=0.15)
    np.testing.assert_allclose(res.params["fapar"], truth["fapar"], atol=0.02)
    np.testing.assert_allclose(res.params["fcover"], truth["fcover"], atol=0.02)
    assert set(CANOPY_PRODUCTS) <= set(res.std)
    for k in CANOPY_PRODUCTS:
        s = np.asarray(res.std[k])
        assert np.all(np.isfinite(s) & (s > 0)), k


def test_problem_options(scene):
    srf, model, _, sky = scene
    p = make_canopy_problem(srf, model)
    assert p.sky is None and p.products == ("fcover",)  # the former problem
    q = make_canopy_problem(srf, model, sky=sky, products=("ccc", "fapar"))
    assert q.products == ("ccc", "fapar") and len(q.grid) == WL.size
    with pytest.raises(ValueError, match="derived products"):
        make_canopy_problem(srf, model, products=("lai",))
    with pytest.raises(ValueError, match="derived products"):
        invert_canopy(np.zeros((1, srf.n_bands)), {k: np.ones(1) for k in ("sza", "vza", "raa")}, srf, model,
                      products=("fapar", "fapar"))
