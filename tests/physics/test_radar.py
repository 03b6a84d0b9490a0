"""Radar physics: the water-cloud model (Attema & Ulaby 1978) against an independent NumPy evaluation, its exact
limits (bare soil at LAI = 0, vegetation only as LAI → ∞), dB ↔ linear, gradients against float64 central finite
differences, jit/vmap invariance, float32, Gamma speckle moments and the ENL estimator, and input validation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax import _parameters as P
from leafjax.physics.radar import (CHANNELS, DB_FLOOR_LINEAR, RadarCoefficients, WaterCloudCoefficients,
                                   apply_speckle, backscatter_db, block_enl, db_to_linear, default_coefficients,
                                   default_radar_coefficients, equivalent_number_of_looks, gamma_speckle,
                                   linear_to_db, speckle_std_db, water_cloud, water_cloud_db, water_cloud_terms)

F64 = jnp.float64


def _coeffs(e=1.0, descriptor="lai", dtype=F64, **kw):
    base = {"a": 0.07, "b": 0.21, "c": -16.0, "d": 22.0, "e": e, **kw}
    return WaterCloudCoefficients(**{k: jnp.asarray(v, dtype) for k, v in base.items()}, descriptor=descriptor)


def _numpy_wcm(lai, mv, theta, a, b, c, d, e):
    """The water-cloud equations written out independently in NumPy (float64)."""
    cos = np.cos(np.radians(theta))
    gamma2 = np.exp(-2.0 * b * lai / cos)
    return a * lai**e * cos * (1.0 - gamma2) + gamma2 * 10.0 ** ((c + d * mv) / 10.0)


def test_matches_an_independent_numpy_evaluation():
    rng = np.random.default_rng(0)
    lai, mv, th = rng.uniform(0.01, 7, 200), rng.uniform(0.05, 0.45, 200), rng.uniform(25, 50, 200)
    for e in (1.0, 0.6):
        got = water_cloud(jnp.asarray(lai), jnp.asarray(mv), jnp.asarray(th), _coeffs(e=e))
        np.testing.assert_allclose(got, _numpy_wcm(lai, mv, th, 0.07, 0.21, -16.0, 22.0, e), rtol=1e-12)


@pytest.mark.parametrize("e", [1.0, 0.5, 0.0])
def test_bare_soil_limit_is_exact(e):
    co = _coeffs(e=e)
    mv, th = jnp.array([0.05, 0.2, 0.4]), jnp.array([30.0, 39.0, 45.0])
    terms = water_cloud_terms(jnp.zeros(3), mv, th, co)
    soil = db_to_linear(co.c + co.d * mv)
    np.testing.assert_array_equal(terms.total, soil)
    np.testing.assert_array_equal(terms.transmissivity, 1.0)
    np.testing.assert_array_equal(terms.vegetation, 0.0)
    np.testing.assert_array_equal(water_cloud_db(0.0, mv, th, co), linear_to_db(soil))


@pytest.mark.parametrize("e", [1.0, 0.7])
def test_dense_canopy_limit_is_exactly_the_vegetation_term(e):
    co = _coeffs(e=e)
    lai, th = jnp.array([1e4, 3e4]), jnp.array([30.0, 45.0])  # 2·B·LAI/cosθ ≫ 745: γ² underflows to 0
    terms = water_cloud_terms(lai, 0.3, th, co)
    np.testing.assert_array_equal(terms.transmissivity, 0.0)
    np.testing.assert_array_equal(terms.total, co.a * lai**co.e * jnp.cos(jnp.deg2rad(th)))
    # the canopy-water descriptor (cwc in g/m², used in kg/m²)
    cw = _coeffs(e=e, descriptor="cwc")
    terms = water_cloud_terms(0.0, 0.3, 39.0, cw, cwc=jnp.array([5e6]))
    np.testing.assert_array_equal(terms.total, cw.a * (5e6 * 1e-3) ** cw.e * jnp.cos(jnp.deg2rad(39.0)))


def test_db_round_trip_and_floor():
    x = jnp.linspace(-40.0, 10.0, 101)
    np.testing.assert_allclose(linear_to_db(db_to_linear(x)), x, atol=1e-12)
    x32 = x.astype(jnp.float32)
    back = linear_to_db(db_to_linear(x32))
    assert back.dtype == jnp.float32 and float(jnp.max(jnp.abs(back - x32))) < 1e-5
    assert float(linear_to_db(0.0)) == pytest.approx(10 * np.log10(DB_FLOOR_LINEAR))
    assert float(jax.grad(linear_to_db)(0.0)) == 0.0
    assert float(linear_to_db(-1.0, floor=1e-3)) == pytest.approx(-30.0)
    with pytest.raises(ValueError, match="floor"):
        linear_to_db(1.0, floor=0.0)


def _fd_check(f, x0, rel=1e-4):
    """Analytic gradient of scalar ``f`` at ``x0`` against a float64 central difference."""
    g = float(jax.grad(f)(jnp.asarray(x0, F64)))
    h = 1e-6 * max(1.0, abs(x0))
    fd = (float(f(jnp.asarray(x0 + h, F64))) - float(f(jnp.asarray(x0 - h, F64)))) / (2 * h)
    assert abs(g - fd) <= rel * max(abs(fd), 1e-8), (g, fd)


@pytest.mark.parametrize("e", [1.0, 0.6])
def test_gradients_match_central_finite_differences(e):
    co = _coeffs(e=e)
    lai, mv, th = 2.3, 0.27, 37.0
    _fd_check(lambda x: water_cloud_db(x, mv, th, co), lai)
    _fd_check(lambda x: water_cloud_db(lai, x, th, co), mv)
    _fd_check(lambda x: water_cloud_db(lai, mv, x, co), th)
    for field in ("a", "b", "c", "d", "e"):
        def f(x, field=field):
            return water_cloud_db(lai, mv, th, _coeffs(**{"e": e, field: x}))
        _fd_check(f, float(getattr(co, field)))
    # thin canopy, linear output too
    _fd_check(lambda x: water_cloud(x, mv, th, co), 0.05)


def test_gradients_are_finite_at_bare_soil():
    for e in (1.0, 0.5, 0.0):
        g = jax.grad(lambda c: water_cloud_db(0.0, 0.2, 39.0, c))(_coeffs(e=e))
        assert all(np.isfinite(float(v)) for v in jax.tree.leaves(g))
        assert np.isfinite(float(jax.grad(lambda x: water_cloud_db(x, 0.2, 39.0, _coeffs(e=e)))(0.0)))


def test_jit_and_vmap_invariance():
    co = _coeffs(e=0.8)
    lai, mv, th = jnp.linspace(0.0, 6.0, 7), jnp.linspace(0.1, 0.4, 7), jnp.linspace(30.0, 45.0, 7)
    ref = water_cloud_db(lai, mv, th, co)
    np.testing.assert_allclose(jax.jit(water_cloud_db)(lai, mv, th, co), ref, rtol=1e-13)
    np.testing.assert_allclose(jax.vmap(water_cloud_db, in_axes=(0, 0, 0, None))(lai, mv, th, co), ref, rtol=1e-13)
    loop = [float(water_cloud_db(lai[i], mv[i], th[i], co)) for i in range(7)]
    np.testing.assert_allclose(ref, loop, rtol=1e-13)
    # a batch of coefficients (e.g. one C per scene-date) by vmap and by broadcasting
    cs = jnp.array([-18.0, -15.0, -12.0])
    by_vmap = jax.vmap(lambda c: water_cloud_db(lai, mv, th, _coeffs(e=0.8, c=c)))(cs)
    by_broadcast = water_cloud_db(lai, mv, th, _coeffs(e=0.8, c=cs[:, None]))
    np.testing.assert_allclose(by_vmap, by_broadcast, rtol=1e-13)
    assert by_broadcast.shape == (3, 7)


def test_broadcasting_across_ranks():
    out = water_cloud_db(jnp.linspace(0, 5, 3)[:, None], 0.25, jnp.array([30.0, 35.0, 40.0, 45.0]),
                         default_coefficients("vv", dtype=F64))
    assert out.shape == (3, 4)


def test_float32_inputs_stay_float32_and_agree_with_float64():
    co = default_coefficients("vh", dtype=jnp.float32)
    lai = jnp.linspace(0.0, 6.0, 13, dtype=jnp.float32)
    out = water_cloud_db(lai, jnp.float32(0.25), jnp.float32(39.0), co)
    assert out.dtype == jnp.float32
    ref = water_cloud_db(lai.astype(F64), 0.25, 39.0, default_coefficients("vh", dtype=F64))
    np.testing.assert_allclose(np.asarray(out, np.float64), ref, atol=1e-4)
    g = jax.grad(lambda x: water_cloud_db(x, jnp.float32(0.25), jnp.float32(39.0), co))(jnp.float32(2.0))
    assert g.dtype == jnp.float32 and np.isfinite(float(g))


def test_dual_polarisation_defaults_are_plausible():
    co = default_radar_coefficients(dtype=F64)
    assert isinstance(co, RadarCoefficients) and CHANNELS == ("vh", "vv")
    s = backscatter_db(jnp.linspace(0.0, 5.0, 6), 0.25, 39.0, co)
    stacked = s.stack()
    assert stacked.shape == (2, 6)
    np.testing.assert_array_equal(stacked[0], s.vh)
    assert np.all(s.vh < s.vv)
    assert np.all((s.vv > -16) & (s.vv < -6)) and np.all((s.vh > -26) & (s.vh < -14))
    wetter = backscatter_db(0.5, 0.35, 39.0, co)
    assert float(wetter.vv) > float(backscatter_db(0.5, 0.15, 39.0, co).vv)


def test_parameters_are_registered():
    reg = P.specs("water_cloud")
    assert tuple(reg) == ("lai", "soil_moisture", "incidence_deg", "cwc")
    assert reg["soil_moisture"].unit == "m3/m3" and reg["incidence_deg"].unit == "deg"
    assert reg["incidence_deg"].default == 39.0 and reg["lai"] is P.spec("lai")


@pytest.mark.parametrize("kwargs, match", [
    ({"lai": -0.5}, "lai"), ({"lai": np.nan}, "lai"), ({"soil_moisture": 25.0}, "soil_moisture"),
    ({"incidence_deg": 95.0}, "incidence_deg"), ({"incidence_deg": -1.0}, "incidence_deg"),
])
def test_bad_inputs_are_one_line_errors(kwargs, match):
    args = {"lai": 1.0, "soil_moisture": 0.2, "incidence_deg": 39.0, **kwargs}
    with pytest.raises(ValueError, match=match) as err:
        water_cloud(args["lai"], args["soil_moisture"], args["incidence_deg"], default_coefficients("vv"))
    assert "\n" not in str(err.value)


def test_bad_options_are_errors_and_traced_inputs_are_not_checked():
    with pytest.raises(ValueError, match="descriptor"):
        WaterCloudCoefficients(a=0.1, b=0.1, c=-15.0, d=20.0, descriptor="ndvi")
    with pytest.raises(ValueError, match="cwc"):
        water_cloud(1.0, 0.2, 39.0, _coeffs(descriptor="cwc"))
    with pytest.raises(ValueError, match="cwc"):
        water_cloud(1.0, 0.2, 39.0, _coeffs(descriptor="cwc"), cwc=-3.0)
    with pytest.raises(ValueError, match="polarisation"):
        default_coefficients("hh")
    out = jax.jit(lambda x: water_cloud(x, 0.2, 39.0, default_coefficients("vv")))(-1.0)  # traced: no check
    assert out.shape == ()


@pytest.mark.parametrize("looks", [1.0, 4.4, 10.0])
def test_gamma_speckle_has_mean_one_and_variance_one_over_l(looks):
    n_draws = 400_000
    x = np.asarray(gamma_speckle(jax.random.key(3), (n_draws,), looks, dtype=F64))
    var = 1.0 / looks
    mu4 = 3.0 * (looks + 2.0) / looks**3  # fourth central moment of Gamma(L, 1/L)
    assert abs(x.mean() - 1.0) < 5 * np.sqrt(var / n_draws)
    assert abs(x.var(ddof=1) - var) < 5 * np.sqrt((mu4 - var**2) / n_draws)
    assert x.min() > 0


def test_enl_estimator_recovers_the_number_of_looks():
    sigma0 = jnp.full((512, 512), 0.03, F64)
    for looks in (1.0, 4.4, 10.0):
        noisy = apply_speckle(jax.random.key(7), sigma0, looks)
        assert float(equivalent_number_of_looks(noisy)) == pytest.approx(looks, rel=0.02)
        blocks = np.asarray(block_enl(noisy, 32))  # 16 × 16 windows of 1024 pixels
        assert blocks.shape == (16, 16)
        assert float(np.median(blocks)) == pytest.approx(looks, rel=0.05)
    # dB standard deviation of speckle: ~5.57 dB for one look, falling with L
    one = np.asarray(linear_to_db(apply_speckle(jax.random.key(8), jnp.ones((200_000,), F64), 1.0)))
    assert one.std() == pytest.approx(speckle_std_db(1.0), rel=0.02)


def test_speckle_is_explicit_reproducible_and_keeps_float32():
    x = jnp.full((32, 32), 0.01, jnp.float32)
    a, b = apply_speckle(jax.random.key(0), x, 4.0), apply_speckle(jax.random.key(0), x, 4.0)
    assert a.dtype == jnp.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, apply_speckle(jax.random.key(1), x, 4.0))
    g = jax.grad(lambda s: apply_speckle(jax.random.key(0), s, 4.0).sum())(x)
    np.testing.assert_allclose(g, np.asarray(a) / 0.01, rtol=1e-5)
    for bad in (0.0, -2.0, np.inf):
        with pytest.raises(ValueError, match="looks"):
            gamma_speckle(jax.random.key(0), (4,), bad)
    with pytest.raises(ValueError, match="block"):
        block_enl(x, 1)
