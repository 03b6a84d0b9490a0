r"""What a sensor sees and what the canopy absorbs under direct sun plus diffuse sky light, from the 4SAIL fluxes.

**Observed reflectance.**  With :math:`D` the diffuse fraction of the downwelling irradiance on a horizontal
surface (:func:`leafjax.physics.sky.diffuse_fraction`), the hemispherical–conical reflectance factor of the
canopy is the irradiance-weighted mix of the bidirectional and the hemispherical–directional factors
(Verhoef & Bach 2007, eq. 1; Verhoef et al. 2007):

.. math:: r_{obs} = (1 - D)\,r_{so}^t + D\,r_{do}^t.

**Absorbed fraction (fAPAR).**  Per unit downwelling flux the canopy layer (black-soil fluxes of 4SAIL)
transmits :math:`\tau_{ss} + \tau_{sd}` of a direct beam (:math:`\tau_{dd}` of diffuse light) to the soil; the
soil–canopy multiple reflections add up to the downward flux at the soil
:math:`E^- = (\tau_{ss} + \tau_{sd})/(1 - r_s\rho_{dd})`, of which the soil absorbs :math:`(1 - r_s)E^-`.
What is neither reflected at the top (:math:`r_{sd}^t`) nor absorbed by the soil is absorbed by the leaves:

.. math::
   A_{dir} = 1 - r_{sd}^t - \frac{(1 - r_s)(\tau_{ss} + \tau_{sd})}{1 - r_s\rho_{dd}},\qquad
   A_{dif} = 1 - r_{dd}^t - \frac{(1 - r_s)\,\tau_{dd}}{1 - r_s\rho_{dd}},

and :math:`A = (1 - D)A_{dir} + D\,A_{dif}` under a sky with diffuse fraction :math:`D`.  fAPAR is the mean of
:math:`A(\lambda)` over the PAR band (400–700 nm; trapezoid rule on the grid, optionally weighted by a spectrum
such as the incident photon flux).  Every leaf of 4SAIL is green, so this is the green fAPAR of the S2 ATBD
(Weiss & Baret 2016), instantaneous ("black-sky" when ``diffuse`` is ``None``).

References:
    Verhoef, W., Jia, L., Xiao, Q., Su, Z. (2007) Unified optical-thermal four-stream radiative transfer theory
    for homogeneous vegetation canopies, IEEE TGRS 45:1808–1822, doi:10.1109/TGRS.2007.895844.
    Verhoef, W., Bach, H. (2007) Coupled soil–leaf–canopy and atmosphere radiative transfer modeling to simulate
    hyperspectral multi-angular surface reflectance and TOA radiance data, Remote Sens. Environ. 109:166–182,
    doi:10.1016/j.rse.2006.12.013.
    Weiss, M., Baret, F. (2016) S2ToolBox Level 2 products: LAI, FAPAR, FCOVER, version 1.1, ESA ATBD.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._sail import CanopyReflectance

#: The photosynthetically active band (nm).
PAR_BAND_NM: tuple[float, float] = (400.0, 700.0)
#: g/m² of canopy chlorophyll per unit ``lai · chl`` (m²/m² · µg/cm²): 1 µg/cm² = 0.01 g/m².
CCC_SCALE: float = 0.01
#: g/m² of canopy water per unit ``lai · ewt`` (m²/m² · g/cm²): 1 g/cm² = 10⁴ g/m².
CWC_SCALE: float = 1e4


def canopy_chlorophyll(lai, chl):
    """Canopy chlorophyll content CCC (g/m²) = ``lai · chl · 0.01`` (``lai`` m²/m², leaf ``chl`` µg/cm²; Weiss &
    Baret 2016, S2ToolBox ATBD); NumPy or JAX arrays."""
    return lai * chl * CCC_SCALE


def canopy_water(lai, ewt):
    """Canopy water content CWC (g/m²) = ``lai · ewt · 10⁴`` (``lai`` m²/m², leaf ``ewt`` g/cm²); NumPy or JAX
    arrays."""
    return lai * ewt * CWC_SCALE


def _like(x, ref: Array) -> Array:
    """``x`` cast to ``ref``'s dtype and broadcast to its shape (explicitly: no implicit rank promotion)."""
    return jnp.broadcast_to(jnp.asarray(x).astype(ref.dtype), ref.shape)


def sky_reflectance(out: CanopyReflectance, diffuse: Float[ArrayLike, "..."]) -> Float[Array, "*batch wl"]:
    """Hemispherical–conical reflectance factor under direct + diffuse light, ``(1 − D)·rsot + D·rdot``.

    **Arguments:** ``out``: 4SAIL output (:func:`sail`, :func:`prosail`); ``diffuse``: diffuse fraction
    :math:`D` of the downwelling irradiance, broadcastable to ``out.rsot`` (e.g. ``(wl,)`` or ``(*batch, wl)``).

    **Returns:** ``(*batch, wl)`` reflectance factor (dimensionless); ``D = 0`` gives ``rsot``, ``D = 1`` ``rdot``.
    """
    d = _like(diffuse, out.rsot)
    return (1.0 - d) * out.rsot + d * out.rdot


