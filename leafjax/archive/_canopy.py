"""Canopy archives: PROSAIL trait inversion of pixel tables, as an archive task (``model="prosail"``).

Input (parquet or CSV), one pixel per row:

* reflectance (bidirectional reflectance factor, fraction) in ``R_<nm>`` columns on the 1-nm grid, or, with
  ``ArchiveSettings.sensor`` (e.g. ``"sentinel-2a"``), in ``R_<band>`` columns (``R_B2`` … ``R_B12``, or the L2A
  spelling ``R_B02`` … ``R_B8A``; :func:`leafjax.spectral.canonical_band`): any subset of at least
  :data:`MIN_BANDS` of the sensor's bands, in any order (``ArchiveSettings.bands``: only those), simulated with
  ``load_srf(sensor, grid).select(bands)``;
* geometry columns ``sza``, ``vza``, ``raa`` (degrees; required);
* optionally known structure columns :data:`STRUCTURE_COLUMNS` (``lidf_a``, ``lidf_b``, ``hotspot``,
  ``soil_brightness``, ``soil_dryness``): each present one that is not explicitly free is fixed per row (and
  dropped from the default free set).  Every non-reflectance column is carried to the output.

Output columns (after the carried ones; clashing names renamed ``input_<name>``): ``lai``, ``chl``, ``ewt``,
``fcover``, then the other free parameters, ``<free>_std`` (Gauss–Newton, see
:func:`~leafjax.inversion.invert_canopy`), ``rmse`` (band RMSE), ``iterations``, ``status``, ``quality_flags``.
With ``method="hybrid"``/``"lut"`` or ``products`` set, the pixels go through
:func:`leafjax.products.retrieve_products` instead (:mod:`leafjax.archive._canopy_products`): the products and
``<product>_std`` come first (then, for ``lm``, the free parameters if the route's result reports them: not yet).
Quality flags as for leaf archives (fit checks against ``ArchiveSettings.expected_rmse``, default the band σ
0.01, :data:`leafjax.inversion.CANOPY_SIGMA`), plus ``invalid_geometry`` / ``invalid_structure`` (NaN or out of
range; the row is not inverted).  The PROSAIL model and the sensor's response are built once per run
(:meth:`CanopyArchiveTask.setup`); the look-up table of the per-pixel start depends on each pixel's geometry and
is part of the chunk's solve.  Each chunk's valid pixels are padded to :func:`~leafjax.archive._rows.pad_size`
(power-of-two buckets from 64 up to the chunk size), so a run compiles at most ``ceil(log2(chunk_size / 64)) + 1``
shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
#: Fewest sensor bands a canopy archive may have.
MIN_BANDS: int = 3
#: Methods of a canopy run: the per-pixel fit, and the hybrid / look-up-table routes of :mod:`leafjax.products`.
METHODS: tuple[str, ...] = ("lm", "hybrid", "lut")


def _srf_and_grid(settings: ArchiveSettings, wavelengths: np.ndarray | None = None):
    """``(response, simulation grid (nm))``: the sensor's bands (only ``settings.bands``, in the sensor's order,
    when set), or the identity on the archive's wavelengths."""
    from ..spectral import SpectralResponse, load_srf

    if settings.sensor is not None:
        grid = np.arange(SENSOR_GRID_NM[0], SENSOR_GRID_NM[1] + 1, settings.grid_step, dtype=np.float64)
        srf = load_srf(settings.sensor, grid)
        if settings.bands is None or tuple(settings.bands) == srf.band_names:
            return srf, grid
        return srf.select(settings.bands), grid
    wl = np.asarray(wavelengths, np.float64)
    return SpectralResponse(wl, np.eye(wl.size), tuple(f"{w:g}" for w in wl), "grid"), wl


def _canonical(name: str, sensor: str, known: tuple[str, ...]) -> str | None:
    """The sensor's band name for a column suffix (``"B02"`` → ``"B2"``, :func:`leafjax.spectral.canonical_band`),
    or ``None`` if it names none of the sensor's bands ``known``."""
    from ..spectral import canonical_band

    if name in known:
        return name
    try:
        band = canonical_band(name, sensor, bands=known)
    except ValueError:
        return None
    return band if band in known else None


