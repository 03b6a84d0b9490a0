"""Batched Levenberg–Marquardt solver object (the default of :func:`leafjax.inversion.invert`).

A thin object around :func:`leafjax.inversion.levenberg_marquardt` (module ``_lm``): damped Gauss–Newton with
per-row damping, acceptance and convergence inside one ``lax.while_loop``; see that module for the algorithm and
references (Levenberg 1944; Marquardt 1963; Nielsen 1999).  Large batches run through a work queue of a fixed
number of slots (module ``_lm_queue``): a converged row stops costing work, its slot takes the next row.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ._lm import levenberg_marquardt
from ._lm_queue import levenberg_marquardt_queue
from ._solver import AbstractBatchedSolver, Residuals, ResidualsAndJacobian, SolverState


class BatchedLevenbergMarquardt(AbstractBatchedSolver):
    """Vectorised Levenberg–Marquardt over rows (final).

    **Fields:**
    - ``max_steps``: iteration limit (default 60).
    - ``rtol``: an accepted step whose relative cost decrease is below ``rtol`` ends the row (default 1e-5:
      leaf estimates are then stable to < 1e-5 relative on simulated spectra; tighter values chase float32
      rounding; the canopy inversion uses 1e-7).
    - ``gtol``: converged when ``max|Jᵀr|`` falls below it; ``lam0``: initial damping (relative to
      ``diag(JᵀJ)``).

    Example:
        >>> import jax.numpy as jnp
        >>> from leafjax.inversion import BatchedLevenbergMarquardt
        >>> res = lambda z, d: z - d                       # minimum at z = d
        >>> resj = lambda z, d: (z - d, jnp.broadcast_to(jnp.eye(2), (3, 2, 2)))
        >>> d = jnp.arange(6.0).reshape(3, 2)
        >>> st = BatchedLevenbergMarquardt().solve(res, resj, jnp.zeros((3, 2)), d, jnp.ones(3, bool))
        >>> bool(jnp.allclose(st.z, d, atol=1e-6))
        True
    """

    max_steps: int = 60
    rtol: float = 1e-5
    gtol: float = 1e-9
    lam0: float = 1e-2

    def solve(self, residuals: Residuals, residuals_and_jacobian: ResidualsAndJacobian, z0: Float[Array, "b p"],
              data: Any, active: Bool[Array, " b"]) -> SolverState:
        st = levenberg_marquardt(None, z0, max_steps=self.max_steps, rtol=self.rtol, gtol=self.gtol,
                                 lam0=self.lam0, active=active,
                                 residuals_and_jacobian=lambda z: residuals_and_jacobian(z, data))
        return SolverState(st.z, st.r, st.jac, st.cost, st.iters, st.status)

    def solve_queued(self, residuals: Residuals, residuals_and_jacobian: ResidualsAndJacobian,
                     z0: Float[Array, "N p"], data: Any, active: Bool[Array, " N"], *, slots: int | None,
                     n_valid: Int[Array, ""]) -> SolverState:
        """Work queue of ``slots`` rows (module ``_lm_queue``); ``slots=None`` or ``>= N``: one block."""
        n = z0.shape[0]
        if slots is None or n <= slots:
            valid = jnp.arange(n, dtype=jnp.int32) < n_valid
            return self.solve(residuals, residuals_and_jacobian, z0, data, active & valid)

        def resj(z, rows):
            return residuals_and_jacobian(z, jax.tree.map(lambda x: x[rows], data))

        q = levenberg_marquardt_queue(resj, z0, active, slots=slots, n_valid=n_valid, max_steps=self.max_steps,
                                      rtol=self.rtol, gtol=self.gtol, lam0=self.lam0)
        return SolverState(q.z, q.r, q.jac, q.cost, q.iters, q.status)
