r"""Multi-temporal Sentinel-1/Sentinel-2 scene simulator on square chips: the inputs of the multi-temporal LAI
task (S1 VV/VH at t−2, t−1, t; the S2 LAI product at t−2, t−1 with its scene classification) and the true LAI.

One chip (:func:`simulate_s1s2_scenes`; key ``fold_in(key, i)`` for chip ``i``, so chips are independent and a
chip does not depend on how many are simulated with it):

1. **Parcels:** a Voronoi mosaic (:func:`~leafjax.simulation.voronoi_mosaic`), a crop class per parcel drawn with
   the class shares (:data:`~leafjax.simulation.CROP_CLASSES`), parcel parameters jittered around the class
   values (dates by their sd, amplitudes, rates by 10 %, chlorophyll, leaf angle, soil brightness).
2. **Dates and sun:** :func:`~leafjax.simulation.acquisition_dates`; sun at the S2 overpass
   (:func:`~leafjax.simulation.solar_geometry`, latitude uniform per chip), view zenith uniform per chip, view
   azimuth east or west of the track.
3. **LAI:** :func:`~leafjax.simulation.crop_lai` of the parcel at each date, times a static log-normal pixel
   texture (``lai_pixel_cv``, correlation ``lai_pixel_corr_px``) and a per-date pixel noise (``lai_date_cv``);
   0 on water.
4. **Soil moisture:** one daily rain series and reservoir per chip
   (:func:`~leafjax.simulation.soil_moisture_series`), a per-parcel response factor and offset, a pixel field.
5. **Optical:** PROSAIL → Sentinel-2 bands → noise, shadows, clouds, water
   (:mod:`~leafjax.simulation._scenes_optical`); SCL from the cloud fields and the NDVI
   (:func:`~leafjax.simulation.scene_classification`); the S2 LAI product = the injected ``retrieve`` of the
   simulated reflectance on the pixels of SCL 2–6 (the challenge's valid classes), NaN elsewhere.
6. **Radar:** :func:`~leafjax.simulation.radar_backscatter` (water-cloud model + unexplained variation +
   smoothed speckle) at the Sentinel-1 dates, unaffected by clouds.

Steps 1–6 except the retrieval run as one compiled program per ``(config's static part, chips per call)``
(:func:`simulate_scene_physics`, differentiable in the physics inputs: coefficients, PROSAIL model); the
retrieval runs on the host.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Mapping, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr, ndtri
from jaxtyping import Array, Key, PRNGKeyArray

from ..data._s1s2 import VALID_SCL, ChipName, S1S2Chip
from ..physics.radar import RadarCoefficients
from ._scenes_classes import SENESCENCE_CHL_LOSS
from ._scenes_config import SceneConfig, StaticScene, split_config
from ._scenes_fields import cloud_masks, draws, gaussian_random_field, scene_classification, voronoi_mosaic
from ._scenes_optical import SceneOptics, canopy_bands, default_scene_optics, ndvi
from ._scenes_processes import (DAYS_PER_YEAR, VIEW_AZIMUTHS_DEG, acquisition_dates, crop_lai, rain_series,
                                senescence, soil_dryness_from_moisture, soil_moisture_series, solar_geometry)
from ._scenes_radar import incidence_field, radar_backscatter, scene_radar_coefficients

#: Pixel-dates per compiled call (chips per call = this / (3 size²), at least 1).
PIXELS_PER_CALL: int = 1 << 18
#: Year of the dates written into chip names by :func:`scenes_to_chips`.
SIMULATED_YEAR: int = 2019
_PHENOLOGY = ("lai_base", "rate_up", "rate_down", "lai_residual", "cut_fraction", "regrowth_days", "lma", "cw_rel",
              "n_struct", "hotspot", "brown_senescent")


class S1S2Scenes(NamedTuple):
    """Simulated chips (NumPy; leading axis ``n`` chips; dates t−2, t−1, t).

    - ``s1_db`` ``(n, 3, 2, y, x)`` float32: backscatter (dB) at the S1 dates, channels ``[vh, vv]``
      (the sample's order); ``model_db``: the water-cloud model alone (no perturbation, no speckle).
    - ``lai_product`` ``(n, P, y, x)`` float64: the S2 LAI product (m² m⁻²) at t−2, t−1 (and t with
      ``product_at_t``), NaN where the SCL is not 2–6.  ``scl`` ``(n, 3, y, x)`` int16; ``clear`` = SCL in 2–6.
    - ``lai`` ``(n, 3, y, x)``: true LAI at the S2 dates; ``lai_s1``: at the S1 dates.
    - ``reflectance`` ``(n, 3, y, x, band)``: observed band reflectance (noise, shadows, clouds included);
      ``band_names``.  ``soil_moisture`` ``(n, 3, y, x)`` m³ m⁻³ at the S1 dates.
    - ``incidence_deg`` ``(n, y, x)``; ``s2_doy``, ``s1_doy`` ``(n, 3)`` days of year; ``sza``, ``saa``, ``raa``
      ``(n, 3)``, ``vza``, ``vaa`` ``(n,)`` degrees; ``cloud_fraction`` ``(n, 3)`` (requested per date).
    - ``parcel`` ``(n, y, x)`` int32; ``crop_class`` ``(n, y, x)`` int16 into ``class_names``.
    """

    s1_db: np.ndarray
    model_db: np.ndarray
    lai_product: np.ndarray
    scl: np.ndarray
    clear: np.ndarray
    lai: np.ndarray
    lai_s1: np.ndarray
    reflectance: np.ndarray
    soil_moisture: np.ndarray
    incidence_deg: np.ndarray
    s2_doy: np.ndarray
    s1_doy: np.ndarray
    sza: np.ndarray
    saa: np.ndarray
    raa: np.ndarray
    vza: np.ndarray
    vaa: np.ndarray
    cloud_fraction: np.ndarray
    parcel: np.ndarray
    crop_class: np.ndarray
    class_names: tuple[str, ...]
    band_names: tuple[str, ...]


def _parcel_parameters(key, cls, ca: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """Per-parcel parameters ``(parcels,)`` around the class values ``ca[name][cls]`` (module docstring)."""
    dt = ca["share"].dtype
    n = cls.shape[0]
    z = iter(jax.random.normal(key, (12, n), dt))
    g = {k: v[cls] for k, v in ca.items()}
    p = {k: g[k] for k in _PHENOLOGY}
    p["lai_amplitude"] = jnp.maximum(g["lai_amplitude_mean"] + g["lai_amplitude_sd"] * next(z), 0.0)
    for f in ("sos", "eos", "harvest"):
        p[f] = g[f + "_mean"] + g[f + "_sd"] * next(z)
    p["eos"] = jnp.maximum(p["eos"], p["sos"] + 20.0)
    for f in ("rate_up", "rate_down"):
        p[f] = p[f] * jnp.exp(0.1 * next(z))
    for j in (1, 2, 3):
        p[f"mowing_{j}"] = g[f"mowing_{j}"] + g["mowing_sd"] * next(z)
    p["chl"] = jnp.clip(g["chl_mean"] + g["chl_sd"] * next(z), 10.0, 80.0)
    p["lidf_a"] = jnp.clip(g["lidf_a_mean"] + g["lidf_a_sd"] * next(z), 20.0, 85.0)
    p["soil_brightness"] = jnp.clip(g["soil_brightness_mean"] + g["soil_brightness_sd"] * next(z), 0.4, 2.0)
    p["water"] = g["water"]
    return p


def _chip_state(key: PRNGKeyArray, static: StaticScene, dyn: Mapping[str, jax.Array],
                coefficients: RadarCoefficients) -> dict:
    """Everything of one chip but the PROSAIL run and what follows it (module docstring, steps 1–4 and 6)."""
    dt = dyn["lai_pixel_cv"].dtype
    size, n_seeds = static.size, static.n_seeds
    ks = jax.random.split(key, 12)
    u = jax.random.uniform(ks[7], (4,), dt, 1e-6, 1.0 - 1e-6)  # climate, latitude, view zenith, view side
    parcel = voronoi_mosaic(ks[0], size, n_seeds, static.parcel_px, dyn["parcel_anisotropy"], dt)
    ca = {k[6:]: v for k, v in dyn.items() if k.startswith("class.")}
    cls = jax.random.categorical(ks[1], jnp.log(ca["share"] + 1e-12), shape=(n_seeds,)).astype(jnp.int32)
    pp = _parcel_parameters(ks[2], cls, ca)
    px = {k: v[parcel] for k, v in pp.items()}
    water = px["water"] > 0.5
    s2, s1 = acquisition_dates(ks[3], dyn, dt)
    shape3 = (3, size, size)
    p3 = {k: jnp.broadcast_to(v[None], shape3) for k, v in px.items()}
    cv = dyn["lai_pixel_cv"]
    corr = jnp.stack([dyn["lai_pixel_corr_px"], jnp.asarray(2.0, dt)])  # LAI texture, soil-moisture field
    fields = gaussian_random_field(ks[4], (2, size + 8, size + 8), corr, dt)[:, 4:-4, 4:-4]
    tex = jnp.exp(cv * fields[0] - 0.5 * cv * cv)
    lai_noise = jax.random.normal(ks[5], (2, *shape3), dt)

    def at(doys):
        return jnp.broadcast_to(doys[:, None, None], shape3)

    def lai_at(doys, z):
        dcv = dyn["lai_date_cv"]
        lai = crop_lai(at(doys), p3) * tex[None] * jnp.exp(dcv * z - 0.5 * dcv * dcv)
        return jnp.where(jnp.broadcast_to(water[None], shape3), jnp.zeros(shape3, dt), lai)

    lai_s2, lai_s1 = lai_at(s2, lai_noise[0]), lai_at(s1, lai_noise[1])
    # soil moisture: one reservoir per chip, parcel response, pixel field
    sm = {k[5:]: v for k, v in dyn.items() if k.startswith("soil.")}
    csd = sm["climate_sd"]
    climate = jnp.exp(csd * ndtri(u[0]) - 0.5 * csd * csd)
    rain = rain_series(jax.random.fold_in(ks[8], 1), DAYS_PER_YEAR, jnp.clip(sm["rain_probability"] * climate, 0.0, 1.0),
                       sm["rain_mean_mm"], dt)
    inflow = sm["rain_probability"] * sm["rain_mean_mm"] / sm["depth_mm"]
    start = jnp.minimum(sm["residual"] + inflow / -jnp.expm1(-1.0 / sm["drying_days"]), sm["porosity"])
    series = soil_moisture_series(rain, residual=sm["residual"], porosity=sm["porosity"], depth_mm=sm["depth_mm"],
                                  drying_days=sm["drying_days"], initial=start)
    zf, zo = jax.random.normal(ks[9], (2, n_seeds), dt)
    fsd = sm["parcel_factor_sd"]
    factor = jnp.exp(fsd * zf - 0.5 * fsd * fsd)[parcel]
    offset = (sm["parcel_offset_sd"] * zo)[parcel]
    pix = sm["pixel_sd"] * fields[1]

    def mv_at(doys):
        day = jnp.clip(doys.astype(jnp.int32) - 1, 0, DAYS_PER_YEAR - 1)
        excess = at(series[day] - sm["residual"])
        mv = sm["residual"] + excess * factor[None] + offset[None] + pix[None]
        return jnp.clip(mv, 0.02, sm["porosity"])

    mv_s1, mv_s2 = mv_at(s1), mv_at(s2)
    # sun and view
    lat = dyn["latitude"][0] + (dyn["latitude"][1] - dyn["latitude"][0]) * u[1]
    sza, saa = solar_geometry(s2, lat, dyn["overpass_hour"])
    vza = dyn["vza"][0] + (dyn["vza"][1] - dyn["vza"][0]) * u[2]
    vaa = jnp.where(u[3] < 0.5, VIEW_AZIMUTHS_DEG[0], VIEW_AZIMUTHS_DEG[1]).astype(dt)
    rel = jnp.abs(saa - vaa) % 360.0
    raa = jnp.where(rel > 180.0, 360.0 - rel, rel)
    masks = cloud_masks(ks[10], dyn, static, sza, saa, s2, dt)
    theta = incidence_field(ks[6], dyn, size, static.pixel_m, dt)
    structure = jnp.stack([ca["radar_offset_vh"][cls][parcel], ca["radar_offset_vv"][cls][parcel]])
    radar = radar_backscatter(ks[11], lai_s1, mv_s1, theta, parcel, water, coefficients, dyn, n_seeds,
                              structure_db=structure)
    sen = senescence(at(s2), p3)
    chl = p3["chl"] * (1.0 - SENESCENCE_CHL_LOSS * sen)
    values = {"n_struct": p3["n_struct"], "chl": chl, "car": 0.25 * chl, "ant": jnp.zeros(shape3, dt),
              "brown": p3["brown_senescent"] * sen, "ewt": p3["lma"] * p3["cw_rel"] / (1.0 - p3["cw_rel"]),
              "lma": p3["lma"], "lai": lai_s2, "lidf_a": p3["lidf_a"], "lidf_b": jnp.zeros(shape3, dt),
              "hotspot": p3["hotspot"], "sza": at(sza), "vza": jnp.full(shape3, vza, dt), "raa": at(raa),
              "soil_brightness": p3["soil_brightness"],
              "soil_dryness": soil_dryness_from_moisture(mv_s2, sm["residual"], sm["porosity"])}
    return {"values": values, "masks": masks, "water": water, "parcel": parcel, "crop_class": cls[parcel],
            "lai": lai_s2, "lai_s1": lai_s1, "soil_moisture": mv_s1, "incidence_deg": theta, "s2_doy": s2,
            "s1_doy": s1, "sza": sza, "saa": saa, "raa": raa, "vza": vza, "vaa": vaa, **radar, "key": ks[8]}


def _observe(key, clean, state, optics: SceneOptics, dyn):
    """Noise, water, clouds and cirrus on the noise-free bands ``(3, y, x, band)`` of one chip; its SCL."""
    dt = clean.dtype
    m = state["masks"]
    water = state["water"]
    bands = jnp.where(water[None, :, :, None], optics.water_bands.astype(dt), clean)
    k_noise, k_cloud = jax.random.split(key, 2)
    if optics.noise is not None:
        bands = optics.noise(k_noise, bands)
    lo, hi = dyn["clouds.cloud_reflectance"][0], dyn["clouds.cloud_reflectance"][1]
    u_level, z_px = draws(k_cloud, "normal", ((3,), bands.shape[:-1] + (1,)), dt)
    level = lo + (hi - lo) * ndtr(u_level)[:, None, None, None]
    cloud_val = level + 0.02 * z_px
    cloudy = (m["high"] | m["medium"])[..., None]
    bands = jnp.where(cloudy, jnp.broadcast_to(cloud_val, bands.shape), bands)
    bands = jnp.where(m["cirrus"][..., None], bands + dyn["clouds.cirrus_reflectance"], bands)
    scl = scene_classification(m, ndvi(bands, optics.red, optics.nir), water, dyn["clouds.ndvi_vegetation"])
    return bands, scl


@eqx.filter_jit
def simulate_scene_physics(keys: Key[Array, "n"], static: StaticScene, dyn: Mapping[str, jax.Array],
                           coefficients: RadarCoefficients, optics: SceneOptics) -> dict[str, jax.Array]:
    """The compiled part of the simulator for a batch of chip ``keys`` ``(n,)`` (module docstring; everything but
    the retrieval).  ``static``, ``dyn``: :func:`~leafjax.simulation.split_config` (``dyn`` cast to the optics'
    float dtype); ``coefficients``: scalar water-cloud coefficients
    (:func:`~leafjax.simulation.scene_radar_coefficients`).  **Returns:** a dict of ``(n, ...)`` arrays (the
    fields of :class:`S1S2Scenes` before the retrieval, plus ``"values"``, the PROSAIL inputs)."""
    states = jax.vmap(_chip_state, in_axes=(0, None, None, None))(keys, static, dyn, coefficients)
    shadow = states["masks"]["shadow"]
    clean = canopy_bands(optics, states["values"], shadow)  # one PROSAIL batch (n, 3, y, x)
    bands, scl = jax.vmap(_observe, in_axes=(0, 0, 0, None, None))(states["key"], clean, states, optics, dyn)
    out = {k: v for k, v in states.items() if k not in ("masks", "key")}
    out["cloud_fraction"] = states["masks"]["fraction"]
    return {**out, "reflectance": bands, "scl": scl}


def _chips_per_call(n_chips: int, size: int, chips_per_call: int | None) -> int:
    if chips_per_call is not None:
        if not (isinstance(chips_per_call, int) and chips_per_call >= 1):
            raise ValueError(f"chips_per_call must be an integer >= 1, got {chips_per_call!r}")
        return chips_per_call
    budget = max(1, PIXELS_PER_CALL // (3 * size * size))
    return min(budget, 1 << max(0, math.ceil(math.log2(max(n_chips, 1)))))


def simulate_s1s2_scenes(key: PRNGKeyArray, n_chips: int, config: SceneConfig = SceneConfig(), *,
                         retrieve: Callable[[np.ndarray, dict], np.ndarray], optics: SceneOptics | None = None,
                         radar_coefficients: RadarCoefficients | None = None,
                         chips_per_call: int | None = None) -> S1S2Scenes:
    """Simulate ``n_chips`` chips of ``config.size``² pixels (module docstring).

    **Arguments:**
    - ``key``: JAX PRNG key; chip ``i`` uses ``fold_in(key, i)``.
    - ``config``: :class:`~leafjax.simulation.SceneConfig`.
    - ``retrieve``: ``retrieve(reflectance (pix, band), {"sza", "vza", "raa": (pix,)}) -> lai (pix,)``, the
      S2 LAI retrieval (contract: :mod:`~leafjax.simulation._scenes_optical`; e.g. the hybrid route, or
      :class:`~leafjax.simulation.NdviLaiRetrieval` in tests), called once.
    - ``optics``: :class:`~leafjax.simulation.SceneOptics` (default :func:`default_scene_optics`); its dtype is
      the simulation's.
    - ``radar_coefficients``: water-cloud coefficients, e.g. ``fit_water_cloud(...).coefficients`` from the real
      sample (reduced by :func:`~leafjax.simulation.scene_radar_coefficients`); ``None``: the documented defaults.
    - ``chips_per_call``: chips per compiled call (default: about :data:`PIXELS_PER_CALL` pixel-dates, at most
      the next power of two of ``n_chips``; the last call is padded).

    **Returns:** :class:`S1S2Scenes`.

    Raises:
        ValueError: for ``n_chips`` < 1 or a retrieval that returns the wrong shape.
    """
    if not (isinstance(n_chips, (int, np.integer)) and n_chips >= 1):
        raise ValueError(f"n_chips must be an integer >= 1, got {n_chips!r}")
    optics = default_scene_optics() if optics is None else optics
    dt = optics.model.wavelengths.dtype
    static, dyn_np = split_config(config)
    dyn = {k: jnp.asarray(v, dt) for k, v in dyn_np.items()}
    coefficients, _ = scene_radar_coefficients(radar_coefficients, soil=config.soil)
    coefficients = jax.tree.map(lambda v: jnp.asarray(v, dt), coefficients)
    per_call = _chips_per_call(int(n_chips), config.size, chips_per_call)
    n_calls = -(-int(n_chips) // per_call)
    parts = []
    for c in range(n_calls):
        keys = jnp.stack([jax.random.fold_in(key, c * per_call + i) for i in range(per_call)])
        out = simulate_scene_physics(keys, static, dyn, coefficients, optics)
        parts.append(jax.tree.map(np.asarray, {k: v for k, v in out.items() if k != "values"}))
    cat = {k: np.concatenate([p[k] for p in parts])[:n_chips] for k in parts[0]}
    product = _retrieve_product(cat, retrieve, 3 if config.product_at_t else 2)
    clear = np.isin(cat["scl"], VALID_SCL)
    return S1S2Scenes(
        s1_db=cat["s1_db"].astype(np.float32), model_db=cat["model_db"], lai_product=product, scl=cat["scl"],
        clear=clear, lai=cat["lai"], lai_s1=cat["lai_s1"], reflectance=cat["reflectance"],
        soil_moisture=cat["soil_moisture"], incidence_deg=cat["incidence_deg"], s2_doy=cat["s2_doy"],
        s1_doy=cat["s1_doy"], sza=cat["sza"], saa=cat["saa"], raa=cat["raa"], vza=cat["vza"], vaa=cat["vaa"],
        cloud_fraction=cat["cloud_fraction"], parcel=cat["parcel"], crop_class=cat["crop_class"].astype(np.int16),
        class_names=tuple(c.name for c in config.classes), band_names=tuple(optics.srf.band_names))


def _retrieve_product(cat: dict, retrieve, n_times: int) -> np.ndarray:
    """The S2 LAI product ``(n, n_times, y, x)``: ``retrieve`` on the pixels of SCL 2–6, NaN elsewhere."""
    refl = cat["reflectance"][:, :n_times]
    ok = np.isin(cat["scl"][:, :n_times], VALID_SCL)
    n, t, ny, nx = ok.shape
    per_date = {"sza": cat["sza"][:, :t], "raa": cat["raa"][:, :t], "vza": np.repeat(cat["vza"][:, None], t, 1)}
    geo = {k: np.broadcast_to(np.asarray(v, np.float64)[:, :, None, None], ok.shape)[ok] for k, v in per_date.items()}
    out = np.full(ok.shape, np.nan)
    if ok.any():
        lai = np.asarray(retrieve(refl[ok].astype(np.float64), geo), np.float64)
        if lai.shape != (int(ok.sum()),):
            raise ValueError(f"retrieve must return ({int(ok.sum())},) LAI values, got shape {lai.shape}")
        out[ok] = lai
    return out


def scenes_to_chips(scenes: S1S2Scenes, *, scene: str = "SIMULATED") -> list[S1S2Chip]:
    """The chips of ``scenes`` as :class:`~leafjax.data.S1S2Chip` (the reader's type of the real sample), so that
    anything written for the real chips runs on simulated ones: ``lai`` is the S2 LAI *product* at t−2, t−1 (and
    t when simulated, else NaN with status ``"missing"``), ``valid`` = SCL 2–6 and a finite product.  Dates in the
    names: :data:`SIMULATED_YEAR` plus the days of year of t−2 and t."""
    out = []
    n, p = scenes.lai_product.shape[:2]
    base = np.datetime64(f"{SIMULATED_YEAR}-01-01", "D")
    for i in range(n):
        lai = np.full(scenes.scl.shape[1:], np.nan)
        lai[:p] = scenes.lai_product[i]
        clear = scenes.clear[i]
        valid = clear & np.isfinite(lai)
        d0, d1 = (base + np.timedelta64(int(scenes.s2_doy[i, j]) - 1, "D") for j in (0, 2))
        name = ChipName(scene, d0, d1, 0, 0, i, 0)
        status = tuple("ok" if t < p else "missing" for t in range(3))
        out.append(S1S2Chip(name, scenes.s1_db[i].astype(np.float32), np.where(valid, lai, np.nan),
                            scenes.scl[i].astype(np.int16), clear, valid, status, None, (), Path(".")))
    return out