def _par_weights(wavelengths, band: tuple[float, float], weights, dtype) -> Array:
    """Normalised quadrature weights ``(wl,)`` of the mean over ``band`` on the grid ``wavelengths`` (nm)."""
    if isinstance(wavelengths, jax.core.Tracer):
        raise ValueError("fapar needs a concrete wavelength grid (not a traced array)")
    wl = np.asarray(wavelengths, dtype=np.float64).reshape(-1)
    lo, hi = (float(b) for b in band)
    if not lo < hi:
        raise ValueError(f"band must be (low, high) with low < high, got {band}")
    inside = np.flatnonzero((wl >= lo) & (wl <= hi))
    if inside.size < 2:
        raise ValueError(f"fewer than two wavelengths of the grid ({wl.min():g}–{wl.max():g} nm) lie in the band "
                         f"{lo:g}–{hi:g} nm")
    sub = wl[inside]
    if np.any(np.diff(sub) <= 0):
        raise ValueError("wavelengths must be strictly increasing")
    widths = np.zeros_like(wl)
    d = np.diff(sub)
    widths[inside[:-1]] += 0.5 * d
    widths[inside[1:]] += 0.5 * d
    w = jnp.asarray(widths, dtype)
    if weights is not None:
        spectrum = jnp.asarray(weights)
        if spectrum.shape != wl.shape:
            raise ValueError(f"weights must be a spectrum of shape {wl.shape}, got {spectrum.shape}")
        if not isinstance(spectrum, jax.core.Tracer) and (np.any(np.asarray(spectrum) < 0)
                                                          or not np.asarray(spectrum)[inside].sum() > 0):
            raise ValueError("weights must be non-negative with a positive sum over the band")
        w = w * spectrum.astype(dtype)
    return w / jnp.sum(w)


def absorbed_fraction(out: CanopyReflectance, soil: Float[ArrayLike, "..."], *,
                      diffuse: Float[ArrayLike, "..."] | None = None) -> Float[Array, "*batch wl"]:
    """Spectral fraction of the downwelling flux absorbed by the leaves, :math:`A(\\lambda)` of the module
    docstring (direct sun when ``diffuse`` is ``None``, else the mix with diffuse fraction ``diffuse``).

    ``soil``: the soil reflectance used in the 4SAIL run, broadcastable to ``out.rsot``.  Returns ``(*batch, wl)``.
    """
    rs = _like(soil, out.rsdt)
    to_soil = (1.0 - rs) / (1.0 - rs * out.rdd)
    a_dir = 1.0 - out.rsdt - to_soil * (out.tss[..., None] + out.tsd)
    if diffuse is None:
        return a_dir
    d = _like(diffuse, out.rsdt)
    a_dif = 1.0 - out.rddt - to_soil * out.tdd
    return (1.0 - d) * a_dir + d * a_dif


def fapar(out: CanopyReflectance, soil: Float[ArrayLike, "..."], wavelengths, *,
          diffuse: Float[ArrayLike, "..."] | None = None, band: tuple[float, float] = PAR_BAND_NM,
          weights: Float[ArrayLike, "wl"] | None = None) -> Float[Array, "*batch"]:
    """Fraction of absorbed photosynthetically active radiation by the (green) canopy, from 4SAIL's fluxes.

    **Arguments:**
    - ``out``: 4SAIL output on the grid ``wavelengths``; ``soil``: the soil reflectance of that run.
    - ``wavelengths``: concrete grid (nm), ``(wl,)``, increasing inside ``band``.
    - ``diffuse``: diffuse fraction :math:`D` (broadcastable to ``(*batch, wl)``); ``None``: direct sun only
      (black-sky fAPAR at the run's solar zenith).
    - ``band``: ``(low, high)`` nm, default :data:`PAR_BAND_NM`; ``weights``: optional ``(wl,)`` spectrum (≥ 0)
      weighting the average (e.g. the incident photon flux); default uniform per nm.

    **Returns:** fAPAR ``(*batch,)`` in [0, 1] (dimensionless); 0 for bare soil (``lai = 0``).

    Raises:
        ValueError: for a band with fewer than two grid points, a traced grid, or bad ``weights``.
    """
    w = _par_weights(wavelengths, band, weights, out.rsdt.dtype)
    a = absorbed_fraction(out, soil, diffuse=diffuse)
    if a.shape[-1] != w.shape[0]:
        raise ValueError(f"the 4SAIL output has {a.shape[-1]} wavelengths but the grid has {w.shape[0]}")
    return jnp.sum(a * w.reshape((1,) * (a.ndim - 1) + (-1,)), axis=-1)
