r"""Products from PROSAIL parameters, and the propagation of parameter uncertainties to them.

**Products** (Weiss & Baret 2016, S2ToolBox Level-2 ATBD v1.1): :math:`\mathrm{CCC} = L\cdot C_{ab}\cdot 0.01`
(g/m²; ``chl`` µg/cm²), :math:`\mathrm{CWC} = L\cdot C_w\cdot 10^4` (g/m²; ``ewt`` g/cm²), fCover
:math:`1 - e^{-G(0)L}` (:func:`leafjax.physics.canopy.fcover`) and the black-sky fAPAR at the pixel's sun zenith
angle from the 4SAIL fluxes (:func:`leafjax.physics.canopy.fapar`, 400–700 nm).

**Uncertainty** (first order, the delta method):

- :func:`product_std` — for a product :math:`c\,L\,V` (CCC, CWC),
  :math:`\sigma^2 = c^2\,(V^2\sigma_L^2 + L^2\sigma_V^2 + 2LV\,\mathrm{cov}_{LV})`, the covariance 0 when not
  given (independent estimates);
- :func:`finite_difference_std` — for any function :math:`f` of a few parameters (fAPAR, fCover of ``lai`` and
  ``lidf_a``), :math:`\sigma_f^2 = \sum_i (\partial f/\partial x_i)^2\sigma_i^2` with central differences
  (independent parameters).
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..inversion._canopy import DEFAULT_FIXED
from ..physics.canopy import CanopyParams, Prosail, canopy_chlorophyll, canopy_water, fcover
from ..physics.soil._soil import DryWetSoilParams
from ..simulation._prosail import prosail_state

#: Rows per compiled fAPAR program (the last chunk is padded, so every call shares one compilation).
FAPAR_CHUNK: int = 1024
#: Absolute central-difference steps of :func:`finite_difference_std` (canonical units); others 1e-3 · |x| + 1e-6.
FD_STEPS: dict[str, float] = {"lai": 0.01, "lidf_a": 0.1, "chl": 0.1, "ewt": 1e-5, "lma": 1e-5}


def ccc_from(lai, chl):
    """Canopy chlorophyll content (g/m²) from ``lai`` (m²/m²) and leaf ``chl`` (µg/cm²): ``lai·chl·0.01``."""
    return np.asarray(canopy_chlorophyll(np.asarray(lai, np.float64), np.asarray(chl, np.float64)))


def cwc_from(lai, ewt):
    """Canopy water content (g/m²) from ``lai`` (m²/m²) and leaf ``ewt`` (g/cm²): ``lai·ewt·1e4``."""
    return np.asarray(canopy_water(np.asarray(lai, np.float64), np.asarray(ewt, np.float64)))


def product_std(lai, value, std_lai, std_value, scale: float, cov=None) -> np.ndarray:
    """1-σ of ``scale·lai·value`` by first-order propagation (``cov``: covariance of lai and value, default 0)."""
    lai, v = np.asarray(lai, np.float64), np.asarray(value, np.float64)
    sl, sv = np.asarray(std_lai, np.float64), np.asarray(std_value, np.float64)
    c = 0.0 if cov is None else np.asarray(cov, np.float64)
    var = v**2 * sl**2 + lai**2 * sv**2 + 2.0 * lai * v * c
    return np.asarray(abs(scale) * np.sqrt(np.maximum(var, 0.0)))


def finite_difference_std(f: Callable[[dict[str, np.ndarray]], np.ndarray], point: Mapping[str, np.ndarray],
                          std: Mapping[str, np.ndarray], names: Sequence[str],
                          low: Mapping[str, float] | None = None) -> np.ndarray:
    """1-σ of ``f(point)`` (``f``: ``{name: (n,)} -> (n,)``) from the independent 1-σ ``std`` of ``names``, by
    central differences (steps :data:`FD_STEPS`; one-sided where the lower step would pass ``low[name]``)."""
    base = {k: np.asarray(v, np.float64) for k, v in point.items()}
    var = np.zeros(np.shape(base[names[0]]))
    for name in names:
        x = base[name]
        h = np.full(x.shape, FD_STEPS.get(name, 0.0)) + 1e-3 * np.abs(x) + 1e-6
        lo = x - h if low is None or name not in low else np.maximum(x - h, low[name])
        up, down = dict(base), dict(base)
        up[name], down[name] = x + h, lo
        slope = (np.asarray(f(up), np.float64) - np.asarray(f(down), np.float64)) / (x + h - lo)
        var += (slope * np.nan_to_num(np.asarray(std.get(name, 0.0), np.float64))) ** 2
    return np.sqrt(var)


def complete_parameters(model: Prosail, values: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Every PROSAIL parameter of ``model`` ``{name: (n,) float64}``: ``values`` completed with
    :data:`leafjax.inversion._canopy.DEFAULT_FIXED` (and ``lidf_b = 0``, geometry required in ``values``)."""
    names = (*model.leaf_model.params_type.names, *CanopyParams.names, *DryWetSoilParams.names)
    out = {}
    for name in names:
        v = values.get(name, DEFAULT_FIXED.get(name, 0.0))
        out[name] = np.broadcast_to(np.asarray(v, np.float64), (n,)).copy()
    return out


