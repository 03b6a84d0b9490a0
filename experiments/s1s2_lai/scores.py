"""Scores on the LAI/5 scale: masked RMSE pooled over the pixels of a chip set, per stratum (all target-valid
pixels; clear at t−1; cloudy at t−1, where the product at t−1 is missing and the radar must carry the
information), with percentile bootstrap intervals over chips (chips resampled with replacement, the pooled
RMSE recomputed), paired between methods for differences."""

from __future__ import annotations

import numpy as np

STRATA: tuple[str, ...] = ("all", "clear_t-1", "cloudy_t-1")


def strata_masks(batch, against: str = "product") -> dict[str, np.ndarray]:
    """Pixel masks ``(n, y, x)`` of the strata; ``against="truth"`` scores the same pixels against the true
    LAI."""
    m = batch["target_mask"]
    return {"all": m, "clear_t-1": m & batch["prev_valid"], "cloudy_t-1": m & ~batch["prev_valid"]}


def _sums(pred, target, mask):
    """Per-chip squared-error sums and counts ``(n,)`` where ``mask`` and the prediction is finite."""
    ok = mask & np.isfinite(pred)
    err = np.where(ok, pred - target, 0.0) ** 2
    return err.reshape(len(err), -1).sum(1), ok.reshape(len(ok), -1).sum(1)


def rmse(pred, target, mask) -> float:
    s, c = _sums(pred, target, mask)
    return float(np.sqrt(s.sum() / c.sum())) if c.sum() else float("nan")


def _boot_rmse(sums, idx: np.ndarray) -> np.ndarray:
    """Pooled RMSE of each bootstrap resample ``idx (n_boot, n_chips)`` from per-chip ``(sums, counts)``."""
    s, c = sums
    return np.sqrt(s[idx].sum(1) / np.maximum(c[idx].sum(1), 1))


def bootstrap_index(n_chips: int, n_boot: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_chips, (n_boot, n_chips))


def score_table(preds: dict[str, np.ndarray], batch, *, n_boot: int, reference: str = "persistence",
                against: str = "product", seed: int = 0) -> list[dict]:
    """One row per (method, stratum): RMSE with its 95 % interval, the ratio to ``reference`` and the paired
    difference to it with its interval, and the pixel count."""
    target = batch["target"] if against == "product" else batch["truth"]
    idx = bootstrap_index(len(target), n_boot, seed)
    rows = []
    for stratum, mask in strata_masks(batch).items():
        sums = {m: _sums(p, target, mask) for m, p in preds.items()}
        boot = {m: _boot_rmse(sc, idx) for m, sc in sums.items()}
        for m, (s, c) in sums.items():
            if c.sum() == 0:
                continue
            value = float(np.sqrt(s.sum() / c.sum()))
            ref = sums.get(reference)
            row = {"method": m, "stratum": stratum, "against": against, "rmse": value,
                   "rmse_lo": float(np.percentile(boot[m], 2.5)), "rmse_hi": float(np.percentile(boot[m], 97.5)),
                   "pixels": int(c.sum())}
            if ref is not None and ref[1].sum():
                ref_value = float(np.sqrt(ref[0].sum() / ref[1].sum()))
                diff = boot[m] - boot[reference]
                row.update(ratio_to_reference=value / ref_value, diff_to_reference=value - ref_value,
                           diff_lo=float(np.percentile(diff, 2.5)), diff_hi=float(np.percentile(diff, 97.5)))
            rows.append(row)
    return rows


def paired_effects(preds: dict[str, np.ndarray], batch, pairs: dict[str, tuple[str, str]], *, n_boot: int,
                   seed: int = 0) -> list[dict]:
    """For each ``name: (ablated, full)``: RMSE(ablated) − RMSE(full) per stratum with its 95 % interval
    (positive: the removed part helps)."""
    idx = bootstrap_index(len(batch["target"]), n_boot, seed)
    rows = []
    for stratum, mask in strata_masks(batch).items():
        for name, (ablated, full) in pairs.items():
            a, f = _sums(preds[ablated], batch["target"], mask), _sums(preds[full], batch["target"], mask)
            (sa, ca), (sf, cf) = a, f
            if ca.sum() == 0 or cf.sum() == 0:
                continue
            d = _boot_rmse(a, idx) - _boot_rmse(f, idx)
            rows.append({"ablation": name, "stratum": stratum, "ablated": ablated, "full": full,
                         "effect": float(np.sqrt(sa.sum() / ca.sum()) - np.sqrt(sf.sum() / cf.sum())),
                         "effect_lo": float(np.percentile(d, 2.5)), "effect_hi": float(np.percentile(d, 97.5))})
    return rows


def r2(pred, target, mask) -> float:
    ok = mask & np.isfinite(pred)
    if ok.sum() < 2:
        return float("nan")
    y, p = target[ok], pred[ok]
    return float(1.0 - np.sum((p - y) ** 2) / np.sum((y - y.mean()) ** 2))
