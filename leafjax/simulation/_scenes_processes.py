r"""Time processes of the scene simulator: crop phenology, rain-driven soil moisture, acquisition dates, sun
position.  Pure JAX, batched by broadcasting, differentiable in the continuous parameters.

**Phenology** (:func:`crop_lai`): the double logistic with harvest and mowing of
:mod:`~leafjax.simulation._scenes_classes` (a common form for crop LAI seasons, e.g. Beck et al. 2006, Remote
Sens. Environ. 100:321–334, for the double logistic).

**Soil moisture** (:func:`soil_moisture_series`): a linear reservoir of the sensed surface layer, one step a day,

.. math:: m_{d+1} = \min\!\big(m_r + (m_d - m_r)\,e^{-1/\tau} + P_d / z,\ \phi\big)

with residual moisture :math:`m_r`, drying time :math:`\tau` (days), rain :math:`P_d` (mm; a rain day with
probability :math:`p`, exponential amount of mean :math:`\mu`), layer water depth :math:`z` (mm per m³ m⁻³) and
porosity :math:`\phi`.  Without the cap the stationary mean is :math:`m_r + p\mu/(z(1 - e^{-1/\tau}))`
(:func:`stationary_soil_moisture`).

**Sun** (:func:`solar_geometry`): declination of Cooper (1969, Solar Energy 12:333), hour angle from the local
*solar* time of the overpass, and the spherical-astronomy zenith and azimuth (within 0.4° of
:func:`leafjax.physics.sky.solar_position` at 50–55° N in April and June, which needs a UTC time and runs on the host; the equation of time is
not needed because the overpass is given in local solar time).

**Dates** (:func:`acquisition_dates`): Sentinel-2 acquisitions every ``s2_revisit_days`` from a random phase; the
target t is the acquisition nearest a uniform draw in ``target_doy``; t−1 and t−2 are one or two revisits earlier
each (two with ``s2_gap_probability``: an acquisition lost to clouds).  Sentinel-1 acquisitions every
``s1_revisit_days`` from another random phase; each S2 date gets the nearest S1 acquisition, made strictly
increasing (an S1 date taken twice moves to the acquisition before).
"""

from __future__ import annotations

import math
from typing import Mapping

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._scenes_classes import HARVEST_WIDTH_DAYS, MOWING_WIDTH_DAYS

#: Days simulated by the soil-moisture process (day of year 1 … 366).
DAYS_PER_YEAR: int = 366
#: Mean view azimuths of Sentinel-2 east and west of its descending track (degrees; the track heads about 193°).
VIEW_AZIMUTHS_DEG: tuple[float, float] = (103.0, 283.0)


def crop_lai(doy: Float[ArrayLike, "..."], p: Mapping[str, Float[ArrayLike, "..."]]) -> Float[Array, "..."]:
    """Green LAI (m² m⁻²) of the phenology model (module docstring of ``_scenes_classes``) at day(s) of year
    ``doy``; ``p`` holds ``lai_base``, ``lai_amplitude``, ``sos``, ``rate_up``, ``eos``, ``rate_down``,
    ``harvest``, ``lai_residual``, ``mowing_1``..``mowing_3``, ``cut_fraction``, ``regrowth_days`` (days and DOY),
    all broadcast with ``doy`` (same rank).  Differentiable in every parameter.

    Example:
        >>> import jax.numpy as jnp
        >>> from leafjax.simulation import CROP_CLASSES, class_arrays
        >>> c = {k: v[0] for k, v in class_arrays(CROP_CLASSES).items()}          # winter cereal, class means
        >>> p = {**c, "lai_amplitude": c["lai_amplitude_mean"], "sos": c["sos_mean"], "eos": c["eos_mean"],
        ...      "harvest": c["harvest_mean"]}
        >>> [round(float(crop_lai(jnp.asarray(d), p)), 2) for d in (60.0, 150.0, 230.0)]
        [0.31, 3.94, 0.2]
    """
    d = jnp.asarray(doy)
    s = jax.nn.sigmoid
    grow = s((d - p["sos"]) / p["rate_up"])
    sen = s((d - p["eos"]) / p["rate_down"])
    lai = p["lai_base"] + p["lai_amplitude"] * grow * (1.0 - sen)
    h = s((d - p["harvest"]) / HARVEST_WIDTH_DAYS)
    lai = lai * (1.0 - h) + p["lai_residual"] * h
    for j in (1, 2, 3):
        since = d - p[f"mowing_{j}"]
        drop = s(since / MOWING_WIDTH_DAYS) * jnp.exp(-jnp.maximum(since, 0.0) / p["regrowth_days"])
        lai = lai * (1.0 - (1.0 - p["cut_fraction"]) * drop)
    return lai


def senescence(doy: Float[ArrayLike, "..."], p: Mapping[str, Float[ArrayLike, "..."]]) -> Float[Array, "..."]:
    """Senescence fraction in [0, 1]: ``sigmoid((doy − eos) / rate_down)`` (drives chlorophyll loss and brown
    pigments)."""
    return jax.nn.sigmoid((jnp.asarray(doy) - p["eos"]) / p["rate_down"])


