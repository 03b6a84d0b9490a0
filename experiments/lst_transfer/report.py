"""Scores with bootstrap intervals over test sites, and the markdown table of the SYNTHETIC experiment.

A method's cross-region RMSE for one direction is the RMSE pooled over all test observations, averaged over the
seeds.  Its 95 % interval resamples the test *sites* with replacement (``n_boot`` draws; the same draws for every
method, so intervals are comparable): each draw recomputes the pooled RMSE of every seed over the drawn sites'
observations and averages over seeds.  With 3 test sites (direction B→A) the interval is coarse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def site_draws(sites: np.ndarray, n_boot: int, seed: int = 0) -> np.ndarray:
    """``(n_boot, n_sites)`` indices into the unique test sites (sorted), resampled with replacement."""
    names = np.unique(sites)
    return np.random.default_rng(seed).integers(0, len(names), (n_boot, len(names)))


def score(pred: np.ndarray, truth: np.ndarray, sites: np.ndarray, draws: np.ndarray) -> dict:
    """Scores of ``pred (M, n)`` against ``truth (M, n)`` or ``(n,)`` over the test observations of ``sites (n,)``.

    Returns ``rmse`` (mean over seeds of the pooled RMSE, K), ``rmse_lo``/``rmse_hi`` (2.5/97.5 % over the site
    draws), ``rmse_seed_sd`` (spread over seeds), ``bias`` (mean over seeds, K), ``mae``, ``n`` (observations),
    ``n_sites``, ``n_seeds``, ``n_nonfinite`` (predictions that are NaN/inf: excluded, and counted)."""
    pred = np.atleast_2d(np.asarray(pred, float))
    truth = np.broadcast_to(np.asarray(truth, float), pred.shape)
    err = pred - truth
    finite = np.isfinite(err)
    names = np.unique(sites)
    idx = np.searchsorted(names, sites)
    # per seed and site: sum of squared errors and counts -> bootstrap without touching observations again
    sse = np.zeros((pred.shape[0], len(names)))
    cnt = np.zeros((pred.shape[0], len(names)))
    np.add.at(sse, (slice(None), idx), np.where(finite, err, 0.0) ** 2)
    np.add.at(cnt, (slice(None), idx), finite.astype(float))
    rmse_seed = np.sqrt(sse.sum(1) / np.maximum(cnt.sum(1), 1))
    boot = np.sqrt(sse[:, draws].sum(-1) / np.maximum(cnt[:, draws].sum(-1), 1)).mean(0) if len(draws) else []
    lo, hi = (np.percentile(boot, [2.5, 97.5]) if len(draws) else (np.nan, np.nan))
    e = np.where(finite, err, np.nan)
    return {"rmse": float(rmse_seed.mean()), "rmse_lo": float(lo), "rmse_hi": float(hi),
            "rmse_seed_sd": float(rmse_seed.std(ddof=1)) if len(rmse_seed) > 1 else 0.0,
            "bias": float(np.nanmean(np.nanmean(e, 1))), "mae": float(np.nanmean(np.abs(e))),
            "n": int(pred.shape[1]), "n_sites": int(len(names)), "n_seeds": int(pred.shape[0]),
            "n_nonfinite": int((~finite).sum())}


def per_site(pred: np.ndarray, truth: np.ndarray, sites: np.ndarray) -> dict[str, float]:
    """RMSE per test site (pooled over seeds), K."""
    pred = np.atleast_2d(np.asarray(pred, float))
    truth = np.broadcast_to(np.asarray(truth, float), pred.shape)
    return {str(s): float(np.sqrt(np.nanmean((pred[:, sites == s] - truth[:, sites == s]) ** 2)))
            for s in np.unique(sites)}


#: Row order of the table: method families.
FAMILY_ORDER = ("split-window", "physical", "pretrained", "finetuned", "direct", "ablation")


def markdown(scores: pd.DataFrame, *, against: str = "insitu", title: str = "") -> str:
    """The cross-region table: one row per method, one column block per direction (RMSE [95 % CI], bias)."""
    s = scores[scores["against"] == against]
    dirs = list(dict.fromkeys(s["direction"]))
    head = "| family | method | " + " | ".join(f"{d} RMSE [95 % CI] (K) | {d} bias (K)" for d in dirs) + " |"
    lines = ([f"**{title}**", ""] if title else []) + [head, "|---|---|" + "---|---|" * len(dirs)]
    keys = s[["family", "method"]].drop_duplicates()
    keys = keys.assign(_f=keys["family"].map({f: i for i, f in enumerate(FAMILY_ORDER)})).sort_values(["_f"],
                                                                                                   kind="stable")
    for fam, meth in zip(keys["family"], keys["method"]):
        cells = []
        for d in dirs:
            r = s[(s["family"] == fam) & (s["method"] == meth) & (s["direction"] == d)]
            if r.empty:
                cells += ["–", "–"]
                continue
            r = r.iloc[0]
            cells += [f"{r.rmse:.2f} [{r.rmse_lo:.2f}, {r.rmse_hi:.2f}]", f"{r.bias:+.2f}"]
        lines.append(f"| {fam} | {meth} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
