"""Metrics tables from a predictions table (:func:`~leafjax.evaluation.run_evaluation`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._metrics import METRICS, _batched, score

_KEYS = ["trait", "held_out", "k", "method"]


def summarise(predictions: pd.DataFrame, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
              ) -> pd.DataFrame:
    """Per ``(trait, held_out, k, method)`` (``trait``: the target; ``held_out``: the held-out group of any unit —
    dataset, site, parcel): each metric averaged over the seeds of the k splits, with a
    percentile bootstrap interval of that average (test samples resampled within each seed's split, with
    ``numpy.random.default_rng(seed + i)`` for the i-th seed).  Columns: keys, ``n_seeds``, ``n_test`` (per
    split), then ``<metric>``, ``<metric>_lo``, ``<metric>_hi`` for :data:`METRICS`."""
    rows = []
    a = 100 * (1 - level) / 2
    for key, grp in predictions.groupby(_KEYS, sort=True):
        per_seed = []
        boots = []
        for i, (_, g) in enumerate(grp.groupby("seed", sort=True)):
            y, p = g["measured"].to_numpy(float), g["predicted"].to_numpy(float)
            per_seed.append(score(y, p, n_boot=0))
            if n_boot > 0 and y.size > 1:
                idx = np.random.default_rng(seed + i).integers(0, y.size, size=(n_boot, y.size))
                boots.append({m: _batched(m, y[idx], p[idx]) for m in METRICS})
        row = dict(zip(_KEYS, key))
        row["n_seeds"] = len(per_seed)
        row["n_test"] = int(np.mean([s["n"] for s in per_seed]))
        for m in METRICS:
            row[m] = float(np.mean([s[m] for s in per_seed]))
            if boots:
                dist = np.mean([b[m] for b in boots], axis=0)
                with np.errstate(all="ignore"):
                    lo, hi = (np.nanpercentile(dist, [a, 100 - a]) if np.isfinite(dist).any() else (np.nan, np.nan))
                row[f"{m}_lo"], row[f"{m}_hi"] = float(lo), float(hi)
        rows.append(row)
    return pd.DataFrame(rows)


def overview(summary: pd.DataFrame) -> pd.DataFrame:
    """Per ``(trait, k, method)``: median over held-out groups of rmse, nrmse, r2, bias and mae, and the
    number of held-out groups (column ``n_datasets``, whatever the unit)."""
    g = summary.groupby(["trait", "k", "method"], sort=True)
    out = g[["rmse", "nrmse", "r2", "bias", "mae"]].median()
    out.columns = [f"median_{c}" for c in out.columns]
    out.insert(0, "n_datasets", g.size())
    return out.reset_index()
