r"""The water-cloud model of vegetation backscatter (Attema & Ulaby 1978), per polarisation.

The canopy is a cloud of identical water droplets above a soil; the backscattering coefficient (linear, m² m⁻²) is
the cloud's own (volume) contribution plus the soil's, attenuated twice through the cloud:

.. math::
    \sigma^0 = A\,V_1\cos\theta\,(1 - \gamma^2) + \gamma^2\,\sigma^0_{\mathrm{soil}}, \qquad
    \gamma^2 = \exp\!\left(-\frac{2\,B\,V_2}{\cos\theta}\right), \qquad
    \sigma^0_{\mathrm{soil}}[\mathrm{dB}] = C + D\,m_v

with :math:`\theta` the incidence angle, :math:`\gamma^2` the two-way transmissivity of the canopy,
:math:`m_v` the volumetric soil moisture (m³ m⁻³) and the vegetation descriptors :math:`V_1, V_2`
(:attr:`WaterCloudCoefficients.descriptor`):

* ``"lai"`` (default): :math:`V_1 = \mathrm{LAI}^E`, :math:`V_2 = \mathrm{LAI}` (m² m⁻²) — the LAI form with an
  exponent on the volume term (Prévot et al. 1993, Remote Sens. Environ. 46:331–339); :math:`E = 1` gives
  :math:`V_1 = V_2 = \mathrm{LAI}`;
* ``"cwc"``: :math:`V_1 = W^E`, :math:`V_2 = W`, with :math:`W` the canopy water content in kg m⁻² (the
  argument ``cwc`` is in g m⁻², the registry's unit; :math:`W = \mathrm{cwc}/1000`) — the water content of the
  cloud, the descriptor of Attema & Ulaby (1978).

Limits (exact in floating point, and tested): at :math:`V_2 = 0` (bare soil, LAI = 0) :math:`\gamma^2 = 1` and
:math:`\sigma^0 = \sigma^0_{\mathrm{soil}}`; as :math:`V_2 \to \infty` :math:`\gamma^2 \to 0` and
:math:`\sigma^0 \to A V_1\cos\theta`, the vegetation-only term.  :math:`1 - \gamma^2` is computed as
``-expm1(-τ)`` (accurate for thin canopies).  The soil term here has no angular dependence of its own: at one
incidence angle it is absorbed into :math:`C` (the usual simplification for one orbit/swath position; Ulaby,
Moore & Fung 1986, *Microwave Remote Sensing* vol. III, ch. 21, for the angular behaviour of soil and canopy
backscatter).

All inputs broadcast against each other (including the coefficient fields, e.g. one :math:`C` per scene and
date); every function is pure, jit/vmap-able and differentiable in the inputs and the coefficients, in float32
or float64 (the inputs' dtype; coefficients are cast to it).  Concrete inputs are validated before any compute
(one-line ``ValueError``); traced inputs are not.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..._parameters import specs
from ._units import db_to_linear, linear_to_db

#: Vegetation descriptors of :class:`WaterCloudCoefficients` (see the module docstring).
DESCRIPTORS: tuple[str, ...] = ("lai", "cwc")
#: Channel order of leafjax's dual-polarisation radar arrays (the order of the real S1/S2 LAI sample's files).
CHANNELS: tuple[str, ...] = ("vh", "vv")
#: kg m⁻² per g m⁻² (the ``cwc`` argument is in g m⁻², the descriptor :math:`W` in kg m⁻²).
KG_PER_G: float = 1.0e-3

#: Default coefficients per polarisation, at C band (Sentinel-1, 5.405 GHz), descriptor ``"lai"``.  **These are
#: assumed starting values, placeholders to be calibrated** (e.g. with :func:`leafjax.inversion.fit_water_cloud`
#: on real data): they were chosen only so that σ⁰ stays within the usual Sentinel-1 ranges over crops at 39°
#: (VV about −15 to −7 dB, VH about −25 to −15 dB for LAI 0–5), not taken from a publication.  ``d`` is an
#: assumed soil-moisture sensitivity of the order reported for C band over bare agricultural soils (a few tenths
#: of a dB per vol. %); it is not identifiable without soil-moisture data.  Units: ``a`` linear σ⁰ per unit
#: :math:`V_1` (m² m⁻² per (m² m⁻²)^E); ``b`` per unit :math:`V_2` ((m² m⁻²)⁻¹); ``c`` dB; ``d`` dB per m³ m⁻³;
#: ``e`` dimensionless.
DEFAULT_COEFFICIENTS: dict[str, dict[str, float]] = {
    "vv": {"a": 0.05, "b": 0.15, "c": -15.0, "d": 20.0, "e": 1.0},
    "vh": {"a": 0.01, "b": 0.10, "c": -24.0, "d": 15.0, "e": 1.0},
}


def _as_float_array(x) -> Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


class WaterCloudCoefficients(eqx.Module):
    """Water-cloud coefficients of one polarisation (a pytree; every field broadcasts with the inputs).

    **Fields:**
    - ``a``: vegetation volume-scattering coefficient :math:`A` (linear σ⁰ per unit :math:`V_1`; > 0).
    - ``b``: vegetation attenuation coefficient :math:`B` (per unit :math:`V_2`, e.g. (m² m⁻²)⁻¹ for LAI; ≥ 0).
    - ``c``: bare-soil backscatter at zero soil moisture :math:`C` (dB).
    - ``d``: soil-moisture sensitivity :math:`D` (dB per m³ m⁻³; 20 = 0.2 dB per vol. %).
    - ``e``: exponent :math:`E` of the volume descriptor :math:`V_1 = V^E` (dimensionless, ≥ 0; default 1).
    - ``descriptor``: ``"lai"`` or ``"cwc"`` (static; see the module docstring).

    Example:
        >>> co = WaterCloudCoefficients(a=0.05, b=0.15, c=-15.0, d=20.0)
        >>> round(float(water_cloud_db(0.0, 0.25, 39.0, co)), 6)    # bare soil: C + D·mv
        -10.0
    """

    a: Float[Array, "*#c"] = eqx.field(converter=_as_float_array)
    b: Float[Array, "*#c"] = eqx.field(converter=_as_float_array)
    c: Float[Array, "*#c"] = eqx.field(converter=_as_float_array)
    d: Float[Array, "*#c"] = eqx.field(converter=_as_float_array)
    e: Float[Array, "*#c"] = eqx.field(converter=_as_float_array, default=1.0)
    descriptor: str = eqx.field(static=True, default="lai")

    def __check_init__(self):
        if self.descriptor not in DESCRIPTORS:
            raise ValueError(f"unknown water-cloud descriptor {self.descriptor!r}; known: {', '.join(DESCRIPTORS)}")


class RadarCoefficients(eqx.Module):
    """Water-cloud coefficients of both Sentinel-1 polarisations: ``vh`` and ``vv``
    (:class:`WaterCloudCoefficients` each)."""

    vh: WaterCloudCoefficients
    vv: WaterCloudCoefficients


def default_coefficients(polarisation: str = "vv", *, dtype=None) -> WaterCloudCoefficients:
    """The assumed starting coefficients :data:`DEFAULT_COEFFICIENTS` of ``"vv"`` or ``"vh"`` (placeholders to
    be calibrated; see there), as arrays of ``dtype`` (default: JAX's default float)."""
    key = str(polarisation).lower()
    if key not in DEFAULT_COEFFICIENTS:
        raise ValueError(f"unknown polarisation {polarisation!r}; known: {', '.join(DEFAULT_COEFFICIENTS)}")
    return WaterCloudCoefficients(**{k: jnp.asarray(v, dtype) for k, v in DEFAULT_COEFFICIENTS[key].items()})


def default_radar_coefficients(*, dtype=None) -> RadarCoefficients:
    """:func:`default_coefficients` of both polarisations, as :class:`RadarCoefficients`."""
    return RadarCoefficients(vh=default_coefficients("vh", dtype=dtype), vv=default_coefficients("vv", dtype=dtype))


class WaterCloudTerms(NamedTuple):
    """The terms of the water-cloud model (linear σ⁰, m² m⁻², unless stated), broadcast shape of the inputs.

    ``total`` = ``vegetation`` + ``attenuated_soil``; ``vegetation`` = :math:`A V_1\\cos\\theta(1-\\gamma^2)`;
    ``attenuated_soil`` = :math:`\\gamma^2\\sigma^0_{soil}`; ``transmissivity`` = :math:`\\gamma^2` (two-way,
    dimensionless); ``soil`` = :math:`\\sigma^0_{soil}`."""

    total: Array
    vegetation: Array
    attenuated_soil: Array
    transmissivity: Array
    soil: Array


class DualPol(NamedTuple):
    """Backscatter of both polarisations (same unit, same shape): ``vh``, ``vv``.  :meth:`stack` puts them on a
    channel axis in :data:`CHANNELS` order ``[vh, vv]``."""

    vh: Array
    vv: Array

    def stack(self, axis: int = 0) -> Array:
        return jnp.stack([self.vh, self.vv], axis=axis)


def _concrete(x) -> np.ndarray | None:
    if x is None or any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x)):
        return None
    return np.asarray(x, dtype=np.float64)


