"""Top-of-atmosphere thermal radiance and band brightness temperatures on synthetic smooth atmospheric terms (no
shared data): physical limits, monotonicity, float64 finite-difference gradients w.r.t. the surface temperature
and the emissivity, jit/vmap invariance, float32, input checks and the ±0.05 µm band-shift sensitivity."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.thermal import (AtmosphericTerms, ShiftSensitivity, band_radiance,
                                     band_shift_sensitivity, planck_wavenumber, toa_brightness_temperature,
                                     toa_radiance, vimi_response)

GRID = np.arange(800.0, 1326.0)  # cm⁻¹
T_SURFACE = jnp.array([305.0, 280.0, 300.0])  # K


def _terms(dtype=jnp.float64) -> AtmosphericTerms:
    """Three smooth synthetic atmospheres (column water 0.5, 2, 4.5 g/cm²): τ = exp(−k(ν) w) with a window
    centred at 1060 cm⁻¹, isothermal-layer emission L↑ = (1 − τ) B(T_a − 5), L↓ = (1 − τ^1.66) B(T_a − 2)."""
    x = (GRID - 1060.0) / 265.0
    k = 0.03 + 0.15 * x**2 + 0.02 * np.sin(GRID / 17.0) ** 2
    w, t_air = np.array([0.5, 2.0, 4.5])[:, None], np.array([300.0, 285.0, 295.0])[:, None]
    tau = np.exp(-k * w)
    l_up = (1.0 - tau) * np.asarray(planck_wavenumber(GRID, t_air - 5.0))
    l_down = (1.0 - tau**1.66) * np.asarray(planck_wavenumber(GRID, t_air - 2.0))
    return AtmosphericTerms(*(jnp.asarray(a, dtype) for a in (GRID, tau, l_up, l_down)))


EMISSIVITY = jnp.asarray(0.96 + 0.02 * np.sin(GRID / 40.0))  # (nu,)


@pytest.fixture(scope="module")
def srf():
    return vimi_response(GRID)


@pytest.fixture(scope="module")
def terms():
    return _terms().validate(EMISSIVITY, T_SURFACE)


def _blackbody_view(n: int = 3) -> AtmosphericTerms:
    ones = jnp.ones((n, GRID.size))
    return AtmosphericTerms(jnp.asarray(GRID), ones, jnp.zeros_like(ones), jnp.zeros_like(ones))


def test_physical_limits(srf, terms):
    # ε = 1, τ = 1, L↑ = 0: the band brightness temperature is the surface temperature.
    bt = toa_brightness_temperature(_blackbody_view(), jnp.ones(GRID.size), T_SURFACE, srf)
    np.testing.assert_allclose(bt, np.broadcast_to(np.asarray(T_SURFACE)[:, None], (3, 4)), atol=1e-9)
    # ε = 0 in a vacuum (τ = 1, L↑ = 0): the surface reflects the sky, L_TOA = L↓.
    mirror = AtmosphericTerms(terms.wavenumber, jnp.ones_like(terms.transmittance),
                              jnp.zeros_like(terms.path_radiance), terms.downwelling)
    np.testing.assert_allclose(toa_radiance(mirror, jnp.zeros(GRID.size), T_SURFACE), terms.downwelling, rtol=1e-14)
    # Linear in ε with slope τ (B(Ts) − L↓); per-profile (3, nu) emissivity is accepted.
    eps3 = jnp.stack([EMISSIVITY, EMISSIVITY - 0.1, EMISSIVITY * 0.5])
    slope = terms.transmittance * (planck_wavenumber(GRID, T_SURFACE[:, None]) - terms.downwelling)
    np.testing.assert_allclose(toa_radiance(terms, eps3, T_SURFACE) - toa_radiance(terms, jnp.zeros_like(eps3),
                                                                                    T_SURFACE), eps3 * slope,
                               rtol=1e-12, atol=1e-16)
    # The atmosphere pulls the BT toward the (colder) air: BT < Ts for a warm surface, more so when wetter.
    bt = np.asarray(toa_brightness_temperature(terms, EMISSIVITY, jnp.full(3, 320.0), srf))
    assert np.all(bt < 320.0) and np.all(bt[2] < bt[0])


def test_brightness_temperature_is_monotone_in_surface_temperature(srf, terms):
    ts = jnp.linspace(240.0, 340.0, 21)
    bt = jax.vmap(lambda t: toa_brightness_temperature(terms, EMISSIVITY, jnp.full(3, t), srf))(ts)  # (21, 3, 4)
    assert np.all(np.diff(np.asarray(bt), axis=0) > 0)


def _rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_gradients_match_float64_finite_differences(srf, terms):
    def bt(eps, ts):
        return toa_brightness_temperature(terms, eps, ts, srf)

    # w.r.t. the surface temperature (each profile its own; the Jacobian is diagonal over profiles)
    d_ts = jax.jit(jax.jacfwd(bt, argnums=1))(EMISSIVITY, T_SURFACE)  # (3, 4, 3)
    h = 1e-3
    pm = jax.vmap(bt, in_axes=(None, 0))(EMISSIVITY, jnp.stack([T_SURFACE + h, T_SURFACE - h]))
    fd_ts = (pm[0] - pm[1]) / (2 * h)
    assert _rel_err(jnp.einsum("iki->ik", d_ts), fd_ts) < 1e-4
    assert np.all(np.asarray(fd_ts) > 0) and np.all(np.asarray(fd_ts) < 1)
    # w.r.t. the spectral emissivity along a smooth direction (forward and reverse mode)
    v = jnp.asarray(np.cos(GRID / 60.0) * 0.01)
    _, jvp = jax.jvp(lambda e: bt(e, T_SURFACE), (EMISSIVITY,), (v,))
    pm = jax.vmap(bt, in_axes=(0, None))(jnp.stack([EMISSIVITY + 1e-3 * v, EMISSIVITY - 1e-3 * v]), T_SURFACE)
    assert _rel_err(jvp, (pm[0] - pm[1]) / 2e-3) < 1e-4
    grad = jax.grad(lambda e: jnp.sum(bt(e, T_SURFACE)))(EMISSIVITY)
    assert float(grad @ v) == pytest.approx(float(jnp.sum(jvp)), rel=1e-10)


def test_jit_vmap_and_float32(srf, terms):
    eager = toa_brightness_temperature(terms, EMISSIVITY, T_SURFACE, srf)
    np.testing.assert_allclose(jax.jit(toa_brightness_temperature)(terms, EMISSIVITY, T_SURFACE, srf), eager,
                               rtol=1e-13)
    per_profile = jax.vmap(lambda tau, up, down, ts: toa_brightness_temperature(
        AtmosphericTerms(terms.wavenumber, tau, up, down), EMISSIVITY, ts, srf))(
        terms.transmittance, terms.path_radiance, terms.downwelling, T_SURFACE)
    np.testing.assert_allclose(per_profile, eager, rtol=1e-13)
    np.testing.assert_allclose(toa_brightness_temperature(terms[1], EMISSIVITY, T_SURFACE[1], srf), eager[1],
                               rtol=1e-13)
    bt32 = toa_brightness_temperature(_terms(jnp.float32), EMISSIVITY.astype(jnp.float32),
                                      T_SURFACE.astype(jnp.float32), vimi_response(GRID, dtype=jnp.float32))
    assert bt32.dtype == jnp.float32
    np.testing.assert_allclose(bt32, eager, atol=2e-3)  # float32 tolerance 2 mK (observed ≲ 0.2 mK)


def test_band_average_and_input_checks(srf, terms):
    band = terms.band_average(srf)
    assert band.transmittance.shape == (3, 4) and band.wavenumber.shape == (4,)
    np.testing.assert_allclose(band.path_radiance, band_radiance(terms.path_radiance, srf), rtol=1e-14)
    with pytest.raises(ValueError, match="grid"):
        toa_brightness_temperature(terms, EMISSIVITY, T_SURFACE, vimi_response(GRID + 0.5))
    with pytest.raises(ValueError, match="grid"):
        toa_brightness_temperature(terms, EMISSIVITY, T_SURFACE, vimi_response(GRID[:-1]))
    with pytest.raises(ValueError, match="emissivity must lie in"):
        terms.validate(EMISSIVITY + 0.1)
    with pytest.raises(ValueError, match="transmittance out of range"):
        AtmosphericTerms(terms.wavenumber, terms.transmittance + 0.5, terms.path_radiance,
                         terms.downwelling).validate()
    with pytest.raises(ValueError, match="last axis"):
        toa_radiance(terms, EMISSIVITY[:-1], T_SURFACE)


def test_band_shift_sensitivity_is_finite_and_bounded(terms):
    sens = band_shift_sensitivity(terms, EMISSIVITY, T_SURFACE, shift_um=0.05)
    assert isinstance(sens, ShiftSensitivity) and sens.minus.shape == (3, 4)
    both = np.abs(np.stack([sens.minus, sens.plus]))
    assert np.all(np.isfinite(both)) and both.max() < 1.0  # K, for ±0.05 µm on a smooth spectrum
    assert both.max() > 1e-3  # a real sensitivity: the spectrum is not flat in brightness temperature
    # First order: opposite shifts move the BT in opposite directions where the effect is resolved.
    big = both.min(axis=0) > 1e-3
    assert np.all(np.sign(sens.minus)[big] == -np.sign(sens.plus)[big])
    # The nominal bands give the same BT as the direct route; a pure blackbody view is insensitive to shifts.
    np.testing.assert_allclose(sens.nominal, toa_brightness_temperature(terms, EMISSIVITY, T_SURFACE,
                                                                        vimi_response(GRID)), rtol=1e-13)
    flat = band_shift_sensitivity(_blackbody_view(), jnp.ones(GRID.size), T_SURFACE)
    assert np.abs(np.stack([flat.minus, flat.plus])).max() < 1e-8
    with pytest.raises(ValueError, match="positive"):
        band_shift_sensitivity(terms, EMISSIVITY, T_SURFACE, shift_um=0.0)
