"""Satellite scenes in: GeoTIFF/COG (rioxarray), netCDF and zarr (xarray), read lazily (Dask) as reflectance.

:func:`open_scene` returns a :class:`Scene`: the reflectance ``(band, y, x)`` as a lazy xarray DataArray, the
band names, the scene classification (``SCL``) if present, a nodata mask, CRS, affine transform, acquisition
time and sensor.  Nothing but a small sample (for the digital-number check) is read until a window is asked for
(``scene.reflectance.isel(y=..., x=...).values``), so scenes larger than memory stream tile by tile.

Conventions:

* **band names** come from the GDAL band descriptions (``long_name``), a ``band`` coordinate of strings, or
  (netCDF/zarr) one variable per band; ``canonical(name, sensor)`` maps them to the sensor's names (the scene
  task passes :func:`leafjax.spectral.canonical_band`, so ``B02`` becomes ``B2``; :mod:`leafjax.io` sits below
  :mod:`leafjax.spectral` and cannot import it).  The band named ``scl_band`` (case-insensitive) is the scene
  classification, bands named ``sza``/``saa``/``vza``/``vaa`` are per-pixel angles (degrees); neither is scaled.
* **reflectance** = DN · scale + offset, per band, with ``scale``/``offset`` from the argument, else the file's
  ``scale_factor``/``add_offset``, else 1 and 0.  Sentinel-2 L2A digital numbers need ``scale=1e-4`` and, from
  processing baseline 04.00 (products from 25 January 2022 on, ``_N0400_`` in the name), ``offset=-0.1``
  (BOA_ADD_OFFSET = -1000 DN; ESA, *Sentinel-2 L2A Product Format Specification*, 2021).  Nothing is inferred:
  a scene whose median value exceeds 1.5 after scaling, with no scale given or stored, is a one-line ``ValueError``.
* **nodata**: the argument, else the file's ``_FillValue``/``nodata``; a band value equal to it (or non-finite)
  is NaN; a pixel with no valid band (or SCL class 0) is in ``nodata_mask``.
* **time** (UTC): the argument, else the metadata (:data:`~leafjax.io._raster_names.TIME_KEYS`), a ``time``
  coordinate, or a Sentinel-2 product name in the file name; ``sensor="auto"`` takes the platform from the name.

xarray, rioxarray, rasterio and zarr are optional (``pip install 'leafjax[imagery]'``) and imported only here,
inside the functions.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._raster_names import ANGLE_NAMES, band_descriptions, metadata_time, parse_time, per_band, product_info

#: Scene file extensions and their readers.
SCENE_FORMATS: dict[str, str] = {".tif": "gtiff", ".tiff": "gtiff", ".nc": "netcdf", ".nc4": "netcdf",
                                 ".zarr": "zarr"}
#: Largest plausible reflectance after scaling: larger values look like digital numbers.
MAX_REFLECTANCE = 1.5


def _imagery():
    try:
        import rioxarray  # noqa: F401 - registers the .rio accessor
        import xarray as xr
    except ImportError:
        raise ImportError("reading scenes needs the imagery extra: pip install 'leafjax[imagery]'") from None
    return xr


@dataclasses.dataclass(frozen=True)
class Scene:
    """One satellite scene, opened lazily by :func:`open_scene`.

    Fields: ``path``; ``reflectance`` (xarray DataArray ``(band, y, x)``, float32 fractions, NaN where nodata,
    Dask-backed for GeoTIFF/zarr); ``bands`` (names, canonical when a ``canonical`` function was given);
    ``scl`` (``(y, x)`` scene classification or ``None``); ``nodata_mask`` (``(y, x)`` bool DataArray: no valid
    band, or SCL class 0); ``crs`` (``rasterio.crs.CRS``); ``transform`` (``affine.Affine`` of the pixel corners);
    ``time`` (``numpy.datetime64[s]`` UTC or ``None``); ``sensor``; ``angles`` (``{name: float or (y, x)
    DataArray}``, degrees, from angle bands or metadata); ``scale``, ``offset``, ``nodata`` (per band, as
    applied).
    """

    path: Path
    reflectance: Any
    bands: tuple[str, ...]
    scl: Any
    nodata_mask: Any
    crs: Any
    transform: Any
    time: np.datetime64 | None
    sensor: str
    angles: dict = dataclasses.field(default_factory=dict)
    scale: tuple[float, ...] = ()
    offset: tuple[float, ...] = ()
    nodata: float | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the image."""
        return int(self.reflectance.sizes["y"]), int(self.reflectance.sizes["x"])

    @property
    def name(self) -> str:
        """The file name without its extension (the scene id for Sentinel-2 products)."""
        return Path(str(self.path).rstrip("/\\")).name.rsplit(".", 1)[0]

    @property
    def x(self) -> np.ndarray:
        """Pixel-centre x coordinates ``(cols,)`` in the scene's CRS."""
        return np.asarray(self.reflectance["x"].values, np.float64)

    @property
    def y(self) -> np.ndarray:
        """Pixel-centre y coordinates ``(rows,)`` in the scene's CRS."""
        return np.asarray(self.reflectance["y"].values, np.float64)