def _check(name: str, value, low: float, high: float | None, unit: str) -> None:
    v = _concrete(value)
    if v is None:
        return
    bad = ~np.isfinite(v) | (v < low) | ((v > high) if high is not None else False)
    if np.any(bad):
        first = v[bad].ravel()[0] if v.ndim else float(v)
        rule = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be finite and {rule} {unit}, got {first:g} (at {int(np.sum(bad))} of "
                         f"{v.size} values)")


def validate_inputs(lai=None, soil_moisture=None, incidence_deg=None, cwc=None) -> None:
    """Check concrete water-cloud inputs (traced ones are skipped): ``lai`` ≥ 0 (m² m⁻²; no upper cap: the
    equations hold for any LAI), ``soil_moisture`` and ``incidence_deg`` within the registry bounds of model
    ``"water-cloud"`` (m³ m⁻³ in [0, 1]: a fraction, not %; degrees in [0, 89]), ``cwc`` ≥ 0 (g m⁻²), all finite.

    Raises:
        ValueError: one line naming the input, the rule and the first offending value.
    """
    reg = specs("water-cloud")
    _check("lai", lai, 0.0, None, "m2/m2")
    for name, value in (("soil_moisture", soil_moisture), ("incidence_deg", incidence_deg)):
        s = reg[name]
        _check(name, value, s.low, s.high, s.unit)
    _check("cwc", cwc, 0.0, None, "g/m2")