def soil_moisture_series(rain_mm: Float[Array, "*b days"], *, residual, porosity, depth_mm, drying_days,
                         initial) -> Float[Array, "*b days"]:
    """Daily surface soil moisture (m³ m⁻³) from daily rain (mm) by the reservoir of the module docstring;
    entry ``d`` is the moisture at the end of day ``d`` (after its rain).  Scalars or arrays broadcastable to
    ``rain_mm[..., 0]`` for the parameters; differentiable (the cap ``min`` almost everywhere)."""
    keep = jnp.exp(-1.0 / jnp.asarray(drying_days, rain_mm.dtype))

    def step(m, rain):
        m = jnp.minimum(residual + (m - residual) * keep + rain / depth_mm, porosity)
        return m, m

    m0 = jnp.broadcast_to(jnp.asarray(initial, rain_mm.dtype), rain_mm.shape[:-1])
    _, out = jax.lax.scan(step, m0, jnp.moveaxis(rain_mm, -1, 0))
    return jnp.moveaxis(out, 0, -1)


def stationary_soil_moisture(settings) -> float:
    """The uncapped stationary mean of :func:`soil_moisture_series` for :class:`~leafjax.simulation.
    SoilMoistureSettings` (m³ m⁻³), capped at the porosity."""
    inflow = settings.rain_probability * settings.rain_mean_mm / settings.depth_mm
    mean = settings.residual + inflow / (1.0 - math.exp(-1.0 / settings.drying_days))
    return float(min(mean, settings.porosity))


def rain_series(key: PRNGKeyArray, n_days: int, probability, mean_mm, dtype=jnp.float32) -> Float[Array, "n"]:
    """Daily rain (mm): a rain day with ``probability``, exponential amount of mean ``mean_mm``."""
    u = jax.random.uniform(key, (2, n_days), dtype)
    amount = -mean_mm * jnp.log1p(-u[1])  # exponential of mean mean_mm (inverse CDF)
    return jnp.where(u[0] < probability, amount, jnp.zeros((n_days,), dtype))


def soil_dryness_from_moisture(mv: Float[ArrayLike, "..."], residual, porosity) -> Float[Array, "..."]:
    """The dry-soil weight of the PROSAIL soil model from soil moisture: ``1 − (mv − residual)/(porosity −
    residual)`` clipped to [0, 1] (dry at the residual moisture, wet at saturation; assumed linear)."""
    return jnp.clip(1.0 - (jnp.asarray(mv) - residual) / (porosity - residual), 0.0, 1.0)


def solar_geometry(doy: Float[ArrayLike, "..."], latitude: Float[ArrayLike, "..."],
                   hour: Float[ArrayLike, "..."]) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
    """``(sza, saa)`` degrees: sun zenith and azimuth (clockwise from north) at day of year ``doy``, latitude
    (degrees north) and local solar time ``hour`` (h), by the formulas of the module docstring.

    Example:
        >>> sza, saa = solar_geometry(172.0, 50.0, 10.5)
        >>> round(float(sza), 1), round(float(saa), 1)
        (31.8, 138.3)
    """
    d = jnp.asarray(doy)
    rad = jnp.deg2rad
    decl = rad(23.45) * jnp.sin(2.0 * jnp.pi * (284.0 + d) / 365.0)
    h = rad(15.0 * (jnp.asarray(hour) - 12.0))
    lat = rad(jnp.asarray(latitude))
    cos_z = jnp.sin(lat) * jnp.sin(decl) + jnp.cos(lat) * jnp.cos(decl) * jnp.cos(h)
    z = jnp.arccos(jnp.clip(cos_z, -1.0, 1.0))
    sin_a = -jnp.cos(decl) * jnp.sin(h)
    cos_a = jnp.sin(decl) * jnp.cos(lat) - jnp.cos(decl) * jnp.sin(lat) * jnp.cos(h)
    az = jnp.mod(jnp.rad2deg(jnp.arctan2(sin_a, cos_a)), 360.0)
    return jnp.rad2deg(z), az


def acquisition_dates(key: PRNGKeyArray, dyn: Mapping[str, Array], dtype=jnp.float32
                      ) -> tuple[Float[Array, "3"], Float[Array, "3"]]:
    """``(s2_doy, s1_doy)``: the days of year (integer-valued floats, ``(3,)`` each, t−2, t−1, t) of one chip's
    Sentinel-2 products and Sentinel-1 acquisitions (module docstring).  ``dyn``: the dynamic settings
    (``target_doy``, ``s2_revisit_days``, ``s2_gap_probability``, ``s1_revisit_days``)."""
    u = jax.random.uniform(key, (5,), dtype)
    rev2, rev1 = jnp.asarray(dyn["s2_revisit_days"], dtype), jnp.asarray(dyn["s1_revisit_days"], dtype)
    phase2 = jnp.floor(u[0] * rev2)
    lo, hi = dyn["target_doy"][0], dyn["target_doy"][1]
    t0 = lo + (hi - lo) * u[1]
    t = phase2 + rev2 * jnp.round((t0 - phase2) / rev2)
    gaps = jnp.where(u[2:4] < dyn["s2_gap_probability"], 2.0, 1.0).astype(dtype)
    s2 = jnp.stack([t - rev2 * (gaps[0] + gaps[1]), t - rev2 * gaps[1], t])
    phase1 = jnp.floor(u[4] * rev1)
    near = phase1 + rev1 * jnp.round((s2 - phase1) / rev1)
    s1_2 = near[2]
    s1_1 = jnp.minimum(near[1], s1_2 - rev1)
    s1_0 = jnp.minimum(near[0], s1_1 - rev1)
    return s2, jnp.stack([s1_0, s1_1, s1_2])
