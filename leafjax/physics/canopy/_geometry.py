r"""Sun–view–leaf geometry of 4SAIL: extinction and volume-scattering coefficients averaged over the LIDF.

For a leaf inclination :math:`\theta_l`, solar zenith :math:`\theta_s`, view zenith :math:`\theta_o` and
relative azimuth :math:`\psi`, the interception functions :math:`\chi_s, \chi_o` and the bidirectional
scattering functions :math:`f_\rho, f_\tau` follow Verhoef (1998, ch. 4) ("volscatt", W. Verhoef 2001 for
CROMA); averaging over the LIDF gives the extinction coefficients :math:`k = \sum_l F_l\,\chi(\theta_l)/\cos\theta`,
the bi-hemispherical backscatter weight :math:`b_f = \sum_l F_l\cos^2\theta_l` and the area-scattering weights
:math:`s_{ob}, s_{of}` of Verhoef et al. (2007).  Everything is vectorised over the inclination classes with
``jnp.where`` (double-``where`` around ``arccos`` and divisions), so it is traceable and free of NaN gradients.

References:
    Verhoef, W. (1984) Remote Sens. Environ. 16:125–141, doi:10.1016/0034-4257(84)90057-9.
    Verhoef, W. (1998) PhD thesis, Wageningen University.
    Verhoef, W., Jia, L., Xiao, Q., Su, Z. (2007) IEEE TGRS 45:1808–1822, doi:10.1109/TGRS.2007.895844.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._constants import DEG2RAD
from ._lidf import angle_class_centres

#: |sin θl · sin θ| below which the leaf is treated as never seen edge-on (as in Verhoef's ``volscatt``).
_EDGE_ON_TOL: float = 1e-6


class Geometry(NamedTuple):
    """LIDF-averaged geometric factors of 4SAIL, each of shape ``(*batch,)``.

    ``ks``, ``ko``: extinction coefficients in the solar and view directions; ``bf``: LIDF mean of
    :math:`\\cos^2\\theta_l`; ``sob``, ``sof``: backward/forward area-scattering weights (multiply leaf R, T);
    ``cts``, ``cto``: cosines of the solar and view zenith; ``dso``: the hotspot distance factor
    :math:`\\sqrt{\\tan^2\\theta_s + \\tan^2\\theta_o - 2\\tan\\theta_s\\tan\\theta_o\\cos\\psi}`.
    """

    ks: Array
    ko: Array
    bf: Array
    sob: Array
    sof: Array
    cts: Array
    cto: Array
    dso: Array


def _half_plane_angle(c: Array, s: Array) -> tuple[Array, Array]:
    """Azimuth ``β`` at which a leaf (cos part ``c``, sin part ``s``) is seen edge-on, and the matching ``d``.

    ``cos β = −c/s`` where ``|s| > tol`` and ``|c/s| < 1``; otherwise the leaf is always sunlit (β = π, d = c).
    """
    big = jnp.abs(s) > _EDGE_ON_TOL
    cosb = -c / jnp.where(big, s, 1.0)
    cosb = jnp.where(big, cosb, 5.0)
    inside = jnp.abs(cosb) < 1.0
    beta = jnp.where(inside, jnp.arccos(jnp.where(inside, cosb, 0.0)), math.pi)
    d = jnp.where(inside, s, c)
    return beta, d


def _projection(c: Array, s: Array, beta: Array) -> Array:
    """Azimuth-averaged projection :math:`\\chi = \\overline{|\\Omega\\cdot n_l|}` of a leaf class (Verhoef 1998)."""
    return (2.0 / math.pi) * ((beta - 0.5 * math.pi) * c + jnp.sin(beta) * s)


def leaf_projection(cos_zenith: Float[Array, "*batch"], angle_classes: str = "prosail") -> Float[Array, "*batch n"]:
    r"""Projection function per inclination class: :math:`\chi_l(\theta)`, the mean over leaf azimuth of
    :math:`|\Omega\cdot n_l|` for a direction of zenith cosine ``cos_zenith`` (either hemisphere; the sign is
    ignored), shape ``(*batch, n_classes)``.  The G-function of a leaf-angle distribution ``F`` is
    :math:`G(\theta) = \sum_l F_l\,\chi_l(\theta)` (≈ 0.5 for spherical leaves), and the extinction coefficient of 4SAIL
    is :math:`k = G/\cos\theta` (Ross 1981; Verhoef 1998, ch. 4)."""
    cz = jnp.abs(cos_zenith)
    sz = safe_sqrt(1.0 - cz**2)
    ttl = jnp.asarray(np.deg2rad(angle_class_centres(angle_classes)), dtype=cz.dtype).reshape((1,) * cz.ndim + (-1,))
    c = jnp.cos(ttl) * cz[..., None]
    s = jnp.sin(ttl) * sz[..., None]
    beta, _ = _half_plane_angle(c, s)
    return _projection(c, s, beta)


def safe_sqrt(x: Array) -> Array:
    """``sqrt(max(x, 0))`` with a zero (not NaN/inf) gradient at ``x ≤ 0`` (double-``where``)."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), 0.0)