@eqx.filter_jit
def _fapar_chunk(model: Prosail, values: dict):
    from ..physics.canopy import fapar

    out, soil = prosail_state(model, values)
    return fapar(out, soil, model.wavelengths)


def padded_chunks(values: Mapping[str, np.ndarray], n: int, dtype):
    """Yield ``(rows, block)``: ``values`` ``{name: (n,)}`` in chunks of :data:`FAPAR_CHUNK` rows as ``dtype``
    arrays, each padded (repeating its last row) to :data:`FAPAR_CHUNK`, or for a smaller ``n`` to the next power
    of two (at least 16), so that calls of any size share a few compiled programs."""
    size = FAPAR_CHUNK if n > FAPAR_CHUNK else max(16, 1 << max(0, int(n - 1).bit_length()))
    for start in range(0, n, size):
        stop = min(start + size, n)
        idx = np.minimum(np.arange(start, start + size), stop - 1)
        yield slice(start, stop), {k: jnp.asarray(np.asarray(v)[idx], dtype) for k, v in values.items()}


def fapar_of(model: Prosail, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """Black-sky fAPAR ``(n,)`` (400–700 nm, sun at ``values["sza"]``) of PROSAIL parameters ``{name: (n,)}``
    (missing ones: :func:`complete_parameters`), in padded chunks (:func:`padded_chunks`)."""
    n = int(np.shape(values["lai"])[0])
    full = complete_parameters(model, values, n)
    parts = [np.asarray(_fapar_chunk(model, block), np.float64)[:rows.stop - rows.start]
             for rows, block in padded_chunks(full, n, np.dtype(model.wavelengths.dtype))]
    return np.concatenate(parts) if parts else np.zeros(0)


def fcover_of(values: Mapping[str, np.ndarray]) -> np.ndarray:
    """fCover ``(n,)`` of ``lai`` and the Campbell ``lidf_a`` (degrees) in ``values``."""
    lai = jnp.asarray(np.asarray(values["lai"], np.float64))
    lidf_a = jnp.asarray(np.asarray(values["lidf_a"], np.float64)).astype(lai.dtype)
    return np.asarray(fcover(lai, lidf_a), np.float64)


def canopy_products(model: Prosail, values: Mapping[str, np.ndarray],
                    products: Sequence[str] = ("lai", "ccc", "cwc", "fapar", "fcover")) -> dict[str, np.ndarray]:
    """``{product: (n,)}`` of PROSAIL parameters ``values`` (``lai``, ``chl``, ``ewt``, ``lidf_a``, geometry, ...)."""
    out = {}
    for p in products:
        if p == "lai":
            out[p] = np.asarray(values["lai"], np.float64)
        elif p == "ccc":
            out[p] = ccc_from(values["lai"], values["chl"])
        elif p == "cwc":
            out[p] = cwc_from(values["lai"], values["ewt"])
        elif p == "fapar":
            out[p] = fapar_of(model, values)
        elif p == "fcover":
            out[p] = fcover_of(values)
        else:
            raise ValueError(f"unknown product {p!r}")
    return out
