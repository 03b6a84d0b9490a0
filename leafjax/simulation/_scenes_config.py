r"""Settings of the Sentinel-1/2 scene simulator (:func:`~leafjax.simulation.simulate_s1s2_scenes`).

One frozen :class:`SceneConfig` holds everything; its numbers travel into the compiled simulator as *dynamic*
arrays (:func:`split_config`), so changing a noise level, a date range or a cloud fraction does not recompile.
Only what fixes array shapes is static: the chip ``size``, the pixel size, the mean parcel size (number of
Voronoi seeds), the crop-class table's length and water flags, and the cloud field's
correlation length, cloud height and largest sun zenith (the cloud grid and the shadow margin).

**Speckle of the real sample.**  The real Sentinel-1 of ``lai_s1s2_sample`` is spatially smoothed (docs/radar.md:
ENL 30.6 (VH) / 48.1 (VV) on homogeneous 8×8 windows, neighbouring-pixel correlation 0.77 / 0.76).  The simulator
draws Gamma speckle of ``looks`` looks per pixel (:func:`~leafjax.physics.radar.gamma_speckle`) on the speckled
intensity and smooths it with a normalised Gaussian of ``smoothing_px`` pixels (``K I Kᵀ`` with the row-normalised
Gaussian matrix ``K``).  For a homogeneous area and the untruncated discrete kernel :math:`w` (1-D, sum 1) the
smoothed speckle has

.. math:: \mathrm{ENL} = L\,\Big/\Big(\sum_i w_i^2\Big)^2, \qquad
          \rho_1 = \sum_i w_i w_{i+1}\Big/\sum_i w_i^2

(:func:`speckle_statistics`); :func:`speckle_for_targets` inverts it.  The defaults of :class:`RadarSettings` are
the result of calibrating the *whole* simulated radar (speckle plus texture) against the sample through
:func:`~leafjax.simulation.realism_report` (docs/s1s2_scenes.md), not the sample's numbers themselves: texture
inside a window lowers the measured ENL and raises its lag-1 correlation.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._scenes_classes import CROP_CLASSES, CropClass, class_arrays


def _pair(x) -> tuple[float, float]:
    a, b = (float(v) for v in x)
    return a, b


@dataclasses.dataclass(frozen=True)
class SoilMoistureSettings:
    """Rain-driven surface soil moisture (:func:`~leafjax.simulation.soil_moisture_series`; assumed values).

    ``rain_probability`` (rain days per day; Bernoulli per day), ``rain_mean_mm`` (mean rain of a rain day,
    exponential, mm), ``depth_mm`` (water depth of the sensed layer per unit volumetric moisture, mm: 100 mm
    of rain raise a 0.1-m layer by 1 m³ m⁻³), ``drying_days`` (e-folding of the drying, days), ``residual`` and
    ``porosity`` (m³ m⁻³, the floor and cap), ``climate_sd`` (log-normal sd of a chip's rain frequency),
    ``parcel_factor_sd`` (log-normal sd of a parcel's response to rain: texture, drainage), ``parcel_offset_sd``
    and ``pixel_sd`` (m³ m⁻³; the pixel term is a static field of 2-pixel correlation).
    """

    rain_probability: float = 0.25
    rain_mean_mm: float = 6.0
    depth_mm: float = 100.0
    drying_days: float = 5.0
    residual: float = 0.08
    porosity: float = 0.45
    climate_sd: float = 0.3
    parcel_factor_sd: float = 0.2
    parcel_offset_sd: float = 0.02
    pixel_sd: float = 0.01


@dataclasses.dataclass(frozen=True)
class CloudSettings:
    r"""Clouds, shadows and scene classification of the Sentinel-2 dates (assumed values).

    ``clear_probability`` (a date is entirely cloud-free), ``fraction`` (otherwise the date's cloud fraction is
    uniform in this range; the thresholded field hits it exactly on the chip), ``corr_px`` (correlation length of
    the Gaussian random field, pixels; static), ``time_scale_days`` (AR(1) time correlation of the field between
    dates, :math:`\rho = e^{-\Delta t/\tau}`), ``high_share`` (fraction of the cloud with the highest field
    values, SCL 9; the rest SCL 8), ``height_m`` (cloud height for the shadows, m; static), ``max_sza_deg``
    (largest sun zenith the shadow margin allows, degrees; static), ``cirrus_fraction`` (thin cirrus, SCL 10,
    uniform range per date, from a second field of twice the correlation length), ``cloud_reflectance`` (flat
    reflectance of a cloud, uniform range), ``cirrus_reflectance`` (added by thin cirrus), ``unclassified_fraction``
    (SCL 7, independent per pixel), ``ndvi_vegetation`` (NDVI at or above which a clear land pixel is SCL 4
    vegetation, else 5 not vegetated; a simplification of Sen2Cor's rules).
    """

    clear_probability: float = 0.4
    fraction: tuple[float, float] = (0.05, 0.6)
    corr_px: float = 25.0
    time_scale_days: float = 1.0
    high_share: float = 0.6
    height_m: float = 1000.0
    max_sza_deg: float = 75.0
    cirrus_fraction: tuple[float, float] = (0.0, 0.05)
    cloud_reflectance: tuple[float, float] = (0.3, 0.7)
    cirrus_reflectance: float = 0.03
    unclassified_fraction: float = 0.005
    ndvi_vegetation: float = 0.4


@dataclasses.dataclass(frozen=True)
class RadarSettings:
    """Sentinel-1 geometry, backscatter variation not explained by the water-cloud model, and speckle; pairs are
    ``(vh, vv)``.

    ``incidence_centre_deg`` (range of a chip's centre incidence angle, degrees; uniform), ``incidence_gradient_deg_
    per_km`` (across the chip along x: IW spans about 29–46° over 250 km), ``chip_db_sd`` (dB, one offset per chip
    and polarisation: the spread of the fitted soil terms between scene-dates), ``parcel_db_sd`` (dB, static per
    parcel: roughness, row direction, crop structure), ``parcel_date_db_sd`` (dB, per parcel and date: dew, wind,
    management), ``event_probability`` and ``event_db_sd`` (a parcel-date
    event — tillage, a wet surface — adds a Gaussian of this sd, dB), ``pixel_db_sd`` and ``pixel_corr_px`` (a static Gaussian random field, dB and pixels),
    ``pol_correlation`` (correlation of these perturbations between VH and VV), ``looks`` and ``smoothing_px``
    (speckle, module docstring; ``looks`` 0 switches speckle and smoothing off), ``water_db`` (backscatter of open
    water, dB; assumed, of the order of the sample's darkest class).  Calibrated against the sample:
    docs/s1s2_scenes.md.
    """

    incidence_centre_deg: tuple[float, float] = (33.0, 45.0)
    incidence_gradient_deg_per_km: float = 0.068
    chip_db_sd: tuple[float, float] = (1.2, 1.0)
    parcel_db_sd: tuple[float, float] = (2.4, 2.2)
    parcel_date_db_sd: tuple[float, float] = (0.2, 0.3)
    event_probability: float = 0.1
    event_db_sd: tuple[float, float] = (3.0, 3.0)
    pixel_db_sd: tuple[float, float] = (0.8, 0.8)
    pixel_corr_px: float = 1.0
    pol_correlation: float = 0.6
    looks: tuple[float, float] = (3.0, 5.0)
    smoothing_px: tuple[float, float] = (1.0, 1.0)
    water_db: tuple[float, float] = (-26.0, -19.0)


@dataclasses.dataclass(frozen=True)
class SceneConfig:
    """Everything the scene simulator draws from (see the module docstring for what is static).

    **Chip and parcels:** ``size`` (pixels, square chips), ``pixel_m`` (m), ``parcel_px`` (mean parcel side,
    pixels: the number of Voronoi seeds), ``parcel_anisotropy`` (range of the stretch of the cells along a random
    direction), ``classes`` (:class:`~leafjax.simulation.CropClass` table).
    **LAI:** ``lai_pixel_cv`` (log-normal within-parcel variation, static over time, correlation
    ``lai_pixel_corr_px`` pixels), ``lai_date_cv`` (independent per pixel and date).
    **Dates** (days of year of one year): ``target_doy`` (range of the target date t, an S2 acquisition),
    ``s2_revisit_days``, ``s2_gap_probability`` (probability that the product date before a date is two revisits
    earlier, e.g. a cloudy acquisition skipped, instead of one), ``s1_revisit_days`` (6 or 12).
    **Sun and view:** ``latitude`` (degrees north, range per chip), ``overpass_hour`` (local solar time of the
    Sentinel-2 overpass, h), ``vza`` (range of the chip's view zenith, degrees; the view azimuth is 103° or 283°,
    east or west of the descending track).  ``product_at_t``: also simulate the S2 product at t.
    ``soil``, ``clouds``, ``radar``: :class:`SoilMoistureSettings`, :class:`CloudSettings`,
    :class:`RadarSettings`.
    """

    size: int = 32
    pixel_m: float = 10.0
    parcel_px: float = 40.0
    parcel_anisotropy: tuple[float, float] = (1.0, 2.5)
    classes: tuple[CropClass, ...] = CROP_CLASSES
    lai_pixel_cv: float = 0.12
    lai_pixel_corr_px: float = 2.0
    lai_date_cv: float = 0.03
    target_doy: tuple[float, float] = (110.0, 270.0)
    s2_revisit_days: float = 5.0
    s2_gap_probability: float = 0.4
    s1_revisit_days: float = 6.0
    latitude: tuple[float, float] = (44.0, 57.0)
    overpass_hour: float = 10.5
    vza: tuple[float, float] = (0.0, 11.0)
    product_at_t: bool = False
    soil: SoilMoistureSettings = SoilMoistureSettings()
    clouds: CloudSettings = CloudSettings()
    radar: RadarSettings = RadarSettings()

    def __post_init__(self):
        if not (isinstance(self.size, int) and self.size >= 8):
            raise ValueError(f"size must be an integer >= 8 pixels, got {self.size!r}")
        lo, hi = self.target_doy
        if not (1 <= lo <= hi <= 365 - 0 and lo - 4 * max(self.s2_revisit_days, self.s1_revisit_days) >= 1):
            raise ValueError(f"target_doy {self.target_doy} must lie in [1, 365] and leave room for t-2 "
                             f"(at least {4 * max(self.s2_revisit_days, self.s1_revisit_days):g} days before)")
        if not (self.parcel_px > 1 and self.pixel_m > 0 and self.s2_revisit_days >= 1
                and self.s1_revisit_days >= 1):
            raise ValueError("parcel_px must exceed 1 pixel; pixel_m and the revisits must be positive")
        if not (0 <= self.clouds.fraction[0] <= self.clouds.fraction[1] < 1 and self.clouds.corr_px > 0
                and 0 <= self.clouds.clear_probability <= 1 and 0 <= self.clouds.max_sza_deg < 89):
            raise ValueError("cloud fractions must satisfy 0 <= low <= high < 1, corr_px > 0, clear_probability "
                             "in [0, 1], max_sza_deg in [0, 89)")
        if any(v < 0 for v in (*self.radar.looks, *self.radar.smoothing_px)):
            raise ValueError("radar looks and smoothing_px must be >= 0 (looks 0: no speckle)")


@dataclasses.dataclass(frozen=True)
class StaticScene:
    """The shape-fixing part of a :class:`SceneConfig` (hashable; a static argument of the compiled simulator).

    ``n_seeds`` Voronoi seeds; ``water`` (per class); cloud grid: ``cloud_step`` (pixels per cloud-grid cell),
    ``cloud_cells`` (cells per side), ``margin_px`` (the shadow margin around the chip, pixels), ``cloud_height_px``
    (cloud height in pixels)."""

    size: int
    pixel_m: float
    parcel_px: float
    n_seeds: int
    n_classes: int
    water: tuple[bool, ...]
    cloud_step: int
    cloud_cells: int
    margin_px: int
    cloud_height_px: float


def static_part(config: SceneConfig) -> StaticScene:
    """The :class:`StaticScene` of ``config``."""
    size, parcel = config.size, float(config.parcel_px)
    extended = size + parcel  # seeds over the chip widened by half a parcel on each side
    n_seeds = max(2, int(round(extended * extended / (parcel * parcel))))
    c = config.clouds
    margin = int(math.ceil(c.height_m * math.tan(math.radians(c.max_sza_deg)) / config.pixel_m)) + 1
    step = max(1, int(c.corr_px // 4))
    cells = int(math.ceil((size + 2 * margin + 4 * 2 * c.corr_px) / step)) + 2
    return StaticScene(size, float(config.pixel_m), parcel, n_seeds, len(config.classes),
                       tuple(bool(k.water) for k in config.classes), step, cells, margin,
                       float(c.height_m / config.pixel_m))


def split_config(config: SceneConfig) -> tuple[StaticScene, dict[str, np.ndarray]]:
    """``(static, dynamic)``: :func:`static_part` and every number of ``config`` as float64 arrays, keyed by
    field name (nested settings prefixed ``soil.``, ``clouds.``, ``radar.``, the class table ``class.``; pairs
    as ``(2,)`` arrays)."""
    skip = {"size", "pixel_m", "parcel_px", "classes", "product_at_t", "soil", "clouds", "radar"}
    static_clouds = {"corr_px", "height_m", "max_sza_deg"}
    dyn: dict[str, np.ndarray] = {}
    for f in dataclasses.fields(config):
        if f.name not in skip:
            dyn[f.name] = np.asarray(getattr(config, f.name), np.float64)
    for prefix, sub, skip_sub in (("soil", config.soil, ()), ("clouds", config.clouds, static_clouds),
                                  ("radar", config.radar, ())):
        for f in dataclasses.fields(sub):
            if f.name not in skip_sub:
                dyn[f"{prefix}.{f.name}"] = np.asarray(getattr(sub, f.name), np.float64)
    dyn["clouds.corr_px"] = np.asarray(config.clouds.corr_px, np.float64)
    for k, v in class_arrays(config.classes).items():
        dyn[f"class.{k}"] = v
    return static_part(config), dyn


# --- speckle: statistics of smoothed Gamma speckle and their inversion --------------------------------------------

def gaussian_weights(sigma: float) -> np.ndarray:
    """The untruncated (to 1e-16) discrete Gaussian of ``sigma`` pixels, normalised to sum 1 (``[1]`` at 0)."""
    if sigma <= 0:
        return np.ones(1)
    r = int(math.ceil(9.0 * sigma)) + 1
    w = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return w / w.sum()


def speckle_statistics(looks: float, smoothing_px: float) -> tuple[float, float]:
    """``(ENL, lag-1 correlation)`` of ``looks``-look Gamma speckle smoothed by a Gaussian of ``smoothing_px``
    pixels, over a homogeneous area away from edges (module docstring).

    Example:
        >>> enl, rho = speckle_statistics(3.0, 1.0)
        >>> round(enl, 1), round(rho, 3)
        (37.7, 0.779)
    """
    w = gaussian_weights(smoothing_px)
    s2 = float(np.sum(w * w))
    return float(looks) / s2**2, float(np.sum(w[:-1] * w[1:]) / s2)


def speckle_for_targets(enl: float, lag1: float) -> tuple[float, float]:
    """``(looks, smoothing_px)`` whose :func:`speckle_statistics` are ``(enl, lag1)`` (bisection on the smoothing;
    ``lag1`` in [0, 0.99)).

    Example:
        >>> looks, sigma = speckle_for_targets(30.6, 0.77)
        >>> [round(v, 3) for v in speckle_statistics(looks, sigma)]
        [30.6, 0.77]
    """
    if not (enl > 0 and 0 <= lag1 < 0.99):
        raise ValueError(f"need enl > 0 and lag1 in [0, 0.99), got {enl}, {lag1}")
    if lag1 == 0:
        return float(enl), 0.0
    lo, hi = 1e-3, 50.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if speckle_statistics(1.0, mid)[1] < lag1 else (lo, mid)
    sigma = 0.5 * (lo + hi)
    w = gaussian_weights(sigma)
    return float(enl) * float(np.sum(w * w)) ** 2, sigma