def _dtype(*xs):
    for x in xs:
        if x is not None and hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating):
            return x.dtype
    return jnp.result_type(float)


def _broadcast(*xs) -> list[Array]:
    """Explicit broadcast (the inputs may differ in rank; JAX's implicit rank promotion may be disabled)."""
    shape = np.broadcast_shapes(*(jnp.shape(x) for x in xs))
    return [jnp.broadcast_to(x, shape) for x in xs]


def _safe_power(v: Array, e: Array) -> Array:
    """:math:`v^e` for v ≥ 0 with finite gradients at v = 0 (0^0 = 1; double ``where``)."""
    positive = v > 0
    safe = jnp.where(positive, v, jnp.ones_like(v))
    return jnp.where(positive, safe**e, jnp.where(e == 0, jnp.ones_like(v), jnp.zeros_like(v)))


def vegetation_descriptors(lai: Float[ArrayLike, "..."], coefficients: WaterCloudCoefficients, *,
                           cwc: Float[ArrayLike, "..."] | None = None) -> tuple[Array, Array]:
    """``(V1, V2)`` of the coefficients' descriptor (module docstring): LAI (m² m⁻²) or canopy water content
    (``cwc`` in g m⁻², used as kg m⁻²), broadcast with the exponent ``e``.

    Raises:
        ValueError: if the descriptor is ``"cwc"`` and no ``cwc`` is given.
    """
    if coefficients.descriptor == "cwc":
        if cwc is None:
            raise ValueError("the 'cwc' water-cloud descriptor needs cwc (canopy water content, g/m2)")
        v = _as_float_array(cwc) * KG_PER_G
    else:
        v = _as_float_array(lai)
    e = jnp.asarray(coefficients.e, v.dtype)
    v, e = _broadcast(v, e)
    return _safe_power(v, e), v


