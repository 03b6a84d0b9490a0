"""Assembly of a scene run: the finished tiles (``<out>.parts/``) into product maps on the scenes' grids.

Variables of the maps: the products (float32, units of :data:`leafjax.products.PRODUCT_UNITS`), their
``<product>_std`` (1-σ, same units), ``rmse`` (band RMSE of the forward model at the estimate, reflectance),
``status`` (int8 :class:`~leafjax.inversion.Status` code; 2 = ``invalid_input``: not inverted) and
``quality_flags`` (int32 bits of :class:`leafjax._flags.Quality`, names in :data:`leafjax._flags.QUALITY_MEANINGS`).
Formats: see :func:`leafjax.io._raster_write.write_maps` (GeoTIFF stores every variable as float32, exactly) and
:mod:`leafjax.archive._scene`.  One scene's maps are in memory at a time (the whole series for .zarr/.nc).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np

from .._flags import Quality

#: Suffix of the GeoTIFF written per scene into an output folder (``DIR/<scene>_maps.tif``).
FOLDER_SUFFIX = "_maps.tif"


def scene_map_name(path) -> str:
    """``<scene name>_maps.tif``: the file of a scene's maps in an output folder."""
    return Path(str(path).rstrip("/\\")).name.rsplit(".", 1)[0] + FOLDER_SUFFIX


