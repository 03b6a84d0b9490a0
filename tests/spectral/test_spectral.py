"""Spectral axes (nm, µm, cm⁻¹) and response functions built from band centres and widths."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.spectral import (
    FWHM_PER_SIGMA,
    SpectralAxis,
    SpectralResponse,
    canonical_unit,
    convert,
    convolve,
    from_nm,
    load_srf,
    to_nm,
)

WL = np.arange(400.0, 2401.0)


def test_unit_round_trips():
    nm = np.array([400.0, 1000.0, 2500.0, 10_000.0])
    np.testing.assert_allclose(convert(nm, "nm", "um"), nm / 1e3, rtol=1e-15)
    np.testing.assert_allclose(convert(nm, "nm", "cm-1"), 1e7 / nm, rtol=1e-15)
    for unit in ("um", "cm-1"):
        np.testing.assert_allclose(to_nm(from_nm(nm, unit), unit), nm, rtol=1e-14)
        np.testing.assert_allclose(convert(convert(nm, "nm", unit), unit, "nm"), nm, rtol=1e-14)
    # cm-1 -> um -> nm goes around the triangle
    np.testing.assert_allclose(convert(convert(np.array([1000.0]), "cm-1", "um"), "um", "nm"), [10_000.0])
    assert float(convert(10.0, "µm", "cm⁻¹")) == pytest.approx(1000.0)
    assert isinstance(convert(jnp.asarray([500.0]), "nm", "um"), type(jnp.zeros(1)))  # JAX in, JAX out
    axis = SpectralAxis([8.0, 10.0, 12.0], "µm")
    assert axis.unit == "um" and axis.size == 3
    np.testing.assert_allclose(axis.to("cm-1").to("nm").values, [8000.0, 10_000.0, 12_000.0], rtol=1e-12)
    np.testing.assert_allclose(axis.nm, [8000.0, 10_000.0, 12_000.0])
    with pytest.raises(ValueError, match="unknown spectral unit"):
        canonical_unit("GHz")


@pytest.mark.parametrize("unit, centres, fwhm, grid", [
    ("nm", [560.0, 665.0, 1610.0], [36.0, 30.0, 90.0], WL),
    ("um", [8.6, 10.6, 12.0], [0.5, 0.8, 1.0], np.arange(6.5, 14.5, 0.005)),
    ("cm-1", [800.0, 950.0, 1150.0], [40.0, 60.0, 25.0], np.arange(700.0, 1300.0, 0.5)),
])
def test_gaussian_band_centres_equal_the_given_centres(unit, centres, fwhm, grid):
    srf = SpectralResponse.from_centres_fwhm(centres, fwhm, grid, unit=unit, names=("a", "b", "c"),
                                             dtype=jnp.float64)
    assert srf.unit == unit and srf.band_names == ("a", "b", "c")
    np.testing.assert_allclose(np.asarray(srf.weights).sum(axis=1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(srf.centres, centres, rtol=1e-9)
    # the second moment gives back the width
    var = np.asarray(srf.weights) @ grid**2 - np.asarray(srf.centres) ** 2
    np.testing.assert_allclose(np.sqrt(var) * FWHM_PER_SIGMA, fwhm, rtol=1e-4)
    # half maximum at centre ± fwhm/2 (response sampled through the weights of an evenly spaced grid)
    w = np.asarray(srf.weights[0])
    half = np.interp(centres[0] + fwhm[0] / 2, grid, w) / w.max()
    assert half == pytest.approx(0.5, abs=2e-3)


def test_gaussian_on_a_grid_in_another_unit():
    """Bands given in cm⁻¹ on a µm grid: the shape is Gaussian in cm⁻¹; the grid keeps its unit."""
    grid_um = np.arange(7.5, 13.0, 0.001)
    srf = SpectralResponse.from_centres_fwhm([1000.0], [30.0], grid_um, unit="cm-1", grid_unit="um",
                                             dtype=jnp.float64)
    same = SpectralResponse.from_centres_fwhm([1000.0], [30.0], convert(grid_um, "um", "cm-1"), unit="cm-1",
                                              dtype=jnp.float64)
    assert srf.unit == "um"
    np.testing.assert_allclose(srf.weights, same.weights, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(srf.centres_in("cm-1"), [1000.0], rtol=1e-3)


def test_gaussian_matched_to_sentinel2_gives_nearly_the_same_bands():
    tab = load_srf("sentinel-2a", WL, dtype=jnp.float64)
    w = np.asarray(tab.weights)
    c = w @ WL
    fwhm = np.sqrt(w @ WL**2 - c**2) * FWHM_PER_SIGMA  # same mean and variance as each tabulated band
    gauss = SpectralResponse.from_centres_fwhm(c, fwhm, WL, names=tab.band_names, name="s2a-gauss",
                                               dtype=jnp.float64)
    x = (WL - 1400.0) / 1000.0
    smooth = jnp.asarray(0.3 + 0.1 * np.sin(2 * np.pi * WL / 900.0) + 0.05 * x - 0.08 * x**2)[None]
    a, b = np.asarray(convolve(smooth, tab)), np.asarray(convolve(smooth, gauss))
    assert np.abs(a - b).max() < 2e-3
    # a quadratic spectrum depends on the first two moments only (up to the truncation of B12 at 2400 nm)
    quad = jnp.asarray(0.2 + 0.05 * x - 0.08 * x**2)[None]
    np.testing.assert_allclose(convolve(quad, gauss), convolve(quad, tab), atol=1e-5)


def test_tables_in_micrometres_match_tables_in_nanometres():
    wl = np.arange(500.0, 701.0)
    resp = np.stack([(wl >= 540) & (wl <= 560), np.exp(-0.5 * ((wl - 650) / 8) ** 2)], axis=1).astype(float)
    nm = SpectralResponse.from_table(wl, resp, ("g", "r"), dtype=jnp.float64)
    um = SpectralResponse.from_table(wl / 1e3, resp, ("g", "r"), unit="um", dtype=jnp.float64)
    assert um.unit == "um" and nm.unit == "nm"
    np.testing.assert_allclose(um.weights, nm.weights, rtol=1e-12)
    np.testing.assert_allclose(um.centres_in("nm"), nm.centres, rtol=1e-12)


def test_gaussian_errors():
    with pytest.raises(ValueError, match="fwhm must be finite and positive"):
        SpectralResponse.from_centres_fwhm([500.0], [0.0], WL)
    with pytest.raises(ValueError, match="one value per band"):
        SpectralResponse.from_centres_fwhm([500.0, 600.0], [10.0], WL)
    with pytest.raises(ValueError, match="outside the grid"):
        SpectralResponse.from_centres_fwhm([2395.0], [40.0], WL)
    with pytest.raises(ValueError, match="names"):
        SpectralResponse.from_centres_fwhm([500.0], [10.0], WL, names=("a", "b"))
