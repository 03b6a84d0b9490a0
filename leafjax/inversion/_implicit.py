r"""Differentiating through an inversion: the implicit-function theorem at the optimum.

At a solution :math:`z^*(y, \phi)` of :math:`\min_z C(z; y, \phi)` (``y`` the observations, ``\phi`` anything
the problem holds: optical constants, bounds, priors, band weights), the optimality condition
:math:`\nabla_z C(z^*; y, \phi) = 0` gives

.. math:: \frac{\partial z^*}{\partial(y, \phi)} = -H^{-1}\,\frac{\partial \nabla_z C}{\partial(y, \phi)},
          \qquad H = \nabla_z^2 C(z^*),

so a cotangent :math:`\bar z` pulls back as :math:`\bar{(y,\phi)} = -(\partial_{(y,\phi)}\nabla_z C)^\top\lambda`
with :math:`H\lambda = \bar z`.  ``H`` is the full Hessian (not its Gauss–Newton part), so gradients are exact at
non-zero residuals too.  Every row is its own problem: ``H`` is ``(b, p, p)``, assembled from ``p``
forward-over-reverse products (with a relative 1e-12 ridge), and the solver's iterations are never
differentiated (they run on ``stop_gradient`` inputs).  Rows without any valid band contribute no gradient;
forward mode (``jax.jvp``) is not available (a custom VJP).

References: Krantz & Parks (2013) "The implicit function theorem", Birkhäuser; Blondel et al. (2022) "Efficient
and modular implicit differentiation", NeurIPS.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._problem import residuals


def _grad_z(args, z):
    problem, obs, weight, context = args
    return jax.grad(lambda q: 0.5 * jnp.sum(residuals(problem, q, (obs, weight, context)) ** 2))(z)


@eqx.filter_custom_vjp
def implicit_solution(args, z: Float[Array, "b p"]) -> Float[Array, "b p"]:
    """Identity on the solution ``z`` of the problem ``args = (problem, obs, weight, context)`` whose VJP with
    respect to ``args`` is given by the implicit-function theorem (module docstring).

    The output is a copy: an output that is the input itself would be forwarded around the custom rule."""
    return jnp.array(z, copy=True)


@implicit_solution.def_fwd
def _fwd(perturbed, args, z):
    return jnp.array(z, copy=True), None


@implicit_solution.def_bwd
def _bwd(_, z_bar, perturbed, args, z):
    z = jax.lax.stop_gradient(z)
    p = z.shape[-1]
    _, hvp = jax.linearize(lambda q: _grad_z(args, q), z)
    basis = jnp.eye(p, dtype=z.dtype)
    cols = jax.vmap(lambda e: hvp(jnp.broadcast_to(e, z.shape)))(basis)  # (p, b, p): H e_i for every row
    hess = jnp.moveaxis(cols, 0, -1)  # (b, p, p)
    # a parameter pinned at a bound (sigmoid saturated) has a zero row in H and no influence: the tiny ridge
    # keeps the solve finite there without changing well-posed rows (relative 1e-12, as in the covariance)
    ridge = 1e-12 * jnp.trace(hess, axis1=-2, axis2=-1)[:, None, None] * basis[None]
    lam = jnp.linalg.solve(hess + ridge, z_bar[..., None])[..., 0]
    weight = args[2]
    ok = jnp.all(jnp.isfinite(lam), axis=-1) & jnp.any(weight > 0, axis=-1)
    lam = jnp.where(ok[:, None], lam, 0.0)
    _, vjp = eqx.filter_vjp(lambda a: _grad_z(a, z), args)
    (grads,) = vjp(-lam)
    flat_g, tree = jax.tree.flatten(grads, is_leaf=lambda x: x is None)
    flat_p = jax.tree.leaves(perturbed)
    return jax.tree.unflatten(tree, [g if pp else None for g, pp in zip(flat_g, flat_p)])