def canopy_geometry(lidf: Float[Array, "*batch n"], sza: Float[Array, "*batch"], vza: Float[Array, "*batch"],
                    raa: Float[Array, "*batch"], angle_classes: str = "prosail") -> Geometry:
    """LIDF-averaged extinction and scattering coefficients.

    **Arguments:**
    - ``lidf``: leaf-area fraction per inclination class of the set ``angle_classes`` (static name, see
      ``ANGLE_CLASS_EDGES_DEG``), shape ``(*batch, n_classes)``.
    - ``sza``, ``vza``: solar and view zenith angles (degrees, 0 ≤ angle < 90), shape ``(*batch,)``.
    - ``raa``: relative azimuth between sun and view (degrees; folded into 0–180, 0 = hotspot side).

    **Returns:** :class:`Geometry`.
    """
    dt = lidf.dtype
    tts = sza * DEG2RAD
    tto = vza * DEG2RAD
    psi_deg = jnp.abs(raa) % 360.0
    psi_deg = jnp.where(psi_deg > 180.0, 360.0 - psi_deg, psi_deg)
    psi = psi_deg * DEG2RAD
    cts, cto = jnp.cos(tts), jnp.cos(tto)
    sts, sto = jnp.sin(tts), jnp.sin(tto)
    cospsi = jnp.cos(psi)

    nd = lidf.ndim - 1
    centres = angle_class_centres(angle_classes)
    if lidf.shape[-1] != centres.size:
        raise ValueError(f"lidf has {lidf.shape[-1]} classes but angle_classes={angle_classes!r} has {centres.size}")
    ttl = jnp.asarray(np.deg2rad(centres), dtype=dt).reshape((1,) * nd + (-1,))
    cttl, sttl = jnp.cos(ttl), jnp.sin(ttl)
    e = lambda v: v[..., None]  # noqa: E731  (*batch,) -> (*batch, 1)

    cs, co = cttl * e(cts), cttl * e(cto)
    ss, so = sttl * e(sts), sttl * e(sto)
    bts, ds = _half_plane_angle(cs, ss)
    bto, do = _half_plane_angle(co, so)
    chi_s = _projection(cs, ss, bts)
    chi_o = _projection(co, so, bto)

    # Sort (psi, |bts − bto|, π − |bts + bto − π|) into bt1 ≤ bt2 ≤ bt3 (btran1 ≤ btran2 always).
    btran1 = jnp.abs(bts - bto)
    btran2 = math.pi - jnp.abs(bts + bto - math.pi)
    p = e(psi)
    low, mid = p <= btran1, p <= btran2
    bt1 = jnp.where(low, p, btran1)
    bt2 = jnp.where(low, btran1, jnp.where(mid, p, btran2))
    bt3 = jnp.where(low, btran2, jnp.where(mid, btran2, p))

    t1 = 2.0 * cs * co + ss * so * e(cospsi)
    t2 = jnp.sin(bt2) * (2.0 * ds * do + ss * so * jnp.cos(bt1) * jnp.cos(bt3))
    denom = 2.0 * math.pi**2
    frho = jnp.maximum(((math.pi - bt2) * t1 + t2) / denom, 0.0)
    ftau = jnp.maximum((-bt2 * t1 + t2) / denom, 0.0)

    ks = jnp.sum(lidf * chi_s, axis=-1) / cts
    ko = jnp.sum(lidf * chi_o, axis=-1) / cto
    bf = jnp.sum(lidf * cttl**2, axis=-1)
    ctscto = cts * cto
    sob = jnp.sum(lidf * frho, axis=-1) * math.pi / ctscto
    sof = jnp.sum(lidf * ftau, axis=-1) * math.pi / ctscto

    tants, tanto = jnp.tan(tts), jnp.tan(tto)
    dso = safe_sqrt(tants**2 + tanto**2 - 2.0 * tants * tanto * cospsi)
    return Geometry(ks=ks, ko=ko, bf=bf, sob=sob, sof=sof, cts=cts, cto=cto, dso=dso)
