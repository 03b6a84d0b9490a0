r"""The solver interface of :func:`leafjax.inversion.invert`: many small independent least-squares problems.

A solver minimises, independently for every row ``b`` of a block,

.. math:: C_b(z_b) = \tfrac12\,\|r_b(z_b)\|^2, \qquad z_b \in \mathbb{R}^p ,

given the residual function (row-wise independent, batched over rows) and optionally its Jacobian.  Solvers are
passed to :func:`~leafjax.inversion.invert` as objects (``solver=BatchedLevenbergMarquardt(rtol=1e-6)``), so
tolerances and iteration limits live with the solver, and input checking, status reporting, uncertainty and the
implicit-function adjoint live once in ``invert``.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

#: ``residuals(z, data) -> (b, n)``, row-wise independent; ``data`` is a pytree of ``(b, ...)`` arrays.
Residuals = Callable[[Float[Array, "b p"], Any], Float[Array, "b n"]]
#: ``residuals_and_jacobian(z, data) -> ((b, n), (b, n, p))``.
ResidualsAndJacobian = Callable[[Float[Array, "b p"], Any], tuple[Float[Array, "b n"], Float[Array, "b n p"]]]


class SolverState(NamedTuple):
    """Final state of a batched solve (``b`` rows, ``p`` unknowns, ``n`` residuals).

    - ``z``: solution ``(b, p)`` (unconstrained variables); ``r``: residuals at ``z`` ``(b, n)``;
      ``jac``: their Jacobian ``(b, n, p)``; ``cost``: ``0.5 * sum(r**2)`` ``(b,)``.
    - ``iterations``: steps taken per row ``(b,)``; ``status``: :class:`~leafjax.inversion.Status` codes
      ``(b,)`` (int8).
    """

    z: Float[Array, "b p"]
    r: Float[Array, "b n"]
    jac: Float[Array, "b n p"]
    cost: Float[Array, " b"]
    iterations: Int[Array, " b"]
    status: Int[Array, " b"]


class AbstractBatchedSolver(eqx.Module):
    """A solver for a batch of independent small nonlinear least-squares problems (abstract).

    Subclasses are final and implement :meth:`solve`.  ``max_steps`` is the iteration limit.
    """

    max_steps: eqx.AbstractVar[int]

    @abc.abstractmethod
    def solve(self, residuals: Residuals, residuals_and_jacobian: ResidualsAndJacobian, z0: Float[Array, "b p"],
              data: Any, active: Bool[Array, " b"]) -> SolverState:
        """Minimise ``0.5 * |residuals(z, data)|²`` for every row of ``z0``.

        **Arguments:**
        - ``residuals``, ``residuals_and_jacobian``: the same residual function, without and with its Jacobian
          (a solver uses whichever it needs).
        - ``z0``: starting points ``(b, p)``; ``data``: pytree of per-row arrays ``(b, ...)`` passed to both.
        - ``active``: rows to solve; the others are reported ``Status.INVALID_INPUT``.

        **Returns:** :class:`SolverState`.
        """

    def solve_queued(self, residuals: Residuals, residuals_and_jacobian: ResidualsAndJacobian,
                     z0: Float[Array, "N p"], data: Any, active: Bool[Array, " N"], *, slots: int | None,
                     n_valid: Int[Array, ""]) -> SolverState:
        """Solve the first ``n_valid`` rows of ``z0`` with at most ``slots`` rows at a time (``None``: all at
        once); rows ``>= n_valid`` are padding (their results are unspecified and must be dropped).

        Default: :meth:`solve` on consecutive blocks of ``slots`` rows (``lax.map``), padding rows inactive; a
        block runs until its slowest row is done.  :class:`~leafjax.inversion.BatchedLevenbergMarquardt`
        overrides it with a work queue (module ``_lm_queue``)."""
        n = z0.shape[0]
        active = active & (jnp.arange(n, dtype=jnp.int32) < n_valid)
        if slots is None or n <= slots:
            return self.solve(residuals, residuals_and_jacobian, z0, data, active)
        nb = -(-n // slots)
        pad = nb * slots - n

        def blocks(x):  # pad with copies of the first row (inactive, then dropped) and split into blocks
            x = jnp.concatenate([x, jnp.broadcast_to(x[:1], (pad,) + x.shape[1:])], 0) if pad else x
            return x.reshape((nb, slots) + x.shape[1:])

        act = jnp.concatenate([active, jnp.zeros((pad,), bool)]).reshape(nb, slots)
        z_b, d_b = jax.tree.map(blocks, (z0, data))
        out = jax.lax.map(lambda a: self.solve(residuals, residuals_and_jacobian, *a), (z_b, d_b, act))
        return jax.tree.map(lambda x: x.reshape((nb * slots,) + x.shape[2:])[:n], out)
