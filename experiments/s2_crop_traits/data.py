"""The validation rows of Graf et al. (2023): real Sentinel-2 L2A reflectance at winter-wheat sampling points with
in-situ green LAI and canopy chlorophyll content, and the authors' own PROSAIL look-up-table estimates.

The tables (``../shared/data/s2_crop_traits/{lai,ccc}_s2_insitu.csv``; provenance in ``data/README.md`` of the
shared folder) have no angles: the sun zenith/azimuth are computed here from each row's acquisition time and
location (:func:`leafjax.physics.sky.solar_position`); the view angles are not given either, and Sentinel-2
views within about 11° of nadir, so every row takes the view zenith :data:`VZA` and the view azimuth
:data:`VAA` (the defaults of ``leafjax map``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Sentinel-2 bands of the tables (no B8), in table order; the canonical names are B2 … B12.
TABLE_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12")
#: Assumed view zenith / azimuth (degrees): not in the tables; the defaults of ``leafjax map``.
VZA, VAA = 5.0, 0.0
#: Platform column → leafjax sensor name.
PLATFORMS = {"S2A": "sentinel-2a", "S2B": "sentinel-2b", "S2C": "sentinel-2c"}
#: Trait column and the peer's two estimate columns of each table.
TRAITS = {"lai": ("peer_lai_lut", "peer_lai_lut_phenology"), "ccc": ("peer_ccc_lut", "peer_ccc_lut_phenology")}


def default_data_dir() -> Path:
    """``../shared/data/s2_crop_traits`` beside the repository."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "s2_crop_traits"


def load_rows(data_dir: Path, trait: str) -> pd.DataFrame:
    """One table (``trait`` = ``"lai"`` or ``"ccc"``) with the computed geometry columns ``sza``, ``saa``, ``vza``,
    ``raa`` (degrees) and ``sensor``; rows in file order (``row`` = their index in the file)."""
    from leafjax.physics.sky import relative_azimuth, solar_position

    d = pd.read_csv(Path(data_dir) / f"{trait}_s2_insitu.csv")
    sza, saa = solar_position(d["acquisition_utc"].to_numpy(str), d["lat"].to_numpy(), d["lon"].to_numpy())
    d["row"] = np.arange(len(d))
    d["sza"], d["saa"] = sza, saa
    d["vza"] = VZA
    d["raa"] = np.asarray(relative_azimuth(saa, np.full(len(d), VAA)))
    unknown = sorted(set(d["platform"]) - set(PLATFORMS))
    if unknown:
        raise ValueError(f"unknown platform(s) {unknown} in {trait}_s2_insitu.csv")
    d["sensor"] = d["platform"].map(PLATFORMS)
    return d


def campaign(d: pd.DataFrame) -> pd.Series:
    """Location and year of each row (e.g. ``SwissFutureFarm 2019``): the groups of the leave-one-out folds."""
    return d["location"] + " " + d["scene_id"].str[11:15]