def check_folder(task, scenes, out, overwrite: bool) -> None:
    """For an output folder (``DIR/``): a map file that exists is a ``FileExistsError`` unless ``overwrite``,
    and two scenes with one name are a ``ValueError`` (checked before any compute)."""
    from ..io import check_output

    p, fmt = check_output(out, inputs=scenes, overwrite=True, formats=task.output_formats)
    if fmt != "dir":
        return
    names = [scene_map_name(s) for s in scenes]
    if len(set(names)) != len(names):
        raise ValueError(f"two scenes would write {next(n for n in names if names.count(n) > 1)} in {p}")
    existing = [n for n in names if (p / n).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{p / existing[0]} exists; pass --overwrite to replace it")


def check_target(info, out: Path, fmt: str) -> None:
    """Before any compute: a GeoTIFF holds one scene; a .zarr/.nc series needs one pixel lattice (see
    :func:`series_grid`) and distinct times."""
    scenes = info.scenes
    if len(scenes) == 1 or fmt in ("dir", "parquet", "csv"):
        return
    if fmt == "tif":
        raise ValueError(f"{out}: a GeoTIFF holds one scene, got {len(scenes)}: write a time series to .zarr or "
                         f".nc, or one GeoTIFF per scene to a folder (--out DIR/)")
    series_grid(scenes, fmt)
    times = [s.time for s in scenes]
    if any(t is None for t in times) or len(set(times)) != len(times):
        raise ValueError(f"{out}: a time series needs a distinct acquisition time per scene")


def series_grid(scenes, fmt: str = "zarr"):
    """The common grid of a time series: ``(like, offsets)`` where ``like`` has the ``x``/``y`` pixel centres,
    ``crs`` and ``transform`` of the union of the scenes' extents and ``offsets[k] = (row, col)`` places scene
    ``k`` in it.  The scenes must share CRS and pixel lattice (same pixel size, origins a whole number of pixels
    apart; e.g. extracts of one tile cut one pixel differently); otherwise a one-line ``ValueError``."""
    import types

    first = scenes[0]
    a, b, c0, d, e, f0 = tuple(first.transform)[:6]
    corners = []
    for s in scenes:
        sa, sb, c, sd, se, f = tuple(s.transform)[:6]
        cols, rows = (c - c0) / a, (f - f0) / e
        if (s.crs != first.crs or (sa, sb, sd, se) != (a, b, d, e) or b != 0 or d != 0
                or abs(cols - round(cols)) > 1e-6 or abs(rows - round(rows)) > 1e-6):
            raise ValueError(f"{s.path.name} is not on the pixel grid of {first.path.name}: a {fmt} time series "
                             f"needs one CRS and pixel lattice; write one GeoTIFF per scene to a folder (--out DIR/)")
        corners.append((int(round(rows)), int(round(cols))))
    r0, k0 = min(r for r, _ in corners), min(k for _, k in corners)
    offsets = [(r - r0, k - k0) for r, k in corners]
    ny = max(o[0] + s.shape[0] for o, s in zip(offsets, scenes))
    nx = max(o[1] + s.shape[1] for o, s in zip(offsets, scenes))
    transform = type(first.transform)(a, 0.0, c0 + k0 * a, 0.0, e, f0 + r0 * e)
    like = types.SimpleNamespace(x=transform.c + a * (np.arange(nx) + 0.5),
                                 y=transform.f + e * (np.arange(ny) + 0.5), crs=first.crs, transform=transform,
                                 shape=(ny, nx))
    return like, offsets


def _empty(shape, variables) -> dict[str, np.ndarray]:
    from ..inversion import Status

    maps = {v: np.full(shape, np.nan, np.float32) for v in variables}
    maps["status"] = np.full(shape, int(Status.INVALID_INPUT), np.int8)
    maps["quality_flags"] = np.zeros(shape, np.int32)
    return maps


def _dataset(maps: dict, products, time=None):
    import xarray as xr

    from ..products import PRODUCT_UNITS

    units = {**PRODUCT_UNITS, **{f"{p}_std": PRODUCT_UNITS[p] for p in PRODUCT_UNITS}, "rmse": "1"}
    ds = xr.Dataset({k: (("y", "x"), v) for k, v in maps.items()})
    for k in ds.data_vars:
        if k in units:
            ds[k].attrs["units"] = units[k]
    ds["status"].attrs["meaning"] = "leafjax.inversion.Status code (0 converged, 1 max_steps, 2 invalid_input, "\
                                    "3 nonfinite)"
    ds["quality_flags"].attrs["meaning"] = "bits of leafjax._flags.Quality"
    if time is not None:
        ds = ds.expand_dims(time=[np.datetime64(time, "ns")])
    return ds


def assemble_maps(task, parts: Path, n_chunks: int, out: Path, fmt: str, info) -> dict:
    """Write the maps of the finished tiles ``parts/chunk-*.parquet`` to ``out`` (``fmt``: ``"tif"``,
    ``"zarr"``, ``"netcdf"``, ``"dir"``; ``"parquet"``/``"csv"``: the engine's table); returns ``{"rows",
    "status": counts, "quality_flags": counts}``."""
    from ._engine import PART_NAME, _assemble

    if fmt in ("parquet", "csv"):
        return _assemble(parts, n_chunks, out, fmt)
    import pyarrow.parquet as pq

    from ..inversion import Status
    from ..io import write_maps

    files = [parts / PART_NAME.format(i) for i in range(n_chunks)]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise RuntimeError(f"cannot assemble {out}: missing {missing[:3]}")
    products = tuple(task.products)
    variables = (*products, *(f"{p}_std" for p in products), "rmse")
    codes = {s.name.lower(): int(s) for s in Status}
    status_counts: Counter = Counter()
    flag_counts: Counter = Counter()
    series, current, maps, rows = [], None, None, 0
    grid = series_grid(info.scenes, fmt) if fmt != "dir" and len(info.scenes) > 1 else None

    def flush():
        if current is None:
            return
        scene = info.scenes[current]
        if fmt == "dir":
            out.mkdir(exist_ok=True)
            write_maps(_dataset(maps, products), out / scene_map_name(scene.path), like=scene)
        elif len(info.scenes) == 1:
            write_maps(_dataset(maps, products), out, like=scene)
        else:  # placed on the series' common grid
            (r, c), (h, w) = grid[1][current], scene.shape
            placed = _empty(grid[0].shape, variables)
            placed["quality_flags"][:] = int(Quality.NODATA)  # outside this scene's extent
            for v, arr in maps.items():
                placed[v][r:r + h, c:c + w] = arr
            series.append(_dataset(placed, products, scene.time))

    for f in files:
        df = pq.read_table(f).to_pandas()
        k = int(df["scene"].iloc[0])
        if k != current:
            flush()
            current, maps = k, _empty(info.scenes[k].shape, variables)
        r, c = df["row"].to_numpy(), df["col"].to_numpy()
        for v in variables:
            maps[v][r, c] = df[v].to_numpy(np.float32)
        maps["status"][r, c] = [codes[s] for s in df["status"]]
        maps["quality_flags"][r, c] = df["quality"].to_numpy(np.int32)
        status_counts.update(df["status"])
        flag_counts.update(n for v in df["quality_flags"] if v for n in str(v).split(";") if n)
        rows += len(df)
    flush()
    if series:
        import xarray as xr

        write_maps(xr.concat(series, dim="time").sortby("time"), out, like=grid[0])  # in time order
    return {"rows": rows, "status": dict(status_counts), "quality_flags": dict(flag_counts)}


def output_paths(out, scenes) -> list[Path]:
    """The files a map run writes: ``out``, or ``out/<scene>_maps.tif`` per scene for a folder."""
    p = Path(out)
    if str(out).endswith(("/", os.sep)) or p.is_dir() and p.suffix.lower() != ".zarr":
        return [p / scene_map_name(s) for s in scenes]
    return [p]
