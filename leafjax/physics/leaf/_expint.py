r"""Exponential integral :math:`E_1` and PROSPECT's elementary-layer transmissivity.

The transmissivity of an elementary absorbing layer for isotropic incident light (Allen et al. 1969) is

.. math::
    \tau(k) = (1 - k)\,e^{-k} + k^2 E_1(k), \qquad
    \tau'(k) = -2 e^{-k} + 2 k E_1(k), \qquad \tau(0) = 1,\ \tau'(0) = -2,

where :math:`k \ge 0` is the absorption coefficient of the layer (dimensionless) and
:math:`E_1(x) = \int_1^\infty e^{-xt}/t\,dt`.

``jax.scipy.special.exp1`` is accurate but orders of magnitude too slow on CPU for spectral batches.  Here
:math:`E_1` is evaluated without loops or data-dependent control flow:

* :math:`0 < x \le 2`: the convergent power series (Abramowitz & Stegun 5.1.11)
  :math:`E_1(x) = -\gamma - \ln x - \sum_{n\ge1} (-x)^n / (n\,n!)`, truncated at a fixed order and evaluated by
  Horner's rule;
* :math:`x > 2`: the even contraction of the continued fraction (A&S 5.1.22),
  :math:`e^{x} E_1(x) = 1/(x + 1 - 1^2/(x + 3 - 2^2/(x + 5 - \dots)))`, evaluated backwards at a fixed depth.

The truncation orders depend on the dtype: float64 reaches a relative error below ~3e-12 over the whole
positive axis, float32 below ~2e-6 (measured against ``scipy.special.exp1`` in ``tests/physics/test_physics_expint.py``).  The
branches are combined with the double-``where`` pattern so that neither produces NaN in values or gradients.
``tau`` carries a custom JVP, so gradients use the closed-form derivative rather than differentiating through
the truncated series.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ..._constants import EULER_GAMMA

#: Boundary between the power series and the continued fraction (dimensionless).
_SPLIT = 2.0
#: (series order, continued-fraction depth) per dtype; chosen from the error study in tests/physics/test_physics_expint.py.
_ORDERS = {jnp.dtype("float64"): (26, 32), jnp.dtype("float32"): (16, 14), jnp.dtype("float16"): (10, 8),
           jnp.dtype("bfloat16"): (10, 8)}


def _orders(dtype) -> tuple[int, int]:
    return _ORDERS.get(jnp.dtype(dtype), _ORDERS[jnp.dtype("float64")])


def _series_sum(x: Array, order: int) -> Array:
    """:math:`\\sum_{n=1}^{order} (-1)^{n+1} x^n / (n\\,n!)` by Horner's rule (so that E1 = -γ - ln x + sum)."""
    acc = jnp.zeros_like(x)
    for n in range(order, 0, -1):
        acc = (acc + (-1.0) ** (n + 1) / (n * math.factorial(n))) * x
    return acc


def _cf_scaled(x: Array, depth: int) -> Array:
    """:math:`e^{x} E_1(x)` by the continued fraction evaluated backwards at a fixed depth (valid for x > 0)."""
    f = x + (2 * depth + 1)
    for n in range(depth, 0, -1):
        f = x + (2 * n - 1) - (n * n) / f
    return 1.0 / f


