"""Band names and aliases, band subsets, band tables from centres and FWHM, and convolution checks for every
packaged sensor and a Gaussian (PRISMA-like) sensor."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.spectral import (OLI_BANDS, S2_BANDS, SENSORS, SpectralResponse, canonical_band, convolve, load_srf,
                              sensor_key)

WL = np.arange(400, 2401)


@pytest.mark.parametrize("alias, canonical", [("B02", "B2"), ("B2", "B2"), ("b02", "B2"), ("B8A", "B8A"),
                                              ("b8a", "B8A"), ("B8a", "B8A"), ("B08", "B8"), ("B11", "B11"),
                                              (" B12 ", "B12")])
def test_sentinel2_aliases(alias, canonical):
    for sensor in ("sentinel-2a", "sentinel-2b", "Sentinel_2C", "S2A"):
        assert canonical_band(alias, sensor) == canonical


@pytest.mark.parametrize("number", range(1, 10))
def test_landsat_band_numbers_and_names(number):
    name = OLI_BANDS[number - 1]
    for sensor in ("landsat-8", "landsat-9", "L8"):
        assert canonical_band(f"B{number}", sensor) == name
        assert canonical_band(name.lower(), sensor) == name
        assert canonical_band(name.upper(), sensor) == name
        if number <= 7:
            assert canonical_band(f"SR_B{number}", sensor) == name


def test_landsat_table_names_and_words():
    assert [canonical_band(b, "landsat-8") for b in ("B4", "SR_B5", "nir", "Swir1", "swir_2", "coastal")] == [
        "Red", "NIR", "NIR", "SWIR1", "SWIR2", "CoastalAerosol"]
    assert set(OLI_BANDS) == set(load_srf("landsat-8").band_names)
    assert S2_BANDS == load_srf("sentinel-2a").band_names


@pytest.mark.parametrize("sensor, name, listed", [("sentinel-2a", "B1", "B2, B3"), ("sentinel-2b", "B13", "B8A"),
                                                  ("sentinel-2a", "NIR", "B12"), ("landsat-8", "B10", "Cirrus"),
                                                  ("landsat-9", "red edge", "SWIR2")])
def test_unknown_band_lists_the_sensor_bands(sensor, name, listed):
    with pytest.raises(ValueError, match=f"unknown band .*{listed}"):
        canonical_band(name, sensor)


def test_user_sensors_and_sensor_keys():
    assert canonical_band(" b1 ", "my-sensor") == "b1"  # no aliases known: returned as given
    assert canonical_band("VNIR_10", "prisma", bands=("vnir_9", "vnir_10")) == "vnir_10"
    with pytest.raises(ValueError, match="its bands are: vnir_9, vnir_10"):
        canonical_band("vnir_11", "prisma", bands=("vnir_9", "vnir_10"))
    with pytest.raises(ValueError, match="non-empty string"):
        canonical_band("", "sentinel-2a")
    assert [sensor_key(s) for s in ("S2B", "sentinel_2c", "LC09", "landsat8", "modis")] == [
        "sentinel-2b", "sentinel-2c", "landsat-9", "landsat-8", None]


def test_select_keeps_weight_rows_exactly():
    srf = load_srf("sentinel-2a", WL, dtype=jnp.float64)
    sub = srf.select(["B8a", "B02", "B11"])
    assert sub.band_names == ("B8A", "B2", "B11") and sub.name == srf.name
    rows = [srf.band_names.index(b) for b in sub.band_names]
    np.testing.assert_array_equal(sub.weights, np.asarray(srf.weights)[rows])
    np.testing.assert_array_equal(sub.wavelengths, srf.wavelengths)
    assert srf.select("B4").band_names == ("B4",)
    l8 = load_srf("landsat-8", WL, dtype=jnp.float64)
    assert l8.select(["SR_B4", "B5"]).band_names == ("Red", "NIR")
    with pytest.raises(ValueError, match="once"):
        srf.select(["B2", "B02"])
    with pytest.raises(ValueError, match="once"):
        srf.select([])
    with pytest.raises(ValueError, match="unknown band 'B1'"):
        srf.select(["B1"])


def test_load_srf_bands_subset():
    full = load_srf("sentinel-2b", WL, dtype=jnp.float64)
    sub = load_srf("sentinel-2b", WL, bands=["B12", "b8a"], dtype=jnp.float64)
    np.testing.assert_array_equal(sub.weights, full.select(["B12", "B8A"]).weights)
    # only the selected bands must lie inside the grid
    with pytest.raises(ValueError, match="outside the simulated range"):
        load_srf("sentinel-2a", np.arange(400, 1001))
    vnir = load_srf("sentinel-2a", np.arange(400, 1001), bands=S2_BANDS[:8])
    assert vnir.n_bands == 8


@pytest.mark.parametrize("sensor", sorted(SENSORS))
def test_constant_and_linear_spectra(sensor):
    srf = load_srf(sensor, WL, dtype=jnp.float64)
    np.testing.assert_allclose(np.asarray(srf.weights).sum(axis=1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(convolve(jnp.full((WL.size,), 0.37), srf), 0.37, rtol=1e-13)
    a, b = 2.5e-4, 0.03
    np.testing.assert_allclose(convolve(jnp.asarray(a * WL + b, jnp.float64), srf), a * srf.centres + b,
                               rtol=1e-12)


#: Published central wavelengths (nm): ESA Sentinel-2 spectral response functions document (S2-SRF, COPE-GSEG-
#: EOPG-TN-15-0007, v3.x) for S2A/S2B; USGS Landsat 8 OLI relative spectral response.
PUBLISHED = {"sentinel-2a": {"B2": 492.4, "B8A": 864.8, "B11": 1613.7},
             "sentinel-2b": {"B2": 492.1, "B8A": 864.0, "B11": 1610.4},
             "landsat-8": {"NIR": 864.7, "SWIR1": 1608.9}}


@pytest.mark.parametrize("sensor", sorted(PUBLISHED))
def test_band_centres_match_the_published_values(sensor):
    srf = load_srf(sensor, WL, dtype=jnp.float64)
    for band, centre in PUBLISHED[sensor].items():
        assert abs(float(srf.centres[srf.band_names.index(band)]) - centre) < 2.0, (band, centre)


def _prisma_table(tmp_path, n=230):
    centres = np.linspace(400.0, 2450.0, n)
    fwhm = 10.0 + 2.0 * np.sin(np.arange(n))  # 8–12 nm
    path = tmp_path / "prisma_like.csv"
    path.write_text("band,centre,fwhm\n" + "".join(f"b{i + 1},{c:.6f},{f:.6f}\n"
                                                    for i, (c, f) in enumerate(zip(centres, fwhm))))
    return path, centres, np.asarray([float(f"{f:.6f}") for f in fwhm])


def test_gaussian_sensor_from_centres_and_fwhm(tmp_path):
    path, centres, fwhm = _prisma_table(tmp_path)
    centres = np.asarray([float(f"{c:.6f}") for c in centres])
    grid = np.arange(360.0, 2490.0, 0.5)
    srf = load_srf(path, grid, dtype=jnp.float64)
    assert srf.n_bands == 230 and srf.name == "prisma_like" and srf.band_names[:2] == ("b1", "b2")
    np.testing.assert_allclose(srf.centres, centres, atol=1e-6)
    np.testing.assert_allclose(convolve(jnp.asarray(3e-4 * grid + 0.1), srf), 3e-4 * centres + 0.1, rtol=1e-10)
    # a narrow Gaussian feature (σ = 1.5 nm at 1000.3 nm): band value = analytic Gaussian convolution integral
    s, x0 = 1.5, 1000.3
    line = jnp.asarray(np.exp(-0.5 * ((grid - x0) / s) ** 2))
    sig = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    expected = s / np.sqrt(sig**2 + s**2) * np.exp(-0.5 * (centres - x0) ** 2 / (sig**2 + s**2))
    np.testing.assert_allclose(convolve(line, srf), expected, rtol=1e-7, atol=1e-12)
    # default grid, subset, and the same bands built directly
    sub = load_srf(path, bands=["B3", "b1"])
    assert sub.band_names == ("b3", "b1")
    direct = SpectralResponse.from_centres_fwhm(centres[[2, 0]], fwhm[[2, 0]], np.asarray(sub.wavelengths))
    np.testing.assert_allclose(sub.weights, direct.weights, rtol=1e-6)


@pytest.mark.parametrize("text, match", [("band,centre\nb1,500\n", "header"),
                                         ("band,centre,fwhm\nb1,500,x\n", "must be numbers"),
                                         ("band,centre,fwhm\nb1,500,-3\n", "positive"),
                                         ("band,centre,fwhm\nb1,500,10\nb1,600,10\n", "unique"),
                                         ("band,centre,fwhm\n", "no bands")])
def test_bad_band_tables(tmp_path, text, match):
    from leafjax.spectral._bands import read_centres_fwhm

    path = tmp_path / "bands.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_centres_fwhm(path)
    if match != "header":
        with pytest.raises(ValueError, match=match):
            load_srf(path)
