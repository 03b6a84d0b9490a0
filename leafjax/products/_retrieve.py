"""One entry point for the products of sensor pixels: :func:`retrieve_products` (validation, masking, routing)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from jaxtyping import PRNGKeyArray

from .._flags import NOT_INVERTED, Quality
from ..inversion._canopy_problem import GEOMETRY_NAMES
from ..inversion._quality import check_percent, spectrum_quality
from ..physics.canopy import Prosail
from ..simulation._prosail import CANOPY_BOUNDS
from ..spectral._response import SpectralResponse
from ._result import PRODUCTS, ProductResult, invalid_result, scatter
from ._routes import DEFAULT_METHOD, AbstractRoute, get_route

#: dtype of the default PROSAIL model of :func:`default_model`.
DEFAULT_DTYPE = np.float32


def default_model(srf: SpectralResponse) -> Prosail:
    """PROSPECT-D + 4SAIL + dry/wet soil in float32 on the SRF's wavelength grid (build the SRF with
    ``load_srf(sensor, np.arange(400, 2401))``, the grid of :data:`leafjax.archive._canopy.SENSOR_GRID_NM`)."""
    return Prosail("prospect-d", wavelengths=np.asarray(srf.wavelengths, np.float64), dtype=DEFAULT_DTYPE)


def check_products(products: Sequence[str]) -> tuple[str, ...]:
    """``products`` as a tuple of known, distinct product names (one-line ``ValueError`` otherwise)."""
    if isinstance(products, str):
        products = [p for p in products.split(",") if p.strip()]
    names = tuple(str(p).strip().lower() for p in products)
    if not names:
        raise ValueError(f"no product requested; choose from {', '.join(PRODUCTS)}")
    unknown = [p for p in names if p not in PRODUCTS]
    if unknown:
        raise ValueError(f"unknown product {unknown[0]!r}; known: {', '.join(PRODUCTS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"products listed twice: {', '.join(names)}")
    return names


def check_geometry(geometry: Mapping[str, object], n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``({"sza", "vza", "raa": (n,) float64}, invalid (n,) bool)``: each angle a scalar or ``(n,)`` (one-line
    ``ValueError`` otherwise); a pixel whose angle is non-finite or outside the PROSAIL range
    (:data:`leafjax.simulation.CANOPY_BOUNDS`: zeniths in [0, 89], raa in [-360, 360] degrees) is invalid."""
    if not isinstance(geometry, Mapping):
        raise ValueError(f"geometry must be a mapping with {', '.join(GEOMETRY_NAMES)} (degrees)")
    missing = [k for k in GEOMETRY_NAMES if k not in geometry]
    if missing:
        raise ValueError(f"geometry needs {', '.join(GEOMETRY_NAMES)} (degrees); missing {', '.join(missing)}")
    out, bad = {}, np.zeros(n, bool)
    for k in GEOMETRY_NAMES:
        try:
            v = np.asarray(geometry[k], np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"geometry {k!r} must be numbers (degrees)") from None
        if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
            raise ValueError(f"geometry {k!r} has shape {v.shape}; expected a scalar or ({n},)")
        v = np.broadcast_to(v, (n,)).copy()
        lo, hi = CANOPY_BOUNDS[k]
        bad |= ~np.isfinite(v) | (v < lo) | (v > hi)
        out[k] = v
    return out, bad


def retrieve_products(bands, geometry: Mapping[str, object], srf: SpectralResponse,
                      route: AbstractRoute | str | None = None, *, products: Sequence[str] = PRODUCTS,
                      model: Prosail | None = None, key: PRNGKeyArray | None = None,
                      state: dict | None = None) -> ProductResult:
    """Sentinel-2-style biophysical products of pixels from their band reflectances.

    **Arguments:**
    - ``bands``: ``(pix, band)`` surface reflectance (fraction) on the bands of ``srf`` (any subset of a sensor's
      bands, e.g. Sentinel-2 without B8: ``load_srf("sentinel-2a", wl, bands=[...])``); NaN = missing.
    - ``geometry``: ``{"sza", "vza", "raa"}`` (degrees), each a scalar or ``(pix,)``.
    - ``srf``: :class:`~leafjax.spectral.SpectralResponse` on ``model``'s wavelength grid.
    - ``route``: an :class:`AbstractRoute` (:class:`LMRoute`, :class:`HybridRoute`, :class:`LUTRoute`) or a name
      for :func:`get_route` (default :data:`DEFAULT_METHOD`).
    - ``products``: a subset of :data:`PRODUCTS` (or ``"lai,ccc"``), in the order wanted.
    - ``model``: :class:`~leafjax.physics.canopy.Prosail` (default :func:`default_model`); ``key``: PRNG key of
      the route's simulations (default ``key(0)``); ``state``: from ``route.prepare(srf, model, key)`` to reuse
      a trained network or cached tables across calls (the tiles of a scene); then ``model`` and ``key`` are
      those of the state.

    Pixels not retrieved (status ``invalid_input``, NaN values): every band NaN, a value out of the fraction
    range (``out_of_range``), all zero, a non-finite or out-of-range angle (``invalid_geometry``), and — for a
    route without missing-band handling (hybrid) — any NaN band (``missing_bands``).

    **Returns:** :class:`ProductResult` with ``pix`` rows (zero rows for an empty batch).

    Raises:
        ValueError: (one line, before any compute) for bands not ``(pix, n_bands)``, a missing or mis-shaped
        angle, unknown products, values that look like percent, or a state of another route.
    """
    names = check_products(products)
    try:
        x = np.asarray(bands, np.float64)
    except (TypeError, ValueError):
        raise ValueError("bands must be a (pix, band) array of numbers") from None
    if x.ndim != 2 or x.shape[1] != srf.n_bands:
        raise ValueError(f"bands must be (pix, {srf.n_bands}) reflectances on the bands "
                         f"{', '.join(srf.band_names)}; got shape {x.shape}")
    route = get_route(DEFAULT_METHOD if route is None else route) if not isinstance(route, AbstractRoute) \
        else route
    n = x.shape[0]
    geo, bad_geometry = check_geometry(geometry, n)
    if n == 0:
        return invalid_result(0, names)
    check_percent(x, what="pixels")
    size = max(16, 1 << max(0, int(n - 1).bit_length()))  # padded: a few compiled shapes for any batch
    quality = np.array(spectrum_quality(np.concatenate([x, np.repeat(x[-1:], size - n, axis=0)])), np.int32)[:n]
    quality |= np.where(bad_geometry, np.int32(int(Quality.INVALID_GEOMETRY)), np.int32(0))
    invalid = (quality & int(NOT_INVERTED)) != 0
    if not route.handles_missing_bands:
        invalid |= (quality & int(Quality.MISSING_BANDS)) != 0
    base = invalid_result(n, names, quality)
    rows = np.flatnonzero(~invalid)
    if rows.size == 0:
        return base
    if state is None:
        state = route.prepare(srf, default_model(srf) if model is None else model, key)
    part = route.retrieve(state, x[rows], {k: v[rows] for k, v in geo.items()}, names)
    return scatter(part, rows, base)
