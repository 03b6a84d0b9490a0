r"""A vectorised Levenberg–Marquardt solver for many small, independent least-squares problems.

Every row ``b`` of a block is its own problem :math:`\min_z \tfrac12\|r_b(z_b)\|^2` with ``p`` unknowns
(``p`` ≤ ~10) and many residuals (bands).  Each iteration linearises the residuals at the trial point with one
forward pass plus ``p`` forward-mode tangents (``jax.linearize``), so a step costs ``p + 1`` model evaluations
and no reverse pass; the damped normal equations (Marquardt 1963, diagonal scaling)

.. math:: (J^\top J + \lambda\,\mathrm{diag}(J^\top J))\,\delta = -J^\top r

are solved per row.  Damping, step acceptance and convergence are per row; converged rows are frozen while the
others continue, all inside one ``lax.while_loop``.  :func:`lm_proposal` and :func:`lm_update` are the step
and the update of one iteration, shared with the work-queue solver of module ``_lm_queue`` (where a converged
row stops costing work).

References: Levenberg (1944) Q. Appl. Math. 2:164; Marquardt (1963) SIAM J. Appl. Math. 11:431;
Nielsen (1999) "Damping parameter in Marquardt's method", IMM-REP-1999-05 (update rule).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ._result import Status

ResidualFn = Callable[[Float[Array, "b p"]], Float[Array, "b n"]]
#: Returns residuals ``(b, n)`` and their Jacobian ``(b, n, p)`` at ``z``.
LinearisedFn = Callable[[Float[Array, "b p"]], tuple[Float[Array, "b n"], Float[Array, "b n p"]]]


class LMState(NamedTuple):
    z: Array  # (b, p)
    r: Array  # (b, n)
    jac: Array  # (b, n, p)
    cost: Array  # (b,)
    lam: Array  # (b,)
    nu: Array  # (b,)
    done: Array  # (b,) bool
    status: Array  # (b,) int8
    iters: Array  # (b,) int32
    step: Array  # () int32


def linearise(residuals: ResidualFn, z: Array) -> tuple[Array, Array]:
    """Residuals and Jacobian by one primal pass plus ``p`` forward-mode tangents (``jax.linearize``)."""
    r, lin = jax.linearize(residuals, z)
    p = z.shape[-1]
    basis = jnp.eye(p, dtype=z.dtype)
    tangents = jax.vmap(lambda e: lin(jnp.broadcast_to(e, z.shape)))(basis)  # (p, b, n)
    return r, jnp.moveaxis(tangents, 0, -1)  # (b, n), (b, n, p)


def levenberg_marquardt(residuals: ResidualFn | None, z0: Float[Array, "b p"], *, max_steps: int = 60,
                        rtol: float = 1e-7, gtol: float = 1e-9, lam0: float = 1e-2,
                        active: Bool[Array, "b"] | None = None,
                        residuals_and_jacobian: LinearisedFn | None = None) -> LMState:
    """Minimise ``0.5 * sum(residuals(z)**2, axis=-1)`` independently for every row of ``z0``.

    **Arguments:**
    - ``residuals``: maps ``(b, p)`` unknowns to ``(b, n)`` residuals, row-wise independent.
    - ``z0``: starting points ``(b, p)`` (unconstrained variables).
    - ``max_steps``: iteration limit; ``rtol``: relative cost decrease below which an accepted step counts as
      converged; ``gtol``: converged when ``max|J^T r|`` falls below it; ``lam0``: initial damping.
    - ``active``: rows to solve (others are returned untouched with status ``INVALID_INPUT``).
    - ``residuals_and_jacobian``: optional structured replacement for :func:`linearise` (e.g. exploiting
      that a model depends on many parameters through few intermediate quantities).

    **Returns:** the final :class:`LMState` (``z``, ``cost``, ``jac`` at ``z``, ``status``, ``iters``).
    """
    b = z0.shape[0]
    dtype = z0.dtype
    if residuals_and_jacobian is None:
        if residuals is None:
            raise ValueError("pass residuals or residuals_and_jacobian")
        residuals_and_jacobian = lambda z: linearise(residuals, z)  # noqa: E731
    r0, j0 = residuals_and_jacobian(z0)
    cost0 = 0.5 * jnp.sum(r0 * r0, axis=-1)
    finite0 = jnp.isfinite(cost0)
    if active is None:
        active = jnp.ones((b,), bool)
    status0 = jnp.where(active, jnp.where(finite0, Status.MAX_STEPS, Status.NONFINITE),
                        Status.INVALID_INPUT).astype(jnp.int8)
    state = LMState(z0, r0, j0, cost0, jnp.full((b,), lam0, dtype), jnp.full((b,), 2.0, dtype),
                    ~(active & finite0), status0, jnp.zeros((b,), jnp.int32), jnp.zeros((), jnp.int32))

    def cond(s: LMState):
        return (s.step < max_steps) & ~jnp.all(s.done)

    def body(s: LMState):
        delta, jtj, jtr = lm_proposal(s.jac, s.r, s.lam)
        z_try = s.z + delta
        r_try, j_try = residuals_and_jacobian(z_try)
        z, r, jac, cost, lam, nu, newly = lm_update(s.z, s.r, s.jac, s.cost, s.lam, s.nu, s.done, z_try, r_try,
                                                    j_try, delta, jtj, jtr, rtol, gtol)
        status = jnp.where(newly, Status.CONVERGED, s.status).astype(jnp.int8)
        iters = s.iters + (~s.done).astype(jnp.int32)
        return LMState(z, r, jac, cost, lam, nu, s.done | newly, status, iters, s.step + 1)

    return jax.lax.while_loop(cond, body, state)


def lm_proposal(jac: Float[Array, "b n p"], r: Float[Array, "b n"], lam: Float[Array, " b"]):
    """The damped Gauss–Newton step ``delta`` ``(b, p)`` of every row, with ``JᵀJ`` ``(b, p, p)`` and ``Jᵀr``."""
    p = jac.shape[-1]
    eye = jnp.eye(p, dtype=jac.dtype)
    tiny, eps = jnp.finfo(jac.dtype).tiny, jnp.finfo(jac.dtype).eps
    jtj = jnp.einsum("bnp,bnq->bpq", jac, jac)
    jtr = jnp.einsum("bnp,bn->bp", jac, r)
    diag = jnp.diagonal(jtj, axis1=-2, axis2=-1)
    scale = jnp.maximum(diag, eps * jnp.max(diag, axis=-1, keepdims=True) + tiny)
    a = jtj + lam[:, None, None] * eye[None] * scale[:, :, None]
    delta = -jnp.linalg.solve(a, jtr[..., None])[..., 0]
    return delta, jtj, jtr


def lm_update(z, r, jac, cost, lam, nu, done, z_try, r_try, j_try, delta, jtj, jtr, rtol: float, gtol: float):
    """Accept or reject every row's trial point, update its damping (Nielsen 1999) and test convergence.

    Rows with ``done`` are left unchanged.  **Returns:** ``(z, r, jac, cost, lam, nu, newly_converged)``."""
    tiny = jnp.finfo(z.dtype).tiny
    cost_try = 0.5 * jnp.sum(r_try * r_try, axis=-1)
    # gain ratio: actual / predicted reduction (Nielsen 1999)
    predicted = -(jnp.sum(delta * jtr, axis=-1) + 0.5 * jnp.einsum("bp,bpq,bq->b", delta, jtj, delta))
    actual = cost - cost_try
    rho = actual / jnp.maximum(predicted, tiny)
    accept = (~done) & jnp.isfinite(cost_try) & (cost_try < cost)
    lam_new = jnp.where(accept, lam * jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), lam * nu)
    nu_new = jnp.where(accept, 2.0, nu * 2.0)
    z_new = jnp.where(accept[:, None], z_try, z)
    r_new = jnp.where(accept[:, None], r_try, r)
    jac_new = jnp.where(accept[:, None, None], j_try, jac)
    cost_new = jnp.where(accept, cost_try, cost)
    small_decrease = accept & (actual <= rtol * jnp.maximum(cost, tiny))
    grad_small = jnp.max(jnp.abs(jnp.einsum("bnp,bn->bp", jac_new, r_new)), axis=-1) <= gtol
    stuck = (~accept) & (lam_new > 1e12)  # no descent direction left at working precision
    # the local model itself predicts a negligible decrease: the optimum is reached to within rtol (this
    # also ends the run of rejected steps that rounding causes right at a float32 optimum)
    negligible = (~accept) & (predicted <= rtol * jnp.maximum(cost, tiny))
    newly = (~done) & (small_decrease | grad_small | stuck | negligible)
    return z_new, r_new, jac_new, cost_new, jnp.minimum(lam_new, 1e16), nu_new, newly
