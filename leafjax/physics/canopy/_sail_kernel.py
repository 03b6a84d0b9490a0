r"""The two stages of 4SAIL: per-spectrum terms (geometry, hotspot, LIDF sums) and the per-band kernel.

4SAIL splits cleanly into work that depends only on the canopy structure and the sun-view geometry (one value per
spectrum: extinction ``k``, ``K``, LIDF-weighted scattering weights, direct transmittances, the hotspot integral)
and work per band (leaf :math:`\rho, \tau` and soil :math:`r_s`).  :func:`spectrum_terms` does the first once per
spectrum; :func:`band_kernel` the second, with every band-independent factor hoisted into :class:`SpectrumTerms`.
A band costs one square root, one exponential and eight divisions (XLA's optimised HLO, per element: 8 divide,
1 exp, 1 sqrt, ~125 add/sub/mul, 4 select, in three loop fusions: ``m``, :math:`r_\infty` and the rest), the
reciprocals of :math:`a = \mathrm{att} + m`, :math:`k \pm m`, :math:`K \pm m`, :math:`1 - r_\infty^2 e^{-2mL}`,
:math:`1 - r_\infty^2` and the soil coupling :math:`(1 - r_\infty^2 e^{-2mL}) - r_s r_\infty (1 - e^{-2mL})`
(= :math:`(1 - r_s\rho_{dd})(1 - r_\infty^2 e^{-2mL})`).  Sharing divisions through products of reciprocals
measured no faster on CPU: it gives values several consumers, which XLA then materialises in fusions of their
own.  ``tdd`` and ``rs/(1 − rs·rdd)`` are written so that they are exact at ``lai = 0`` (``e^{-mL} = 1``).

``e^{-2mL}`` is written as :math:`(r_\infty e^{-mL})^2` and :math:`(1 - e^{-mL})(1 + e^{-mL})`, so XLA cannot
turn it into a second exponential.  The equations are those documented in :mod:`._sail` (Verhoef et al. 2007).

References:
    Verhoef, W., Jia, L., Xiao, Q., Su, Z. (2007) IEEE TGRS 45:1808–1822, doi:10.1109/TGRS.2007.895844.
    Kuusk, A. (1991) in Photon-Vegetation Interactions, Springer, 89–116.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array

from ._geometry import Geometry

#: Number of exponential-Simpson steps of the hotspot depth integral (SAIL convention).
HOTSPOT_STEPS: int = 20
#: Stand-in for α = ∞ (no hotspot, ``hotspot = 0``), as in SAIL; representable in float32.
HOTSPOT_ALPHA_NONE: float = 1e36
#: |(k − m)·L| below which :math:`J_1` uses its second-order series (SAIL convention).
J1_SERIES_THRESHOLD: float = 1e-3
#: |x| below which ``expm1(x)/x`` and ``(1 − e^{−x})/x`` use their series.
EXPREL_THRESHOLD: float = 1e-6


class SpectrumTerms(NamedTuple):
    """Band-independent terms of 4SAIL, each of shape ``(*batch,)`` (dimensionless).

    ``lai``; ``ks``, ``ko``: extinction (sun, view); ``bf``: LIDF mean of cos² θl; ``ddb``, ``ddf``, ``sdb``,
    ``sdf``, ``dob``, ``dof``: the diffuse/solar/view scattering weights of leaf R and T; ``wb``, ``wf``: the
    single-scattering weights (``rsos = wb ρ + wf τ``, i.e. ``sob·L·sumint``, ``sof·L·sumint``); ``tss``,
    ``too``: direct transmittances; ``tsstoo``: joint gap probability; ``z``: :math:`J_2(k, K, L)`.
    """

    lai: Array
    ks: Array
    ko: Array
    bf: Array
    ddb: Array
    ddf: Array
    sdb: Array
    sdf: Array
    dob: Array
    dof: Array
    wb: Array
    wf: Array
    tss: Array
    too: Array
    tsstoo: Array
    z: Array


def exprel(x: Array) -> Array:
    """``expm1(x) / x`` → 1 at 0, safe to differentiate."""
    small = jnp.abs(x) < EXPREL_THRESHOLD
    xs = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 + 0.5 * x, jnp.expm1(xs) / xs)


def _hotspot(lai: Array, hotspot: Array, g: Geometry, tss: Array) -> tuple[Array, Array]:
    r"""Joint gap probability :math:`\tau_{ssoo}` and the single-scattering depth integral (Kuusk 1991).

    All arguments and results have shape ``(*batch,)``.  Returns ``(tsstoo, sumint)`` with
    :math:`\rho_{so}^{(1)} = w\,L\cdot\mathrm{sumint}`.
    """
    ks, ko = g.ks, g.ko
    has_h = hotspot > 0
    alf = jnp.where(has_h, (g.dso / jnp.where(has_h, hotspot, 1.0)) * 2.0 / (ks + ko), HOTSPOT_ALPHA_NONE)
    outside = alf > 0
    a = jnp.where(outside, alf, 1.0)
    fhot = lai * jnp.sqrt(ko * ks)
    fint = -jnp.expm1(-a) / HOTSPOT_STEPS
    i = jnp.arange(1, HOTSPOT_STEPS, dtype=lai.dtype).reshape((1,) * lai.ndim + (-1,))
    # x_i: depths (fractions of L) at equal steps of 1 − e^{−α x}; x_0 = 0, x_20 = 1.
    xi = -jnp.log1p(-i * fint[..., None]) / a[..., None]
    zero = jnp.zeros_like(xi[..., :1])
    x = jnp.concatenate([zero, xi, zero + 1.0], axis=-1)
    y = -((ko + ks) * lai)[..., None] * x + fhot[..., None] * (-jnp.expm1(-a[..., None] * x)) / a[..., None]
    f = jnp.exp(y)
    # Σ (f_i − f_{i−1})(x_i − x_{i−1})/(y_i − y_{i−1}), with (f_i − f_{i−1})/(y_i − y_{i−1}) = f_{i−1}·exprel(Δy).
    sumint = jnp.sum(f[..., :-1] * exprel(y[..., 1:] - y[..., :-1]) * (x[..., 1:] - x[..., :-1]), axis=-1)
    tsstoo = jnp.where(outside, f[..., -1], tss)
    sumint = jnp.where(outside, sumint, exprel(-ks * lai))
    return tsstoo, sumint


def spectrum_terms(lai: Array, hotspot: Array, g: Geometry) -> SpectrumTerms:
    """All band-independent terms of 4SAIL from the leaf area index, hotspot parameter and geometry.

    **Arguments:** ``lai``, ``hotspot`` (dimensionless) and ``g`` (:class:`Geometry`), shape ``(*batch,)``.
    """
    ks, ko, bf = g.ks, g.ko, g.bf
    tss = jnp.exp(-ks * lai)
    too = jnp.exp(-ko * lai)
    tsstoo, sumint = _hotspot(lai, hotspot, g, tss)
    # J2(k, K, L) = (1 − e^{−(k+K)L})/(k + K) (k + K > 0).
    z = -jnp.expm1(-(ks + ko) * lai) / (ks + ko)
    wl = lai * sumint
    return SpectrumTerms(lai=lai, ks=ks, ko=ko, bf=bf, ddb=0.5 * (1.0 + bf), ddf=0.5 * (1.0 - bf),
                         sdb=0.5 * (ks + bf), sdf=0.5 * (ks - bf), dob=0.5 * (ko + bf), dof=0.5 * (ko - bf),
                         wb=g.sob * wl, wf=g.sof * wl, tss=tss, too=too, tsstoo=tsstoo, z=z)


def _j1(k: Array, m: Array, t: Array, ekt: Array, emt: Array, small: Array, inv_diff: Array) -> Array:
    r""":math:`J_1(k, m, t) = (e^{-m t} - e^{-k t})/(k - m)`, with SAIL's series where ``small``
    (:math:`|(k-m)t| \le 10^{-3}`); ``inv_diff`` is :math:`1/(k - m)` where not ``small``."""
    delta = (k - m) * t
    series = 0.5 * t * (ekt + emt) * (1.0 - delta * delta * (1.0 / 12.0))
    return jnp.where(small, series, (emt - ekt) * inv_diff)


def band_kernel(rho: Array, tau: Array, rs: Array, s: SpectrumTerms) -> dict[str, Array]:
    """4SAIL per band: leaf ``rho``, ``tau`` and soil ``rs`` of shape ``(*batch, wl)``; ``s`` of shape
    ``(*batch,)``.  Returns the spectral fields of :class:`~._sail.CanopyReflectance` by name."""
    e = lambda v: v[..., None]  # noqa: E731  (*batch,) -> (*batch, 1)
    L, ks, ko, tss, too = e(s.lai), e(s.ks), e(s.ko), e(s.tss), e(s.too)
    sigb = e(s.ddb) * rho + e(s.ddf) * tau
    att = 1.0 - (e(s.ddf) * rho + e(s.ddb) * tau)
    sb, sf = e(s.sdb) * rho + e(s.sdf) * tau, e(s.sdf) * rho + e(s.sdb) * tau
    vb, vf = e(s.dob) * rho + e(s.dof) * tau, e(s.dof) * rho + e(s.dob) * tau
    # Eigenvalue m = sqrt(att² − sigb²) = sqrt((1 − ρ − τ)(att + sigb)), att + sigb = 1 + bf (ρ − τ).
    m = jnp.sqrt((1.0 - rho - tau) * (1.0 + e(s.bf) * (rho - tau)))
    rinf = sigb / (att + m)  # = (att − m)/sigb, without the cancellation
    e1 = jnp.exp(-m * L)
    re = rinf * e1
    denom = 1.0 - re * re
    one_m_e2 = (1.0 - e1) * (1.0 + e1)
    one_m_r2 = 1.0 - rinf * rinf
    u = rs * rinf * one_m_e2  # rs·rdd·denom
    soil_denom = denom - u  # (1 − rs·rdd)·denom
    ksm, kom = ks + m, ko + m
    small_s = jnp.abs((ks - m) * L) <= J1_SERIES_THRESHOLD
    small_o = jnp.abs((ko - m) * L) <= J1_SERIES_THRESHOLD
    dks = jnp.where(small_s, 1.0, ks - m)
    dko = jnp.where(small_o, 1.0, ko - m)
    # Plain reciprocals: sharing one division between 1/(k + m) and 1/(k − m) would give the select of k − m
    # two consumers, which XLA then materialises in a fusion of its own (measured slower).
    inv_ksm, inv_dks = 1.0 / ksm, 1.0 / dks
    inv_kom, inv_dko = 1.0 / kom, 1.0 / dko
    inv_denom, inv_r2, inv_soil = 1.0 / denom, 1.0 / one_m_r2, 1.0 / soil_denom

    j1ks = _j1(ks, m, L, tss, e1, small_s, inv_dks)
    j1ko = _j1(ko, m, L, too, e1, small_o, inv_dko)
    j2ks = (1.0 - tss * e1) * inv_ksm
    j2ko = (1.0 - too * e1) * inv_kom
    s_f, s_b = sf + sb * rinf, sf * rinf + sb
    v_f, v_b = vf + vb * rinf, vf * rinf + vb
    pss, qss = s_f * j1ks, s_b * j2ks
    pv, qv = v_f * j1ko, v_b * j2ko
    rdd = rinf * one_m_e2 * inv_denom
    tdd = e1 * (1.0 - rinf * rdd)  # = (1 − rinf²) e1 / denom, exact (e1) at lai = 0
    tsd = (pss - re * qss) * inv_denom
    rsd = (qss - re * pss) * inv_denom
    tdo = (pv - re * qv) * inv_denom
    rdo = (qv - re * pv) * inv_denom

    z = e(s.z)
    t1 = v_b * ((z - j1ks * too) * inv_kom) * s_f
    t2 = v_f * ((z - j1ko * tss) * inv_ksm) * s_b
    t3 = (rdo * qss + tdo * pss) * rinf
    rsod = (t1 + t2 - t3) * inv_r2
    rsos = e(s.wb) * rho + e(s.wf) * tau
    rso = rsos + rsod

    # Coupling with the Lambertian soil (adding method); rs_dn = rs/(1 − rs·rdd) = rs + rs·u/soil_denom.
    rs_dn = rs + rs * u * inv_soil
    rddt = rdd + tdd * rs_dn * tdd
    rsdt = rsd + (tsd + tss) * rs_dn * tdd
    rdot = rdo + tdd * rs_dn * (tdo + too)
    rsodt = ((tss + tsd) * tdo + (tsd + tss * rs * rdd) * too) * rs_dn
    rsost = rso + e(s.tsstoo) * rs
    rsot = rsost + rsodt
    return dict(rsot=rsot, rddt=rddt, rsdt=rsdt, rdot=rdot, rsost=rsost, rsodt=rsodt, rdd=rdd, tdd=tdd, rsd=rsd,
                tsd=tsd, rdo=rdo, tdo=tdo, rso=rso, rsos=rsos, rsod=rsod)
