"""Canopy archives through the product routes: ``leafjax invert --model prosail --method lm|hybrid|lut --products``.

A canopy archive (:mod:`leafjax.archive._canopy`: ``R_<band>`` columns of a sensor, any subset of its bands, and
per-row ``sza``, ``vza``, ``raa``) whose settings name a route (``method="hybrid"``/``"lut"``) or ``products``
goes through :func:`leafjax.products.retrieve_products` with the route object of
:func:`leafjax.products.get_route` (the same objects as the Python API), so a run writes the very numbers
``retrieve_products(bands, geometry, srf, get_route(method, ...), key=jax.random.key(0))`` returns for its rows.

* :func:`setup_route` (once per run, :meth:`~leafjax.archive.CanopyArchiveTask.setup`): PROSAIL and the band
  response ``load_srf(sensor, grid).select(bands)``, the route and its ``prepare(srf, model, key)`` state (the
  hybrid network is trained here, from the fixed key :data:`ROUTE_SEED`).  Look-up tables are built per
  geometry, deterministically from ``(geometry, key)``, so whichever chunks ran before, a chunk's output is the
  same: resumed, distributed and single runs write identical files.
* :func:`run_route` (per chunk): the input checks of every row task (:func:`~leafjax.archive._rows.row_quality`)
  and the geometry check (``invalid_geometry``); the valid rows, padded to
  :func:`~leafjax.archive._rows.pad_size` (copies of the first, then dropped), are retrieved; invalid rows get
  NaN estimates and status ``invalid_input``.

Output columns (after the carried ones): each product and ``<product>_std`` (:data:`leafjax.products.PRODUCTS`
order of ``settings.products``; units :data:`leafjax.products.PRODUCT_UNITS`), then ``rmse`` (band RMSE of the
forward model at the estimate), ``iterations`` (0: :class:`~leafjax.products.ProductResult` reports none),
``status``,
``quality_flags``.  Known structure columns (``lidf_a``, ...) are carried, not used, by the routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._flags import NOT_INVERTED, Quality
from ..inversion import Status
from ..inversion._canopy import GEOMETRY_NAMES
from ..simulation._prosail import CANOPY_BOUNDS
from ._rows import output_rows, pad_size, padded_rows, row_quality
from ._settings import ArchiveSettings
from ._table import ArchiveInfo, Chunk

#: Seed of the PRNG key of a run's route (``prepare`` and ``retrieve_products``): ``jax.random.key(ROUTE_SEED)``.
ROUTE_SEED: int = 0


def route_kwargs(settings: ArchiveSettings) -> dict:
    """The fields a run gives its route: for ``lm`` ``max_steps`` and ``free`` (when set), for every route
    ``expected_rmse`` (when set), then ``settings.route_options`` (which win)."""
    kw: dict = {}
    if settings.method == "lm":
        kw["max_steps"] = int(settings.max_steps)
        if settings.free is not None:
            kw["free"] = tuple(settings.free)
    if settings.expected_rmse is not None:
        kw["expected_rmse"] = float(settings.expected_rmse)
    return {**kw, **dict(settings.route_options)}


def route_of(settings: ArchiveSettings):
    """The route object of a run: ``get_route(settings.method, **route_kwargs(settings))``
    (:func:`leafjax.products.get_route`; one-line ``ValueError`` for options the route does not have)."""
    from ..products import get_route

    return get_route(settings.method, **route_kwargs(settings))


def route_columns(settings: ArchiveSettings) -> tuple[str, ...]:
    """Estimate columns of a route run: ``<product>, <product>_std`` each."""
    return tuple(c for p in settings.products for c in (p, f"{p}_std"))


@dataclass(frozen=True)
class RouteState:
    """What every chunk of a route run shares: ``settings``, the PROSAIL ``model``, the band response ``srf``,
    the ``route`` object, its prepared ``prepared`` state and the ``free`` parameters (``lm``)."""

    settings: ArchiveSettings
    model: Any
    srf: Any
    route: Any
    prepared: Any
    free: tuple[str, ...]


def setup_route(settings: ArchiveSettings, info: ArchiveInfo) -> RouteState:
    """PROSAIL (``settings.leaf_model``, ``settings.dtype``) on the simulation grid, the response of the
    archive's bands, and the route prepared once (``route.prepare(srf, model, key(ROUTE_SEED))``)."""
    import jax

    from ..physics.canopy import Prosail
    from ._canopy import _srf_and_grid, canopy_free

    if settings.sensor is None:
        raise ValueError(f"method {settings.method} and products need band columns of a sensor (--sensor)")
    srf, grid = _srf_and_grid(settings, np.asarray(info.wavelengths, np.float64))
    dtype = settings.dtype
    srf = type(srf)(srf.wavelengths.astype(dtype), srf.weights.astype(dtype), srf.band_names, srf.name)
    model = Prosail(settings.leaf_model, wavelengths=grid, dtype=np.dtype(dtype))
    route = route_of(settings)
    prepared = route.prepare(srf, model, jax.random.key(ROUTE_SEED))
    free, _ = canopy_free(settings, info.carried)
    return RouteState(settings, model, srf, route, prepared, free)


def _geometry(carried) -> tuple[dict[str, np.ndarray], np.ndarray]:
    import pandas as pd

    out, bad = {}, np.zeros(len(carried), bool)
    for name in GEOMETRY_NAMES:
        v = pd.to_numeric(carried[name], errors="coerce").to_numpy(dtype=np.float64)
        lo, hi = CANOPY_BOUNDS[name]
        with np.errstate(invalid="ignore"):
            bad |= ~np.isfinite(v) | (v < lo) | (v > hi)
        out[name] = v
    return out, bad


def run_route(state: RouteState, chunk: Chunk):
    """Retrieve the chunk's valid rows with the run's route and lay out its output rows."""
    import jax

    from ..products import retrieve_products

    settings = state.settings
    r = chunk.reflectance * (0.01 if settings.percent else 1.0)
    n = r.shape[0]
    quality = row_quality([r])
    geometry, bad = _geometry(chunk.carried)
    quality[bad] |= int(Quality.INVALID_GEOMETRY)
    rows = np.flatnonzero((quality & int(NOT_INVERTED)) == 0)
    status = np.full(n, int(Status.INVALID_INPUT), np.int8)
    cols = {c: np.full(n, np.nan) for c in route_columns(settings)}
    extra = {"rmse": np.full(n, np.nan), "iterations": np.zeros(n, np.int32)}
    if rows.size:
        sel = padded_rows(rows, pad_size(rows.size, settings.chunk_size))
        res = retrieve_products(r[sel].astype(settings.dtype), {k: v[sel] for k, v in geometry.items()},
                                state.srf, state.route, products=settings.products, model=state.model,
                                key=jax.random.key(ROUTE_SEED), state=state.prepared)
        k = rows.size
        for p in settings.products:
            cols[p][rows] = np.asarray(res.values[p])[:k]
            cols[f"{p}_std"][rows] = np.asarray(res.std[p])[:k]
        extra["rmse"][rows] = np.asarray(res.rmse)[:k]
        status[rows] = np.asarray(res.status)[:k]
        quality[rows] |= np.asarray(res.quality, np.int32)[:k]
    return output_rows(chunk.carried, cols, extra, status, quality)
