"""First-order alternative to Levenberg–Marquardt: a fixed number of optax Adam steps per row.

References: Kingma & Ba (2015) "Adam: a method for stochastic optimization", ICLR.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Bool, Float

from ._result import Status
from ._solver import AbstractBatchedSolver, Residuals, ResidualsAndJacobian, SolverState


class Adam(AbstractBatchedSolver):
    """``max_steps`` optax Adam updates of every row's unconstrained parameters (final).

    Rows are independent, so the gradient of the summed cost is each row's own gradient.  Status: converged if
    the cost fell by less than ``rtol`` (relative) over the last 10 % of the steps, else ``MAX_STEPS``.
    Slower to converge than LM but needs no linear solves.

    **Fields:** ``learning_rate`` (step size in unconstrained units, default 0.05), ``max_steps`` (exact number
    of steps, default 500), ``rtol`` (default 1e-5).
    """

    learning_rate: float = 0.05
    max_steps: int = 500
    rtol: float = 1e-5

    def solve(self, residuals: Residuals, residuals_and_jacobian: ResidualsAndJacobian, z0: Float[Array, "b p"],
              data: Any, active: Bool[Array, " b"]) -> SolverState:
        tx = optax.adam(self.learning_rate)
        steps = self.max_steps

        def total(z):
            r, _ = residuals_and_jacobian(z, data)
            c = 0.5 * jnp.sum(r * r, axis=-1)
            return jnp.sum(jnp.where(active, c, 0.0)), c

        def step(carry, _):
            z, opt = carry
            (_, c), g = jax.value_and_grad(total, has_aux=True)(z)
            with jax.numpy_dtype_promotion("standard"):  # optax computes `decay ** count` (float ** int32)
                upd, opt = tx.update(g, opt, z)
            return (optax.apply_updates(z, upd), opt), c

        (z, _), costs = jax.lax.scan(step, (z0, tx.init(z0)), None, length=steps)
        r, jac = residuals_and_jacobian(z, data)
        cost = 0.5 * jnp.sum(r * r, axis=-1)
        ref = costs[max(0, steps - max(1, steps // 10) - 1)]
        converged = (ref - cost) <= self.rtol * jnp.maximum(ref, jnp.finfo(cost.dtype).tiny)
        status = jnp.where(active, jnp.where(jnp.isfinite(cost), jnp.where(converged, Status.CONVERGED,
                                                                              Status.MAX_STEPS), Status.NONFINITE),
                           Status.INVALID_INPUT).astype(jnp.int8)
        return SolverState(z, r, jac, cost, jnp.full((z.shape[0],), steps, jnp.int32), status)
