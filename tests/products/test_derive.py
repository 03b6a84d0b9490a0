"""Product formulas and σ propagation (delta method vs Monte Carlo, central differences vs autodiff), the LM
route's product derivation, and ProductResult assembly."""

import jax
import jax.numpy as jnp
import numpy as np

from leafjax.inversion import Status
from leafjax.physics.canopy import fcover
from leafjax.products import PRODUCTS, ProductResult, concatenate
from leafjax.products._derive import ccc_from, cwc_from, fcover_of, finite_difference_std, product_std
from leafjax.products._lm import lm_products
from leafjax.products._result import invalid_result, make_result, scatter


def test_ccc_cwc_units_and_first_order_std_matches_monte_carlo():
    assert ccc_from(3.0, 40.0) == 1.2 and cwc_from(2.0, 0.015) == 300.0  # g/m²
    rng = np.random.default_rng(0)
    lai, chl, s_lai, s_chl = 3.0, 40.0, 0.05, 1.0
    draws = 0.01 * rng.normal(lai, s_lai, 200_000) * rng.normal(chl, s_chl, 200_000)
    np.testing.assert_allclose(product_std(lai, chl, s_lai, s_chl, 0.01), draws.std(), rtol=0.01)
    # a positive covariance widens it, as the formula says
    assert product_std(lai, chl, s_lai, s_chl, 0.01, cov=0.02) > product_std(lai, chl, s_lai, s_chl, 0.01)


def test_finite_difference_std_matches_autodiff_fcover():
    lai, angle = np.array([0.5, 2.0, 5.0]), np.array([40.0, 57.0, 70.0])
    s = {"lai": np.array([0.1, 0.3, 0.5]), "lidf_a": np.array([2.0, 5.0, 1.0])}
    got = finite_difference_std(fcover_of, {"lai": lai, "lidf_a": angle}, s, ["lai", "lidf_a"], low={"lai": 0.0})
    g_lai = jax.vmap(jax.grad(fcover, argnums=0))(jnp.asarray(lai), jnp.asarray(angle))
    g_ang = jax.vmap(jax.grad(fcover, argnums=1))(jnp.asarray(lai), jnp.asarray(angle))
    want = np.sqrt((np.asarray(g_lai) * s["lai"]) ** 2 + (np.asarray(g_ang) * s["lidf_a"]) ** 2)
    np.testing.assert_allclose(got, want, rtol=1e-3)
    # a linear function is exact, and a parameter without σ adds nothing
    lin = finite_difference_std(lambda v: 2.0 * v["lai"] - 3.0 * v["x"], {"lai": lai, "x": lai}, {"lai": s["lai"]},
                                ["lai", "x"])
    np.testing.assert_allclose(lin, 2.0 * s["lai"], rtol=1e-9)


def test_lm_products_use_the_inversion_std_else_propagate():
    est = {"lai": np.array([2.0, 4.0]), "chl": np.array([40.0, 50.0]), "ewt": np.array([0.01, 0.02]),
           "lidf_a": np.array([57.0, 60.0]), "fcover": np.array([0.7, 0.9])}
    sd = {"lai": np.array([0.2, 0.4]), "chl": np.array([3.0, 5.0]), "ewt": np.array([0.001, 0.002]),
          "lidf_a": np.array([2.0, 2.0]), "fcover": np.array([0.05, 0.02]), "ccc": np.array([0.11, 0.22])}
    free = ("lai", "chl", "ewt", "lidf_a")
    values, std = lm_products(None, est, sd, free, ("lai", "ccc", "cwc", "fcover"))
    np.testing.assert_array_equal(values["ccc"], 0.01 * est["lai"] * est["chl"])  # consistency: lai·chl/100
    np.testing.assert_array_equal(values["cwc"], 1e4 * est["lai"] * est["ewt"])
    np.testing.assert_array_equal(std["ccc"], sd["ccc"])  # the inversion's full-covariance σ when reported
    np.testing.assert_allclose(std["cwc"], product_std(est["lai"], est["ewt"], sd["lai"], sd["ewt"], 1e4))
    np.testing.assert_array_equal(values["fcover"], est["fcover"])
    np.testing.assert_array_equal(std["fcover"], sd["fcover"])
    del sd["fcover"], est["fcover"]
    values, std = lm_products(None, est, sd, free, ("fcover",))
    np.testing.assert_allclose(values["fcover"], fcover_of(est), rtol=1e-12)
    assert np.all(std["fcover"] > 0)


def test_result_scatter_and_concatenate():
    base = invalid_result(5, PRODUCTS, quality=np.array([0, 1, 0, 0, 4], np.int32))
    assert isinstance(base, ProductResult) and base.status.dtype == np.int8 and base.quality.dtype == np.int32
    part = make_result({p: np.array([1.0, 2.0]) for p in PRODUCTS}, {p: np.array([0.1, 0.2]) for p in PRODUCTS},
                       np.zeros(2), np.array([8, 8]), np.array([0.01, 0.02]))
    out = scatter(part, np.array([1, 3]), base)
    np.testing.assert_array_equal(out.values["lai"], [np.nan, 1.0, np.nan, 2.0, np.nan])
    np.testing.assert_array_equal(out.status, [Status.INVALID_INPUT, 0, Status.INVALID_INPUT, 0,
                                               Status.INVALID_INPUT])
    np.testing.assert_array_equal(out.quality, [0, 9, 0, 8, 4])
    both = concatenate([out, base])
    assert both.n_pixels == 10 and np.isnan(both.rmse[5:]).all() and both.products == PRODUCTS
