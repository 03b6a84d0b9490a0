r"""4SAIL canopy reflectance (Verhoef et al. 2007) with the Kuusk (1991) hotspot, as pure JAX.

A horizontally homogeneous layer of leaves (reflectance :math:`\rho`, transmittance :math:`\tau`, area index
``lai``, inclination distribution ``lidf``) over a Lambertian soil (reflectance :math:`r_s`).  The four-stream
solution of Verhoef (1984, 2007) gives the canopy-only fluxes

- :math:`\tau_{ss} = e^{-k\,L}`, :math:`\tau_{oo} = e^{-K\,L}`: direct transmittances (sun and view paths);
- :math:`\rho_{dd}, \tau_{dd}`: diffuse reflectance and transmittance;
- :math:`\rho_{sd}, \tau_{sd}`: directional-hemispherical; :math:`\rho_{do}, \tau_{do}`: hemispherical-directional;
- :math:`\rho_{so} = \rho_{so}^{(1)} + \rho_{so}^{(m)}`: bidirectional (single scattering with the hotspot joint
  gap probability :math:`\tau_{ssoo}`, plus multiple scattering),

and the top-of-canopy reflectance factors including the soil by adding the layers:

.. math::
   r_{dd}^t = \rho_{dd} + \frac{\tau_{dd} r_s \tau_{dd}}{1 - r_s\rho_{dd}},\quad
   r_{sd}^t = \rho_{sd} + \frac{(\tau_{sd} + \tau_{ss}) r_s \tau_{dd}}{1 - r_s\rho_{dd}},\quad
   r_{do}^t = \rho_{do} + \frac{\tau_{dd} r_s (\tau_{do} + \tau_{oo})}{1 - r_s\rho_{dd}},

   r_{so}^t = \rho_{so} + \tau_{ssoo} r_s
   + \frac{\left[(\tau_{ss} + \tau_{sd})\tau_{do} + (\tau_{sd} + \tau_{ss} r_s \rho_{dd})\tau_{oo}\right] r_s}
          {1 - r_s\rho_{dd}}.

The hotspot follows Kuusk (1991) as implemented in SAIL: the joint gap probability along sun and view paths is
integrated over depth by the exponential Simpson rule in 20 steps of equal slope of the joint probability, with
:math:`\alpha = \frac{d_{so}}{h}\cdot\frac{2}{k + K}` (the :math:`2/(k+K)` correction of F.-M. Bréon).  The
limits ``hotspot → 0`` (no hotspot), ``d_so = 0`` (exact hotspot direction) and ``lai = 0`` (bare soil: all
four factors equal the soil reflectance) are evaluated without branching and with finite gradients.

References:
    Verhoef, W. (1984) Remote Sens. Environ. 16:125–141, doi:10.1016/0034-4257(84)90057-9.
    Kuusk, A. (1991) in Photon-Vegetation Interactions, Springer, 89–116; Kuusk (1985) Sov. J. Remote Sens. 3.
    Verhoef, W., Jia, L., Xiao, Q., Su, Z. (2007) IEEE TGRS 45:1808–1822, doi:10.1109/TGRS.2007.895844.
    Jacquemoud, S. et al. (2009) Remote Sens. Environ. 113:S56–S66 (PROSPECT + SAIL review).
"""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
import equinox as eqx
from jaxtyping import Array, ArrayLike, Float

from ..._parameters import defaults
from ._geometry import Geometry, canopy_geometry
from ._lidf import LIDF_TYPES, angle_class_edges, lidf as _lidf

_asarray = jnp.asarray
#: Canonical defaults of the optional 4SAIL parameters (registry :data:`leafjax._parameters.SAIL`).
_DEFAULTS = defaults("4sail")

#: Number of exponential-Simpson steps of the hotspot depth integral (SAIL convention).
HOTSPOT_STEPS: int = 20
#: Stand-in for α = ∞ (no hotspot, ``hotspot = 0``), as in SAIL; representable in float32.
HOTSPOT_ALPHA_NONE: float = 1e36
#: |(k − m)·L| below which :math:`J_1` uses its second-order series (SAIL convention).
_J1_SERIES_THRESHOLD: float = 1e-3
#: |x| below which ``expm1(x)/x`` and ``(1 − e^{−x})/x`` use their series.
_EXPREL_THRESHOLD: float = 1e-6


