r"""Levenberg–Marquardt over a work queue: a fixed number of slots, refilled as rows finish.

A block LM (:func:`leafjax.inversion.levenberg_marquardt`) iterates until its slowest row is done, so the rows
that converged early keep costing a linearisation per iteration (about half of the work on leaf spectra).
Here ``slots`` rows are in flight inside one ``lax.while_loop``; each iteration every slot evaluates exactly one
linearisation (residuals and Jacobian, ``residuals_and_jacobian(z, rows)``):

* a slot working on a row evaluates its trial point ``z + δ`` and applies the LM update of
  :func:`leafjax.inversion._lm.lm_update` (same acceptance, damping and convergence tests);
* when the row converges, fails or reaches ``max_steps``, its result is written to the output arrays and the
  slot takes the next unsolved row; that row's first linearisation (at its starting point) is the slot's
  evaluation of the next iteration.

So every slot does useful work until the queue is drained, and a row's trajectory (hence its result) is the
one it has alone: rows are independent.  Rows ``>= n_valid`` (padding) are never solved (their outputs are 0).

References: Marquardt (1963) SIAM J. Appl. Math. 11:431; Nielsen (1999) IMM-REP-1999-05 (update rule).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ._lm import lm_proposal, lm_update
from ._result import Status

#: ``residuals_and_jacobian(z, rows)``: residuals ``(s, n)`` and Jacobian ``(s, n, p)`` of the rows ``rows``
#: ``(s,)`` (indices into the queue) at ``z`` ``(s, p)``.
QueueLinearisedFn = Callable[[Float[Array, "s p"], Int[Array, " s"]], tuple[Array, Array]]


class QueueResult(NamedTuple):
    """Per-row results of :func:`levenberg_marquardt_queue` (``N`` rows): ``z`` ``(N, p)``, residuals ``r``
    ``(N, n)`` and Jacobian ``jac`` ``(N, n, p)`` at ``z``, ``cost`` ``(N,)``, ``iters`` ``(N,)`` int32,
    ``status`` ``(N,)`` int8, and ``evaluations`` (the number of linearisations of all slots, one per slot and
    iteration)."""

    z: Array
    r: Array
    jac: Array
    cost: Array
    iters: Array
    status: Array
    evaluations: Array


class _Slots(NamedTuple):
    row: Array  # (s,) queue index of the row in the slot (>= n_valid: idle)
    fresh: Array  # (s,) the row was just loaded: this iteration evaluates its starting point
    z: Array
    r: Array
    jac: Array
    cost: Array
    lam: Array
    nu: Array
    iters: Array
    status: Array
    out: tuple  # (z, r, jac, cost, iters, status) of every row, (N, ...)
    next_row: Array  # () the next row to load
    step: Array  # () iterations so far


def levenberg_marquardt_queue(residuals_and_jacobian: QueueLinearisedFn, z0: Float[Array, "N p"],
                              active: Bool[Array, " N"], *, slots: int, n_valid: Int[Array, ""] | int | None = None,
                              max_steps: int = 60, rtol: float = 1e-7, gtol: float = 1e-9,
                              lam0: float = 1e-2) -> QueueResult:
    """Minimise ``0.5 |r_i(z_i)|²`` for every row ``i < n_valid`` of ``z0`` with ``slots`` rows in flight.

    **Arguments:**
    - ``residuals_and_jacobian``: ``(z (s, p), rows (s,)) -> (r (s, n), J (s, n, p))``, row-wise independent
      (``rows`` selects each slot's data; indices are always in ``[0, N)``).
    - ``z0``: starting points ``(N, p)``; ``active``: rows to solve (others: status ``INVALID_INPUT`` after one
      evaluation at ``z0``, as in the block solver).
    - ``slots``: rows solved side by side (clipped to ``N``); ``n_valid``: rows to solve (default ``N``).
    - ``max_steps``, ``rtol``, ``gtol``, ``lam0``: as :func:`leafjax.inversion.levenberg_marquardt`, per row.

    **Returns:** :class:`QueueResult`.
    """
    n_rows, p = z0.shape
    dtype = z0.dtype
    s_n = max(1, min(int(slots), n_rows))
    n_valid = jnp.asarray(n_rows if n_valid is None else n_valid, jnp.int32)
    r_shape, j_shape = jax.eval_shape(residuals_and_jacobian, z0[:s_n], jnp.zeros((s_n,), jnp.int32))
    n_res = r_shape.shape[-1]
    zeros = lambda shape, dt=dtype: jnp.zeros(shape, dt)  # noqa: E731
    out = (zeros((n_rows, p)), zeros((n_rows, n_res)), zeros((n_rows, n_res, p)), zeros((n_rows,)),
           zeros((n_rows,), jnp.int32), jnp.full((n_rows,), Status.MAX_STEPS, jnp.int8))
    row0 = jnp.arange(s_n, dtype=jnp.int32)
    state = _Slots(row0, jnp.ones((s_n,), bool), zeros((s_n, p)), zeros((s_n, n_res)), zeros((s_n, n_res, p)),
                   zeros((s_n,)), jnp.full((s_n,), lam0, dtype), jnp.full((s_n,), 2.0, dtype),
                   zeros((s_n,), jnp.int32), jnp.full((s_n,), Status.MAX_STEPS, jnp.int8), out,
                   jnp.asarray(s_n, jnp.int32), jnp.zeros((), jnp.int32))

    def cond(s: _Slots):
        return jnp.any(s.row < n_valid)

    def body(s: _Slots):
        busy = s.row < n_valid
        idx = jnp.minimum(s.row, n_rows - 1)
        delta, jtj, jtr = lm_proposal(s.jac, s.r, s.lam)
        z_try = jnp.where(s.fresh[:, None], z0[idx], s.z + delta)
        r_try, j_try = residuals_and_jacobian(z_try, idx)
        # a row that is not fresh takes the LM update; a fresh row starts from its first linearisation
        frozen = s.fresh | ~busy
        z, r, jac, cost, lam, nu, newly = lm_update(s.z, s.r, s.jac, s.cost, s.lam, s.nu, frozen, z_try, r_try,
                                                    j_try, delta, jtj, jtr, rtol, gtol)
        cost_try = 0.5 * jnp.sum(r_try * r_try, axis=-1)
        finite0 = jnp.isfinite(cost_try)
        act = active[idx]
        f1, f2, f3 = s.fresh[:, None], s.fresh[:, None, None], s.fresh
        z = jnp.where(f1, z_try, z)
        r = jnp.where(f1, r_try, r)
        jac = jnp.where(f2, j_try, jac)
        cost = jnp.where(f3, cost_try, cost)
        lam = jnp.where(f3, jnp.asarray(lam0, dtype), lam)
        nu = jnp.where(f3, jnp.asarray(2.0, dtype), nu)
        iters = jnp.where(f3, 0, s.iters + 1)
        status0 = jnp.where(act, jnp.where(finite0, Status.MAX_STEPS, Status.NONFINITE), Status.INVALID_INPUT)
        status = jnp.where(f3, status0, jnp.where(newly, Status.CONVERGED, s.status)).astype(jnp.int8)
        done = jnp.where(f3, ~(act & finite0), newly) | (iters >= max_steps)
        done = done & busy
        # write finished rows out (out-of-range index: dropped) and refill their slots from the queue
        dest = jnp.where(done, s.row, n_rows)
        new = (z, r, jac, cost, iters, status)
        out = tuple(o.at[dest].set(v, mode="drop") for o, v in zip(s.out, new))
        rank = jnp.cumsum(done, dtype=jnp.int32) - 1
        row = jnp.where(done, s.next_row + rank, s.row)
        next_row = s.next_row + jnp.sum(done, dtype=jnp.int32)
        return _Slots(row, done, z, r, jac, cost, lam, nu, iters, status, out, next_row, s.step + 1)

    final = jax.lax.while_loop(cond, body, state)
    return QueueResult(*final.out, final.step * s_n)
