"""Optimistix-backed batched solver: ``optimistix.least_squares`` with ``optimistix.LevenbergMarquardt``,
``jax.vmap``-ed over rows.

An independent implementation, useful as an alternative and as a reference for
:class:`~leafjax.inversion.BatchedLevenbergMarquardt`.  Its termination test is optimistix's Cauchy criterion on
both the step and the cost (``rtol``/``atol``).

References: Rader, Lyons, Kidger (2024) "Optimistix: modular optimisation in JAX and Equinox", arXiv:2402.09983.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, Bool, Float

from ._result import Status
from ._solver import AbstractBatchedSolver, Residuals, ResidualsAndJacobian, SolverState


class OptimistixLM(AbstractBatchedSolver):
    """``optx.least_squares(fn, optx.LevenbergMarquardt(rtol, atol), ...)`` per row under ``jax.vmap`` (final).

    **Fields:** ``rtol``, ``atol`` (optimistix's relative/absolute tolerances on the unconstrained variables and
    the cost; defaults 1e-8/1e-10), ``max_steps`` (default 256).
    """

    rtol: float = 1e-8
    atol: float = 1e-10
    max_steps: int = 256

    def solve(self, residuals: Residuals, residuals_and_jacobian: ResidualsAndJacobian, z0: Float[Array, "b p"],
              data: Any, active: Bool[Array, " b"]) -> SolverState:
        solver = optx.LevenbergMarquardt(rtol=self.rtol, atol=self.atol)

        def row_fn(z, d):  # (p,) -> (n,)
            return residuals(z[None], jax.tree.map(lambda x: x[None], d))[0]

        def one(z, d):
            sol = optx.least_squares(row_fn, solver, z, args=d, max_steps=self.max_steps, throw=False)
            ok = sol.result == optx.RESULTS.successful
            hit = sol.result == optx.RESULTS.max_steps_reached
            return sol.value, ok, hit, sol.stats["num_steps"]

        z, ok, hit, steps = jax.vmap(one)(z0, data)
        r, jac = residuals_and_jacobian(z, data)
        cost = 0.5 * jnp.sum(r * r, axis=-1)
        status = jnp.where(ok, Status.CONVERGED, jnp.where(hit, Status.MAX_STEPS, Status.NONFINITE))
        status = jnp.where(jnp.isfinite(cost), status, Status.NONFINITE)
        status = jnp.where(active, status, Status.INVALID_INPUT).astype(jnp.int8)
        return SolverState(z, r, jac, cost, steps.astype(jnp.int32), status)
