"""Smooth bijections between bounded physical parameters and unconstrained optimisation variables.

``theta = low + (high - low) * sigmoid(z)``: smooth, monotone, and its Jacobian ``dtheta/dz`` is used to map the
Gauss–Newton covariance of ``z`` to physical units (delta method).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def _lift(v: Array, like: Array) -> Array:
    """Reshape a ``(p,)`` vector to broadcast explicitly against ``(*b, p)``."""
    v = jnp.asarray(v)
    return jnp.reshape(v, (1,) * (like.ndim - v.ndim) + v.shape)


def to_unconstrained(theta: Float[Array, "*b p"], low: Float[Array, "p"], high: Float[Array, "p"],
                     eps: float = 1e-6) -> Float[Array, "*b p"]:
    """Inverse of :func:`to_bounded`; values are clipped ``eps`` (relative) inside the bounds first."""
    low, high = _lift(low, theta), _lift(high, theta)
    u = (theta - low) / (high - low)
    u = jnp.clip(u, eps, 1.0 - eps)
    return jnp.log(u) - jnp.log1p(-u)


def to_bounded(z: Float[Array, "*b p"], low: Float[Array, "p"], high: Float[Array, "p"]) -> Float[Array, "*b p"]:
    """``low + (high - low) * sigmoid(z)`` (units of the parameters)."""
    low, high = _lift(low, z), _lift(high, z)
    return low + (high - low) * jax.nn.sigmoid(z)


def bounded_jacobian(z: Float[Array, "*b p"], low: Float[Array, "p"], high: Float[Array, "p"]) -> Float[Array, "*b p"]:
    """Diagonal ``dtheta/dz = (high - low) * s * (1 - s)`` with ``s = sigmoid(z)``."""
    low, high = _lift(low, z), _lift(high, z)
    s = jax.nn.sigmoid(z)
    return (high - low) * s * (1.0 - s)