def check_bands(bands, sensor: str | None) -> tuple[str, ...] | None:
    """``settings.bands`` as the sensor's band names (aliases resolved, in the sensor's order, no repeats);
    one-line ``ValueError`` for an unknown band, fewer than :data:`MIN_BANDS` bands, or bands without a sensor."""
    if bands is None:
        return None
    if sensor is None:
        raise ValueError("bands need a sensor (band columns R_<band>)")
    from ..spectral import load_srf

    known = load_srf(sensor).band_names
    chosen = set()
    for b in bands:
        band = _canonical(str(b), sensor, known)
        if band is None:
            raise ValueError(f"unknown band {str(b)[:40]!r} of {sensor}; choose among {', '.join(known)}")
        chosen.add(band)
    if len(chosen) < MIN_BANDS:
        raise ValueError(f"at least {MIN_BANDS} bands are needed, got {', '.join(b for b in known if b in chosen)}")
    return tuple(b for b in known if b in chosen)


def band_columns(p: Path, columns, settings: ArchiveSettings) -> tuple[list[str], tuple[str, ...]]:
    """``(file columns, sensor band names)`` of a sensor archive, in the sensor's band order: every ``R_<band>``
    column (aliases such as ``R_B02``/``R_b8a`` accepted), or only those of ``settings.bands``.  One-line
    ``ValueError`` for wavelength columns, unknown or repeated bands, requested bands that are absent, or fewer
    than :data:`MIN_BANDS` bands."""
    from ..io import parse_spectral_columns
    from ..io._readers import short
    from ..spectral import load_srf

    known = load_srf(settings.sensor).band_names
    listed = ", ".join(f"R_{b}" for b in known)
    nm_cols = parse_spectral_columns(list(columns), "R")[0]
    if nm_cols:
        raise ValueError(f"{p}: columns {nm_cols[:3]} are wavelengths, but --sensor {settings.sensor} expects "
                         f"band columns {listed}")
    found: dict[str, str] = {}
    unknown = []
    for c in (str(c) for c in columns if str(c).startswith("R_")):
        band = _canonical(c[2:], settings.sensor, known)
        if band is None:
            unknown.append(c)
        elif band in found:
            raise ValueError(f"{p}: columns {found[band]} and {c} are both band {band} of {settings.sensor}")
        else:
            found[band] = c
    if unknown:
        raise ValueError(f"{p}: band columns do not match {settings.sensor} ({listed}): unknown "
                         f"{short(', '.join(unknown), 80)}")
    requested = check_bands(settings.bands, settings.sensor)
    if requested is not None:
        missing = [f"R_{b}" for b in requested if b not in found]
        if missing:
            raise ValueError(f"{p}: band columns do not match the requested bands of {settings.sensor}: "
                             f"missing {', '.join(missing)}")
    bands = tuple(b for b in (known if requested is None else requested) if b in found)
    if len(bands) < MIN_BANDS:
        raise ValueError(f"{p}: {len(bands)} band column(s) of {settings.sensor} found "
                         f"({', '.join(found[b] for b in bands) or 'none'}); at least {MIN_BANDS} are needed "
                         f"(of {listed})")
    return [found[b] for b in bands], bands


def open_canopy_archive(path, settings: ArchiveSettings) -> ArchiveInfo:
    """Inspect a canopy archive and validate all of it before any compute: reflectance columns of
    ``settings.sensor``'s bands (any subset of at least :data:`MIN_BANDS`, aliases accepted, see
    :func:`band_columns`) or on the 1-nm grid, the geometry columns, and every cell of those (and of the present
    structure columns) a number or empty.  CSV is read with ``settings.sep``/``settings.decimal`` (``None``:
    detected).  Raises a one-line ``ValueError`` naming the offending columns (and rows)."""
    from ..io._readers import inspect_table, short, table_columns

    p = Path(path)
    check_file(p)
    if p.suffix.lower() == ".npy":
        raise ValueError(f"{p}: canopy inversion needs a parquet or CSV table (per-row sza, vza, raa columns)")
    sep, decimal = getattr(settings, "sep", None), getattr(settings, "decimal", None)
    columns = table_columns(p, sep=sep, decimal=decimal)
    if settings.sensor is not None:
        rcols, bands = band_columns(p, columns, settings)
        srf, _ = _srf_and_grid(replace(settings, bands=bands))
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


