"""Scenes in and maps out (:mod:`leafjax.io._raster`, :mod:`leafjax.io._raster_write`): band aliases, scale and
offset, nodata, SCL, time from the product name, lazy windows, GeoTIFF/netCDF/zarr, and maps on the input's grid.

The scenes are synthetic (``tests/_scenes.py``) with random reflectances here: the I/O does not need PROSAIL."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("rioxarray")

from _scenes import BANDS, CLOUD, NAME, NODATA, write_dataset, write_scene  # noqa: E402

from leafjax.io import map_format, open_scene, product_info, read_maps, write_maps  # noqa: E402
from leafjax.io._raster import window  # noqa: E402
from leafjax.spectral import canonical_band  # noqa: E402

CANONICAL = ("B2", "B3", "B4", "B5", "B6", "B7", "B8A", "B11", "B12")


@pytest.fixture(scope="module")
def refl() -> np.ndarray:
    return np.random.default_rng(3).uniform(0.01, 0.6, (20, 24, 9))


@pytest.fixture(scope="module")
def tif(tmp_path_factory, refl):
    return write_scene(tmp_path_factory.mktemp("scene") / NAME, refl)


def _open(path, **kw):
    return open_scene(path, canonical=canonical_band, **kw)


def test_geotiff_bands_scale_offset_nodata_scl_and_time(tif, refl):
    s = _open(tif, sensor="auto", scale=1e-4, offset=-0.1)
    assert s.bands == CANONICAL and s.sensor == "sentinel-2a" and s.shape == (20, 24)
    assert str(s.time) == "2022-03-05T10:29:21"
    assert s.crs.to_epsg() == 32632 and tuple(s.transform)[:6] == (10.0, 0.0, 354340.0, 0.0, -10.0, 5205260.0)
    assert s.reflectance.chunks is not None  # Dask-lazy
    x = np.moveaxis(s.reflectance.values, 0, -1)
    ok = np.ones((20, 24), bool)
    for i, j in NODATA:
        ok[i, j] = False
    np.testing.assert_allclose(x[ok], refl[ok], atol=0.5e-4 + 1e-7)  # DN rounding only
    assert np.isnan(x[~ok]).all()
    assert np.array_equal(s.nodata_mask.values, ~ok)
    scl = s.scl.values
    assert all(scl[i, j] == 9 for i, j in CLOUD) and scl[0, 0] == 0 and scl[5, 5] == 4


def test_digital_numbers_without_scale_are_refused_and_file_scale_is_used(tif, tmp_path, refl):
    with pytest.raises(ValueError, match=r"look like digital numbers.*scale 1e-4.*offset -0.1") as e:
        _open(tif)
    assert "\n" not in str(e.value)
    stored = write_scene(tmp_path / NAME, refl, scale_attrs=True)
    s = _open(stored)
    assert s.scale[0] == pytest.approx(1e-4) and s.offset[0] == pytest.approx(-0.1)
    np.testing.assert_allclose(s.reflectance.values[:, 5, 5], refl[5, 5], atol=1e-4)


def test_band_subset_aliases_and_unknown_band(tif):
    s = _open(tif, bands=["b8a", "B04", "B2"], scale=1e-4, offset=-0.1)
    assert s.bands == ("B8A", "B4", "B2")
    full = _open(tif, scale=1e-4, offset=-0.1)
    np.testing.assert_array_equal(s.reflectance.values[0], full.reflectance.sel(band="B8A").values)
    with pytest.raises(ValueError, match="no band 'B8'"):
        _open(tif, bands=["B8"], scale=1e-4)
    raw = open_scene(tif, scale=1e-4, offset=-0.1)  # without a canonical function: the file's names
    assert raw.bands == BANDS


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_netcdf_and_zarr_scenes_read_like_the_geotiff(tmp_path, tif, refl, suffix):
    path = write_dataset(tmp_path / f"scene{suffix}", refl)
    s = _open(path, time="2022-03-05T10:29:21Z")
    ref = _open(tif, scale=1e-4, offset=-0.1)
    assert set(s.bands) == set(CANONICAL) and s.crs == ref.crs and tuple(s.transform) == tuple(ref.transform)
    for b in CANONICAL:
        np.testing.assert_allclose(s.reflectance.sel(band=b).values, ref.reflectance.sel(band=b).values, atol=1e-6)
    assert np.array_equal(s.nodata_mask.values, ref.nodata_mask.values)
    assert str(s.time) == "2022-03-05T10:29:21"


def test_window_loads_only_the_window(tif):
    s = _open(tif, scale=1e-4, offset=-0.1)
    w = window(s, 16, 20, 8, 8)  # clipped at the edge
    assert w["reflectance"].shape == (4, 4, 9) and w["scl"].shape == (4, 4) and w["nodata"][3, 3]
    np.testing.assert_array_equal(w["reflectance"][0, 0], s.reflectance.values[:, 16, 20])


def test_bad_inputs_are_one_line_errors(tmp_path, tif):
    with pytest.raises(ValueError, match="unknown scene format '.png'"):
        open_scene(tmp_path / "x.png")
    with pytest.raises(FileNotFoundError, match="no such scene"):
        open_scene(tmp_path / "x.tif")
    other = tmp_path / "scene.tif"
    other.write_bytes(tif.read_bytes())
    with pytest.raises(ValueError, match="sensor='auto' needs"):
        open_scene(other, sensor="auto")


def test_product_names():
    info = product_info("/x/S2B_MSIL2A_20220718T102559_N0400_R108_T32TLT_20220718T133811.zarr/")
    assert info["sensor"] == "sentinel-2b" and str(info["time"]) == "2022-07-18T10:25:59" and info["level"] == "L2A"
    assert product_info("LC09_L2SP_195027_20220305_20220315_02_T1_SR.tif")["sensor"] == "landsat-9"
    assert product_info("field.tif") == {}


@pytest.mark.parametrize("suffix", [".tif", ".zarr", ".nc"])
def test_write_maps_keeps_the_grid_and_the_flags(tmp_path, tif, suffix):
    import xarray as xr

    s = _open(tif, scale=1e-4, offset=-0.1)
    lai = np.linspace(0, 6, 480, dtype=np.float32).reshape(20, 24)
    lai[0, 0] = np.nan
    flags = np.zeros((20, 24), np.int32)
    flags[2, 3] = (1 << 16) | (1 << 21)
    ds = xr.Dataset({"lai": (("y", "x"), lai), "status": (("y", "x"), np.zeros((20, 24), np.int8)),
                     "quality_flags": (("y", "x"), flags)})
    out = write_maps(ds, tmp_path / f"maps{suffix}", like=s)
    back = read_maps(out)
    assert back.rio.crs == s.crs and tuple(back.rio.transform()) == tuple(s.transform)
    np.testing.assert_array_equal(back["lai"].values, lai)  # NaN in the same place
    np.testing.assert_array_equal(back["quality_flags"].values.astype(np.int32), flags)
    np.testing.assert_array_equal(back["x"].values, s.x)
    assert map_format(out) == {".tif": "tif", ".zarr": "zarr", ".nc": "netcdf"}[suffix]
    if suffix == ".tif":
        import rioxarray

        assert rioxarray.open_rasterio(out).attrs["long_name"] == ("lai", "status", "quality_flags")


def test_importing_leafjax_io_loads_no_xarray():
    code = "import sys, leafjax.io; print('xarray' in sys.modules, 'rasterio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_angle_bands_and_angle_metadata(tmp_path, refl):
    import rioxarray
    import xarray as xr

    path = write_scene(tmp_path / NAME, refl)
    da = rioxarray.open_rasterio(path).load()
    vza = da.isel(band=[0]).copy(data=np.full((1, 20, 24), 7, np.uint16))
    both = xr.concat([da, vza], dim="band").assign_coords(band=np.arange(1, 12))
    both.attrs.update(long_name=(*BANDS, "SCL", "vza"), saa=150.0)
    both.rio.write_crs(da.rio.crs).rio.to_raster(tmp_path / "angles.tif")
    s = _open(tmp_path / "angles.tif", scale=1e-4, offset=-0.1, time="2022-03-05T10:29:21Z")
    assert s.bands == CANONICAL and set(s.angles) == {"vza", "saa"} and s.angles["saa"] == 150.0
    w = window(s, 0, 0, 4, 4)
    assert np.all(w["vza"] == 7.0) and np.all(w["saa"] == 150.0)
