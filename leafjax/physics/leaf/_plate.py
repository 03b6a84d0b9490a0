r"""The generalised plate model shared by every PROSPECT version.

A leaf is a pile of ``N`` elementary plates (Allen et al. 1969; Jacquemoud & Baret 1990): one compact layer
with absorption coefficient ``k`` (dimensionless, summed over absorbers and divided by ``N``) followed by
``N - 1`` identical layers combined with Stokes' solution.

Numerical formulation (algebraically identical to the published equations):

* the single-layer absorptance :math:`\delta = 1 - r - t = t_{12}(1-\tau)/(1 - r_{21}\tau)` is computed from
  :math:`1 - \tau` directly, so it has full relative precision as :math:`k \to 0`;
  :math:`1/(1 - r_{21}\tau) = (1 + r_{21}\tau)/(1 - r_{21}^2\tau^2)` shares the single layer's one division;
* with :math:`a = 1 + u_a`, :math:`b = 1 + u_b = e^{s}`, :math:`m = N - 1`, :math:`c = a^2 - 1` and
  :math:`X = b^{-2m} - 1`, Stokes' solution :math:`R_{sub} = a(b^{2m}-1)/(a^2b^{2m}-1)`,
  :math:`T_{sub} = b^m(a^2-1)/(a^2b^{2m}-1)` is :math:`R_{sub} = -aX/(c - X)`, :math:`T_{sub} = c\,b^{-m}/(c - X)`,
  and the leaf's :math:`R = r_a + t_a t R_{sub}/(1 - r R_{sub})`, :math:`T = t_a T_{sub}/(1 - r R_{sub})` share ONE
  division, :math:`1/(c - X(1 - a r))`; :math:`b^{-m}` and :math:`X = e_1 (2 + e_1)`,
  :math:`e_1 = b^{-m} - 1`, come from one ``log1p`` and one ``(exp, expm1)`` evaluation (:mod:`._elementary`):
  no overflow for strong absorption, no 0/0 cancellation for weak absorption;
* non-absorbing bands (:math:`\delta = 0`) use :math:`\delta = ` ``floor`` (1e-30 / 1e-200), where the formula
  equals the limit :math:`T_{sub} = t/(t + (1-t)m)` to :math:`O(\sqrt{floor})` (below rounding), so no
  second branch is evaluated; gradients stay finite;
* cost per element (float32, from the optimised HLO): 6 divisions (1 in tau, 1 in each ``log``/``log1p``, 3 in the
  plate), 1 ``sqrt``, ~190 multiply/add and ~60 select/compare/bit operations, no libm call;
  :func:`._elementary.materialize` makes tau, the single-layer terms and the Stokes terms fusion roots, so XLA
  computes each once per element instead of duplicating it into every consumer fusion.

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
from ._elementary import exp_expm1, log1p, materialize
from ._expint import layer_transmissivity_pair


#: Gauss–Legendre nodes for the angular average in :func:`tav` (converges to ~1e-14 in float64 by 16 nodes).
TAV_QUADRATURE_NODES: int = 24
#: Lower bound on the single-layer transmittance inside Stokes' solution (keeps 1/(rs ts) finite; below it
#: the layer's contribution to R and T is below the dtype's resolution).
_FLOORS = {"float64": (1e-150, 1e-200), "float32": (1e-18, 1e-30)}


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


def _per_band(iface: Interfaces) -> tuple[Array, ...]:
    """``(ralf, r12, r21, talf t21, t12 t21, t12)``, each ``(wl,)``: the interface terms of the plate model."""
    talf, t12, t21 = iface
    return 1.0 - talf, 1.0 - t12, 1.0 - t21, talf * t21, t12 * t21, t12


def plate_model_from_interfaces(
    k: Float[Array, "*batch wl"],
    n_struct: Float[Array, "*batch 1"],
    iface: Interfaces,
) -> tuple[Float[Array, "*batch wl"], Float[Array, "*batch wl"]]:
    """:func:`plate_model` with precomputed :class:`Interfaces` (broadcast against ``k``)."""
    shape = (1,) * (k.ndim - 1) + iface.t12.shape
    ralf, r12, r21, tat, tt, t12 = (jnp.reshape(v, shape) for v in materialize(_per_band(iface)))  # per band
    t_floor, d_floor = _FLOORS.get(k.dtype.name, _FLOORS["float32"])

    tau, omt = materialize(layer_transmissivity_pair(k))
    # top surface (solid angle alpha) and one elementary layer (hemispherical); 1/(1 - x) = (1 + x)/(1 - x^2)
    x = r21 * tau
    inv = 1.0 / (1.0 - x * x)
    ta = tat * tau * inv
    ra = ralf + x * ta
    t = tt * tau * inv
    r = r12 + x * t
    delta = t12 * omt * (1.0 + x) * inv  # 1 - r - t, accurate as k -> 0
    ta, ra, t, r, delta = materialize((ta, ra, t, r, delta))

    # Stokes' solution for the remaining m = N - 1 layers: a = 1 + ua, b = 1 + ub = e^s (see module docstring)
    m = n_struct - 1.0
    # floors: delta = 0 (no absorption) tends to the non-absorbing limit Tsub = t/(t + (1 - t) m) to O(sqrt(floor));
    # t underflows to 0 for very strong absorption: keep b = O(1/t) finite (its effect on R, T is then nil)
    d, ts = jnp.maximum(delta, d_floor), jnp.maximum(t, t_floor)
    big_d = jnp.sqrt((1.0 + r + ts) * (1.0 + r - ts) * (1.0 - r + ts) * d)
    h = 1.0 / (2.0 * r * ts)  # one division for both 1/(2 r) = ts h and 1/(2 t) = r h
    ua = (d * (1.0 - r + ts) + big_d) * (ts * h)
    ub = (d * (1.0 + r - ts) + big_d) * (r * h)
    e, em = exp_expm1(-m * log1p(ub))  # b^-m, b^-m - 1
    ua, e, em = materialize((ua, e, em))
    c = ua * (2.0 + ua)  # a^2 - 1
    big_x = em * (2.0 + em)  # b^-2m - 1
    a = 1.0 + ua
    # Rsub = -a X / (c - X), Tsub = c e / (c - X); R = ra + ta t Rsub / (1 - r Rsub), T = ta Tsub / (1 - r Rsub)
    w = 1.0 / (c - big_x * (1.0 - a * r))
    return ra - (ta * t) * (a * big_x) * w, ta * (c * e) * w
