"""Thermal core: Planck's law against an independent CODATA evaluation and a tabulated value, the wavelength ↔
wavenumber Jacobian, the monochromatic and band brightness-temperature round trips (float64 and float32), the
parametric band responses (GF-5 VIMI), jit/vmap invariance and implicit gradients against finite differences."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.thermal import (VIMI_CENTRES_UM, VIMI_WIDTHS_UM, band_brightness_temperature, band_planck,
                                     band_radiance, brightness_temperature_wavelength,
                                     brightness_temperature_wavenumber, planck_wavelength, planck_wavenumber,
                                     thermal_response, vimi_response)

GRID = np.arange(800.0, 1326.0)  # cm⁻¹, 7.55–12.5 µm at 1 cm⁻¹
T_RANGE = np.linspace(180.0, 360.0, 181)  # K
#: CODATA 2018 exact SI values (J s, m/s, J/K), written out independently of leafjax._constants.
H, C, K = 6.62607015e-34, 299792458.0, 1.380649e-23


@pytest.fixture(scope="module")
def srf():
    return vimi_response(GRID)


def _planck_numpy(nu_cm1, t):
    """B per cm⁻¹ from SI Planck per m⁻¹: 2hc²ν³/(exp(hcν/kT) − 1), ν in m⁻¹, ×100 for a density per cm⁻¹."""
    nu_m = 100.0 * np.asarray(nu_cm1, dtype=np.float64)
    return 100.0 * 2.0 * H * C**2 * nu_m**3 / np.expm1(H * C * nu_m / (K * np.asarray(t, dtype=np.float64)))


def test_planck_matches_an_independent_codata_evaluation_and_a_tabulated_value():
    nu, t = GRID[::25], T_RANGE[::20, None]
    np.testing.assert_allclose(planck_wavenumber(nu, t), _planck_numpy(nu, t), rtol=1e-12)
    # 300 K at 1000 cm⁻¹ = 10 µm: 0.099240 W m⁻² sr⁻¹ (cm⁻¹)⁻¹ = 9.9240 W m⁻² sr⁻¹ µm⁻¹ (the commonly tabulated
    # blackbody value, e.g. online blackbody calculators).
    assert float(planck_wavenumber(1000.0, 300.0)) == pytest.approx(0.099240, rel=1e-4)
    assert float(planck_wavelength(10.0, 300.0)) == pytest.approx(9.9240, rel=1e-4)
    # Rayleigh–Jeans limit B → c1 ν² T / c2 (i.e. 2ckTν², x ≪ 1) and the Wien limit B → c1 ν³ exp(−x) (x ≫ 1).
    nu_rj = 1e-3
    rj = 2.0 * H * C**2 * (100 * nu_rj) ** 2 * 100 * 300.0 * K / (H * C)
    assert float(planck_wavenumber(nu_rj, 300.0)) == pytest.approx(rj, rel=1e-5)
    wien = 100.0 * 2.0 * H * C**2 * (2e5) ** 3 * np.exp(-H * C * 2e5 / (K * 200.0))
    assert float(planck_wavenumber(2000.0, 200.0)) == pytest.approx(wien, rel=1e-5)


def test_wavelength_and_wavenumber_forms_are_related_by_the_jacobian():
    nu, t = GRID[None, ::5], T_RANGE[::10, None]
    b_lambda = planck_wavelength(1e4 / nu, t)
    np.testing.assert_allclose(b_lambda, planck_wavenumber(nu, t) * nu**2 / 1e4, rtol=1e-12)


def test_monochromatic_round_trip_within_1_mk_float64_and_float32():
    nu, t = GRID[None, ::7], T_RANGE[:, None]
    err = np.abs(np.asarray(brightness_temperature_wavenumber(nu, planck_wavenumber(nu, t))) - t)
    assert err.max() < 1e-9
    lam = 1e4 / nu
    err = np.abs(np.asarray(brightness_temperature_wavelength(lam, planck_wavelength(lam, t))) - t)
    assert err.max() < 1e-9
    # float32: the rounding of the radiance (relative 6e-8) gives ≲ 5e-5 K; the stated tolerance is 2e-4 K.
    nu32, t32 = jnp.asarray(nu, jnp.float32), jnp.asarray(t, jnp.float32)
    bt32 = brightness_temperature_wavenumber(nu32, planck_wavenumber(nu32, t32))
    assert bt32.dtype == jnp.float32
    assert np.abs(np.asarray(bt32, np.float64) - np.asarray(t32, np.float64)).max() < 2e-4


def test_non_positive_radiance_gives_nan_with_a_zero_gradient():
    rad = jnp.array([-1e-3, 0.0, 0.05])
    bt = brightness_temperature_wavenumber(1000.0, rad)
    assert np.isnan(bt[:2]).all() and np.isfinite(bt[2])
    g = jax.grad(lambda r: jnp.sum(jnp.nan_to_num(brightness_temperature_wavenumber(1000.0, r))))(rad)
    assert np.all(np.isfinite(g)) and float(g[0]) == 0.0


def test_vimi_bands_follow_the_published_limits_and_normalise(srf):
    limits = [(8.01, 8.39), (8.42, 8.83), (10.3, 11.3), (11.4, 12.5)]
    for c, w, (lo, hi) in zip(VIMI_CENTRES_UM, VIMI_WIDTHS_UM, limits):
        assert abs((c - w / 2) - lo) < 6e-3 and abs((c + w / 2) - hi) < 6e-3
    assert srf.unit == "cm-1" and srf.band_names == ("b1", "b2", "b3", "b4")
    np.testing.assert_allclose(np.asarray(srf.weights).sum(axis=1), 1.0, rtol=1e-12)
    # The shape is at half maximum at the band limits: relative weight (per cm⁻¹) at λ_lo of b3 ≈ 0.5 × the peak.
    w3 = np.asarray(srf.weights[2]) / np.asarray(srf.weights[2]).max()
    j = np.argmin(np.abs(1e4 / GRID - 10.3))
    assert w3[j] == pytest.approx(0.5, abs=0.05)
    # A decreasing grid gives the same band values (up to the order of the grid).
    rev = vimi_response(GRID[::-1])
    np.testing.assert_allclose(rev.weights[:, ::-1], srf.weights, rtol=1e-12)


def test_thermal_response_input_errors():
    with pytest.raises(ValueError, match="off the grid"):
        thermal_response([13.5], [1.0], GRID)
    with pytest.raises(ValueError, match="one value per band"):
        thermal_response([10.0, 11.0], [1.0], GRID)
    with pytest.raises(ValueError, match="positive"):
        thermal_response([10.0], [-1.0], GRID)
    with pytest.raises(ValueError, match="monotonic"):
        thermal_response([10.0], [1.0], np.array([900.0, 1000.0, 950.0]))
    # A band cut by the grid end but mostly inside is accepted (b4 ends at the grid's 800 cm⁻¹ = 12.5 µm).
    cut = thermal_response([12.3], [0.8], GRID)
    np.testing.assert_allclose(float(cut.weights.sum()), 1.0)


def test_band_planck_per_band_and_broadcast_forms_agree(srf):
    t = jnp.array([250.0, 300.0])
    common = band_planck(t, srf)
    per_band = band_planck(jnp.repeat(t[:, None], 4, axis=1), srf, per_band=True)
    np.testing.assert_allclose(common, per_band, rtol=1e-13)
    np.testing.assert_allclose(common, band_radiance(planck_wavenumber(GRID, t[:, None]), srf), rtol=1e-13)
    with pytest.raises(ValueError, match="4 bands"):
        band_planck(t, srf, per_band=True)


def test_band_round_trip_within_1_mk_float64_and_float32(srf):
    t = jnp.asarray(T_RANGE)
    err = np.abs(np.asarray(band_brightness_temperature(band_planck(t, srf), srf)) - T_RANGE[:, None])
    assert err.max() < 1e-9  # requirement: 1 mK
    # per-band temperatures, some outside the LST range
    tb = jnp.stack([t, t[::-1], t + 40.0, t - 30.0], axis=-1)
    err = np.abs(np.asarray(band_brightness_temperature(band_planck(tb, srf, per_band=True), srf)) - tb)
    assert err.max() < 1e-9
    srf32 = vimi_response(GRID, dtype=jnp.float32)
    t32 = jnp.asarray(T_RANGE, jnp.float32)
    bt32 = band_brightness_temperature(band_planck(t32, srf32), srf32)
    assert bt32.dtype == jnp.float32
    # float32 tolerance: 5e-4 K (observed ≈ 6e-5 K, the rounding of the float32 band radiance).
    assert np.abs(np.asarray(bt32, np.float64) - T_RANGE[:, None]).max() < 5e-4


def test_band_brightness_temperature_is_jit_and_vmap_invariant(srf):
    rad = band_planck(jnp.linspace(200.0, 340.0, 6), srf)
    eager = band_brightness_temperature(rad, srf)
    jitted = jax.jit(band_brightness_temperature)(rad, srf)
    mapped = jax.vmap(band_brightness_temperature, in_axes=(0, None))(rad, srf)
    np.testing.assert_allclose(jitted, eager, rtol=1e-13)
    np.testing.assert_allclose(mapped, eager, rtol=1e-13)
    nan = jax.jit(band_brightness_temperature)(rad.at[0, 1].set(-1.0), srf)
    assert np.isnan(nan[0, 1]) and np.isfinite(np.delete(np.asarray(nan).ravel(), 1)).all()


def _rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_band_brightness_temperature_gradients_match_finite_differences(srf):
    rad = band_planck(jnp.array([215.0, 262.0, 301.0, 345.0]), srf, per_band=True)

    def f(r):
        return band_brightness_temperature(r, srf)

    jac, jac_rev = jax.jit(jax.jacfwd(f))(rad), jax.jit(jax.jacrev(f))(rad)
    steps = jnp.diag(1e-6 * rad)
    plus_minus = f(jnp.concatenate([rad[None] + steps, rad[None] - steps]))  # one call: rows ±h along each band
    fd = ((plus_minus[:4] - plus_minus[4:]) / (2e-6 * rad)[:, None]).T
    assert _rel_err(jac, fd) < 1e-4 and _rel_err(jac_rev, fd) < 1e-4
    # BT of a band Planck radiance w.r.t. the temperature: exactly 1 per band (the implicit derivative).
    g = jax.grad(lambda x: jnp.sum(band_brightness_temperature(band_planck(x, srf), srf)))(jnp.array(290.0))
    assert float(g) == pytest.approx(4.0, rel=1e-10)
    # w.r.t. a shift of the response grid (a tangent on srf.wavelengths), through the custom JVP.
    spectrum = planck_wavenumber(GRID, 280.0) * (0.8 + 0.2 * np.cos(GRID / 90.0))

    def bt_shifted(s):
        moved = eqx.tree_at(lambda r: r.wavelengths, srf, srf.wavelengths + s)
        return band_brightness_temperature(band_radiance(spectrum, srf), moved)

    d = jax.jacfwd(bt_shifted)(jnp.array(0.0))
    pm = jax.vmap(bt_shifted)(jnp.array([1e-3, -1e-3]))
    assert _rel_err(d, (pm[0] - pm[1]) / 2e-3) < 1e-4