def scene_format(path: str | os.PathLike) -> str:
    """``"gtiff"``, ``"netcdf"`` or ``"zarr"`` from the extension; one-line ``ValueError`` otherwise."""
    suffix = Path(str(path).rstrip("/\\")).suffix.lower()
    if suffix not in SCENE_FORMATS:
        raise ValueError(f"{path}: unknown scene format {suffix or '(no extension)'!r} (use .tif/.tiff, .nc or "
                         f".zarr)")
    return SCENE_FORMATS[suffix]


def _read_gtiff(path: Path, chunks):
    import rioxarray

    chunks = {"band": -1, "y": "auto", "x": "auto"} if chunks is None else chunks
    da = rioxarray.open_rasterio(path, chunks=chunks, mask_and_scale=False)
    names = band_descriptions(da.attrs, int(da.sizes["band"]))
    return da, names, dict(da.attrs)


def _read_xarray(path: Path, fmt: str, chunks):
    xr = _imagery()
    kw = {"chunks": chunks if chunks is not None else {}, "mask_and_scale": False, "decode_coords": "all"}
    ds = xr.open_zarr(path, **kw) if fmt == "zarr" else xr.open_dataset(path, **kw)
    if "time" in ds.dims:
        if ds.sizes["time"] != 1:
            raise ValueError(f"{path}: holds {ds.sizes['time']} times; open one scene per time (isel(time=i))")
        ds = ds.isel(time=0)
    cube = [v for v in ds.data_vars if set(ds[v].dims) == {"band", "y", "x"}]
    attrs = dict(ds.attrs)
    if cube:
        da = ds[cube[0]].transpose("band", "y", "x")
        attrs = {**attrs, **da.attrs}
        coords = [str(c) for c in da["band"].values] if da["band"].dtype.kind in "USO" else None
        names = band_descriptions(da.attrs, int(da.sizes["band"]), coords)
        return da, names, attrs
    planes = [v for v in ds.data_vars if set(ds[v].dims) == {"y", "x"}]
    if not planes:
        raise ValueError(f"{path}: no (band, y, x) variable and no (y, x) variables: not an image")
    per_var = {k: [ds[v].attrs.get(k) for v in planes] for k in ("scale_factor", "add_offset", "_FillValue")}
    da = xr.concat([ds[v].transpose("y", "x").astype(np.float64) for v in planes], dim="band")
    da = da.assign_coords(band=np.arange(1, len(planes) + 1))
    if "time" in ds.coords:
        attrs.setdefault("time", str(ds["time"].values))
    for k, vals in per_var.items():
        if any(v is not None for v in vals):
            default = 1.0 if k == "scale_factor" else (0.0 if k == "add_offset" else np.nan)
            attrs[k] = tuple(default if v is None else float(np.asarray(v)) for v in vals)
    da = da.rio.write_crs(ds.rio.crs) if ds.rio.crs is not None else da
    return da, [str(v) for v in planes], attrs