def exp1(x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    r"""Exponential integral :math:`E_1(x)` for :math:`x > 0` (``inf`` at 0, NaN for negative input).

    **Arguments:** ``x``: float array of any shape (dimensionless).

    **Returns:** :math:`E_1(x)`, same shape and dtype; derivative :math:`-e^{-x}/x` via autodiff.

    Example:
        >>> import jax.numpy as jnp
        >>> float(exp1(jnp.asarray(1.0)))  # doctest: +ELLIPSIS
        0.21938...
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    order, depth = _orders(x.dtype)
    small = x <= _SPLIT
    xs = jnp.where(small & (x > 0), x, 1.0)
    xl = jnp.where(small, 2.0 * _SPLIT, x)
    e_small = -EULER_GAMMA - jnp.log(xs) + _series_sum(xs, order)
    e_large = jnp.exp(-xl) * _cf_scaled(xl, depth)
    out = jnp.where(small, e_small, e_large)
    out = jnp.where(x == 0, jnp.inf, out)
    return jnp.where(x < 0, jnp.nan, out)


def _tau_and_derivative(k: ArrayLike) -> tuple[Array, Array, Array]:
    """Return (tau(k), 1 - tau(k), tau'(k)) for k >= 0 with safe branches.

    ``1 - tau`` is computed without cancellation for small k: ``-expm1(-k) + k e^-k - k^2 E1(k)``.
    """
    order, depth = _orders(k.dtype)
    small = k <= _SPLIT
    pos = k > 0
    ks = jnp.where(small & pos, k, 1.0)
    kl = jnp.where(small, 2.0 * _SPLIT, k)
    # small k: explicit E1 (k^2 ln k -> 0 handled by the k > 0 mask)
    e1 = -EULER_GAMMA - jnp.log(ks) + _series_sum(ks, order)
    ems = jnp.exp(-ks)
    tau_s = (1.0 - ks) * ems + ks * ks * e1
    dtau_s = -2.0 * ems + 2.0 * ks * e1
    # large k: q = e^k E1(k), tau = e^-k (1 - k + k^2 q), tau' = 2 e^-k (k q - 1)
    q = _cf_scaled(kl, depth)
    eml = jnp.exp(-kl)
    tau_l = eml * (1.0 - kl + kl * kl * q)
    dtau_l = 2.0 * eml * (kl * q - 1.0)
    omt_s = -jnp.expm1(-ks) + ks * ems - ks * ks * e1
    tau = jnp.where(small, jnp.where(pos, tau_s, 1.0), tau_l)
    omt = jnp.where(small, jnp.where(pos, omt_s, 0.0), 1.0 - tau_l)
    dtau = jnp.where(small, jnp.where(pos, dtau_s, -2.0), dtau_l)
    return tau, omt, dtau


@jax.custom_jvp
def layer_transmissivity(k: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    r"""Elementary-layer transmissivity :math:`\tau(k) = (1-k)e^{-k} + k^2E_1(k)` (Allen et al. 1969).

    **Arguments:** ``k``: absorption coefficient of the layer, ``k >= 0`` (dimensionless), any shape.

    **Returns:** :math:`\tau(k) \in (0, 1]`, same shape; ``tau(0) = 1``. Differentiable everywhere on
    ``k >= 0`` with the closed-form derivative :math:`\tau'(k) = -2e^{-k} + 2kE_1(k)` (``tau'(0) = -2``).

    References:
        Allen, Gausman, Richardson, Thomas (1969) JOSA 59:1376. Jacquemoud & Baret (1990) RSE 34:75.
    """
    return _tau_and_derivative(k)[0]


@layer_transmissivity.defjvp
def _layer_transmissivity_jvp(primals, tangents):
    (k,), (dk,) = primals, tangents
    tau, _, dtau = _tau_and_derivative(k)
    return tau, dtau * dk


@jax.custom_jvp
def layer_transmissivity_pair(k: Float[ArrayLike, "*shape"]) -> tuple[Float[Array, "*shape"], Float[Array, "*shape"]]:
    r"""Return :math:`(\tau(k), 1 - \tau(k))`, the second without cancellation as :math:`k \to 0`.

    Same definition, domain and custom derivative as :func:`layer_transmissivity`.
    """
    tau, omt, _ = _tau_and_derivative(k)
    return tau, omt


@layer_transmissivity_pair.defjvp
def _layer_transmissivity_pair_jvp(primals, tangents):
    (k,), (dk,) = primals, tangents
    tau, omt, dtau = _tau_and_derivative(k)
    return (tau, omt), (dtau * dk, -dtau * dk)
