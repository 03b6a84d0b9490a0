r"""Canopy trait inversion from sensor bands (e.g. Sentinel-2): batched LM over pixels, and a hybrid network.

**Physical inversion** (:func:`invert_canopy`): for every pixel ``p`` with known sun/view geometry, the free
PROSAIL parameters :math:`\theta_p` (default ``lai, chl, ewt, lma, lidf_a, soil_brightness``; the others fixed)
minimise :math:`\tfrac12\|(W\,\mathrm{PROSAIL}(\theta_p) - R_p)/\sigma\|^2` over the sensor bands (``W`` the
SRF weights).  Parameters are bounded by :func:`leafjax.inversion.to_bounded`; all pixels are solved at once by
the vectorised :func:`leafjax.inversion.levenberg_marquardt` (one row per pixel), each starting from the best
entry of a small look-up table simulated for that pixel's geometry.  Per-pixel ``status`` (``Status`` codes),
``iters`` and band ``rmse`` are returned.

**fcover** is derived from the retrieved structure as one minus the gap fraction at nadir,
:math:`f_{cover} = 1 - e^{-K(0)\,L}` with :math:`K(0) = G(0)` the LIDF-averaged projection at nadir
(:func:`fcover`; Weiss & Baret 2016, S2 ToolBox ATBD, define FCOVER the same way).

The hybrid route (a network trained on simulations) is :mod:`leafjax.transfer._hybrid`.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..physics.canopy._fcover import fcover
from ..physics.canopy._prosail import Prosail
from ..physics.canopy._sail import CanopyParams
from ..physics.soil._soil import DryWetSoilParams
from ..spectral._response import SpectralResponse, convolve
from ._bounds import bounded_jacobian, to_bounded, to_unconstrained
from ._lm import levenberg_marquardt
from ._result import Status

#: Default free parameters of the physical inversion (PROSPECT-D leaf model; see :func:`default_free`).
DEFAULT_FREE: tuple[str, ...] = ("lai", "chl", "ewt", "lma", "lidf_a", "soil_brightness")
#: Default values of the fixed parameters (canonical units; ``car`` in µg/cm², ``hotspot`` dimensionless).
DEFAULT_FIXED: dict[str, float] = {"n_struct": 1.5, "car": 8.0, "ant": 0.0, "brown": 0.0, "ewt": 0.012,
                                   "lma": 0.006, "prot": 0.001, "cbc": 0.005, "lidf_a": 55.0, "lidf_b": 0.0,
                                   "hotspot": 0.1, "soil_brightness": 1.0, "soil_dryness": 0.5, "chl": 40.0,
                                   "lai": 2.0}
#: Bounds of free parameters (canonical units).
INVERSION_BOUNDS: dict[str, tuple[float, float]] = {
    "lai": (0.0, 8.0), "chl": (1.0, 100.0), "car": (0.5, 25.0), "ewt": (0.001, 0.05), "lma": (0.001, 0.03),
    "n_struct": (1.0, 3.0), "lidf_a": (20.0, 85.0), "hotspot": (0.01, 0.6), "soil_brightness": (0.3, 2.0),
    "soil_dryness": (0.0, 1.0), "ant": (0.0, 10.0), "brown": (0.0, 1.0), "prot": (0.0002, 0.004),
    "cbc": (0.001, 0.03),
}
GEOMETRY_NAMES = ("sza", "vza", "raa")


def default_free(leaf_model: str = "prospect-d") -> tuple[str, ...]:
    """:data:`DEFAULT_FREE` for PROSPECT-D; PROSPECT-PRO estimates ``cbc`` (carbon-based constituents) in place
    of ``lma`` (which it does not have; ``prot`` stays fixed, being poorly constrained by canopy bands)."""
    if leaf_model.lower().replace("_", "-") == "prospect-pro":
        return tuple("cbc" if n == "lma" else n for n in DEFAULT_FREE)
    return DEFAULT_FREE


class CanopyInversionResult(eqx.Module):
    """Per-pixel results: ``params`` ``{name: (pix,)}`` (free and fixed parameters, canonical units) with
    ``fcover``; ``std`` ``{free name: (pix,)}`` (Gauss–Newton standard deviations, residual variance estimated
    from the fit, delta method through the bounds); ``status`` (``Status`` codes), ``iters``, ``rmse`` (band
    RMSE, reflectance) and ``fitted`` ``(pix, band)``."""

    params: dict[str, Float[Array, "pix"]]
    std: dict[str, Float[Array, "pix"]]
    status: Array
    iters: Array
    rmse: Float[Array, "pix"]
    fitted: Float[Array, "pix band"]


def _forward_bands(model: Prosail, srf: SpectralResponse, values: Mapping[str, Array]) -> Array:
    leaf_cls = model.leaf_model.params_type
    leaf = leaf_cls(**{n: values[n] for n in leaf_cls.names})
    canopy = CanopyParams(**{n: values[n] for n in CanopyParams.names})
    soil = DryWetSoilParams(values["soil_brightness"], values["soil_dryness"])
    return convolve(model(leaf, canopy, soil).rsot, srf)


def _lut_start(model, srf, observed, weight, fixed, free, low, high, lut_size, key):
    """Unconstrained start per pixel: the best of ``lut_size`` parameter sets (same for all pixels, simulated
    with each pixel's geometry and fixed values; ``fixed`` maps names to ``(pix,)`` arrays)."""
    dt = observed.dtype
    u = jax.random.uniform(key, (lut_size, len(free)), dtype=dt, minval=0.05, maxval=0.95)
    theta = low[None, :] + (high - low)[None, :] * u  # (lut, p)

    def one_pixel(args):
        obs, w, fx = args
        vals = {**{k: jnp.full((lut_size,), v, dt) for k, v in fx.items()},
                **{n: theta[:, i] for i, n in enumerate(free)}}
        cost = jnp.sum(((_forward_bands(model, srf, vals) - obs[None]) * w[None]) ** 2, axis=-1)
        return theta[jnp.argmin(cost)]

    best = jax.lax.map(one_pixel, (observed, weight, fixed))
    return to_unconstrained(best, low, high)


@eqx.filter_jit
def _solve(model, srf, observed, weight, fixed, free, low, high, lut_size, max_steps, key):
    """Compiled once per (model, srf, pixel count, free names, fixed names, lut_size, max_steps): every
    argument but the static ``free``/``lut_size``/``max_steps`` is traced, so chunks of an archive reuse it."""
    pix, dt = observed.shape[0], observed.dtype

    def values(theta):
        v = dict(fixed)
        v.update({n: theta[:, i] for i, n in enumerate(free)})
        return v

    def residuals(z):
        return (_forward_bands(model, srf, values(to_bounded(z, low, high))) - observed) * weight

    if lut_size > 0:
        z0 = _lut_start(model, srf, observed, weight, fixed, free, low, high, lut_size, key)
    else:
        z0 = jnp.zeros((pix, len(free)), dt)
    state = levenberg_marquardt(residuals, z0, max_steps=max_steps)
    theta = to_bounded(state.z, low, high)
    v = values(theta)
    fitted = _forward_bands(model, srf, v)
    v["fcover"] = fcover(v["lai"], v["lidf_a"], v["lidf_b"])
    used = weight > 0
    n_used = jnp.sum(used, axis=-1)
    rmse = jnp.sqrt(jnp.sum(jnp.where(used, fitted - observed, 0.0) ** 2, axis=-1) / jnp.maximum(n_used, 1))
    status = jnp.where(jnp.isfinite(rmse), state.status, Status.NONFINITE)
    # Gauss–Newton covariance in z (residual variance from the fit), mapped to theta by the delta method
    p = len(free)
    jtj = jnp.einsum("bnp,bnq->bpq", state.jac, state.jac)
    eye = jnp.eye(p, dtype=dt)
    cov_z = jnp.linalg.inv(jtj + 1e-12 * jnp.trace(jtj, axis1=-2, axis2=-1)[:, None, None] * eye[None])
    cov_z = cov_z * (2.0 * state.cost / jnp.maximum(n_used - p, 1))[:, None, None]
    dth = bounded_jacobian(state.z, low, high)
    std = jnp.sqrt(jnp.clip(jnp.diagonal(cov_z, axis1=-2, axis2=-1), 0.0)) * dth
    return CanopyInversionResult({k: v[k] for k in v if k not in GEOMETRY_NAMES},
                                 {n: std[:, i] for i, n in enumerate(free)}, status, state.iters, rmse, fitted)


def invert_canopy(observed: Float[Array, "pix band"], geometry: Mapping[str, Float[Array, "pix"]],
                  srf: SpectralResponse, model: Prosail | None = None, *, free: Sequence[str] = DEFAULT_FREE,
                  fixed: Mapping[str, float | Float[Array, "pix"]] | None = None,
                  sigma: float | Float[Array, "band"] = 0.01, lut_size: int = 64, max_steps: int = 60,
                  key: PRNGKeyArray | None = None) -> CanopyInversionResult:
    r"""Invert PROSAIL for every pixel from its band reflectances (bidirectional reflectance factor).

    **Arguments:**
    - ``observed``: band reflectances ``(pix, band)`` on the bands of ``srf``; NaN bands are left out of that
      pixel's fit.
    - ``geometry``: ``{"sza", "vza", "raa"}`` → ``(pix,)`` (degrees).
    - ``srf``: :class:`SpectralResponse` on ``model``'s wavelength grid (e.g. ``load_srf("sentinel-2a", wl)``).
    - ``model``: :class:`Prosail` (default PROSPECT-D + dry/wet soil on the SRF's grid; a 5-nm grid, e.g.
      ``load_srf("sentinel-2a", range(400, 2401, 5))``, costs a fifth of the 1-nm grid).
    - ``free``: names of free parameters (bounds :data:`INVERSION_BOUNDS`); ``fixed``: values overriding
      :data:`DEFAULT_FIXED` for the others, scalars or per-pixel ``(pix,)`` arrays (e.g. a known ``lidf_a``).
    - ``sigma``: band noise standard deviation (reflectance units) scaling the residuals.
    - ``lut_size``: look-up-table entries for the per-pixel start (0: start at the middle of the bounds);
      ``max_steps``: LM iterations; ``key``: PRNG key of the LUT (default ``key(0)``).

    The solver is compiled once per pixel count, free set and fixed names: calls with new values of the same
    shapes (e.g. chunks of an archive) reuse it.

    **Returns:** :class:`CanopyInversionResult` (``params`` include ``fcover``).

    Raises:
        ValueError: for an unknown free parameter or mismatched shapes.
    """
    if model is None:
        model = Prosail("prospect-d", wavelengths=srf.wavelengths)
    observed = jnp.asarray(observed, model.wavelengths.dtype)
    dt = observed.dtype
    if observed.ndim != 2 or observed.shape[1] != srf.n_bands:
        raise ValueError(f"observed must be (pix, {srf.n_bands}), got {observed.shape}")
    unknown = [n for n in free if n not in INVERSION_BOUNDS]
    if unknown:
        raise ValueError(f"cannot invert {unknown[0]!r}; choose among {', '.join(INVERSION_BOUNDS)}")
    pix = observed.shape[0]
    fixed_all = {**DEFAULT_FIXED, **(fixed or {})}
    fixed_all = {k: jnp.broadcast_to(jnp.asarray(v, dt), (pix,)) for k, v in fixed_all.items() if k not in free}
    fixed_all.update({k: jnp.broadcast_to(jnp.asarray(geometry[k], dt), (pix,)) for k in GEOMETRY_NAMES})
    low = jnp.asarray([INVERSION_BOUNDS[n][0] for n in free], dt)
    high = jnp.asarray([INVERSION_BOUNDS[n][1] for n in free], dt)
    scale = jnp.broadcast_to(jnp.asarray(sigma, dt), (srf.n_bands,))
    missing = jnp.isnan(observed)
    weight = jnp.where(missing, 0.0, 1.0 / scale[None, :]).astype(dt)
    key = jax.random.key(0) if key is None else key
    return _solve(model, srf, jnp.where(missing, 0.0, observed), weight, fixed_all, tuple(free), low, high,
                  int(lut_size), int(max_steps), key)
