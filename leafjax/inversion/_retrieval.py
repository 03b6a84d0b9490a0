r"""Joint retrieval of leaf reflectance/transmittance and soil reflectance from canopy reflectance of many pixels.

A *scene* is a set of pixels sharing one leaf type and one soil but differing in known structure and geometry
(:class:`~leafjax.physics.canopy.CanopyParams` with batch shape ``(pix,)``: lai, LIDF, hotspot, sun/view angles).  Given
their observed bidirectional reflectance factors :math:`R_{pb}` (pixel ``p``, band ``b``), two retrievals of the
scene's leaf :math:`\rho_b, \tau_b` and soil :math:`r_{s,b}` are provided.

**(a) Spectrally free** (:func:`retrieve_free_spectra`): three unknowns per band, bounded by

.. math:: \rho + \tau = \omega_{max}\,\sigma(u),\quad \rho = (\rho + \tau)\,\sigma(v),\quad r_s = \sigma(w),

(so :math:`0 < \rho, \tau` and :math:`\rho + \tau < \omega_{max} < 1`), minimising

.. math:: \frac{1}{2P}\sum_{p,b} W_{pb}\,(\mathrm{SAIL}_{pb}(\rho, \tau, r_s) - R_{pb})^2
          + \frac{\lambda}{2}\sum_{x\in\{\rho,\tau,r_s\}}\sum_b (x_{b-1} - 2x_b + x_{b+1})^2 .

Without the prior the bands decouple into independent 3-parameter problems, solved all at once by the
vectorised Levenberg–Marquardt of :func:`leafjax.inversion.levenberg_marquardt` (one row per band, one residual
per pixel); the full objective with the second-difference smoothness prior is then minimised by L-BFGS
(``optax.lbfgs`` with its zoom line search) from that start.

**(b) Parametric** (:func:`retrieve_prospect_soil`): leaf optics from a PROSPECT model (its parameters shared by
all pixels) and the soil from an :class:`~leafjax.physics.soil.AbstractSoilModel` with array parameters (e.g. the
empirical :class:`~leafjax.physics.soil.BasisSoil`), all bounded by sigmoids and solved by the same LM as one
problem with ``pix × wl`` residuals.

Identifiability of :math:`\rho` versus :math:`\tau` comes from the variation of the backward/forward scattering
weights (``sob``, ``sof``, ``bf``) with leaf angle and sun–view geometry across pixels; that of the soil from the
variation of lai (gap fraction).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

from ._bounds import to_bounded, to_unconstrained
from ._lm import levenberg_marquardt
from ..physics.canopy._sail import CanopyParams, sail

#: Upper bound of leaf single-scattering albedo ρ + τ in the free parametrisation (dimensionless).
MAX_LEAF_ALBEDO: float = 0.995
#: Starting values of the free retrieval before LM (fractions): a grey leaf and a mid-bright soil.
FREE_START = {"leaf_r": 0.3, "leaf_t": 0.3, "soil": 0.2}


class SpectraRetrieval(eqx.Module):
    """Retrieved scene spectra, each ``(wl,)`` (fractions), with the final objective value ``loss`` and the
    model reflectance ``fitted`` ``(pix, wl)``; ``params`` holds the physical parameters of approach (b)."""

    leaf_r: Float[Array, "wl"]
    leaf_t: Float[Array, "wl"]
    soil: Float[Array, "wl"]
    fitted: Float[Array, "pix wl"]
    loss: Float[Array, ""]
    params: dict = eqx.field(default_factory=dict)


def free_to_spectra(z: Float[Array, "wl 3"]) -> tuple[Array, Array, Array]:
    """Unconstrained ``z = (u, v, w)`` per band → ``(ρ, τ, r_s)`` (see the module docstring)."""
    omega = MAX_LEAF_ALBEDO * jax.nn.sigmoid(z[..., 0])
    rho = omega * jax.nn.sigmoid(z[..., 1])
    return rho, omega - rho, jax.nn.sigmoid(z[..., 2])


def spectra_to_free(leaf_r, leaf_t, soil, eps: float = 1e-6) -> Float[Array, "*wl 3"]:
    """Inverse of :func:`free_to_spectra` (values clipped ``eps`` inside their bounds)."""
    logit = lambda x: jnp.log(x) - jnp.log1p(-x)  # noqa: E731
    omega = jnp.clip((leaf_r + leaf_t) / MAX_LEAF_ALBEDO, eps, 1 - eps)
    frac = jnp.clip(leaf_r / jnp.maximum(leaf_r + leaf_t, eps), eps, 1 - eps)
    return jnp.stack([logit(omega), logit(frac), logit(jnp.clip(soil, eps, 1 - eps))], axis=-1)


def second_difference_penalty(x: Float[Array, "... wl"]) -> Float[Array, ""]:
    r""":math:`\sum_b (x_{b-1} - 2x_b + x_{b+1})^2` summed over all leading axes."""
    d2 = x[..., 2:] - 2.0 * x[..., 1:-1] + x[..., :-2]
    return jnp.sum(d2 * d2)


def _bidirectional(leaf_r, leaf_t, soil, canopy: CanopyParams) -> Float[Array, "pix wl"]:
    return sail(leaf_r[None, :], leaf_t[None, :], soil[None, :], canopy).rsot


def _check(canopy: CanopyParams, observed) -> None:
    if observed.ndim != 2 or canopy.batch_shape != observed.shape[:1]:
        raise ValueError(f"observed must be (pix, wl) with pix = canopy batch {canopy.batch_shape}, "
                         f"got {observed.shape}")


class _LBFGSCarry(NamedTuple):
    z: Array
    state: optax.OptState


def _lbfgs(objective, z0, steps: int):
    """``steps`` iterations of ``optax.lbfgs`` (zoom line search) inside one ``lax.scan``."""
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(objective)

    def step(carry: _LBFGSCarry, _):
        value, grad = value_and_grad(carry.z, state=carry.state)
        updates, state = opt.update(grad, carry.state, carry.z, value=value, grad=grad, value_fn=objective)
        return _LBFGSCarry(optax.apply_updates(carry.z, updates), state), value

    # optax's L-BFGS mixes int32 and int64 indices internally: trace it under standard promotion, so that it
    # also runs where a caller set jax_numpy_dtype_promotion="strict"
    with jax.numpy_dtype_promotion("standard"):
        carry, values = jax.lax.scan(step, _LBFGSCarry(z0, opt.init(z0)), None, length=steps)
    return carry.z, values


@eqx.filter_jit
def retrieve_free_spectra(canopy: CanopyParams, observed: Float[Array, "pix wl"], *, smoothness: float = 1.0,
                          weights: Float[Array, "pix wl"] | None = None, lm_steps: int = 60,
                          lbfgs_steps: int = 300) -> SpectraRetrieval:
    r"""Approach (a): per-band leaf :math:`\rho, \tau` and soil :math:`r_s` with a smoothness prior.

    **Arguments:**
    - ``canopy``: known structure/geometry of the ``pix`` pixels (batch shape ``(pix,)``).
    - ``observed``: bidirectional reflectance factors ``(pix, wl)`` (fractions), on the grid of the result.
    - ``smoothness``: :math:`\lambda` of the second-difference prior (per band², fractions; 0 = LM only).
    - ``weights``: optional per-observation weights :math:`W_{pb}` (e.g. :math:`1/\sigma_{pb}^2` scaled to
      mean 1); default 1.
    - ``lm_steps``: LM iterations of the unregularised per-band start; ``lbfgs_steps``: L-BFGS iterations of
      the regularised objective (skipped when ``smoothness == 0``).

    **Returns:** :class:`SpectraRetrieval`.
    """
    _check(canopy, observed)
    pix, wl = observed.shape
    dt = observed.dtype
    w = jnp.ones_like(observed) if weights is None else jnp.asarray(weights, dt)
    sw = jnp.sqrt(w)

    def residuals_by_band(z):  # (wl, 3) -> (wl, pix)
        r, t, s = free_to_spectra(z)
        return ((_bidirectional(r, t, s, canopy) - observed) * sw).T / jnp.sqrt(jnp.asarray(pix, dt))

    start = jnp.broadcast_to(spectra_to_free(jnp.asarray(FREE_START["leaf_r"], dt),
                                             jnp.asarray(FREE_START["leaf_t"], dt),
                                             jnp.asarray(FREE_START["soil"], dt)), (wl, 3))
    z = levenberg_marquardt(residuals_by_band, start, max_steps=lm_steps).z

    def objective(z):
        r, t, s = free_to_spectra(z)
        data = 0.5 * jnp.sum(residuals_by_band(z) ** 2)
        return data + 0.5 * smoothness * second_difference_penalty(jnp.stack([r, t, s]))

    if lbfgs_steps > 0 and smoothness > 0:
        z, _ = _lbfgs(objective, z, lbfgs_steps)
    r, t, s = free_to_spectra(z)
    return SpectraRetrieval(r, t, s, _bidirectional(r, t, s, canopy), objective(z))


#: Bounds of the PROSPECT parameters in the parametric retrieval (canonical units, see ``leafjax._constants``).
PROSPECT_RETRIEVAL_BOUNDS: dict[str, tuple[float, float]] = {
    "n_struct": (1.0, 3.0), "chl": (0.5, 120.0), "car": (0.1, 30.0), "ant": (0.0, 10.0), "brown": (0.0, 1.5),
    "ewt": (1e-4, 0.06), "lma": (1e-4, 0.04), "prot": (1e-5, 0.005), "cbc": (1e-4, 0.04),
}
#: Bounds of array-valued soil parameters (e.g. BasisSoil coefficients, unit-variance scale).
SOIL_COEFFICIENT_BOUND: float = 6.0


def retrieve_prospect_soil(canopy: CanopyParams, observed: Float[Array, "pix wl"], leaf_model, soil_model, *,
                           weights: Float[Array, "pix wl"] | None = None, max_steps: int = 100
                           ) -> SpectraRetrieval:
    r"""Approach (b): PROSPECT parameters (shared by all pixels) and soil-model coefficients by one LM problem.

    **Arguments:**
    - ``canopy``, ``observed``, ``weights``: as in :func:`retrieve_free_spectra`.
    - ``leaf_model``: a PROSPECT model (``ProspectD``/``ProspectPro``) on the grid of ``observed``.
    - ``soil_model``: :class:`~leafjax.physics.soil.BasisSoil` on the same grid (coefficients bounded by
      :data:`SOIL_COEFFICIENT_BOUND`).
    - ``max_steps``: LM iterations.

    **Returns:** :class:`SpectraRetrieval` with ``params = {"leaf": {name: value}, "soil": coefficients,
    "status": LM status}``.
    """
    from ..physics.soil._soil import BasisSoilParams

    _check(canopy, observed)
    dt = observed.dtype
    names = leaf_model.params_type.names
    k = soil_model.n_components
    low = jnp.asarray([PROSPECT_RETRIEVAL_BOUNDS[n][0] for n in names] + [-SOIL_COEFFICIENT_BOUND] * k, dt)
    high = jnp.asarray([PROSPECT_RETRIEVAL_BOUNDS[n][1] for n in names] + [SOIL_COEFFICIENT_BOUND] * k, dt)
    sw = jnp.ones_like(observed) if weights is None else jnp.sqrt(jnp.asarray(weights, dt))
    finite = jnp.isfinite(observed)  # NaN observations are left out; none at all: Status.INVALID_INPUT
    sw = jnp.where(finite, sw, 0.0)
    observed = jnp.where(finite, observed, 0.0)
    norm = jnp.sqrt(jnp.asarray(observed.shape[0], dt))

    def spectra(theta):  # (p,) -> leaf R, T, soil (wl,)
        leaf = leaf_model(leaf_model.params_type(**{n: theta[i] for i, n in enumerate(names)}))
        soil = soil_model(BasisSoilParams(theta[len(names):]))
        return leaf.reflectance, leaf.transmittance, soil

    def residuals(z):  # (1, p) -> (1, pix*wl)
        r, t, s = spectra(to_bounded(z, low, high)[0])
        return (((_bidirectional(r, t, s, canopy) - observed) * sw) / norm).reshape(1, -1)

    mid = {"n_struct": 1.5, "chl": 40.0, "car": 8.0, "ant": 1.0, "brown": 0.1, "ewt": 0.012, "lma": 0.006,
           "prot": 0.001, "cbc": 0.005}
    theta0 = jnp.asarray([mid[n] for n in names] + [0.0] * k, dt)
    z0 = to_unconstrained(theta0[None, :], low, high)
    active = jnp.any(finite)[None]
    state = eqx.filter_jit(lambda z, a: levenberg_marquardt(residuals, z, max_steps=max_steps, active=a))(z0, active)
    theta = to_bounded(state.z, low, high)[0]
    r, t, s = spectra(theta)
    params = {"leaf": {n: theta[i] for i, n in enumerate(names)}, "soil": theta[len(names):],
              "status": state.status[0]}
    return SpectraRetrieval(r, t, s, _bidirectional(r, t, s, canopy), state.cost[0], params)
