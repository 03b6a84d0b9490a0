r"""Radar branch of the scene simulator: Sentinel-1 VH/VV backscatter of a chip from the water-cloud model
(:mod:`leafjax.physics.radar`), soil moisture and a per-pixel incidence angle, plus the backscatter variation the
model does not explain, and smoothed Gamma speckle.

In dB, for polarisation :math:`p`, date :math:`k`, parcel :math:`j(i)` of pixel :math:`i`:

.. math::
    \sigma^0_{p,k,i} = \mathrm{WCM}_p(\mathrm{LAI}_{k,i}, m_{v,k,i}, \theta_i) + c_p + u_{p,j} + v_{p,k,j} + s_{p,i} + w_{p,i}

with :math:`c_p` one offset per chip (``chip_db_sd``: the spread of the fitted soil terms between scene-dates),
:math:`u` static per parcel (``parcel_db_sd``: roughness, row direction, crop structure), :math:`v` per parcel and
date (``parcel_date_db_sd``; with probability ``event_probability`` plus a larger ``event_db_sd`` term: tillage,
a wet surface, management — a heavy-tailed date-to-date change), :math:`s` a crop-structure offset of the class
at full cover (:attr:`~leafjax.simulation.CropClass.radar_offset_db`, times :math:`s((\mathrm{LAI} - 3)/0.75)`, a dense
canopy),
:math:`w` a static Gaussian random field (``pixel_db_sd``, ``pixel_corr_px``), each
Gaussian, correlated between VH and VV by ``pol_correlation``; open-water pixels take ``water_db`` instead of
the model (plus :math:`w`).  Then linear intensity, speckle and smoothing
(:func:`~leafjax.simulation.smoothed_speckle`), and back to dB.  **Why the perturbation:** on the real sample the
water-cloud model leaves 2.6–3 dB RMSE and LAI explains little (LAI–VH r ≈ 0.33; docs/radar.md); a simulator
without it would make radar far more informative than it is.

Incidence angle: :math:`\theta = \theta_c + g\,(x - x_c)\,\Delta x\,s`, with :math:`\theta_c` uniform in
``incidence_centre_deg`` per chip, :math:`g` the swath gradient (deg km⁻¹), :math:`s = \pm 1` (the range direction
of ascending or descending passes); the same on the three dates (the 6-day Sentinel-1A/B repeat of one relative
orbit).
"""

from __future__ import annotations

from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ..physics.radar import (DEFAULT_COEFFICIENTS, RadarCoefficients, WaterCloudCoefficients, db_to_linear,
                             linear_to_db, water_cloud_db)
from ._scenes_config import SoilMoistureSettings
from ._scenes_fields import draws, gaussian_random_field, smoothed_speckle
from ._scenes_processes import stationary_soil_moisture

#: Soil moisture (m³ m⁻³) the water-cloud calibration on the sample assumes (``NOMINAL_SOIL_MOISTURE`` of
#: :mod:`leafjax.inversion`; repeated here because the simulation layer does not import the inversion layer).
FIT_NOMINAL_SOIL_MOISTURE: float = 0.25
#: LAI (m² m⁻²) and logistic width of the dense-canopy weight of the crop-structure offset.
DENSE_CANOPY_LAI: float = 3.0
DENSE_CANOPY_WIDTH: float = 0.75


def _scalar_coefficients(co: WaterCloudCoefficients, c: float) -> WaterCloudCoefficients:
    return WaterCloudCoefficients(a=float(np.asarray(co.a)), b=float(np.asarray(co.b)), c=float(c),
                                  d=float(np.asarray(co.d)), e=float(np.asarray(co.e)), descriptor=co.descriptor)


def scene_radar_coefficients(coefficients: RadarCoefficients | None = None, *,
                             soil: SoilMoistureSettings = SoilMoistureSettings(),
                             nominal_soil_moisture: float = FIT_NOMINAL_SOIL_MOISTURE
                             ) -> tuple[RadarCoefficients, tuple[float, float]]:
    r"""Water-cloud coefficients for the simulator, with scalar fields, and the spread of the soil term.

    **Arguments:** ``coefficients``: e.g. ``fit_water_cloud(...).coefficients`` (:mod:`leafjax.inversion`; ``c``
    may hold one value per scene-date), or ``None`` for the documented defaults
    (:data:`~leafjax.physics.radar.DEFAULT_COEFFICIENTS`); ``soil``: the simulator's soil-moisture settings;
    ``nominal_soil_moisture``: the moisture the fit assumed (m³ m⁻³).

    The fitted bare-soil backscatter of a scene-date is :math:`C_g + D\,m_{nom}`; the simulator's soil moisture
    has the mean :math:`\bar m` (:func:`~leafjax.simulation.stationary_soil_moisture`), so the simulator uses
    :math:`C = \mathrm{median}_g\,C_g + D\,(m_{nom} - \bar m)`, which keeps the typical bare-soil backscatter
    of the fit.  Median and median absolute deviation, not mean and sd: on the real sample one scene-date
    (Latvia t−1, 15 % open water at LAI 0.5–1 and −26 dB) has a soil term 4 dB below the others; the simulator
    has water as a class of its own.

    **Returns:** ``(coefficients, (sd_vh, sd_vv))``: scalar :class:`~leafjax.physics.radar.RadarCoefficients`
    and the robust standard deviation (dB; 1.4826 × the median absolute deviation) of the fitted :math:`C_g` (0
    with the defaults), a value for
    ``RadarSettings.chip_db_sd``.
    """
    mean_mv = stationary_soil_moisture(soil)
    out, spread = {}, []
    for pol in ("vh", "vv"):
        co = (WaterCloudCoefficients(**DEFAULT_COEFFICIENTS[pol]) if coefficients is None
              else getattr(coefficients, pol))
        cs = np.atleast_1d(np.asarray(co.c, np.float64))
        d = float(np.asarray(co.d))
        centre = float(np.median(cs))
        out[pol] = _scalar_coefficients(co, centre + d * (nominal_soil_moisture - mean_mv))
        spread.append(float(1.4826 * np.median(np.abs(cs - centre))) if cs.size > 1 else 0.0)
    return RadarCoefficients(vh=out["vh"], vv=out["vv"]), (spread[0], spread[1])