def _sensor_bands(sensor: str) -> tuple[str, ...]:
    from ..spectral import load_srf

    return load_srf(sensor).band_names


def uses_routes(settings: ArchiveSettings) -> bool:
    """Whether a run goes through :func:`leafjax.products.retrieve_products` (``method`` hybrid/lut, or
    ``products`` given) rather than the per-pixel fit of :func:`~leafjax.inversion.invert_canopy`."""
    return settings.method != "lm" or settings.products is not None or bool(settings.route_options)


def check_route(method: str, products, free, route_options=()) -> tuple[str, ...] | None:
    """``products`` made definite for ``method`` (``None`` stays ``None`` for ``lm`` without route options: the
    trait columns; every product of :data:`leafjax.products.PRODUCTS` otherwise).  One-line ``ValueError`` for an
    unknown method or product, ``free`` with a route other than ``lm``, or route options the route rejects."""
    if method not in METHODS:
        raise ValueError(f"unknown method {str(method)[:40]!r}; choose one of: {', '.join(METHODS)}")
    if free is not None and method != "lm":
        raise ValueError(f"free parameters apply to method lm only, not {method}")
    if products is None and method == "lm" and not route_options:
        return None
    from ..products import PRODUCTS

    chosen = tuple(PRODUCTS) if products is None else tuple(str(x).strip().lower() for x in products)
    unknown = [x for x in chosen if x not in PRODUCTS]
    if unknown or not chosen:
        raise ValueError(f"unknown product {(unknown or [''])[0][:40]!r}; choose among {', '.join(PRODUCTS)}")
    return tuple(dict.fromkeys(chosen))


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

    def resolve(self, settings: ArchiveSettings, info: ArchiveInfo) -> ArchiveSettings:
        """As :meth:`AbstractRowTask.resolve`, with ``bands`` set to the sensor bands of the archive's columns
        (recorded in the manifest) and the route options checked (:func:`check_route`)."""
        settings = super().resolve(settings, info)
        if settings.sensor is not None:
            known = _sensor_bands(settings.sensor)
            settings = replace(settings, bands=tuple(_canonical(c[2:], settings.sensor, known)
                                                     for c in info.r_columns))
        settings = replace(settings, products=check_route(settings.method, settings.products, settings.free,
                                                          settings.route_options))
        if uses_routes(settings):
            from ._canopy_products import route_of

            route_of(settings)  # bad route options -> one-line error before any work
        return settings

    def output_columns(self, settings: ArchiveSettings, info: ArchiveInfo) -> tuple[str, ...]:
        free, _ = canopy_free(settings, info.carried)
        if uses_routes(settings):
            from ._canopy_products import route_columns

            return route_columns(settings) + self.diagnostic_columns()
        cols = [c for n in reported_names(free) for c in ((n, f"{n}_std") if n in free else (n,))]
        return tuple(cols) + self.diagnostic_columns()

    def setup(self, settings: ArchiveSettings, info: ArchiveInfo):
        """PROSAIL with ``settings.leaf_model`` on the simulation grid, and the sensor's response, in
        ``settings.dtype``; the free and per-row fixed parameters of this archive's columns.  With a product
        route (:func:`uses_routes`), also the route and its prepared state (network trained, once per run;
        :func:`leafjax.archive._canopy_products.setup_route`)."""
        from ..physics.canopy import Prosail

        if uses_routes(settings):
            from ._canopy_products import setup_route

            return setup_route(settings, info)
        srf, grid = _srf_and_grid(settings, np.asarray(info.wavelengths, np.float64))
        dtype = settings.dtype
        srf = type(srf)(srf.wavelengths.astype(dtype), srf.weights.astype(dtype), srf.band_names, srf.name)
        model = Prosail(settings.leaf_model, wavelengths=grid, dtype=np.dtype(dtype))
        free, per_row = canopy_free(settings, info.carried)
        return CanopyState(settings, model, srf, free, tuple(per_row))

    def run(self, state: Any, chunk: Chunk):
        """Invert the chunk's valid pixels (padded to :func:`~leafjax.archive._rows.pad_size`) and lay out its
        output rows."""
        import jax
        import jax.numpy as jnp

        if not isinstance(state, CanopyState):
            from ._canopy_products import run_route

            return run_route(state, chunk)
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
