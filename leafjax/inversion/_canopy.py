r"""Canopy trait inversion from sensor bands (e.g. Sentinel-2): the tables, :func:`make_canopy_problem` and
:func:`invert_canopy`.

**Physical inversion**: for every pixel with known sun/view geometry, the free PROSAIL parameters (default
``lai, chl, ewt, lma, lidf_a, soil_brightness``; the others fixed) minimise the σ-scaled band misfit
(:class:`~leafjax.inversion.CanopyProblem`), bounded by :func:`leafjax.inversion.to_bounded` and solved for all
pixels at once by :func:`leafjax.inversion.invert` (by default the batched Levenberg–Marquardt, one row per
pixel), each starting from the best entry of a small look-up table simulated for that pixel's geometry.
Per-pixel ``status`` (``Status`` codes), ``iters`` and band ``rmse`` are returned, and ``fcover`` with its
uncertainty (:func:`leafjax.physics.canopy.fcover`; Weiss & Baret 2016, S2 ToolBox ATBD) — on request also
``ccc``, ``cwc`` and black-sky ``fapar`` (``products=``).  ``sky=`` models the bands under direct + diffuse light
(:class:`~leafjax.physics.sky.SkyIllumination`); the default is the bidirectional reflectance (direct sun).

The hybrid route (a network trained on simulations) is :mod:`leafjax.transfer._hybrid`.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._parameters import preset, preset_values
from ..physics.canopy._prosail import Prosail
from ..spectral._response import SpectralResponse
from ..physics.sky._diffuse import SkyIllumination
from ._canopy_problem import CANOPY_PRODUCTS as CANOPY_PRODUCTS, GEOMETRY_NAMES as GEOMETRY_NAMES, CanopyProblem
from ._canopy_problem import check_products
from ._canopy_problem import forward_bands as _forward_bands  # noqa: F401  (former private name)
from ._invert import invert
from ._quality import check_free, check_options, check_percent
from ._result import InversionResult
from ._solver import AbstractBatchedSolver
from ._solver_lm import BatchedLevenbergMarquardt

#: Default free parameters of the physical inversion (PROSPECT-D leaf model; see :func:`default_free`).
DEFAULT_FREE: tuple[str, ...] = ("lai", "chl", "ewt", "lma", "lidf_a", "soil_brightness")
#: Default values of the fixed parameters (canonical units; ``car`` in µg/cm², ``hotspot`` dimensionless): the
#: registry preset ``preset_values("prosail", "fixed")`` (:mod:`leafjax._parameters`).
DEFAULT_FIXED: dict[str, float] = preset_values("prosail", "fixed")
#: Bounds of free parameters (canonical units): the registry preset ``preset("prosail", "inversion")``.
INVERSION_BOUNDS: dict[str, tuple[float, float]] = preset("prosail", "inversion")
#: Default band noise σ (reflectance) of canopy problems, also their default expected fit RMSE (``poor_fit`` above
#: 3σ = 0.03).  A project choice, not yet measured on real pixels: the order of the absolute uncertainty of
#: Sentinel-2 L2A surface reflectance in the visible/NIR (about 0.01, more in the SWIR) plus PROSAIL's own model
#: error.  Pass ``sigma=`` (or ``expected_rmse=`` to :func:`~leafjax.inversion.invert`) for other instruments.
CANOPY_SIGMA: float = 0.01


def default_free(leaf_model: str = "prospect-d") -> tuple[str, ...]:
    """:data:`DEFAULT_FREE` for PROSPECT-D; PROSPECT-PRO estimates ``cbc`` (carbon-based constituents) in place
    of ``lma`` (which it does not have; ``prot`` stays fixed, being poorly constrained by canopy bands)."""
    if leaf_model.lower().replace("_", "-") == "prospect-pro":
        return tuple("cbc" if n == "lma" else n for n in DEFAULT_FREE)
    return DEFAULT_FREE


#: Former result type of :func:`invert_canopy`: the one :class:`InversionResult` (``params`` = ``estimates``,
#: ``iters`` = ``iterations``, ``fitted`` the band reflectances at the estimates).
CanopyInversionResult = InversionResult


def make_canopy_problem(srf: SpectralResponse, model: Prosail | None = None, *,
                        free: Sequence[str] = DEFAULT_FREE, fixed: Mapping[str, float] | None = None,
                        sigma: float | Float[Array, "band"] = CANOPY_SIGMA,
                        bounds: Mapping[str, tuple[float, float]] | None = None, lut_size: int = 64,
                        key: PRNGKeyArray | None = None, sky: SkyIllumination | None = None,
                        products: Sequence[str] = ("fcover",)) -> CanopyProblem:
    """A :class:`CanopyProblem` for :func:`leafjax.inversion.invert` (pass the geometry per pixel in
    ``invert(..., fixed={"sza": ..., "vza": ..., "raa": ...})``).

    **Arguments:**
    - ``srf``: :class:`SpectralResponse` on ``model``'s wavelength grid (e.g. ``load_srf("sentinel-2a", wl)``).
    - ``model``: :class:`Prosail` (default PROSPECT-D + dry/wet soil on the SRF's grid).
    - ``free``: names of free parameters; ``bounds`` override :data:`INVERSION_BOUNDS` (canonical units).
    - ``fixed``: scalar values overriding :data:`DEFAULT_FIXED` for the others (per-pixel values go to
      ``invert``'s ``fixed``).
    - ``sigma``: band noise standard deviation (reflectance units, scalar or ``(band,)``) scaling the residuals;
      its RMS is the problem's default expected fit RMSE (``poor_fit`` above 3 times it; :data:`CANOPY_SIGMA`).
    - ``lut_size``: look-up-table entries for the per-pixel start (0: start at the middle of the bounds);
      ``key``: its PRNG key (default ``key(0)``).
    - ``sky``: a :class:`~leafjax.physics.sky.SkyIllumination` to model the bands under direct + diffuse light
      (``sky_reflectance``); ``None`` (default): the bidirectional ``rsot`` (direct sun only).
    - ``products``: derived quantities reported with their σ, from :data:`CANOPY_PRODUCTS` (``fcover``,
      ``ccc``, ``cwc`` g/m², black-sky ``fapar``; ``fapar`` costs one more PROSAIL run per pixel).
    """
    if model is None:
        model = Prosail("prospect-d", wavelengths=srf.wavelengths)
    dt = model.wavelengths.dtype
    bnd = {**INVERSION_BOUNDS, **(bounds or {})}
    free = check_free(free, tuple(bnd))
    sig = np.asarray(sigma, np.float64)
    if sig.size == 0 or not np.all(np.isfinite(sig)) or np.any(sig <= 0):
        raise ValueError(f"sigma must be finite and > 0, got {sigma!r}")
    fixed_all = {k: v for k, v in {**DEFAULT_FIXED, **(fixed or {})}.items() if k not in free}
    low = jnp.asarray([bnd[n][0] for n in free], dt)
    high = jnp.asarray([bnd[n][1] for n in free], dt)
    weight = 1.0 / jnp.broadcast_to(jnp.asarray(sigma, dt), (srf.n_bands,))
    key = jax.random.key(0) if key is None else key
    products = check_products(products)
    return CanopyProblem(model=model, srf=srf, free=free, low=low, high=high, band_weight=weight,
                         fixed_names=tuple(fixed_all), fixed_values=jnp.asarray(list(fixed_all.values()), dt),
                         lut_size=int(lut_size), key=key, sky=sky, products=products,
                         grid=tuple(float(w) for w in np.asarray(model.wavelengths)) if "fapar" in products else ())


def invert_canopy(observed: Float[ArrayLike, "pix band"], geometry: Mapping[str, Float[ArrayLike, "pix"]],
                  srf: SpectralResponse, model: Prosail | None = None, *, free: Sequence[str] = DEFAULT_FREE,
                  fixed: Mapping[str, float | Float[ArrayLike, "pix"]] | None = None,
                  sigma: float | Float[Array, "band"] = CANOPY_SIGMA, lut_size: int = 64, max_steps: int = 60,
                  key: PRNGKeyArray | None = None, solver: AbstractBatchedSolver | None = None,
                  throw: bool = False, expected_rmse: float | None = None,
                  percent_check: bool = True, sky: SkyIllumination | None = None,
                  products: Sequence[str] = ("fcover",)) -> InversionResult:
    r"""Invert PROSAIL for every pixel from its band reflectances (bidirectional reflectance factor).

    **Arguments:**
    - ``observed``: band reflectances ``(pix, band)`` on the bands of ``srf``; NaN bands are left out of that
      pixel's fit (an all-NaN pixel gets ``Status.INVALID_INPUT``).
    - ``geometry``: ``{"sza", "vza", "raa"}`` → ``(pix,)`` (degrees).
    - ``srf``, ``model``, ``free``, ``sigma``, ``lut_size``, ``key``: as in :func:`make_canopy_problem`;
      ``fixed``: values overriding :data:`DEFAULT_FIXED`, scalars or per-pixel ``(pix,)`` arrays (e.g. a
      known ``lidf_a``; names in ``free`` are ignored).
    - ``max_steps``: LM iterations; ``solver``: another :class:`AbstractBatchedSolver` (default
      ``BatchedLevenbergMarquardt(max_steps=max_steps, rtol=1e-7)``); ``throw``: raise if a pixel failed.
    - ``expected_rmse``, ``percent_check``: as in :func:`~leafjax.inversion.invert` (default expected RMSE: the
      RMS of ``sigma``).
    - ``sky``, ``products``: as in :func:`make_canopy_problem` (e.g. ``sky=SkyIllumination(aot550=0.1)``,
      ``products=CANOPY_PRODUCTS``).

    The solver is compiled once per pixel count, free set and fixed names: calls with new values of the same
    shapes (e.g. chunks of an archive) reuse it.

    **Returns:** :class:`InversionResult` (``params``/``estimates`` include the ``products``, default
    ``fcover``; ``std`` the free parameters and the products; ``fitted`` ``(pix, band)``).

    Raises:
        ValueError: for an unknown or empty free set, mismatched shapes, an empty batch, bad options or
        observations that look like percent (checked before any compute).
    """
    check_free(free, tuple(INVERSION_BOUNDS))
    products = check_products(products)
    check_options(1, None, expected_rmse)
    if not (isinstance(max_steps, (int, np.integer)) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    shape = np.shape(observed)
    if len(shape) != 2 or shape[1] != srf.n_bands:
        raise ValueError(f"observed must be (pix, {srf.n_bands}) band reflectances, got shape {shape}")
    if shape[0] == 0:
        raise ValueError("observed has no pixels (an empty batch)")
    missing = [k for k in GEOMETRY_NAMES if k not in geometry]
    if missing:
        raise ValueError(f"geometry needs {', '.join(GEOMETRY_NAMES)} (degrees); missing {', '.join(missing)}")
    for k in GEOMETRY_NAMES:
        if np.ndim(geometry[k]) and np.shape(geometry[k]) != shape[:1]:
            raise ValueError(f"geometry {k!r} has shape {np.shape(geometry[k])}; expected ({shape[0]},)")
    if percent_check:
        check_percent(observed, what="pixels")
    if model is None:
        model = Prosail("prospect-d", wavelengths=srf.wavelengths)
    observed = jnp.asarray(observed, model.wavelengths.dtype)
    problem = make_canopy_problem(srf, model, free=free, sigma=sigma, lut_size=lut_size, key=key, sky=sky,
                                  products=products)
    per_pixel = {k: v for k, v in (fixed or {}).items() if k not in problem.free}
    per_pixel.update({k: geometry[k] for k in GEOMETRY_NAMES})
    solver = BatchedLevenbergMarquardt(max_steps=int(max_steps), rtol=1e-7) if solver is None else solver
    return invert(problem, observed, solver, fixed=per_pixel, throw=throw, block_size=None, devices=None,
                  return_fitted=True, expected_rmse=expected_rmse, percent_check=False)
