"""Sensor spectral responses, band convolution and band noise."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.canopy import SENSORS, GaussianNoise, SpectralResponse, convolve, load_srf

WL = np.arange(400, 2401)
#: Central wavelengths of Sentinel-2A (nm), shared/data/README.md.
S2A_CENTRES = [492.7, 559.8, 664.6, 704.1, 740.5, 782.8, 832.8, 864.7, 1613.7, 2202.4]


@pytest.mark.parametrize("sensor", sorted(SENSORS))
def test_flat_spectrum_convolves_to_itself(sensor):
    srf = load_srf(sensor, WL, dtype=jnp.float64)
    np.testing.assert_allclose(np.asarray(srf.weights).sum(axis=1), 1.0, rtol=1e-13)
    spectra = jnp.asarray([[0.3], [0.7]]) * jnp.ones((2, WL.size))
    bands = convolve(spectra, srf)
    assert bands.shape == (2, srf.n_bands)
    np.testing.assert_allclose(bands, jnp.asarray([[0.3], [0.7]]) * jnp.ones((2, srf.n_bands)), rtol=1e-13)


def test_sentinel2a_band_centres():
    srf = load_srf("Sentinel_2A", WL, dtype=jnp.float64)
    assert srf.band_names == ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")
    np.testing.assert_allclose(srf.centres, S2A_CENTRES, atol=0.5)
    # a linear spectrum convolves to its value at the band centre
    np.testing.assert_allclose(convolve(jnp.asarray(WL, jnp.float64) * 1e-3, srf), srf.centres * 1e-3, rtol=1e-13)


def test_landsat_bands_and_landsat9_table_fix():
    l8 = load_srf("landsat-8", WL, dtype=jnp.float64)
    l9 = load_srf("landsat-9", WL, dtype=jnp.float64)
    assert l9.band_names == l8.band_names
    # the packaged Landsat 9 table repeats earlier bands in Cirrus/SWIR columns; after the fix the centres agree
    np.testing.assert_allclose(l9.centres, l8.centres, atol=3.0)
    swir2 = np.asarray(l9.weights[l9.band_names.index("SWIR2")])
    assert swir2[WL < 2000].sum() == 0.0


def test_unknown_sensor_and_grid_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown sensor"):
        load_srf("sentinel-3")
    with pytest.raises(ValueError, match="outside the simulated range"):
        load_srf("sentinel-2a", np.arange(400, 1501))  # B11, B12 lie beyond 1500 nm
    srf = load_srf("sentinel-2a", WL)
    with pytest.raises(ValueError, match="wavelengths"):
        convolve(jnp.ones(100), srf)


def test_user_table(tmp_path):
    path = tmp_path / "box.csv"
    wl = np.arange(500, 701)
    resp = np.stack([(wl >= 540) & (wl <= 560), (wl >= 640) & (wl <= 660)], axis=1).astype(float)
    np.savetxt(path, np.column_stack([wl, resp]), delimiter=",", header="wavelength,green,red", comments="")
    srf = load_srf(path, WL, dtype=jnp.float64)
    assert srf.name == "box" and srf.band_names == ("green", "red")
    np.testing.assert_allclose(srf.centres, [550.0, 650.0], atol=1e-9)
    direct = SpectralResponse.from_table(wl, resp, ("green", "red"), on=WL, dtype=jnp.float64)
    np.testing.assert_allclose(direct.weights, srf.weights)
    # differentiable: d band / d spectrum = weights
    jac = jax.jacfwd(lambda x: convolve(x, srf))(jnp.zeros(WL.size))
    np.testing.assert_allclose(jac, srf.weights)


def test_gaussian_noise_statistics():
    noise = GaussianNoise(additive=jnp.asarray([0.01, 0.0]), multiplicative=0.05)
    x = jnp.full((20000, 2), 0.4)
    np.testing.assert_allclose(noise.std(x)[0], [np.hypot(0.01, 0.02), 0.02], rtol=1e-12)
    y = noise(jax.random.key(3), x)
    assert y.shape == x.shape
    np.testing.assert_allclose(np.std(np.asarray(y), axis=0), [np.hypot(0.01, 0.02), 0.02], rtol=0.03)
    np.testing.assert_allclose(np.mean(np.asarray(y), axis=0), [0.4, 0.4], atol=1e-3)
    np.testing.assert_array_equal(noise(jax.random.key(3), x), y)  # explicit keys: reproducible
    assert not np.array_equal(np.asarray(noise(jax.random.key(4), x)), np.asarray(y))


def test_convolve_canopy_result_fields():
    from leafjax.canopy import CanopyParams, convolve_fields, sail

    srf = load_srf("sentinel-2b", WL, dtype=jnp.float64)
    r = jnp.full((2, WL.size), 0.45)
    out = sail(r, 0.9 * r, jnp.full((WL.size,), 0.2), CanopyParams(lai=jnp.asarray([1.0, 3.0]), lidf_a=50.0))
    bands = convolve_fields(out, srf)
    assert bands.rsot.shape == (2, srf.n_bands) and bands.tdd.shape == (2, srf.n_bands)
    assert bands.tss.shape == (2,)
    np.testing.assert_allclose(bands.rsot, convolve(out.rsot, srf), rtol=1e-15)
