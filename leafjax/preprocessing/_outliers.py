"""Outlier flags for leaf spectra: values out of range, mostly-missing spectra, spectral outliers within their
dataset, and white-background measurements."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._report import StepReport

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: Reflectance outside [R_MIN, R_MAX] (fraction) is physically implausible for a leaf (small negative values
#: arise from dark-current subtraction; ~0.99 is the top of a white reference).
R_MIN: float = -0.01
R_MAX: float = 1.0
#: A spectrum missing more than this fraction of its bands is flagged.
MAX_MISSING_FRACTION: float = 0.5
#: Robust z-score (MAD-scaled) of the distance to the dataset's median spectrum above which a row is flagged.
OUTLIER_Z: float = 5.0
#: Median 800–900 nm reflectance above which a leaf was measured over a white backing (fraction).  Black-backed
#: leaf-clip spectra of the shared datasets plateau at 0.33–0.52; sexton2021 (white backing) at ~0.93.
WHITE_BACKGROUND_NIR: float = 0.75
NIR_RANGE_NM: tuple[float, float] = (800.0, 900.0)
#: Normal-consistency constant of the median absolute deviation.
MAD_TO_SD: float = 1.4826
MIN_ROWS_FOR_Z: int = 8


def flag_outliers(ds: SpectralDataset, *, z_threshold: float = OUTLIER_Z,
                  white_nir: float = WHITE_BACKGROUND_NIR) -> tuple[SpectralDataset, StepReport]:
    """Add boolean ``meta`` columns ``flag_range``, ``flag_missing``, ``flag_spectral``, ``flag_white_background``
    and their union ``flag_any``; spectra are not modified or removed (filter with ``ds.subset(~flag_any)``).

    ``flag_spectral`` uses, within each dataset of at least :data:`MIN_ROWS_FOR_Z` rows, the RMS distance of a
    spectrum to the dataset's median spectrum over the bands all its rows share, as a robust z-score.
    """
    x = ds.reflectance
    finite = np.isfinite(x)
    rng = np.any(finite & ((np.where(finite, x, 0) < R_MIN) | (np.where(finite, x, 0) > R_MAX)), axis=1)
    missing = (~finite).mean(axis=1) > MAX_MISSING_FRACTION
    spectral = np.zeros(len(ds), dtype=bool)
    z_all = np.full(len(ds), np.nan)
    names = ds.meta["dataset"].to_numpy()
    for name in ds.dataset_names():
        rows = np.flatnonzero(names == name)
        if rows.size < MIN_ROWS_FOR_Z:
            continue
        xb = x[rows]
        shared = np.isfinite(xb).all(axis=0)
        if not shared.any():
            continue
        d = np.sqrt(np.mean((xb[:, shared] - np.median(xb[:, shared], axis=0)) ** 2, axis=1))
        mad = MAD_TO_SD * np.median(np.abs(d - np.median(d)))
        z = (d - np.median(d)) / max(mad, 1e-12)
        z_all[rows] = z
        spectral[rows] = z > z_threshold
    nir = (ds.wavelengths >= NIR_RANGE_NM[0]) & (ds.wavelengths <= NIR_RANGE_NM[1])
    if nir.any():
        with np.errstate(all="ignore"):
            nir_level = np.nanmedian(np.where(finite[:, nir], x[:, nir], np.nan), axis=1)
        white = np.nan_to_num(nir_level, nan=0.0) > white_nir
    else:
        white = np.zeros(len(ds), dtype=bool)
    flags = {"flag_range": rng, "flag_missing": missing, "flag_spectral": spectral, "flag_white_background": white}
    any_ = np.logical_or.reduce(list(flags.values()))
    meta = ds.meta.copy()
    for k, v in {**flags, "flag_any": any_}.items():
        meta[k] = v
    counts = {k: int(v.sum()) for k, v in flags.items()}
    white_ds = sorted(set(names[white]))
    msg = (f"{int(any_.sum())} of {len(ds)} spectra flagged: " + ", ".join(f"{k[5:]} {v}" for k, v in counts.items())
           + (f"; white background in {white_ds}" if white_ds else ""))
    return ds.replace(meta=meta), StepReport("flag_outliers", msg, int(any_.sum()), 0,
                                             {"counts": counts, "robust_z": z_all, "white_background_datasets": white_ds})