class CanopyParams(eqx.Module):
    """Canopy structure and sun–view geometry of 4SAIL, with the project's canonical names.

    Array fields broadcast against each other (their broadcast shape is the batch shape).

    **Fields:**
    - ``lai``: leaf area index (m²/m², ≥ 0; 0 = bare soil).
    - ``lidf_a``: for ``lidf_type="campbell"`` the mean leaf inclination angle (degrees); for ``"verhoef"`` the
      average-slope parameter *a* (dimensionless).
    - ``lidf_b``: bimodality parameter *b* of the Verhoef LIDF (dimensionless; ignored by Campbell).
    - ``hotspot``: hotspot size parameter, ratio of leaf size to canopy height (dimensionless, ≥ 0; at exactly
      0 the hotspot is off and its gradient is returned as 0).
    - ``sza``, ``vza``: solar and view zenith angles (degrees, in [0, 90)).
    - ``raa``: relative azimuth between sun and sensor (degrees; 0 = backscatter/hotspot side).
    - ``lidf_type``: static string, ``"campbell"`` or ``"verhoef"``.
    - ``angle_classes``: static string, the leaf-inclination classes: ``"prosail"`` (18 × 5°, as PyPI
      ``prosail``; default) or ``"sail"`` (the 13 classes of Verhoef's SAIL codes).

    Defaults (the registry :data:`leafjax._parameters.SAIL`, which also gives the physical bounds): ``lidf_b = 0``,
    ``hotspot = 0.01``, ``sza = 30``, ``vza = 0``, ``raa = 0``, ``lidf_type = "campbell"``; ``lai`` and ``lidf_a``
    are required.
    """

    lai: Float[Array, "*batch"] = eqx.field(converter=_asarray)
    lidf_a: Float[Array, "*batch"] = eqx.field(converter=_asarray)
    lidf_b: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["lidf_b"])
    hotspot: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["hotspot"])
    sza: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["sza"])
    vza: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["vza"])
    raa: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["raa"])
    lidf_type: str = eqx.field(static=True, default="campbell")
    angle_classes: str = eqx.field(static=True, default="prosail")

    names: ClassVar[tuple[str, ...]] = ("lai", "lidf_a", "lidf_b", "hotspot", "sza", "vza", "raa")

    def __check_init__(self):
        if self.lidf_type not in LIDF_TYPES:
            raise ValueError(f"unknown lidf_type {self.lidf_type!r}; choose one of: {', '.join(LIDF_TYPES)}")
        angle_class_edges(self.angle_classes)  # raises for an unknown name

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the array fields."""
        return jnp.broadcast_shapes(*(jnp.shape(getattr(self, n)) for n in self.names))


class CanopyReflectance(eqx.Module):
    """Outputs of 4SAIL. Spectral fields have shape ``(*batch, wl)``; ``tss``, ``too``, ``tsstoo`` ``(*batch,)``.

    Top-of-canopy reflectance factors (canopy + soil):
    ``rsot`` bidirectional, ``rddt`` bi-hemispherical, ``rsdt`` directional-hemispherical, ``rdot``
    hemispherical-directional; ``rsost`` / ``rsodt`` the single-/multiple-scattering-with-soil parts of ``rsot``.

    Canopy-layer (black-soil) fluxes: ``tss``, ``too`` direct transmittance in the sun / view path, ``tsstoo``
    joint (hotspot) gap probability; ``rdd``, ``tdd`` diffuse reflectance/transmittance; ``rsd``, ``tsd``
    directional-hemispherical; ``rdo``, ``tdo`` hemispherical-directional; ``rso`` bidirectional reflectance
    with ``rsos`` (single scattering) + ``rsod`` (multiple scattering).
    """

    rsot: Float[Array, "*batch wl"]
    rddt: Float[Array, "*batch wl"]
    rsdt: Float[Array, "*batch wl"]
    rdot: Float[Array, "*batch wl"]
    rsost: Float[Array, "*batch wl"]
    rsodt: Float[Array, "*batch wl"]
    tss: Float[Array, "*batch"]
    too: Float[Array, "*batch"]
    tsstoo: Float[Array, "*batch"]
    rdd: Float[Array, "*batch wl"]
    tdd: Float[Array, "*batch wl"]
    rsd: Float[Array, "*batch wl"]
    tsd: Float[Array, "*batch wl"]
    rdo: Float[Array, "*batch wl"]
    tdo: Float[Array, "*batch wl"]
    rso: Float[Array, "*batch wl"]
    rsos: Float[Array, "*batch wl"]
    rsod: Float[Array, "*batch wl"]


def _exprel(x: Array) -> Array:
    """``expm1(x) / x`` → 1 at 0, safe to differentiate."""
    small = jnp.abs(x) < _EXPREL_THRESHOLD
    xs = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 + 0.5 * x, jnp.expm1(xs) / xs)


def _one_minus_exp_over(x: Array) -> Array:
    """``(1 − e^{−x}) / x`` → 1 at 0, safe to differentiate."""
    return _exprel(-x)


def _j1(k: Array, m: Array, t: Array, ekt: Array, emt: Array) -> Array:
    r""":math:`J_1(k, m, t) = (e^{-m t} - e^{-k t})/(k - m)`, with SAIL's series for :math:`|(k-m)t| \le 10^{-3}`.

    ``ekt`` = :math:`e^{-k t}` and ``emt`` = :math:`e^{-m t}` are passed in (computed once, shared).
    """
    delta = (k - m) * t
    small = jnp.abs(delta) <= _J1_SERIES_THRESHOLD
    diff = jnp.where(small, 1.0, k - m)
    exact = (emt - ekt) / diff
    series = 0.5 * t * (ekt + emt) * (1.0 - delta * delta / 12.0)
    return jnp.where(small, series, exact)


def _j2(k: Array, m: Array, t: Array) -> Array:
    r""":math:`J_2(k, m, t) = (1 - e^{-(k+m)t})/(k + m)` (k + m > 0)."""
    return -jnp.expm1(-(k + m) * t) / (k + m)


def _hotspot(lai: Array, hotspot: Array, g: Geometry) -> tuple[Array, Array]:
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
    sumint = jnp.sum(f[..., :-1] * _exprel(y[..., 1:] - y[..., :-1]) * (x[..., 1:] - x[..., :-1]), axis=-1)
    tss = jnp.exp(-ks * lai)
    tsstoo = jnp.where(outside, f[..., -1], tss)
    sumint = jnp.where(outside, sumint, _one_minus_exp_over(ks * lai))
    return tsstoo, sumint


def _broadcast_inputs(leaf_r, leaf_t, soil, params: CanopyParams):
    leaf_r, leaf_t, soil = jnp.asarray(leaf_r), jnp.asarray(leaf_t), jnp.asarray(soil)
    for name, v in (("leaf_r", leaf_r), ("leaf_t", leaf_t), ("soil", soil)):
        if v.ndim < 1:
            raise ValueError(f"{name} must have a trailing wavelength axis, got shape {v.shape}")
    wl = jnp.broadcast_shapes(leaf_r.shape[-1:], leaf_t.shape[-1:], soil.shape[-1:])
    batch = jnp.broadcast_shapes(params.batch_shape, leaf_r.shape[:-1], leaf_t.shape[:-1], soil.shape[:-1])
    dt = jnp.result_type(leaf_r, leaf_t, soil, *(getattr(params, n) for n in params.names))
    if not jnp.issubdtype(dt, jnp.floating):
        dt = jnp.result_type(float)
    spec = lambda v: jnp.broadcast_to(v.astype(dt), batch + wl)  # noqa: E731
    scal = lambda n: jnp.broadcast_to(getattr(params, n).astype(dt), batch)  # noqa: E731
    return spec(leaf_r), spec(leaf_t), spec(soil), {n: scal(n) for n in params.names}


def sail(leaf_r: Float[ArrayLike, "*#batch wl"], leaf_t: Float[ArrayLike, "*#batch wl"],
         soil: Float[ArrayLike, "*#batch wl"], params: CanopyParams) -> CanopyReflectance:
    r"""4SAIL canopy reflectance factors and fluxes.

    **Arguments:**
    - ``leaf_r``, ``leaf_t``: leaf (Lambertian) reflectance and transmittance, fractions with
      :math:`\rho + \tau < 1`, shape ``(*batch, wl)`` (any broadcastable leading shape).
    - ``soil``: Lambertian soil reflectance, shape ``(*batch, wl)``.
    - ``params``: :class:`CanopyParams` (batch shape broadcastable with the spectra's leading shape).

    **Returns:** :class:`CanopyReflectance`; dtype is the common float dtype of the inputs.

    Pure and jit/vmap/grad-able with respect to every array input, including the leaf spectra given directly.

    Example:
        >>> import jax.numpy as jnp
        >>> r = jnp.full((3,), 0.45); t = jnp.full((3,), 0.45); s = jnp.full((3,), 0.2)
        >>> out = sail(r, t, s, CanopyParams(lai=3.0, lidf_a=57.0, hotspot=0.1, sza=30.0, vza=10.0, raa=0.0))
        >>> out.rsot.shape
        (3,)
    """
    rho, tau, rs, p = _broadcast_inputs(leaf_r, leaf_t, soil, params)
    lai = p["lai"]
    leaf_dist = _lidf(params.lidf_type, p["lidf_a"], p["lidf_b"], dtype=rho.dtype, angle_classes=params.angle_classes)
    g = canopy_geometry(leaf_dist, p["sza"], p["vza"], p["raa"], params.angle_classes)
    e = lambda v: v[..., None]  # noqa: E731  (*batch,) -> (*batch, 1)
    ks, ko, bf, L = e(g.ks), e(g.ko), e(g.bf), e(lai)

    # Scattering coefficients of the four-stream equations (Verhoef 2007, eqs. 21–27).
    sdb, sdf = 0.5 * (ks + bf), 0.5 * (ks - bf)
    dob, dof = 0.5 * (ko + bf), 0.5 * (ko - bf)
    ddb, ddf = 0.5 * (1.0 + bf), 0.5 * (1.0 - bf)
    sigb = ddb * rho + ddf * tau
    sigf = ddf * rho + ddb * tau
    att = 1.0 - sigf
    sb, sf = sdb * rho + sdf * tau, sdf * rho + sdb * tau
    vb, vf = dob * rho + dof * tau, dof * rho + dob * tau
    w = e(g.sob) * rho + e(g.sof) * tau

    # Eigenvalue m = sqrt(att² − sigb²) = sqrt((1 − ρ − τ)(att + sigb)); rinf = (att − m)/sigb = sigb/(att + m).
    m = jnp.sqrt((1.0 - rho - tau) * (att + sigb))
    rinf = sigb / (att + m)
    rinf2 = rinf * rinf
    e1 = jnp.exp(-m * L)
    e2 = e1 * e1
    re = rinf * e1
    denom = 1.0 - rinf2 * e2

    tss_s = jnp.exp(-g.ks * lai)
    too_s = jnp.exp(-g.ko * lai)
    tss, too = e(tss_s), e(too_s)
    # J2(k, m, L) = (1 − e^{−(k+m)L})/(k + m) with e^{−(k+m)L} = e^{−kL}·e^{−mL}: one exp per band in total.
    inv_ksm, inv_kom = 1.0 / (ks + m), 1.0 / (ko + m)
    j1ks, j2ks = _j1(ks, m, L, tss, e1), (1.0 - tss * e1) * inv_ksm
    j1ko, j2ko = _j1(ko, m, L, too, e1), (1.0 - too * e1) * inv_kom
    pss, qss = (sf + sb * rinf) * j1ks, (sf * rinf + sb) * j2ks
    pv, qv = (vf + vb * rinf) * j1ko, (vf * rinf + vb) * j2ko
    inv_denom = 1.0 / denom
    tdd = (1.0 - rinf2) * e1 * inv_denom
    rdd = rinf * (1.0 - e2) * inv_denom
    tsd = (pss - re * qss) * inv_denom
    rsd = (qss - re * pss) * inv_denom
    tdo = (pv - re * qv) * inv_denom
    rdo = (qv - re * pv) * inv_denom

    z = _j2(ks, ko, L)
    g1 = (z - j1ks * too) * inv_kom
    g2 = (z - j1ko * tss) * inv_ksm
    tv1 = (vf * rinf + vb) * g1
    tv2 = (vf + vb * rinf) * g2
    t1 = tv1 * (sf + sb * rinf)
    t2 = tv2 * (sf * rinf + sb)
    t3 = (rdo * qss + tdo * pss) * rinf
    rsod = (t1 + t2 - t3) / (1.0 - rinf2)

    tsstoo_s, sumint = _hotspot(lai, p["hotspot"], g)
    rsos = w * L * e(sumint)
    rso = rsos + rsod

    # Coupling with the Lambertian soil (adding method).
    rs_dn = rs / (1.0 - rs * rdd)
    rddt = rdd + tdd * rs_dn * tdd
    rsdt = rsd + (tsd + tss) * rs_dn * tdd
    rdot = rdo + tdd * rs_dn * (tdo + too)
    rsodt = ((tss + tsd) * tdo + (tsd + tss * rs * rdd) * too) * rs_dn
    rsost = rso + e(tsstoo_s) * rs
    rsot = rsost + rsodt
    return CanopyReflectance(rsot=rsot, rddt=rddt, rsdt=rsdt, rdot=rdot, rsost=rsost, rsodt=rsodt, tss=tss_s,
                             too=too_s, tsstoo=tsstoo_s, rdd=rdd, tdd=tdd, rsd=rsd, tsd=tsd, rdo=rdo, tdo=tdo,
                             rso=rso, rsos=rsos, rsod=rsod)
