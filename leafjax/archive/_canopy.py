"""Canopy archives: PROSAIL trait inversion of pixel tables, as an archive task (``model="prosail"``).

Input (parquet or CSV), one pixel per row:

* reflectance (bidirectional reflectance factor, fraction) in ``R_<nm>`` columns on the 1-nm grid, or, with
  ``ArchiveSettings.sensor`` (e.g. ``"sentinel-2a"``), in ``R_<band>`` columns (``R_B2`` … ``R_B12``): exactly the
  sensor's bands, in any order;
* geometry columns ``sza``, ``vza``, ``raa`` (degrees; required);
* optionally known structure columns :data:`STRUCTURE_COLUMNS` (``lidf_a``, ``lidf_b``, ``hotspot``,
  ``soil_brightness``, ``soil_dryness``): each present one that is not explicitly free is fixed per row (and
  dropped from the default free set).  Every non-reflectance column is carried to the output.

Output columns (after the carried ones; clashing names renamed ``input_<name>``): ``lai``, ``chl``, ``ewt``,
``fcover``, then the other free parameters, ``<free>_std`` (Gauss–Newton, see
:func:`~leafjax.inversion.invert_canopy`), ``rmse`` (band RMSE), ``iterations``, ``status``, ``quality_flags``.
Quality flags as for leaf archives (fit checks against ``ArchiveSettings.expected_rmse``, default the band σ
0.01, :data:`leafjax.inversion.CANOPY_SIGMA`), plus ``invalid_geometry`` / ``invalid_structure`` (NaN or out of
range; the row is not inverted).  The PROSAIL model and the sensor's response are built once per run
(:meth:`CanopyArchiveTask.setup`); the look-up table of the per-pixel start depends on each pixel's geometry and
is part of the chunk's solve.  Each chunk's valid pixels are padded to :func:`~leafjax.archive._rows.pad_size`
(power-of-two buckets from 64 up to the chunk size), so a run compiles at most ``ceil(log2(chunk_size / 64)) + 1``
shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..inversion._canopy import GEOMETRY_NAMES, INVERSION_BOUNDS, default_free, invert_canopy
from ..inversion import Status
from ..simulation._prosail import CANOPY_BOUNDS
from .._flags import NOT_INVERTED, Quality
from ._rows import output_rows, pad_size, padded_rows, row_quality
from ._settings import ArchiveSettings
from ._table import ArchiveInfo, Chunk, check_file, spectral_grid
from ._task import AbstractRowTask

#: Structure/soil columns that, when present in the input, fix that parameter per row.
STRUCTURE_COLUMNS: tuple[str, ...] = ("lidf_a", "lidf_b", "hotspot", "soil_brightness", "soil_dryness")
#: Estimates always reported first.
REPORTED: tuple[str, ...] = ("lai", "chl", "ewt", "fcover")
#: Look-up-table entries of the per-pixel start.
LUT_SIZE: int = 64
#: Range of the simulation grid (nm) used with a sensor.
SENSOR_GRID_NM: tuple[int, int] = (400, 2400)


def _srf_and_grid(settings: ArchiveSettings, wavelengths: np.ndarray | None = None):
    """``(response, simulation grid (nm))``: the sensor's bands, or the identity on the archive's wavelengths."""
    from ..spectral import SpectralResponse, load_srf

    if settings.sensor is not None:
        grid = np.arange(SENSOR_GRID_NM[0], SENSOR_GRID_NM[1] + 1, settings.grid_step, dtype=np.float64)
        return load_srf(settings.sensor, grid), grid
    wl = np.asarray(wavelengths, np.float64)
    return SpectralResponse(wl, np.eye(wl.size), tuple(f"{w:g}" for w in wl), "grid"), wl


def open_canopy_archive(path, settings: ArchiveSettings) -> ArchiveInfo:
    """Inspect a canopy archive and validate all of it before any compute: reflectance columns matching
    ``settings.sensor`` (or on the 1-nm grid), the geometry columns, and every cell of those (and of the present
    structure columns) a number or empty.  CSV is read with ``settings.sep``/``settings.decimal`` (``None``:
    detected).  Raises a one-line ``ValueError`` naming the offending columns (and rows)."""
    from ..io import parse_spectral_columns
    from ..io._readers import inspect_table, short, table_columns

    p = Path(path)
    check_file(p)
    if p.suffix.lower() == ".npy":
        raise ValueError(f"{p}: canopy inversion needs a parquet or CSV table (per-row sza, vza, raa columns)")
    sep, decimal = getattr(settings, "sep", None), getattr(settings, "decimal", None)
    columns = table_columns(p, sep=sep, decimal=decimal)
    if settings.sensor is not None:
        nm_cols = parse_spectral_columns(list(columns), "R")[0]
        srf, _ = _srf_and_grid(settings)
        wanted = [f"R_{b}" for b in srf.band_names]
        if nm_cols:
            raise ValueError(f"{p}: columns {nm_cols[:3]} are wavelengths, but --sensor {settings.sensor} expects "
                             f"band columns {', '.join(wanted)}")
        have = [c for c in columns if str(c).startswith("R_")]
        missing = [c for c in wanted if c not in have]
        extra = [c for c in have if c not in wanted]
        if missing or extra:
            raise ValueError(f"{p}: band columns do not match {settings.sensor} ({', '.join(wanted)}): "
                             + "; ".join(x for x in (f"missing {', '.join(missing)}" if missing else "",
                                                     f"unknown {short(', '.join(extra), 80)}" if extra else "")
                                         if x))
        rcols = wanted
        wl = np.asarray(srf.weights) @ np.asarray(srf.wavelengths)  # band centres (nm), for the manifest
    else:
        rcols, wl = spectral_grid(columns, "R", p)
        if not rcols:
            band_like = [c for c in columns if str(c).startswith("R_")]
            hint = f" (band columns such as {short(band_like[0], 40)} need --sensor)" if band_like else ""
            raise ValueError(f"{p}: no R_<nm> reflectance columns found{hint} (columns: "
                             f"{short(list(columns[:5]), 100)})")
    missing_geometry = [g for g in GEOMETRY_NAMES if g not in columns]
    if missing_geometry:
        raise ValueError(f"{p}: missing geometry column(s) {', '.join(missing_geometry)} (sun zenith, view zenith "
                         f"and relative azimuth angles in degrees, one per row)")
    numbers = list(rcols) + list(GEOMETRY_NAMES) + [c for c in STRUCTURE_COLUMNS if c in columns]
    table = inspect_table(p, sep=sep, decimal=decimal, numeric=numbers)
    if table.n_rows == 0:
        raise ValueError(f"{p}: the archive has no rows")
    spectral = {c for c in columns if str(c).startswith("R_")}
    return ArchiveInfo(p, table.n_rows, np.asarray(wl, np.float64), list(rcols), [],
                       [c for c in columns if c not in spectral], table.fmt, table=table)


def canopy_free(settings: ArchiveSettings, columns) -> tuple[tuple[str, ...], list[str]]:
    """``(free names, per-row fixed columns)`` for an archive with these carried ``columns``."""
    present = [c for c in STRUCTURE_COLUMNS if c in columns]
    if settings.free is not None:
        free = tuple(settings.free)
        unknown = [f for f in free if f not in INVERSION_BOUNDS]
        if unknown:
            raise ValueError(f"cannot invert {unknown[0]!r}; choose among {', '.join(INVERSION_BOUNDS)}")
    else:
        free = tuple(f for f in default_free(settings.leaf_model) if f not in present)
    return free, [c for c in present if c not in free]


def _column(carried, name: str, bounds: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    v = pd.to_numeric(carried[name], errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(v) | (v < bounds[0]) | (v > bounds[1])
    return v, bad



def reported_names(free: tuple[str, ...]) -> list[str]:
    """Estimate columns: :data:`REPORTED` first, then the other free parameters."""
    return list(REPORTED) + [f for f in free if f not in REPORTED]


@dataclass(frozen=True)
class CanopyState:
    """What every chunk of a canopy run shares: the PROSAIL ``model`` on the simulation grid, the sensor
    response ``srf`` (in the run's dtype), the ``free`` parameters and the ``per_row`` fixed columns."""

    settings: ArchiveSettings
    model: Any
    srf: Any
    free: tuple[str, ...]
    per_row: tuple[str, ...]


class CanopyArchiveTask(AbstractRowTask):
    """PROSAIL inversion of canopy pixels in rows (``model="prosail"``; see the module docstring)."""

    def open(self, path, settings: ArchiveSettings, *, wavelengths_file: str | None = None) -> ArchiveInfo:
        return open_canopy_archive(path, settings)

    def output_columns(self, settings: ArchiveSettings, info: ArchiveInfo) -> tuple[str, ...]:
        free, _ = canopy_free(settings, info.carried)
        cols = [c for n in reported_names(free) for c in ((n, f"{n}_std") if n in free else (n,))]
        return tuple(cols) + self.diagnostic_columns()

    def setup(self, settings: ArchiveSettings, info: ArchiveInfo) -> CanopyState:
        """PROSAIL with ``settings.leaf_model`` on the simulation grid, and the sensor's response, in
        ``settings.dtype``; the free and per-row fixed parameters of this archive's columns."""
        from ..physics.canopy import Prosail

        srf, grid = _srf_and_grid(settings, np.asarray(info.wavelengths, np.float64))
        dtype = settings.dtype
        srf = type(srf)(srf.wavelengths.astype(dtype), srf.weights.astype(dtype), srf.band_names, srf.name)
        model = Prosail(settings.leaf_model, wavelengths=grid, dtype=np.dtype(dtype))
        free, per_row = canopy_free(settings, info.carried)
        return CanopyState(settings, model, srf, free, tuple(per_row))

    def run(self, state: CanopyState, chunk: Chunk):
        """Invert the chunk's valid pixels (padded to :func:`~leafjax.archive._rows.pad_size`) and lay out its
        output rows."""
        import jax
        import jax.numpy as jnp

        settings, free, per_row = state.settings, state.free, state.per_row
        r = chunk.reflectance * (0.01 if settings.percent else 1.0)
        quality = row_quality([r])
        n = r.shape[0]
        known: dict[str, np.ndarray] = {}
        for names, flag in ((GEOMETRY_NAMES, Quality.INVALID_GEOMETRY), (per_row, Quality.INVALID_STRUCTURE)):
            for name in names:
                known[name], bad = _column(chunk.carried, name, CANOPY_BOUNDS[name])
                quality[bad] |= int(flag)
        rows = np.flatnonzero((quality & int(NOT_INVERTED)) == 0)
        status = np.full(n, int(Status.INVALID_INPUT), np.int8)
        reported = reported_names(free)
        cols = {}
        for name in reported:
            cols[name] = np.full(n, np.nan)
            if name in free:
                cols[f"{name}_std"] = np.full(n, np.nan)
        extra = {"rmse": np.full(n, np.nan), "iterations": np.zeros(n, np.int32)}
        at_bound: dict[str, np.ndarray] = {}
        if rows.size:
            sel = padded_rows(rows, pad_size(rows.size, settings.chunk_size))
            res = invert_canopy(jnp.asarray(r[sel], settings.dtype), {k: known[k][sel] for k in GEOMETRY_NAMES},
                                state.srf, state.model, free=free, fixed={k: known[k][sel] for k in per_row},
                                lut_size=LUT_SIZE, max_steps=settings.max_steps, key=jax.random.key(0),
                                expected_rmse=settings.expected_rmse, percent_check=False)
            jax.block_until_ready(res.rmse)
            k = rows.size
            for name in reported:
                cols[name][rows] = np.asarray(res.params[name])[:k]
                if name in free:
                    cols[f"{name}_std"][rows] = np.asarray(res.std[name])[:k]
            extra["rmse"][rows] = np.asarray(res.rmse)[:k]
            extra["iterations"][rows] = np.asarray(res.iters)[:k]
            status[rows] = np.asarray(res.status)[:k]
            quality[rows] |= np.asarray(res.quality, np.int32)[:k]
            for name, v in res.at_bound.items():
                at_bound.setdefault(name, np.zeros(n, bool))[rows] = np.asarray(v)[:k]
        return output_rows(chunk.carried, cols, extra, status, quality, at_bound)