def incidence_field(key: PRNGKeyArray, dyn: Mapping[str, Array], size: int, pixel_m: float,
                    dtype=jnp.float32) -> Float[Array, "size size"]:
    """Incidence angle (degrees) of a chip's pixels (module docstring)."""
    u = jax.random.uniform(key, (2,), dtype)
    lo, hi = dyn["radar.incidence_centre_deg"][0], dyn["radar.incidence_centre_deg"][1]
    centre = lo + (hi - lo) * u[0]
    sign = jnp.where(u[1] < 0.5, 1.0, -1.0).astype(dtype)
    x_km = (jnp.arange(size, dtype=dtype) - 0.5 * (size - 1)) * (pixel_m / 1000.0)
    row = centre + sign * dyn["radar.incidence_gradient_deg_per_km"] * x_km
    return jnp.broadcast_to(row[None, :], (size, size))


def radar_backscatter(key: PRNGKeyArray, lai: Float[Array, "3 y x"], soil_moisture: Float[Array, "3 y x"],
                      incidence_deg: Float[Array, "y x"], parcel: Int[Array, "y x"], water: Array,
                      coefficients: RadarCoefficients, dyn: Mapping[str, Array], n_parcels: int, *,
                      structure_db: Float[Array, "2 y x"] | None = None) -> dict[str, Array]:
    r"""VH/VV backscatter of one chip at its three Sentinel-1 dates (module docstring).

    **Arguments:** ``lai`` (m² m⁻², true LAI at the S1 dates), ``soil_moisture`` (m³ m⁻³), ``incidence_deg``,
    ``parcel`` (index into ``n_parcels``), ``water`` (``(y, x)`` bool), scalar ``coefficients``, ``dyn`` (the
    dynamic settings, ``radar.*``), ``structure_db`` (the crop-structure offset of each pixel's class at full
    cover, ``[vh, vv]`` dB, :attr:`~leafjax.simulation.CropClass.radar_offset_db`; applied times
    :math:`s((\mathrm{LAI} - 3)/0.75)`).

    **Returns:** ``{"s1_db": (3, 2, y, x) dB [vh, vv], "model_db": (3, 2, y, x)}`` (``model_db``: the water-cloud
    model alone, no perturbation or speckle).  Differentiable in ``lai``, ``soil_moisture`` and the coefficients.
    """
    dt = lai.dtype
    n_dates, ny, nx = lai.shape
    theta = jnp.broadcast_to(incidence_deg[None], lai.shape)
    cast = lambda co: jax.tree.map(lambda v: jnp.asarray(v, dt), co)  # noqa: E731
    model = jnp.stack([water_cloud_db(lai, soil_moisture, theta, cast(coefficients.vh)),
                       water_cloud_db(lai, soil_moisture, theta, cast(coefficients.vv))], axis=1)
    k_pert, k_px, k_sp = jax.random.split(key, 3)
    rho = jnp.asarray(dyn["radar.pol_correlation"], dt)
    other = jnp.sqrt(1.0 - rho * rho)
    shapes = ((2,), (2, n_parcels), (2, n_dates, n_parcels), (2, n_dates, n_parcels), (n_dates, n_parcels))
    *z, z_event = draws(k_pert, "normal", shapes, dt)
    pert = []
    for (a, b), name in zip(z, ("chip_db_sd", "parcel_db_sd", "parcel_date_db_sd", "event_db_sd")):
        sd = dyn[f"radar.{name}"]
        pert.append((sd[0] * a, sd[1] * (rho * a + other * b)))  # (VH, VV), correlation rho
    (c_vh, c_vv), (u_vh, u_vv), (v_vh, v_vv), (e_vh, e_vv) = pert
    event = (ndtr(z_event) < dyn["radar.event_probability"]).astype(dt)
    v_vh, v_vv = v_vh + event * e_vh, v_vv + event * e_vv
    g = gaussian_random_field(k_px, (2, ny + 8, nx + 8), dyn["radar.pixel_corr_px"], dt)[:, 4:-4, 4:-4]
    w = jnp.stack([dyn["radar.pixel_db_sd"][0] * g[0],
                   dyn["radar.pixel_db_sd"][1] * (rho * g[0] + other * g[1])])[None]  # (1, 2, y, x)
    pert = jnp.stack([c_vh + u_vh[parcel][None] + v_vh[:, parcel], c_vv + u_vv[parcel][None] + v_vv[:, parcel]],
                     axis=1) + w
    if structure_db is not None:
        dense = jax.nn.sigmoid((lai - DENSE_CANOPY_LAI) / DENSE_CANOPY_WIDTH)
        pert = pert + structure_db[None] * dense[:, None]
    water_db = jnp.broadcast_to(dyn["radar.water_db"].reshape(1, 2, 1, 1), model.shape) + w
    base = jnp.where(jnp.broadcast_to(water[None, None], model.shape), water_db, model + pert)
    noisy = smoothed_speckle(k_sp, db_to_linear(base), dyn["radar.looks"].reshape(1, 2),
                             dyn["radar.smoothing_px"].reshape(1, 2))
    return {"s1_db": linear_to_db(noisy), "model_db": model}
