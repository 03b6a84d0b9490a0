"""The layered band model and the MT_CKD continuum on synthetic profiles and coefficients (no shared data):
physical limits, the isothermal-atmosphere identity, view-angle behaviour, the linear-in-τ factor, jit/vmap
invariance, float32, float64 finite-difference gradients and input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.thermal import (BandCoefficients, BandModel, Continuum, atmosphere, band_model, channel_grid,
                                     channel_means, continuum_components, continuum_optical_depth,
                                     planck_wavenumber, toa_brightness_temperature, vimi_response)
from leafjax.physics.thermal._layers_rt import THIN_LAYER_TAU, linear_in_tau_factor

#: One compiled program per shape (eager op-by-op evaluation of the band model is slow to dispatch).
_bm = jax.jit(band_model)
NU = channel_grid(np.arange(800.0, 1326.0), 25)  # 21 channels
CONTINUUM = Continuum(np.arange(700.0, 1401.0, 10.0), 2e-25 * (1000.0 / np.arange(700.0, 1401.0, 10.0)) ** 2,
                      np.full(71, 2e-27), np.full(71, 5.0))


def _model(n_terms=2, dtype=jnp.float64) -> BandModel:
    c = CONTINUUM.at(jnp.asarray(NU, dtype))
    coef = BandCoefficients.initial(NU.size, n_terms, dtype)
    # a little channel-to-channel structure
    coef = jax.tree.map(lambda v: v + 0.1 * jnp.sin(jnp.arange(v.size, dtype=dtype)).reshape(v.shape), coef)
    return BandModel(jnp.asarray(NU, dtype), coef, c.self_absco, c.foreign_absco, c.self_texp)


def _atm(t_surface=(295.0, 270.0), wet=(1.5e4, 3e3), dtype=jnp.float64, isothermal=False):
    p = np.geomspace(1013.0, 1.0, 20)
    z = -7.0 * np.log(p / 1013.0)  # km
    t = np.array([np.full(20, ts) if isothermal else np.maximum(ts - 6.5 * z, 215.0) for ts in t_surface])
    h2o = np.array([w * np.exp(-z / 2.0) + 4.0 for w in wet])
    o3 = np.tile(0.03 + 8.0 * np.exp(-((z - 25.0) / 6.0) ** 2), (len(t_surface), 1))
    return atmosphere(p, t, h2o, o3, dtype=dtype)


def test_shapes_and_physical_ranges():
    terms = _bm(_model(), _atm(), 0.0)
    assert terms.transmittance.shape == terms.path_radiance.shape == terms.downwelling.shape == (2, NU.size)
    np.testing.assert_array_equal(np.asarray(terms.wavenumber), NU)
    tau = np.asarray(terms.transmittance)
    assert np.all((tau > 0) & (tau < 1)) and np.all(np.asarray(terms.path_radiance) > 0)
    assert np.all(np.asarray(terms.downwelling) > 0)
    # the wetter, warmer profile is more opaque; the path radiance stays below the surface-air Planck radiance
    assert np.all(tau[0] < tau[1])
    assert np.all(np.asarray(terms.path_radiance[0]) < np.asarray(planck_wavenumber(NU, 295.0)))
    terms.validate()


def test_isothermal_atmosphere_identity():
    """For an isothermal atmosphere, L↑ = (1 − τ) B(T) exactly and L↓ ≤ B(T) (every layer at one temperature)."""
    atm = _atm(t_surface=(280.0,), wet=(1e4,), isothermal=True)
    terms = _bm(_model(n_terms=3), atm, 30.0)
    b = np.asarray(planck_wavenumber(NU, 280.0))
    np.testing.assert_allclose(np.asarray(terms.path_radiance[0]), (1 - np.asarray(terms.transmittance[0])) * b,
                               rtol=1e-12)
    assert np.all(np.asarray(terms.downwelling[0]) < b)


def test_view_angle_dependence():
    m, atm = _model(), _atm()
    nadir, v30, v60 = (_bm(m, atm, v) for v in (0.0, 30.0, 60.0))
    default = m(atm)
    np.testing.assert_allclose(np.asarray(default.transmittance), np.asarray(nadir.transmittance), rtol=1e-12)
    assert np.all(np.asarray(v30.transmittance) < np.asarray(nadir.transmittance))
    assert np.all(np.asarray(v60.transmittance) < np.asarray(v30.transmittance))
    # longer paths emit more where the atmosphere is semi-transparent (in opaque channels the emission comes from
    # higher, colder levels at slant view: limb darkening)
    clear = np.asarray(nadir.transmittance) > 0.3
    assert clear.sum() > 5
    assert np.all(np.asarray(v60.path_radiance)[clear] > np.asarray(v30.path_radiance)[clear])
    assert np.all(np.asarray(v30.path_radiance)[clear] > np.asarray(nadir.path_radiance)[clear])
    # the hemispheric downwelling of one k-term does not depend on the view direction; with several terms the
    # effective L↓ = Σ g τ_k L↓_k / Σ g τ_k does (the slant path favours the transparent terms)
    one = _model(n_terms=1)
    np.testing.assert_allclose(np.asarray(_bm(one, atm, 60.0).downwelling),
                               np.asarray(_bm(one, atm, 0.0).downwelling), rtol=1e-12)
    # a per-sample angle
    mixed = _bm(m, atm, jnp.array([0.0, 60.0]))
    np.testing.assert_allclose(np.asarray(mixed.transmittance[1]), np.asarray(v60.transmittance[1]), rtol=1e-12)


def test_linear_in_tau_factor():
    d = jnp.asarray([0.0, 1e-6, THIN_LAYER_TAU * (1 - 1e-9), THIN_LAYER_TAU, 1.0, 50.0, 800.0])
    f = np.asarray(linear_in_tau_factor(d))
    assert f[0] == 0.5 and np.all(np.diff(f) <= 0) and f[-1] == pytest.approx(1 / 800.0)
    assert f[2] == pytest.approx(f[3], abs=1e-9)  # continuous at the switch
    g = np.asarray(jax.vmap(jax.grad(linear_in_tau_factor))(d))
    assert np.all(np.isfinite(g)) and g[1] == pytest.approx(-1 / 12, rel=1e-4)


def test_jit_vmap_and_float32():
    m, atm = _model(), _atm()
    ref = band_model(m, atm, 20.0)
    jitted = _bm(m, atm, 20.0)
    per_profile = type(atm)(jnp.broadcast_to(atm.pressure, atm.temperature.shape), atm.temperature, atm.h2o, atm.o3)
    one = jax.vmap(lambda a: _bm(m, a, 20.0))(per_profile)
    for field in ("transmittance", "path_radiance", "downwelling"):
        np.testing.assert_allclose(np.asarray(getattr(jitted, field)), np.asarray(getattr(ref, field)), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(getattr(one, field)), np.asarray(getattr(ref, field)), rtol=1e-12)
    t32 = _bm(m.astype(jnp.float32), _atm(dtype=jnp.float32), 20.0)
    assert t32.transmittance.dtype == jnp.float32
    srf64, srf32 = vimi_response(NU), vimi_response(NU, dtype=jnp.float32)
    bt64 = toa_brightness_temperature(ref, jnp.full(NU.size, 0.97), jnp.array([300.0, 275.0]), srf64)
    bt32 = toa_brightness_temperature(t32, jnp.full(NU.size, 0.97, jnp.float32), jnp.array([300.0, 275.0],
                                                                                          jnp.float32), srf32)
    np.testing.assert_allclose(np.asarray(bt32), np.asarray(bt64), atol=2e-3)  # K


def test_finite_difference_gradients():
    """∂BT/∂Ts, ∂BT/∂ε (one channel) and ∂BT/∂H₂O (several levels) vs float64 central differences."""
    m, atm = _model(), _atm()[0]
    srf = vimi_response(NU)
    eps0 = jnp.full(NU.size, 0.96)

    @jax.jit
    def bt(ts, eps, h2o):
        atm2 = type(atm)(atm.pressure, atm.temperature, h2o, atm.o3, {})
        return toa_brightness_temperature(_bm(m, atm2, 10.0), eps, ts, srf)

    args = (jnp.float64(300.0), eps0, atm.h2o)
    k = int(np.argmin(np.abs(NU - 925.0)))
    directions = [(1.0, jnp.zeros(NU.size), jnp.zeros(atm.h2o.shape), 1e-3),
                  (0.0, jnp.zeros(NU.size).at[k].set(1.0), jnp.zeros(atm.h2o.shape), 1e-5)]
    directions += [(0.0, jnp.zeros(NU.size), jnp.zeros(atm.h2o.shape).at[lev].set(1.0), float(atm.h2o[lev]) * 1e-4)
                   for lev in (0, 3, 8)]
    jvp = jax.jit(lambda t: jax.jvp(bt, args, t)[1])
    for d_ts, d_eps, d_h2o, h in directions:
        tangent = (jnp.float64(d_ts), d_eps, d_h2o)
        plus = [a + h * d for a, d in zip(args, tangent)]
        minus = [a - h * d for a, d in zip(args, tangent)]
        fd = (np.asarray(bt(*plus)) - np.asarray(bt(*minus))) / (2 * h)
        np.testing.assert_allclose(np.asarray(jvp(tangent)), fd, rtol=1e-4, atol=1e-12)
        if d_h2o[0] == 1.0:  # more water vapour near the warm surface: colder 10.8/12 µm BT
            assert np.all(np.asarray(jvp(tangent))[2:4] < 0)


def test_coefficient_gradients_are_finite():
    m, atm = _model(), _atm()
    def loss(c):
        return jnp.sum(band_model(BandModel(m.wavenumber, c, m.self_absco, m.foreign_absco, m.self_texp), atm,
                                  0.0).path_radiance)

    g = jax.grad(loss)(m.coefficients)
    assert all(np.all(np.isfinite(np.asarray(v))) for v in jax.tree.leaves(g))
    assert float(jnp.abs(g.log_k_line).sum()) > 0 and float(jnp.abs(g.log_self_scale).sum()) > 0


def test_subset_astype_and_checks():
    m = _model()
    s = m.subset(800.0, 980.0)
    assert s.wavenumber.shape[0] == int(np.sum(NU <= 980.0)) and s.coefficients.log_k_line.shape[1] == 2
    n = s.wavenumber.shape[0]
    np.testing.assert_allclose(np.asarray(s(_atm()).transmittance), np.asarray(m(_atm()).transmittance)[:, :n])
    with pytest.raises(ValueError, match="no channel"):
        m.subset(2000.0, 2100.0)
    with pytest.raises((ValueError, TypeError)):
        BandModel(jnp.asarray(NU[:3]), m.coefficients, m.self_absco, m.foreign_absco, m.self_texp)
    with pytest.raises(ValueError, match="n_quadrature"):
        BandModel(m.wavenumber, m.coefficients, m.self_absco, m.foreign_absco, m.self_texp, n_quadrature=7)


def test_channel_grid_and_means():
    fine = np.arange(800.0, 1326.0)
    nu = channel_grid(fine, 5)
    assert nu.shape == (105,) and nu[0] == 802.0 and nu[-1] == 1322.0
    np.testing.assert_allclose(channel_means(fine, 5), nu)
    assert channel_means(np.ones((3, 526)), 10).shape == (3, 52)
    with pytest.raises(ValueError, match="channel width"):
        channel_grid(fine, 0)


def test_continuum_formula_and_scaling():
    atm = _atm()
    layers = atm.layers()
    nu = jnp.asarray([900.0])
    tau_s, tau_f = continuum_components(CONTINUUM, layers, nu)
    # by hand for layer 0 of profile 0 (MT_CKD: rho = p/p0 · T0/T; radiation term ν tanh(c2 ν / 2T))
    p, t, x, u = (float(v[0, 0]) for v in (layers.pressure, layers.temperature, layers.h2o * 1e-6, layers.u_h2o))
    rad = 900.0 * np.tanh(1.438776877 * 900.0 / (2 * t))
    cs = float(np.interp(900.0, CONTINUUM.wavenumber, CONTINUUM.self_absco))
    expected_self = u * rad * cs * (296.0 / t) ** 5.0 * x * (p / 1013.0) * (296.0 / t)
    assert float(tau_s[0, 0, 0]) == pytest.approx(expected_self, rel=1e-6)
    assert float(tau_f[0, 0, 0]) == pytest.approx(u * rad * 2e-27 * (1 - x) * (p / 1013.0) * (296.0 / t), rel=1e-6)
    total = continuum_optical_depth(CONTINUUM, layers, nu)
    np.testing.assert_allclose(np.asarray(total), np.asarray(tau_s + tau_f))
    # self continuum ∝ u·x: doubling the water vapour (nearly) quadruples it, the foreign (nearly) doubles
    wet = type(atm)(atm.pressure, atm.temperature, 2 * atm.h2o, atm.o3, {})
    tau_s2, tau_f2 = continuum_components(CONTINUUM, wet.layers(), nu)
    assert float(tau_s2[0, 0, 0] / tau_s[0, 0, 0]) == pytest.approx(4.0, rel=0.03)
    assert float(tau_f2[0, 0, 0] / tau_f[0, 0, 0]) == pytest.approx(2.0, rel=0.03)
    with pytest.raises((ValueError, TypeError)):  # TypeError: jaxtyping's run-time shape check (tests)
        Continuum(np.arange(3.0), np.ones(2), np.ones(3), np.ones(3))