def water_cloud_terms(lai: Float[ArrayLike, "..."], soil_moisture: Float[ArrayLike, "..."],
                      incidence_deg: Float[ArrayLike, "..."], coefficients: WaterCloudCoefficients, *,
                      cwc: Float[ArrayLike, "..."] | None = None) -> WaterCloudTerms:
    """All terms of the water-cloud model (see the module docstring and :class:`WaterCloudTerms`).

    **Arguments:**
    - ``lai``: leaf area index (m² m⁻², ≥ 0), any shape.
    - ``soil_moisture``: volumetric soil moisture (m³ m⁻³, in [0, 1]).
    - ``incidence_deg``: incidence angle (degrees, in [0, 89]; Sentinel-1 IW spans about 29–46°).
    - ``coefficients``: :class:`WaterCloudCoefficients` of one polarisation (fields broadcast too).
    - ``cwc``: canopy water content (g m⁻², ≥ 0); needed by the ``"cwc"`` descriptor, else ignored.

    **Returns:** :class:`WaterCloudTerms`, the broadcast shape of all inputs, in the floating dtype of the first
    floating array among ``lai``, ``soil_moisture``, ``incidence_deg`` (default float otherwise).

    Raises:
        ValueError: for a concrete input outside its domain (:func:`validate_inputs`), or a missing ``cwc``.
    """
    validate_inputs(lai, soil_moisture, incidence_deg, cwc)
    dtype = _dtype(lai, soil_moisture, incidence_deg)
    cast = lambda x: jnp.asarray(x, dtype)  # noqa: E731
    lai, mv, theta = cast(lai), cast(soil_moisture), cast(incidence_deg)
    co = jax.tree.map(cast, coefficients)
    v1, v2 = vegetation_descriptors(lai, co, cwc=None if cwc is None else cast(cwc))
    v1, v2, mv, theta, a, b, c, d = _broadcast(v1, v2, mv, theta, co.a, co.b, co.c, co.d)
    cos_t = jnp.cos(jnp.deg2rad(theta))
    tau = 2.0 * b * v2 / cos_t  # two-way optical depth of the canopy (slant path)
    gamma2 = jnp.exp(-tau)
    vegetation = a * v1 * cos_t * -jnp.expm1(-tau)
    soil = db_to_linear(c + d * mv)
    attenuated = gamma2 * soil
    return WaterCloudTerms(vegetation + attenuated, vegetation, attenuated, gamma2, soil)


def water_cloud(lai: Float[ArrayLike, "..."], soil_moisture: Float[ArrayLike, "..."],
                incidence_deg: Float[ArrayLike, "..."], coefficients: WaterCloudCoefficients, *,
                cwc: Float[ArrayLike, "..."] | None = None) -> Float[Array, "..."]:
    """Total backscatter σ⁰ (linear, m² m⁻²) of the water-cloud model; arguments as :func:`water_cloud_terms`.

    Example:
        >>> co = default_coefficients("vh", dtype=jnp.float64)
        >>> water_cloud(jnp.array([0.0, 2.0, 5.0]), 0.25, 39.0, co).shape
        (3,)
    """
    return water_cloud_terms(lai, soil_moisture, incidence_deg, coefficients, cwc=cwc).total


def water_cloud_db(lai: Float[ArrayLike, "..."], soil_moisture: Float[ArrayLike, "..."],
                   incidence_deg: Float[ArrayLike, "..."], coefficients: WaterCloudCoefficients, *,
                   cwc: Float[ArrayLike, "..."] | None = None) -> Float[Array, "..."]:
    """Total backscatter σ⁰ in dB (:func:`~leafjax.physics.radar.linear_to_db` of :func:`water_cloud`)."""
    return linear_to_db(water_cloud(lai, soil_moisture, incidence_deg, coefficients, cwc=cwc))


def backscatter_db(lai: Float[ArrayLike, "..."], soil_moisture: Float[ArrayLike, "..."],
                   incidence_deg: Float[ArrayLike, "..."], coefficients: RadarCoefficients, *,
                   cwc: Float[ArrayLike, "..."] | None = None) -> DualPol:
    """VH and VV backscatter (dB) of the water-cloud model with :class:`RadarCoefficients`; arguments as
    :func:`water_cloud_terms`.  **Returns:** :class:`DualPol` (``.stack()`` → ``[vh, vv]`` on axis 0)."""
    return DualPol(vh=water_cloud_db(lai, soil_moisture, incidence_deg, coefficients.vh, cwc=cwc),
                   vv=water_cloud_db(lai, soil_moisture, incidence_deg, coefficients.vv, cwc=cwc))