def open_scene(path: str | os.PathLike, *, sensor: str = "sentinel-2a", bands: Sequence[str] | None = None,
               scale=None, offset=None, nodata: float | None = None, scl_band: str | None = "SCL", time=None,
               chunks=None, canonical: Callable[[str, str], str] | None = None) -> Scene:
    """Open a scene (GeoTIFF/COG, netCDF or zarr) lazily as reflectance; see the module docstring.

    **Arguments:** ``sensor`` (a :data:`leafjax.spectral.SENSORS` name, or ``"auto"``: from the Sentinel-2 or
    Landsat product name in the file name); ``bands`` (names to keep, in this order, matched after
    ``canonical``; ``None``: every band but SCL and angles); ``scale``/``offset`` (one number or one per kept
    band); ``nodata`` (DN value of missing data); ``scl_band`` (name of the scene-classification band;
    ``None``: none); ``time`` (acquisition time, UTC); ``chunks`` (Dask chunks, as for
    ``rioxarray.open_rasterio``; ``None``: all bands, Dask's automatic block size); ``canonical(name,
    sensor) -> name`` (band aliases; names it rejects with ``ValueError`` are an error).

    **Returns:** :class:`Scene`.  A missing file, an unknown format, an unknown band, a scene without a CRS and a
    scene that looks like digital numbers without a scale are one-line ``ValueError``/``OSError``.
    """
    p = Path(path)
    fmt = scene_format(p)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such scene")
    _imagery()
    named = product_info(p)
    if sensor == "auto":
        if "sensor" not in named:
            raise ValueError(f"{p}: sensor='auto' needs a Sentinel-2 or Landsat product name in the file name; "
                             f"pass the sensor (e.g. sentinel-2a)")
        sensor = named["sensor"]
    try:
        da, names, attrs = _read_gtiff(p, chunks) if fmt == "gtiff" else _read_xarray(p, fmt, chunks)
    except (ValueError, OSError):
        raise
    except Exception as e:  # noqa: BLE001 - rasterio/xarray raise many types for unreadable files
        raise ValueError(f"{p}: cannot read the scene ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
                         ) from None
    if da.rio.crs is None:
        raise ValueError(f"{p}: the scene has no coordinate reference system")
    rename = (lambda n: n) if canonical is None else (lambda n: canonical(n, sensor))
    lower = [n.lower() for n in names]
    scl_index = lower.index(scl_band.lower()) if scl_band and scl_band.lower() in lower else None
    special = {i for i, n in enumerate(lower) if n in ANGLE_NAMES} | ({scl_index} - {None})
    spectral = {}
    for i, n in enumerate(names):
        if i not in special:
            spectral.setdefault(rename(n), i)
    if bands is not None:
        wanted = [rename(str(b)) for b in bands]
        missing = [b for b in wanted if b not in spectral]
        if missing:
            raise ValueError(f"{p}: no band {missing[0]!r} (the scene has {', '.join(spectral)})")
        spectral = {b: spectral[b] for b in wanted}
    if not spectral:
        raise ValueError(f"{p}: no reflectance band (bands: {', '.join(names)})")
    index = list(spectral.values())
    n_all = len(names)
    file_scale = per_band(attrs.get("scale_factor", 1.0), n_all, f"{p}: scale_factor")[index]
    file_offset = per_band(attrs.get("add_offset", 0.0), n_all, f"{p}: add_offset")[index]
    sc = file_scale if scale is None else per_band(scale, len(index), "scale")
    off = file_offset if offset is None else per_band(offset, len(index), "offset")
    fill = attrs.get("_FillValue", da.rio.nodata) if nodata is None else nodata
    fill = None if fill is None else float(np.atleast_1d(np.asarray(fill, np.float64))[0])
    if fill is not None and np.isnan(fill):
        fill = None
    raw = da.isel(band=index)
    valid = np.isfinite(raw) if fill is None else np.isfinite(raw) & (raw != fill)
    xr = _imagery()
    gain = xr.DataArray(sc, dims="band", coords={"band": raw["band"]})
    bias = xr.DataArray(off, dims="band", coords={"band": raw["band"]})
    refl = (raw.astype(np.float64) * gain + bias).where(valid).astype(np.float32)
    refl = refl.assign_coords(band=list(spectral)).rio.write_crs(da.rio.crs)
    scl = da.isel(band=scl_index).drop_vars("band") if scl_index is not None else None
    mask = ~valid.any("band")
    if scl is not None:
        mask = mask | (scl == 0)
    angles = {n: da.isel(band=i).drop_vars("band").astype(np.float64) for i, n in enumerate(lower)
              if n in ANGLE_NAMES}
    lower_attrs = {str(k).lower(): v for k, v in attrs.items()}
    for n in ANGLE_NAMES:
        if n not in angles and n in lower_attrs:
            angles[n] = float(lower_attrs[n])
    when = parse_time(time) if time is not None else (metadata_time(attrs) or named.get("time"))
    scene = Scene(p, refl, tuple(spectral), scl, mask.drop_vars("band", errors="ignore"), da.rio.crs,
                  da.rio.transform(), when, sensor, angles, tuple(sc.tolist()), tuple(off.tolist()), fill)
    _check_not_dn(scene, given=scale is not None or "scale_factor" in attrs)
    return scene


