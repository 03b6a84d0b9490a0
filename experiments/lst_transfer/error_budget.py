"""The error budget of the synthetic cross-site LST experiment, written down from the literature BEFORE any
result of the experiment was seen, and never changed to move the results towards the paper's numbers.

Every number is a named constant with its unit and source.  The budget has two sides:

* **observation side** (what the satellite and the field station deliver): sensor noise (NEΔT, independent per
  observation and band), absolute calibration bias (one draw per seed and band, shared by all sites: it is a
  property of the instrument), and the in-situ label error (per observation, plus a per-site representativeness
  bias);
* **retrieval side** (what an algorithm is given besides the brightness temperatures): band emissivities with a
  per-site bias and a per-observation error (an NDVI-threshold-style emissivity estimate), and a reanalysis-like
  column water vapour (relative error per site and per observation) and atmospheric temperature profile (an offset
  per observation; used by the physical inversion only).

The simulated pre-training set gets the sensor noise only (:data:`NEDT_K`), as a simulation of the instrument;
none of the retrieval-side or in-situ errors, which a simulation cannot know.

References
----------
* Barsi, J. A. et al. (2017) Landsat-8 TIRS thermal radiometric calibration status. Proc. SPIE 10402,
  doi:10.1117/12.2276045 — residual lifetime bias 0.30 K / −0.29 K (bands 10 / 11) at 300 K after the stray-light
  correction, residual variability 0.51 / 0.84 K.
* Ye, X. et al. (2021) Cross-calibration of Chinese Gaofen-5 thermal infrared images and its improvement on land
  surface temperature retrieval. Int. J. Appl. Earth Obs. Geoinf. 101, 102357, doi:10.1016/j.jag.2021.102357 —
  GF-5 VIMI thermal bands needed a re-calibration against MODIS (calibration errors are not negligible).
* Sobrino, J. A. et al. (2008) Land surface emissivity retrieval from different VNIR and TIR sensors. IEEE Trans.
  Geosci. Remote Sens. 46(2), 316–327, doi:10.1109/TGRS.2007.904834 — NDVI-threshold emissivities, uncertainty
  ≈ 0.01.
* Bosser, P. & Bock, O. (2021) IWV retrieval from ground GNSS receivers during NAWDEX. Adv. Geosci. 55, 13–22,
  doi:10.5194/adgeo-55-13-2021 — ERA5 minus GNSS IWV: station-mean bias 0.19 ± 0.56 kg m⁻², standard deviation
  1.64 ± 0.53 kg m⁻² (≈ 10 % of a mid-latitude column of ≈ 15–20 kg m⁻²).
* Zhang, W. et al. (2019) On the suitability of ERA5 in hourly GPS precipitable water vapor retrieval over China.
  J. Geodesy 93, 1897–1909, doi:10.1007/s00190-019-01290-6 — ERA5 near-surface temperature RMS 1.8 K, weighted
  mean temperature RMS 1.6 K against stations / radiosondes over China.
* Guillevic, P. et al. (2018) Land Surface Temperature Product Validation Best Practice Protocol, version 1.1.
  CEOS WGCV LPV, doi:10.5067/doc/ceoswgcv/lpv/lst.001 — in-situ radiometer uncertainty and spatial
  representativeness as the dominant ground-reference errors.
* Göttsche, F.-M., Olesen, F.-S., Trigo, I. F., Bork-Unkelbach, A. & Martin, M. A. (2016) Long term validation of
  land surface temperature retrieved from MSG/SEVIRI with continuous in-situ measurements in Africa. Remote Sens.
  8(5), 410, doi:10.3390/rs8050410 — in-situ LST uncertainty of dedicated radiometer stations ≈ 0.3–1 K including
  representativeness.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Sensor noise-equivalent temperature difference per thermal band at 300 K (K, 1σ, independent per observation
#: and band).  0.2 K is the value quoted for the GF-5 / GF5-02 VIMI thermal bands (40 m); a primary specification
#: sheet was not reachable from this project, so the value is the commonly quoted requirement, not a measured one.
NEDT_K: float = 0.2

#: Absolute calibration bias per band (K, 1σ of a Gaussian drawn once per seed and band, the same for every site
#: and both regions).  0.4 K: the middle of the 0.3–0.5 K residual biases after on-orbit correction of a modern
#: thermal imager (Landsat-8 TIRS, Barsi et al. 2017); GF-5 VIMI needed a re-calibration (Ye et al. 2021).
CALIBRATION_BIAS_K: float = 0.4

#: Retrieval-side emissivity bias per site and band (unitless, 1σ): an NDVI-threshold emissivity is off by
#: ≈ 0.01 for a given surface (Sobrino et al. 2008).
EMISSIVITY_SITE_BIAS: float = 0.01

#: Correlation of the per-site emissivity bias between bands (unitless): NDVI-based estimates err in the same
#: direction in all bands (they come from one vegetation-fraction estimate).  A judgement, stated here.
EMISSIVITY_BIAS_BAND_CORRELATION: float = 0.5

#: Retrieval-side emissivity error per observation and band (unitless, 1σ): the day-to-day scatter of the
#: vegetation fraction that drives the NDVI-threshold estimate (half the site bias, Sobrino et al. 2008 scale).
EMISSIVITY_OBS_SIGMA: float = 0.005

#: Reanalysis-like column water vapour: relative error per observation (unitless, 1σ).  ERA5 − GNSS standard
#: deviation 1.64 kg m⁻² over typical columns of 15–20 kg m⁻² ≈ 10 % (Bosser & Bock 2021).
WVC_OBS_RELATIVE_SIGMA: float = 0.10

#: Reanalysis-like column water vapour: relative bias per site (unitless, 1σ).  Station-mean ERA5 − GNSS biases
#: spread by 0.56 kg m⁻² over ≈ 15 kg m⁻² ≈ 4 % (Bosser & Bock 2021).  Total per-observation ≈ 11 %.
WVC_SITE_RELATIVE_SIGMA: float = 0.04

#: Reanalysis-like atmospheric temperature: one offset of the whole profile per observation (K, 1σ); used only by
#: the physical inversion, which needs a full profile.  ERA5 near-surface temperature RMS 1.8 K and weighted-mean
#: temperature RMS 1.6 K over China (Zhang et al. 2019); a column-mean offset of 1.0 K is the part that does not
#: average out over the profile (a judgement, stated here).
ATMOSPHERE_T_OFFSET_K: float = 1.0

#: In-situ LST label error per observation (K, 1σ): broadband radiometer (CNR1-class, as at the paper's stations)
#: and emissivity/representativeness error of a ground station (Guillevic et al. 2018; Göttsche et al. 2016).
INSITU_OBS_SIGMA_K: float = 0.8

#: In-situ LST label bias per site (K, 1σ): the representativeness of a point measurement for a 40 m pixel at a
#: heterogeneous site (Guillevic et al. 2018).
INSITU_SITE_BIAS_K: float = 0.3

#: Band view angles of the sites (degrees): VIMI's swath is narrow (≈ 60 km from 705 km), so sites are viewed
#: within ≈ 5° of nadir.  The LBLRTM truth is nadir only; the observations are computed at nadir and the drawn
#: angle is only a feature (a ≤ 5° slant path changes the path by < 0.4 %).
SITE_VZA_DEG: tuple[float, float] = (0.0, 5.0)

#: Where each number comes from (short form), written into ``results.json``.
SOURCES: dict[str, str] = {
    "nedt_k": "GF-5 VIMI thermal-band NEdT requirement 0.2 K at 300 K (commonly quoted; primary sheet not reached)",
    "calibration_bias_k": "Barsi et al. 2017 (Landsat-8 TIRS residual bias 0.29-0.30 K); Ye et al. 2021 (GF-5 recalibration)",
    "emissivity_site_bias": "Sobrino et al. 2008 (NDVI-threshold emissivity uncertainty ~0.01)",
    "emissivity_bias_band_correlation": "judgement: one vegetation-fraction estimate drives all bands",
    "emissivity_obs_sigma": "Sobrino et al. 2008 scale, half the site bias",
    "wvc_obs_relative_sigma": "Bosser & Bock 2021 (ERA5-GNSS IWV sd 1.64 kg/m2 ~ 10 %)",
    "wvc_site_relative_sigma": "Bosser & Bock 2021 (station-mean bias spread 0.56 kg/m2 ~ 4 %)",
    "atmosphere_t_offset_k": "Zhang et al. 2019 (ERA5 T RMS 1.6-1.8 K over China), column-mean part",
    "insitu_obs_sigma_k": "Guillevic et al. 2018; Goettsche et al. 2016 (in-situ LST 0.3-1 K)",
    "insitu_site_bias_k": "Guillevic et al. 2018 (spatial representativeness)",
    "site_vza_deg": "VIMI narrow swath; truth is nadir only",
}


def budget() -> dict:
    """The budget as a plain dict (for ``results.json``): values, sources and the hash of this file (so that a
    later change of the budget is visible in the results)."""
    values = {"nedt_k": NEDT_K, "calibration_bias_k": CALIBRATION_BIAS_K,
              "emissivity_site_bias": EMISSIVITY_SITE_BIAS,
              "emissivity_bias_band_correlation": EMISSIVITY_BIAS_BAND_CORRELATION,
              "emissivity_obs_sigma": EMISSIVITY_OBS_SIGMA, "wvc_obs_relative_sigma": WVC_OBS_RELATIVE_SIGMA,
              "wvc_site_relative_sigma": WVC_SITE_RELATIVE_SIGMA, "atmosphere_t_offset_k": ATMOSPHERE_T_OFFSET_K,
              "insitu_obs_sigma_k": INSITU_OBS_SIGMA_K, "insitu_site_bias_k": INSITU_SITE_BIAS_K,
              "site_vza_deg": list(SITE_VZA_DEG)}
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return {"values": values, "sources": SOURCES, "file_sha256_16": digest,
            "note": "fixed from the literature before any result was seen; not tuned to the paper"}
