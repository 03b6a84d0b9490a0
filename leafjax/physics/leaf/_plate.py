r"""The generalised plate model shared by every PROSPECT version.

A leaf is a pile of ``N`` elementary plates (Allen et al. 1969; Jacquemoud & Baret 1990): one compact layer
with absorption coefficient ``k`` (dimensionless, summed over absorbers and divided by ``N``) followed by
``N - 1`` identical layers combined with Stokes' solution.

Numerical formulation (algebraically identical to the published equations):

* the single-layer absorptance :math:`\delta = 1 - r - t = t_{12}(1-\tau)/(1 - r_{21}\tau)` is computed from
  :math:`1 - \tau` directly, so it has full relative precision as :math:`k \to 0`;
* with :math:`a = e^{\alpha}`, :math:`b = e^{s}` and :math:`m = N - 1`, Stokes' solution
  :math:`R_{sub} = a(b^{2m}-1)/(a^2b^{2m}-1)`, :math:`T_{sub} = b^m(a^2-1)/(a^2b^{2m}-1)` becomes
  :math:`R_{sub} = \sinh(ms)/\sinh(\alpha+ms)`, :math:`T_{sub} = \sinh(\alpha)/\sinh(\alpha+ms)`, evaluated
  in negative powers of :math:`a, b` with ``expm1``/``log1p`` (one of each per value): no overflow for strong
  absorption (where :math:`b^{2m}` exceeds float32's range), no 0/0 cancellation for weak absorption, and
  the non-absorbing limit
  :math:`T_{sub} = t/(t + (1-t)m)` only at exactly :math:`\delta = 0` (double-``where``, finite gradients).

References:
    Allen, Gausman, Richardson, Thomas (1969) JOSA 59:1376.
    Stern (1964) Appl. Opt. 3:111 (transmissivity of a dielectric plane surface, ``tav``).
    Jacquemoud & Baret (1990) RSE 34:75.  Féret et al. (2008) RSE 112:3030.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._constants import DEG2RAD, HEMISPHERICAL_ANGLE_DEG, INCIDENCE_ANGLE_DEG
from ._expint import layer_transmissivity_pair


#: Gauss–Legendre nodes for the angular average in :func:`tav` (converges to ~1e-14 in float64 by 16 nodes).
TAV_QUADRATURE_NODES: int = 24


def tav(alpha_deg: float, nr: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    r"""Average transmissivity of a dielectric plane surface for incidence angles up to ``alpha_deg``.

    .. math::
        t_{av}(\alpha, n) = \frac{1}{\sin^2\alpha}\int_0^\alpha t(\theta, n)\,\sin 2\theta\,d\theta,
        \qquad t = 1 - \tfrac12 (r_s + r_p)

    with Fresnel's reflectivities :math:`r_s, r_p` for light entering a medium of index ``n`` (Stern 1964;
    Allen 1973).  Stern's closed form of this integral loses ~5 digits to cancellation in float32; the integral
    itself has an analytic integrand in :math:`\theta`, so a fixed Gauss–Legendre rule reproduces the closed
    form to ~2e-14 in float64 and ~1e-7 in float32, and stays differentiable in ``n``.

    **Arguments:**
    - ``alpha_deg``: maximum incidence angle (degrees, Python float in (0, 90]; 90 = hemispherical).
    - ``nr``: refractive index of the plate (dimensionless, > 1), any shape.

    **Returns:** transmissivity in (0, 1), same shape as ``nr``.
    """
    if not 0.0 < alpha_deg <= 90.0:
        raise ValueError(f"alpha_deg must be in (0, 90], got {alpha_deg}")
    x, w = np.polynomial.legendre.leggauss(TAV_QUADRATURE_NODES)
    half = 0.5 * alpha_deg * DEG2RAD
    theta = jnp.asarray((x + 1.0) * half, dtype=nr.dtype)
    weight = jnp.asarray(w * half / np.sin(alpha_deg * DEG2RAD) ** 2, dtype=nr.dtype)
    n2 = (nr * nr)[..., None]
    cos_t = jnp.reshape(jnp.cos(theta), (1,) * nr.ndim + theta.shape)
    sin2_t = jnp.reshape(jnp.sin(theta) ** 2, (1,) * nr.ndim + theta.shape)
    root = jnp.sqrt(n2 - sin2_t)
    r_s = ((cos_t - root) / (cos_t + root)) ** 2
    r_p = ((n2 * cos_t - root) / (n2 * cos_t + root)) ** 2
    integrand = (1.0 - 0.5 * (r_s + r_p)) * jnp.reshape(jnp.sin(2.0 * theta), cos_t.shape)
    return jnp.sum(integrand * jnp.reshape(weight, cos_t.shape), axis=-1)


class Interfaces(NamedTuple):
    """Interface transmissivities of the plate model for one refractive-index spectrum (each ``(wl,)``).

    ``talf``: top surface, incidence up to 40°; ``t12``: hemispherical, outside → inside; ``t21``: inside →
    outside (``t12 / n²``); ``r = 1 - t`` for each.  Depends only on ``nr``, so it is computed once per call,
    not once per spectrum.
    """

    talf: Array
    t12: Array
    t21: Array


def interfaces(nr: Float[Array, "wl"]) -> Interfaces:
    """Compute :class:`Interfaces` from the refractive index ``nr`` (dimensionless)."""
    t12 = tav(HEMISPHERICAL_ANGLE_DEG, nr)
    return Interfaces(tav(INCIDENCE_ANGLE_DEG, nr), t12, t12 / (nr * nr))


def plate_model(
    k: Float[Array, "*batch wl"],
    n_struct: Float[Array, "*batch 1"],
    nr: Float[Array, "wl"],
) -> tuple[Float[Array, "*batch wl"], Float[Array, "*batch wl"]]:
    r"""Directional-hemispherical reflectance and transmittance of a leaf of ``N`` plates.

    **Arguments:**
    - ``k``: absorption coefficient of one elementary layer, :math:`k = \sum_i C_i K_i / N` (dimensionless,
      ``>= 0``), shape ``(*batch, wl)``.
    - ``n_struct``: leaf structure parameter N (dimensionless, >= 1), shape ``(*batch, 1)``.
    - ``nr``: refractive index per band (dimensionless), shape ``(wl,)``.

    **Returns:** ``(R, T)``, each of shape ``(*batch, wl)``, fractions in [0, 1] with ``R + T <= 1``.
    """
    return plate_model_from_interfaces(k, n_struct, interfaces(nr))


def plate_model_from_interfaces(
    k: Float[Array, "*batch wl"],
    n_struct: Float[Array, "*batch 1"],
    iface: Interfaces,
) -> tuple[Float[Array, "*batch wl"], Float[Array, "*batch wl"]]:
    """:func:`plate_model` with precomputed :class:`Interfaces` (broadcast against ``k``)."""
    shape = (1,) * (k.ndim - 1) + iface.t12.shape
    talf, t12, t21 = (jnp.reshape(v, shape) for v in iface)
    ralf, r12, r21 = 1.0 - talf, 1.0 - t12, 1.0 - t21

    tau, omt = layer_transmissivity_pair(k)
    # top surface (solid angle alpha) and one elementary layer (hemispherical)
    r21tau = r21 * tau
    denom = 1.0 - r21tau * r21tau
    ta = talf * tau * t21 / denom
    ra = ralf + r21tau * ta
    t = t12 * tau * t21 / denom
    r = r12 + r21tau * t
    delta = t12 * omt / (1.0 - r21tau)  # 1 - r - t, accurate as k -> 0

    # Stokes' solution for the remaining m = N - 1 layers, with a = 1 + ua, b = 1 + ub = e^s:
    #   Rsub = (1/a) (b^-2m - 1) / (a^-2 b^-2m - 1),  Tsub = b^-m (a^-2 - 1) / (a^-2 b^-2m - 1)
    # written with X = b^-2m - 1 = expm1(-2 m s) and A = a^-2 - 1 = -ua (2 + ua) / a^2 (no cancellation).
    m = n_struct - 1.0
    absorbing = delta > 0.0
    d = jnp.where(absorbing, delta, 0.5)
    rs = jnp.where(absorbing, r, 0.25)
    # t underflows to 0 for very strong absorption; keep b = O(1/t) finite (its effect on R, T is then nil)
    ts_ = jnp.where(absorbing, jnp.maximum(t, jnp.finfo(t.dtype).tiny), 0.25)
    big_d = jnp.sqrt((1.0 + rs + ts_) * (1.0 + rs - ts_) * (1.0 - rs + ts_) * d)
    ua = (d * (1.0 - rs + ts_) + big_d) / (2.0 * rs)
    ub = (d * (1.0 + rs - ts_) + big_d) / (2.0 * ts_)
    a = 1.0 + ua
    big_a = -ua * (2.0 + ua) / (a * a)
    ms = m * jnp.log1p(ub)
    big_x = jnp.expm1(-2.0 * ms)
    big_y = big_a + (1.0 + big_a) * big_x  # a^-2 b^-2m - 1
    rsub_abs = big_x / (a * big_y)
    tsub_abs = jnp.exp(-ms) * big_a / big_y
    # non-absorbing limit (delta == 0): Tsub = t / (t + (1 - t)(N - 1))
    tsub_lim = t / (t + (1.0 - t) * m)
    rsub = jnp.where(absorbing, rsub_abs, 1.0 - tsub_lim)
    tsub = jnp.where(absorbing, tsub_abs, tsub_lim)

    denom = 1.0 - rsub * r
    transmittance = ta * tsub / denom
    reflectance = ra + ta * rsub * t / denom
    return reflectance, transmittance