def _check_not_dn(scene: Scene, given: bool) -> None:
    """A strided sample (about 64 × 64 pixels) of the first bands: a median above :data:`MAX_REFLECTANCE`
    without any scale looks like digital numbers (one-line ``ValueError``)."""
    ny, nx = scene.shape
    sample = scene.reflectance.isel(band=slice(0, min(3, len(scene.bands))), y=slice(None, None, max(1, ny // 64)),
                                    x=slice(None, None, max(1, nx // 64))).values
    finite = sample[np.isfinite(sample)]
    top = float(np.median(finite)) if finite.size else 0.0  # the median: a few fill values (1e20) are not DN
    if top > MAX_REFLECTANCE and not (given and np.any(np.asarray(scene.scale) != 1.0)):
        hint = (" (Sentinel-2 L2A: scale 1e-4, and offset -0.1 from processing baseline 04.00)"
                if scene.sensor.startswith("sentinel-2") else "")
        raise ValueError(f"{scene.path}: values around {top:g} look like digital numbers, not reflectance; pass "
                         f"scale= and offset= (--scale/--offset){hint}")


def _classes(values) -> np.ndarray:
    """SCL values as int16 classes; a value that is no class 0-255 (NaN, a fill value such as 1e20) is -1."""
    v = np.asarray(values, np.float64)
    ok = np.isfinite(v) & (v >= 0) & (v <= 255) & (v == np.round(v))
    return np.where(ok, v, -1).astype(np.int16)


def window(scene: Scene, y0: int, x0: int, h: int, w: int) -> dict[str, np.ndarray]:
    """Load one window (rows ``y0:y0+h``, cols ``x0:x0+w``) of ``scene``: ``{"reflectance": (h, w, band)
    float32, "scl": (h, w) int16 or None (-1: not a class), "nodata": (h, w) bool, <angle>: (h, w) float64 for angle bands}``.
    Only that window is read from the file."""
    sel = {"y": slice(y0, y0 + h), "x": slice(x0, x0 + w)}
    refl = np.moveaxis(np.asarray(scene.reflectance.isel(sel).values, np.float32), 0, -1)
    h, w = refl.shape[:2]
    out = {"reflectance": refl,
           "nodata": np.asarray(scene.nodata_mask.isel(sel).values, bool),
           "scl": None if scene.scl is None else _classes(scene.scl.isel(sel).values)}
    for name, a in scene.angles.items():
        out[name] = (np.full((h, w), float(a)) if isinstance(a, (int, float))
                     else np.asarray(a.isel(sel).values, np.float64))
    return out
