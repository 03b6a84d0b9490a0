"""The result of a product retrieval: per-pixel values, 1-σ uncertainties, status codes, quality bits and fit RMSE.

Products and units (:data:`PRODUCTS`, :data:`PRODUCT_UNITS`): ``lai`` green leaf area index (m²/m²), ``ccc``
canopy chlorophyll content ``lai·chl·0.01`` (g/m², ``chl`` in µg/cm²), ``cwc`` canopy water content
``lai·ewt·1e4`` (g/m², ``ewt`` in g/cm²), ``fapar`` fraction of absorbed photosynthetically active radiation
(black-sky, at the pixel's sun position; dimensionless) and ``fcover`` green cover fraction seen from nadir
(dimensionless) — the Sentinel-2 Level-2B biophysical products of Weiss & Baret (2016, S2ToolBox Level-2 ATBD
v1.1).
"""

from __future__ import annotations

from typing import Sequence

import equinox as eqx
import numpy as np

from .._flags import Quality
from ..inversion._quality import POOR_FIT_FACTOR
from ..inversion._result import Status

#: The retrievable products, in their canonical order.
PRODUCTS: tuple[str, ...] = ("lai", "ccc", "cwc", "fapar", "fcover")
#: Units of the products.
PRODUCT_UNITS: dict[str, str] = {"lai": "m2/m2", "ccc": "g/m2", "cwc": "g/m2", "fapar": "-", "fcover": "-"}


class ProductResult(eqx.Module):
    """Per-pixel products of :func:`~leafjax.products.retrieve_products` (NumPy arrays, ``pix`` pixels; final).

    **Fields:**
    - ``values``: ``{product: (pix,) float64}`` estimates in the units of :data:`PRODUCT_UNITS` (NaN where not
      retrieved).
    - ``std``: ``{product: (pix,) float64}`` 1-σ uncertainties (how each route computes them: its class docstring).
    - ``status``: ``(pix,) int8`` :class:`~leafjax.inversion.Status` codes (``converged`` for a retrieved pixel
      of the look-up-table and hybrid routes, which have no iterations; ``invalid_input``: not retrieved).
    - ``quality``: ``(pix,) int32`` bits of :class:`leafjax._flags.Quality` (``poor_fit`` for every route: the
      forward model at the estimate misses the bands by more than 3 times the expected RMSE; ``out_of_domain``
      for the hybrid route).
    - ``rmse``: ``(pix,) float64`` band RMSE (reflectance) of the forward model at the estimate (NaN where not
      retrieved).
    """

    values: dict[str, np.ndarray]
    std: dict[str, np.ndarray]
    status: np.ndarray
    quality: np.ndarray
    rmse: np.ndarray

    @property
    def n_pixels(self) -> int:
        return int(self.status.shape[0])

    @property
    def products(self) -> tuple[str, ...]:
        return tuple(self.values)


def make_result(values, std, status, quality, rmse) -> ProductResult:
    """A :class:`ProductResult` with every array converted to its documented dtype."""
    return ProductResult(values={k: np.asarray(v, np.float64) for k, v in values.items()},
                         std={k: np.asarray(v, np.float64) for k, v in std.items()},
                         status=np.asarray(status, np.int8), quality=np.asarray(quality, np.int32),
                         rmse=np.asarray(rmse, np.float64))


def invalid_result(n: int, products: Sequence[str], quality=None) -> ProductResult:
    """``n`` pixels that were not retrieved: NaN values/std/rmse, status ``invalid_input``, ``quality`` bits."""
    nan = np.full(n, np.nan)
    q = np.zeros(n, np.int32) if quality is None else quality
    return make_result({p: nan for p in products}, {p: nan for p in products},
                       np.full(n, int(Status.INVALID_INPUT)), q, nan)


def scatter(part: ProductResult, rows: np.ndarray, base: ProductResult) -> ProductResult:
    """``base`` with its rows ``rows`` replaced by those of ``part`` (same products); quality bits are OR-ed."""
    values = {k: v.copy() for k, v in base.values.items()}
    std = {k: v.copy() for k, v in base.std.items()}
    for k in values:
        values[k][rows], std[k][rows] = part.values[k], part.std[k]
    status, quality, rmse = base.status.copy(), base.quality.copy(), base.rmse.copy()
    status[rows], rmse[rows] = part.status, part.rmse
    quality[rows] |= part.quality
    return make_result(values, std, status, quality, rmse)


def concatenate(parts: Sequence[ProductResult]) -> ProductResult:
    """The pixels of several results (same products) one after the other (e.g. the tiles of a scene)."""
    if not parts:
        raise ValueError("concatenate needs at least one ProductResult")
    names = parts[0].products
    if any(p.products != names for p in parts):
        raise ValueError("concatenate needs results of the same products")
    return make_result({k: np.concatenate([p.values[k] for p in parts]) for k in names},
                       {k: np.concatenate([p.std[k] for p in parts]) for k in names},
                       np.concatenate([p.status for p in parts]), np.concatenate([p.quality for p in parts]),
                       np.concatenate([p.rmse for p in parts]))


def fit_bits(rmse: np.ndarray, expected_rmse: float) -> np.ndarray:
    """``poor_fit`` bits (int32) where ``rmse > POOR_FIT_FACTOR · expected_rmse`` (3×, as the inversions')."""
    bad = np.asarray(rmse, np.float64) > POOR_FIT_FACTOR * float(expected_rmse)
    return np.where(bad, np.int32(int(Quality.POOR_FIT)), np.int32(0))


def finite_status(values: dict[str, np.ndarray], status: np.ndarray) -> np.ndarray:
    """``status`` with ``nonfinite`` where a retrieved pixel got a non-finite product value."""
    ok = np.ones(status.shape, bool)
    for v in values.values():
        ok &= np.isfinite(v)
    retrieved = status != int(Status.INVALID_INPUT)
    return np.where(retrieved & ~ok, np.int8(int(Status.NONFINITE)), status).astype(np.int8)
