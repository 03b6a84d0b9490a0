"""Accuracy metrics of trait predictions, with bootstrap confidence intervals.

Conventions (``y``: measured, ``p``: predicted, NaN pairs dropped):
- ``rmse`` = sqrt(mean((p − y)²)); ``mae`` = mean|p − y|; ``bias`` = mean(p − y) (positive: overestimation).
- ``nrmse`` = rmse / (max(y) − min(y)) — normalised by the **range** of the measured values (dimensionless;
  multiply by 100 for %).  ``nrmse_mean`` = rmse / mean(y) is available for the other common convention.
- ``r2`` = 1 − Σ(p − y)² / Σ(y − ȳ)² (coefficient of determination, can be negative; not the squared
  correlation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


def _pair(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if y.shape != p.shape:
        raise ValueError(f"measured and predicted have shapes {y.shape} and {p.shape}")
    if y.ndim != 1:
        raise ValueError(f"metrics take 1-D arrays, got shape {y.shape}")
    ok = np.isfinite(y) & np.isfinite(p)
    return y[ok], p[ok]


def rmse(y, p) -> float:
    y, p = _pair(y, p)
    return float(np.sqrt(np.mean((p - y) ** 2)))


def mae(y, p) -> float:
    y, p = _pair(y, p)
    return float(np.mean(np.abs(p - y)))


def bias(y, p) -> float:
    y, p = _pair(y, p)
    return float(np.mean(p - y))


def nrmse(y, p) -> float:
    """RMSE divided by the range (max − min) of the measured values; NaN if the range is 0."""
    y, p = _pair(y, p)
    span = np.max(y) - np.min(y)
    return float(np.sqrt(np.mean((p - y) ** 2)) / span) if span > 0 else float("nan")


def nrmse_mean(y, p) -> float:
    """RMSE divided by the mean of the measured values."""
    y, p = _pair(y, p)
    return float(np.sqrt(np.mean((p - y) ** 2)) / np.mean(y))


def r2(y, p) -> float:
    y, p = _pair(y, p)
    ss_tot = np.sum((y - np.mean(y)) ** 2)
    return float(1.0 - np.sum((p - y) ** 2) / ss_tot) if ss_tot > 0 else float("nan")


#: Metrics reported by :func:`score`, by name.
METRICS: Mapping[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rmse": rmse, "nrmse": nrmse, "r2": r2, "bias": bias, "mae": mae}


def _batched(name: str, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Metric over the last axis of ``(B, n)`` arrays (vectorised bootstrap)."""
    e = p - y
    if name == "rmse":
        return np.sqrt(np.mean(e**2, axis=-1))
    if name == "mae":
        return np.mean(np.abs(e), axis=-1)
    if name == "bias":
        return np.mean(e, axis=-1)
    if name == "nrmse":
        span = np.max(y, axis=-1) - np.min(y, axis=-1)
        with np.errstate(all="ignore"):
            return np.where(span > 0, np.sqrt(np.mean(e**2, axis=-1)) / span, np.nan)
    if name == "r2":
        ss = np.sum((y - y.mean(axis=-1, keepdims=True)) ** 2, axis=-1)
        with np.errstate(all="ignore"):
            return np.where(ss > 0, 1.0 - np.sum(e**2, axis=-1) / ss, np.nan)
    raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")


def bootstrap_distribution(y, p, *, n_boot: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Each metric of :data:`METRICS` on ``n_boot`` resamples (with replacement) of the pairs.

    The resampling uses ``numpy.random.default_rng(seed)``, so results are reproducible.
    """
    y, p = _pair(y, p)
    idx = np.random.default_rng(seed).integers(0, y.size, size=(n_boot, y.size))
    return {m: _batched(m, y[idx], p[idx]) for m in METRICS}


def score(y, p, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """All metrics and their percentile bootstrap intervals: ``{"rmse": …, "rmse_lo": …, "rmse_hi": …, …,
    "n": …}``.  ``n_boot=0`` skips the intervals."""
    y, p = _pair(y, p)
    out: dict[str, float] = {"n": float(y.size)}
    dist = bootstrap_distribution(y, p, n_boot=n_boot, seed=seed) if n_boot > 0 and y.size > 1 else {}
    a = 100 * (1 - level) / 2
    for name, fn in METRICS.items():
        out[name] = fn(y, p) if y.size else float("nan")
        if name in dist:
            with np.errstate(all="ignore"):
                lo, hi = np.nanpercentile(dist[name], [a, 100 - a]) if np.isfinite(dist[name]).any() else (np.nan,) * 2
            out[f"{name}_lo"], out[f"{name}_hi"] = float(lo), float(hi)
    return out
