"""Calibration of stated uncertainty: the fraction of measurements inside stated central intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

#: Nominal level of the intervals the study reports (90 %).
DEFAULT_LEVEL = 0.9


def gaussian_interval(mean, variance, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    r"""Central ``level`` interval :math:`\mu \pm z_{(1+\text{level})/2}\,\sigma` of a Gaussian with ``mean``
    and ``variance`` (same shape, trait units and units²)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    mean, variance = np.asarray(mean, float), np.asarray(variance, float)
    if mean.shape != variance.shape:
        raise ValueError(f"mean {mean.shape} and variance {variance.shape} must have the same shape")
    half = norm.ppf(0.5 + level / 2) * np.sqrt(np.maximum(variance, 0.0))
    return mean - half, mean + half


def interval_coverage(measured, lower, upper) -> float:
    """Fraction of finite ``measured`` values with ``lower <= measured <= upper`` (NaN rows ignored)."""
    y, lo, hi = (np.asarray(a, float) for a in (measured, lower, upper))
    if not (y.shape == lo.shape == hi.shape):
        raise ValueError(f"shapes differ: {y.shape}, {lo.shape}, {hi.shape}")
    ok = np.isfinite(y) & np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return float("nan")
    return float(np.mean((y[ok] >= lo[ok]) & (y[ok] <= hi[ok])))


def gaussian_coverage(measured, mean, variance, level: float = DEFAULT_LEVEL) -> float:
    """Fraction of ``measured`` inside the central ``level`` Gaussian intervals of ``mean``/``variance``
    (for an inversion: ``InversionResult.estimates[trait]`` and ``std[trait] ** 2``).  A calibrated method
    scores ≈ ``level``."""
    lo, hi = gaussian_interval(mean, variance, level)
    return interval_coverage(measured, lo, hi)


def coverage_table(predictions: pd.DataFrame, level: float = DEFAULT_LEVEL,
                   keys=("trait", "held_out", "k", "method")) -> pd.DataFrame:
    """Per ``keys`` group of a predictions table with ``measured``, ``predicted`` and ``variance`` columns:
    ``n``, the ``coverage`` of the central ``level`` Gaussian intervals and the mean interval width."""
    rows = []
    for key, g in predictions.groupby(list(keys), sort=True):
        lo, hi = gaussian_interval(g["predicted"].to_numpy(float), g["variance"].to_numpy(float), level)
        rows.append({**dict(zip(keys, key)), "n": len(g), "level": level,
                     "coverage": interval_coverage(g["measured"].to_numpy(float), lo, hi),
                     "mean_width": float(np.nanmean(hi - lo))})
    return pd.DataFrame(rows)
