"""Maps out: an xarray Dataset of per-pixel products written as GeoTIFF, zarr or netCDF, with the input's grid.

Formats (by the extension of ``out``):

* ``.tif``/``.tiff``: one multi-band GeoTIFF (deflate-compressed), one band per variable in the Dataset's
  order, band descriptions = variable names, float32, nodata NaN.  Integer variables (``status``,
  ``quality_flags``) are stored in float32 too, exactly (every integer below 2**24 is a float32; the flags use
  bits 0-21): read them back with ``.astype("int32")``.  One time only (a series goes to .zarr/.nc or a folder).
* ``.zarr`` and ``.nc``: the Dataset itself, variables with their own dtypes (``quality_flags`` int32,
  ``status`` int8), ``x``/``y`` coordinates of the pixel centres, a ``spatial_ref`` variable (CF grid mapping,
  written by rioxarray) and, for a series, a ``time`` dimension.  Zarr is written in format 2, consolidated
  (readable by GDAL and older zarr); netCDF by whichever engine xarray finds (netCDF4, h5netcdf or, as
  netCDF-3, scipy).

The CRS and transform are those of ``like`` (the input scene) when it is given.  The file appears under its
final name only when complete (a temporary name beside it, then :func:`os.replace`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import numpy as np

#: Map output extension -> format.
MAP_FORMATS: dict[str, str] = {".tif": "tif", ".tiff": "tif", ".zarr": "zarr", ".nc": "netcdf"}


def map_format(path: str | os.PathLike) -> str:
    """``"tif"``, ``"zarr"``, ``"netcdf"`` from the extension of ``path``; one-line ``ValueError`` otherwise."""
    suffix = Path(str(path).rstrip("/\\")).suffix.lower()
    if suffix not in MAP_FORMATS:
        raise ValueError(f"{path}: unknown map format {suffix or '(no extension)'!r} (use .tif, .zarr or .nc)")
    return MAP_FORMATS[suffix]


def _georeference(ds, like):
    """``ds`` with the pixel-centre coordinates, CRS and transform of ``like`` (a Scene), if given."""
    if like is not None:
        ds = ds.assign_coords(x=("x", like.x), y=("y", like.y))
        ds = ds.rio.write_crs(like.crs).rio.write_transform(like.transform)
        ds = ds.rio.write_coordinate_system()
    return ds


def _replace(tmp: Path, out: Path) -> None:
    """Move ``tmp`` (a file or a folder) onto ``out``, removing an existing folder first."""
    if out.is_dir():
        shutil.rmtree(out)
    os.replace(tmp, out)


def write_maps(ds, out: str | os.PathLike, *, like=None) -> Path:
    """Write the maps ``ds`` (an ``xarray.Dataset`` of ``(y, x)`` or ``(time, y, x)`` variables) to ``out``
    (.tif/.tiff, .zarr or .nc; see the module docstring), on the grid of ``like`` (a
    :class:`~leafjax.io.Scene`); returns the path written.  An existing ``out`` is replaced."""
    import rioxarray  # noqa: F401 - the .rio accessor

    out = Path(str(out).rstrip("/\\"))
    fmt = map_format(out)
    ds = _georeference(ds, like)
    tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.partial{out.suffix}")
    try:
        if fmt == "tif":
            _write_tif(ds, tmp)
        elif fmt == "zarr":
            ds.to_zarr(tmp, mode="w", consolidated=True, zarr_format=2)  # v2: read by GDAL and older zarr
        else:
            ds.to_netcdf(tmp)
        _replace(tmp, out)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
    return out


def _write_tif(ds, path: Path) -> None:
    if "time" in ds.dims:
        if ds.sizes["time"] != 1:
            raise ValueError(f"{path.name}: a GeoTIFF holds one time, the maps have {ds.sizes['time']}: write "
                             f".zarr or .nc, or to a folder (one GeoTIFF per scene)")
        ds = ds.isel(time=0, drop=True)
    names = [str(v) for v in ds.data_vars]
    if not names:
        raise ValueError(f"{path.name}: no maps to write")
    crs, transform = ds.rio.crs, ds.rio.transform()
    bands = ds[names].to_array("band").astype(np.float32)
    bands = bands.assign_coords(band=np.arange(1, len(names) + 1))
    bands.attrs = {"long_name": tuple(names)}
    bands = bands.rio.write_crs(crs).rio.write_transform(transform).rio.write_nodata(np.nan, encoded=False)
    bands.rio.to_raster(path, driver="GTiff", compress="deflate", tiled=True)


def read_maps(path: str | os.PathLike):
    """Maps written by :func:`write_maps` as an ``xarray.Dataset`` (GeoTIFF bands become variables named by
    their descriptions); for tests and inspection."""
    import rioxarray
    import xarray as xr

    p = Path(str(path).rstrip("/\\"))
    fmt = map_format(p)
    if fmt == "zarr":
        return xr.open_zarr(p, decode_coords="all").load()
    if fmt == "netcdf":
        return xr.open_dataset(p, decode_coords="all").load()
    da = rioxarray.open_rasterio(p, mask_and_scale=False).load()
    names = list(da.attrs.get("long_name") or [f"band_{i + 1}" for i in range(da.sizes["band"])])
    names = [names] if isinstance(names, str) else names
    ds = xr.Dataset({n: da.isel(band=i, drop=True) for i, n in enumerate(names)})
    return ds.rio.write_crs(da.rio.crs).rio.write_transform(da.rio.transform())
