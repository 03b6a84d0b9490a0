"""Scenes in, product maps out: the archive task of satellite images (``leafjax map``).

:class:`SceneArchiveTask` runs :func:`leafjax.products.retrieve_products` over one or more scenes
(:func:`leafjax.io.open_scene`: GeoTIFF/COG, netCDF, zarr) through the archive engine
(:func:`~leafjax.archive.invert_archive`), so a map run is chunked, bounded in memory and resumable:

* **chunks are tiles**: ``tile_size × tile_size`` windows, row-major, scene after scene; only the window is read
  from the file (lazy xarray/Dask), and the engine writes each finished tile to ``<out>.parts/`` (resume);
* **records**: one per pixel, ``scene, row, col``, the products, their ``<product>_std``, ``rmse``, ``status``,
  ``quality_flags`` (names) and ``quality`` (the bit mask of :class:`leafjax._flags.Quality`);
* **masks**: the scene classification sets the scene flags (:data:`leafjax._flags.SCL_FLAGS`); pixels whose
  class is in ``mask_classes`` (default :data:`leafjax._flags.SCENE_MASK_CLASSES`: nodata, saturated, cloud
  shadow, water, cloud, cirrus, snow) and pixels without data (every band nodata, or an SCL value that is no
  class, e.g. a fill value 1e20) are not inverted (status ``invalid_input``, NaN);
* **geometry per pixel**: sun zenith/azimuth from :func:`leafjax.physics.sky.solar_position` at the pixel
  centre (its latitude/longitude from the scene's CRS by pyproj) and the acquisition time; view zenith/azimuth
  from ``vza``/``vaa`` angle bands or metadata of the scene, else the task's ``vza`` (default 5°, Sentinel-2 and
  Landsat view within ~11° of nadir) and ``vaa`` (default 0°, north: near nadir the view azimuth barely matters);
  ``raa`` = :func:`leafjax.physics.sky.relative_azimuth` (``|saa − vaa|`` folded into [0, 180]);
* **output** (:mod:`leafjax.archive._scene_output`): ``.tif`` (one scene), ``.zarr``/``.nc`` (one scene, or a
  time series with a ``time`` dimension on the union of the scenes' extents, which must share one pixel
  lattice; pixels outside a scene are ``nodata``), ``DIR/`` (one GeoTIFF per scene,
  ``<scene>_maps.tif``), or the per-pixel table (``.parquet``/``.csv``).

:func:`map_scenes` is the library entry point that ``leafjax map`` calls.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._flags import SCENE_MASK_CLASSES, SCL_FLAGS, Quality
from ..io._outputs import SCENE_OUTPUT_FORMATS
from ._rows import pad_size, padded_rows, quality_flag_names
from ._settings import ArchiveSettings
from ._table import ArchiveInfo
from ._task import AbstractArchiveTask

#: Default tile edge (pixels).
TILE_SIZE = 256
#: Simulation grid of the products' forward model (nm), as for canopy archives.
SCENE_GRID_NM: tuple[int, int] = (400, 2400)


@dataclasses.dataclass
class SceneInfo(ArchiveInfo):
    """:class:`~leafjax.archive.ArchiveInfo` of a scene run: the opened ``scenes`` (:class:`leafjax.io.Scene`),
    the shared ``bands`` and, for the manifest, ``fingerprint`` (name, size, mtime of every scene)."""

    scenes: list = dataclasses.field(default_factory=list)
    bands: tuple[str, ...] = ()
    fingerprint: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TileChunk:
    """One window of one scene: ``scene`` (index), ``y0``/``x0`` (first row/col), the loaded arrays of
    :func:`leafjax.io._raster.window` (``data``), pixel-centre coordinates ``x (w,)``, ``y (h,)``, the scene's CRS
    (WKT) and acquisition time (ISO string or ``None``).  Plain picklable data."""

    scene: int
    y0: int
    x0: int
    data: dict
    x: np.ndarray
    y: np.ndarray
    crs: str
    time: str | None


def _fingerprint(path: Path) -> dict:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {"name": path.name, "size": sum(f.stat().st_size for f in files),
            "mtime_ns": max((f.stat().st_mtime_ns for f in files), default=0)}


def _paths(path) -> list[Path]:
    items = list(path) if isinstance(path, (list, tuple)) else [path]
    if not items:
        raise ValueError("no scene given")
    return [Path(p) for p in items]


class SceneArchiveTask(AbstractArchiveTask):
    """Product maps of satellite scenes, tile by tile (see the module docstring); static configuration only.

    **Fields:** ``sensor`` (``"auto"``: from the product name), ``products``, ``method`` (``None``:
    :data:`leafjax.products.DEFAULT_METHOD`), ``route_options`` (``((field, value), ...)`` of the route, e.g.
    ``(("n", 2000), ("k", 10))``), ``tile_size``, ``bands`` (``None``: every reflectance band of the scene),
    ``scale``/``offset``/``nodata`` (``None``: the file's), ``scl_band``, ``mask_classes``, ``vza``/``vaa``
    (degrees, when the scene has no view angles), ``time`` (ISO UTC, when the scene has none), ``seed`` (PRNG
    seed of the route's simulations) and ``grid_step`` (nm).
    """

    sensor: str = "sentinel-2a"
    products: tuple[str, ...] = ("lai", "ccc", "cwc", "fapar", "fcover")
    method: str | None = None
    route_options: tuple[tuple[str, Any], ...] = ()
    tile_size: int = TILE_SIZE
    bands: tuple[str, ...] | None = None
    scale: tuple[float, ...] | None = None
    offset: tuple[float, ...] | None = None
    nodata: float | None = None
    scl_band: str | None = "SCL"
    mask_classes: tuple[int, ...] = SCENE_MASK_CLASSES
    vza: float = 5.0
    vaa: float = 0.0
    time: str | None = None
    seed: int = 0
    grid_step: int = 1

    #: Output formats of a scene run (maps, a folder of GeoTIFFs, or the per-pixel table).
    output_formats: ClassVar[dict[str, str]] = SCENE_OUTPUT_FORMATS

    def __check_init__(self):
        if isinstance(self.tile_size, bool) or int(self.tile_size) < 1:
            raise ValueError(f"tile_size must be a positive integer, got {self.tile_size!r}")
        bad = [c for c in self.mask_classes if not 0 <= int(c) <= 11]
        if bad:
            raise ValueError(f"mask_classes must be SCL classes 0-11, got {bad[0]!r}")
        for name in ("vza", "vaa"):
            v = float(getattr(self, name))
            if not np.isfinite(v) or (name == "vza" and not 0 <= v < 90):
                raise ValueError(f"{name} must be a finite angle in degrees" + (" in [0, 90)" * (name == "vza")))

    # -- configuration
    def route(self):
        """The :class:`~leafjax.products.AbstractRoute` of this run."""
        from ..products import DEFAULT_METHOD, get_route

        return get_route(self.method or DEFAULT_METHOD, **dict(self.route_options))

    def config(self) -> dict:
        out = super().config()
        out["route_options"] = [[k, v] for k, v in self.route_options]
        return out

    # -- the engine's protocol
    def open(self, path, settings: ArchiveSettings, *, wavelengths_file: str | None = None) -> SceneInfo:
        from ..io import open_scene
        from ..products._retrieve import check_products
        from ..spectral import canonical_band, load_srf

        check_products(self.products)
        self.route()  # unknown method or bad options: one line, before any read
        scenes = []
        for p in _paths(path):
            s = open_scene(p, sensor=self.sensor, bands=self.bands, scale=self.scale, offset=self.offset,
                           nodata=self.nodata, scl_band=self.scl_band, time=self.time,
                           canonical=_tolerant(canonical_band))
            if s.time is None and "sza" not in s.angles:
                raise ValueError(f"{p}: no acquisition time in the file name or metadata: pass time= (--time)")
            scenes.append(s)
        first = scenes[0]
        for s in scenes[1:]:
            if s.bands != first.bands or s.sensor.split("-")[0] != first.sensor.split("-")[0]:
                raise ValueError(f"{s.path}: bands {', '.join(s.bands)} differ from {first.path.name}'s "
                                 f"{', '.join(first.bands)}; pass bands= (--bands) common to every scene")
        known = load_srf(first.sensor).band_names
        unknown = [b for b in first.bands if b not in known]
        if unknown and self.bands is None and len(unknown) < len(first.bands):  # e.g. AOT, WVP: not reflectance
            keep = tuple(b for b in first.bands if b in known)
            scenes = [dataclasses.replace(s, reflectance=s.reflectance.sel(band=list(keep)), bands=keep)
                      for s in scenes]
            first, unknown = scenes[0], []
        if unknown:
            raise ValueError(f"{first.path}: band {unknown[0]!r} is not a {first.sensor} band "
                             f"({', '.join(known)}); pass bands= (--bands)")
        centres = np.asarray(load_srf(first.sensor).select(first.bands).centres, np.float64)
        n_rows = sum(s.shape[0] * s.shape[1] for s in scenes)
        return SceneInfo(first.path, n_rows, centres, fmt="scene", scenes=scenes, bands=first.bands,
                         fingerprint=[_fingerprint(s.path) for s in scenes])

    def output_columns(self, settings: ArchiveSettings, info: ArchiveInfo) -> tuple[str, ...]:
        names = tuple(self.products)
        return (*names, *(f"{p}_std" for p in names), "rmse", "status", "quality_flags", "quality")

    def _tiles(self, info: SceneInfo) -> list[tuple[int, int, int]]:
        t = int(self.tile_size)
        return [(k, y0, x0) for k, s in enumerate(info.scenes)
                for y0 in range(0, s.shape[0], t) for x0 in range(0, s.shape[1], t)]

    def n_chunks(self, info: SceneInfo, chunk_size: int) -> int:
        return len(self._tiles(info))

    def chunks(self, info: SceneInfo, chunk_size: int, skip: frozenset[int] = frozenset()
               ) -> Iterator[tuple[int, TileChunk]]:
        from ..io._raster import window

        t = int(self.tile_size)
        for i, (k, y0, x0) in enumerate(self._tiles(info)):
            if i in skip:
                continue
            s = info.scenes[k]
            data = window(s, y0, x0, t, t)
            h, w = data["nodata"].shape
            yield i, TileChunk(k, y0, x0, data, s.x[x0:x0 + w], s.y[y0:y0 + h], s.crs.to_wkt(),
                               None if s.time is None else str(s.time))

    def setup(self, settings: ArchiveSettings, info: SceneInfo) -> dict:
        import jax

        from ..physics.canopy import Prosail
        from ..spectral import load_srf

        grid = np.arange(SCENE_GRID_NM[0], SCENE_GRID_NM[1] + 1, int(self.grid_step), dtype=np.float64)
        srf = load_srf(info.scenes[0].sensor, grid).select(info.bands)
        model = Prosail("prospect-d", wavelengths=grid, dtype=np.dtype(settings.dtype).type)
        route = self.route()
        return {"route": route, "srf": srf, "route_state": route.prepare(srf, model, jax.random.key(self.seed))}

    def run(self, state: dict, chunk: TileChunk) -> pd.DataFrame:
        from ..inversion import Status
        from ..products import retrieve_products

        data = chunk.data
        h, w = data["nodata"].shape
        n = h * w
        x = data["reflectance"].reshape(n, -1).astype(np.float64)
        quality = np.where(data["nodata"].reshape(-1), np.int32(int(Quality.NODATA)), np.int32(0))
        masked = data["nodata"].reshape(-1).copy()
        if data["scl"] is not None:
            scl = data["scl"].reshape(-1)
            for cls, flag in SCL_FLAGS.items():
                quality[scl == cls] |= np.int32(int(flag))
            unclassified = (scl < 0) | (scl > 11)  # a fill value in the SCL band (e.g. 1e20): no data
            quality[unclassified] |= np.int32(int(Quality.NODATA))
            masked |= np.isin(scl, np.asarray(self.mask_classes, np.int16)) | unclassified
        geometry = self.geometry(chunk)
        names = tuple(self.products)
        values = {p: np.full(n, np.nan) for p in names}
        std = {p: np.full(n, np.nan) for p in names}
        rmse = np.full(n, np.nan)
        status = np.full(n, int(Status.INVALID_INPUT), np.int8)
        rows = np.flatnonzero(~masked)
        if rows.size:
            # padded to a few bucket sizes (copies of the first pixel, dropped) so tiles share compilations
            padded = padded_rows(rows, pad_size(rows.size, int(self.tile_size) ** 2))
            res = retrieve_products(x[padded], {k: v[padded] for k, v in geometry.items()}, state["srf"],
                                    state["route"], products=names, state=state["route_state"])
            m = rows.size
            for p in names:
                values[p][rows], std[p][rows] = res.values[p][:m], res.std[p][:m]
            rmse[rows], status[rows] = res.rmse[:m], res.status[:m]
            quality[rows] |= res.quality[:m]
        rr, cc = np.divmod(np.arange(n), w)
        out = {"scene": np.full(n, chunk.scene, np.int32), "row": (rr + chunk.y0).astype(np.int32),
               "col": (cc + chunk.x0).astype(np.int32), **values, **{f"{p}_std": std[p] for p in names},
               "rmse": rmse}
        df = pd.DataFrame(out)
        df["status"] = [Status(int(s)).name.lower() for s in status]
        df["quality_flags"] = [quality_flag_names(int(q)) for q in quality]
        df["quality"] = quality.astype(np.int32)
        return df

    def geometry(self, chunk: TileChunk) -> dict[str, np.ndarray]:
        """``{"sza", "vza", "raa"}`` ``(h·w,)`` degrees of the tile's pixels (see the module docstring)."""
        from ..physics.sky import relative_azimuth, solar_position

        data = chunk.data
        h, w = data["nodata"].shape
        if "sza" in data and "saa" in data:
            sza, saa = data["sza"].reshape(-1), data["saa"].reshape(-1)
        else:
            lon, lat = pixel_lonlat(chunk.x, chunk.y, chunk.crs)
            sza, saa = solar_position(np.datetime64(chunk.time, "s"), lat.reshape(-1), lon.reshape(-1))
            sza = data["sza"].reshape(-1) if "sza" in data else sza
        vza = data["vza"].reshape(-1) if "vza" in data else np.full(h * w, float(self.vza))
        vaa = data["vaa"].reshape(-1) if "vaa" in data else np.full(h * w, float(self.vaa))
        return {"sza": np.asarray(sza, np.float64), "vza": np.asarray(vza, np.float64),
                "raa": np.asarray(relative_azimuth(saa, vaa), np.float64)}

    # -- hooks of the engine for non-table outputs
    def check_target(self, info: SceneInfo, out: Path, fmt: str) -> None:
        """Before any compute: the output can hold these scenes (one-line ``ValueError`` otherwise)."""
        from ._scene_output import check_target

        check_target(info, out, fmt)

    def assemble(self, parts: Path, n_chunks: int, out: Path, fmt: str, info: SceneInfo) -> dict:
        """The maps from the finished tiles (the per-pixel table for .parquet/.csv)."""
        from ._scene_output import assemble_maps

        return assemble_maps(self, parts, n_chunks, out, fmt, info)


def _tolerant(canonical):
    """``canonical`` that leaves a name it does not know unchanged (the scene's other bands: AOT, WVP, ...;
    they are rejected later only if used)."""
    def rename(name: str, sensor: str) -> str:
        try:
            return canonical(name, sensor)
        except ValueError:
            return name
    return rename


def pixel_lonlat(x: np.ndarray, y: np.ndarray, crs_wkt: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees, ``(len(y), len(x))``) of the pixel centres ``x``/``y`` in ``crs_wkt``
    (pyproj, always x/y = east/north order)."""
    from pyproj import CRS, Transformer

    tr = Transformer.from_crs(CRS.from_wkt(crs_wkt), CRS.from_epsg(4326), always_xy=True)
    xx, yy = np.meshgrid(np.asarray(x, np.float64), np.asarray(y, np.float64))
    lon, lat = tr.transform(xx, yy)
    return np.asarray(lon, np.float64), np.asarray(lat, np.float64)


def map_scenes(scenes: str | os.PathLike | Sequence[str | os.PathLike], out: str | os.PathLike, *,
               task: SceneArchiveTask | None = None, dtype: str = "float32", resume: bool = True,
               overwrite: bool = False, progress: bool = False, client=None) -> dict:
    """Product maps of ``scenes`` (one path or several: a time series) written to ``out`` (.tif, .zarr, .nc,
    ``DIR/``, or .parquet/.csv for the per-pixel table) by ``task`` (default :class:`SceneArchiveTask`());
    resumable like every archive run.  Returns the engine's summary (see :func:`~leafjax.archive.invert_archive`).

    Example::

        map_scenes("S2A_MSIL2A_20220305T102921_N0400_R108_T32TLT_20220305T135811.tif", "maps.tif",
                   task=SceneArchiveTask(products=("lai", "ccc"), method="lut"))
    """
    from ._engine import invert_archive
    from ._scene_output import check_folder

    task = SceneArchiveTask() if task is None else task
    paths = [str(p) for p in _paths(scenes)]
    check_folder(task, paths, out, overwrite)
    settings = ArchiveSettings(model="scene", dtype=dtype, chunk_size=int(task.tile_size) ** 2)
    return invert_archive(paths if len(paths) > 1 else paths[0], out, settings, task=task, resume=resume,
                          overwrite=overwrite, progress=progress, client=client)
