r"""Turning a solver's final state into an :class:`~leafjax.inversion.InversionResult`: estimates, Laplace
(Gauss–Newton) uncertainty, derived quantities and fit diagnostics — one finaliser for every problem.

The covariance of the unconstrained variables is :math:`\Sigma_z = s^2 (J^\top J)^{-1}` (``J`` the weighted
residual Jacobian at the optimum; :math:`s^2 = 2C/(n - p)` estimated from the fit unless the noise is known),
mapped to the bounded parameters by the delta method :math:`\Sigma_\theta = D\Sigma_z D` with
:math:`D = \mathrm{diag}(\partial\theta/\partial z)`.  A derived quantity :math:`g(\theta)` gets
:math:`\sigma_g^2 = \nabla g^\top \Sigma_\theta \nabla g` with :math:`\nabla g` from ``jax.jacfwd``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._bounds import bounded_jacobian
from ._problem import AbstractProblem, Context
from ._quality import fit_quality
from ._result import InversionResult, Status
from ._solver import SolverState


def covariance(problem: AbstractProblem, z: Float[Array, "b p"], jac: Float[Array, "b m p"],
               cost: Float[Array, " b"], n_used: Array, known_noise: bool) -> Float[Array, "b p p"]:
    """Laplace covariance of the bounded parameters ``(b, p, p)`` (canonical units²)."""
    p = z.shape[-1]
    jtj = jnp.einsum("bnp,bnq->bpq", jac, jac)
    eye = jnp.eye(p, dtype=jtj.dtype)
    cov_z = jnp.linalg.inv(jtj + 1e-12 * jnp.trace(jtj, axis1=-2, axis2=-1)[:, None, None] * eye[None])
    if not known_noise:
        sigma2 = 2.0 * cost / jnp.maximum(n_used - p, 1).astype(cost.dtype)
        cov_z = cov_z * sigma2[:, None, None]
    dth = bounded_jacobian(z, problem.low, problem.high)
    return cov_z * dth[:, :, None] * dth[:, None, :]


def derived_std(problem: AbstractProblem, theta: Float[Array, "b p"], cov: Float[Array, "b p p"],
                context: Context) -> dict[str, Float[Array, " b"]]:
    r"""1-σ of every derived quantity: :math:`\sqrt{\nabla g^\top\Sigma\nabla g}` with ``jax.jacfwd``."""

    def row(th, ctx):
        out = problem.derived(th[None], jax.tree.map(lambda x: x[None], ctx))
        return {k: v[0] for k, v in out.items()}

    grads = jax.vmap(jax.jacfwd(row))(theta, context)  # {name: (b, p)}
    return {k: jnp.sqrt(jnp.clip(jnp.einsum("bp,bpq,bq->b", g, cov, g), 0.0)) for k, g in grads.items()}


@eqx.filter_jit
def finalise(problem: AbstractProblem, state: SolverState, z: Float[Array, "b p"], obs: Float[Array, "b n"],
             weight: Float[Array, "b n"], context: Context, batch: tuple[int, ...], known_noise: bool,
             return_fitted: bool = False, quality: Array | None = None,
             expected: Array | None = None) -> InversionResult:
    """Result with leading shape ``batch`` from the flat solver ``state``.

    ``z`` is the (differentiable) solution; uncertainty and diagnostics are computed from the solver's
    quantities and carry no gradient.  ``quality``: the input quality bits ``(b,)`` (``int32``), completed here
    by the fit checks against the ``expected`` RMSE (scalar; ``None``: no poor-fit/shift checks); rows the solver
    did not invert (status ``invalid_input``) get NaN estimates, std and rmse.
    """
    zs = jax.lax.stop_gradient(state.z)
    weight_s = jax.lax.stop_gradient(weight)
    n_used = jnp.sum(weight_s > 0, axis=-1)
    res = state.r[:, : obs.shape[-1]]
    used = weight_s > 0
    rmse = jnp.sqrt(jnp.sum(jnp.where(used, (res / jnp.where(used, weight_s, 1.0)) ** 2, 0.0), -1)
                    / jnp.maximum(n_used, 1).astype(res.dtype))
    cov = covariance(problem, zs, state.jac, state.cost, n_used, known_noise)
    std = jnp.sqrt(jnp.clip(jnp.diagonal(cov, axis1=-2, axis2=-1), 0.0))
    status = jnp.where(jnp.isfinite(state.cost), state.status, Status.NONFINITE).astype(jnp.int8)
    theta = problem.to_bounded(z)
    est = dict(problem.estimates(theta, context))
    est.update(problem.derived(theta, context))
    sd = {n: std[:, i] for i, n in enumerate(problem.free)}
    sd.update(derived_std(problem, jax.lax.stop_gradient(theta), cov, jax.lax.stop_gradient(context)))
    pred = problem.predict(theta, context)
    pred_s = jax.lax.stop_gradient(pred)
    expected = jnp.asarray(jnp.inf if expected is None else expected, res.dtype)
    fit_bits, at_bound = fit_quality(jax.lax.stop_gradient(theta), problem.low, problem.high, status, rmse,
                                     expected, jax.lax.stop_gradient(obs) - pred_s, pred_s, used,
                                     problem.observation_wavelengths())
    q_in = jnp.zeros(status.shape, jnp.int32) if quality is None else jnp.asarray(quality, jnp.int32)
    skipped = status == Status.INVALID_INPUT
    blank = lambda v: jnp.where(skipped, jnp.nan, v)  # noqa: E731
    shape = lambda x: x.reshape(batch + x.shape[1:])  # noqa: E731
    fitted = shape(pred) if return_fitted else None
    return InversionResult({k: shape(blank(v)) for k, v in est.items()}, {k: shape(blank(v)) for k, v in sd.items()},
                           shape(blank(rmse)), shape(state.cost), shape(state.iterations), shape(status),
                           shape(q_in | fit_bits), {n: shape(at_bound[:, i]) for i, n in enumerate(problem.free)},
                           fitted)
