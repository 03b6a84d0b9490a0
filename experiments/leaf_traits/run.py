"""The leaf-trait study: physical inversion, fusion of per-trait predictions with k target samples,
calibration of the 90 % intervals, and model selection by nested leave-one-dataset-out.

Reuses the predictions of ``experiments.lodo_networks`` (run that first).  Usage (from the repository root):
    python -m experiments.lodo_networks.run --grid cpu --out results/lodo_networks_cpu
    python -m experiments.leaf_traits.run --networks results/lodo_networks_cpu --out results/leaf_traits
"""

from __future__ import annotations

import argparse
import json
import time
from functools import partial
from pathlib import Path

import jax
import numpy as np
import pandas as pd

from leafjax.baselines import PLSRCombined, PLSRSourceOnly, PLSRTargetOnly, ProspectInversion, TraitMean
from leafjax.data import load_shared_datasets
from leafjax.evaluation import gaussian_coverage, r2, rmse, summarise, write_tables
from leafjax.fusion import FUSERS, make_fuser
from leafjax.preprocessing import compose, flag_outliers, resample, savgol, to_fraction
from leafjax.selection import (
    dataset_meta_features,
    inner_performance_by_evaluation,
    leave_out_rows,
    nested_lodo_selection,
    performance_table,
    selection_summary,
)

REPO = Path(__file__).resolve().parents[2]
#: Methods that use neither the target sample nor (for the inversion) any training data: their LODO (k = 0)
#: predictions can be fused with weights learned from k labelled target samples.
TARGET_FREE = ("plsr_source", "glm_sot", "resnet_sot", "glm_hybrid", "resnet_hybrid", "prospect_pro")


def invert_all(ds, traits, out: Path) -> pd.DataFrame:
    """PROSPECT-PRO inversion of every spectrum with one of ``traits`` measured (cached in ``out``)."""
    path = out / "inversion_predictions.csv.gz"
    if path.exists():
        return pd.read_csv(path)
    method = ProspectInversion()
    frames = []
    for name in ds.dataset_names():
        sub = ds.where_dataset(name)
        has = np.zeros(len(sub), bool)
        for t in traits:
            has |= np.isfinite(sub.trait(t))
        if not has.any():
            continue
        sub = sub.subset(has)
        res = method._invert(sub)
        for t in traits:
            frames.append(pd.DataFrame({"held_out": name, "trait": t, "sample_id": sub.meta["sample_id"].astype(str),
                                        "measured": sub.trait(t), "predicted": res[t], "std": res[f"{t}_std"],
                                        "residual_rmse": res["rmse"], "status": res["status"]}))
    inv = pd.concat(frames, ignore_index=True)
    inv = inv[np.isfinite(inv["measured"])]
    inv.to_csv(path, index=False, float_format="%.6g")
    return inv


def fusion_study(wide: pd.DataFrame, methods, k: int, repeats: int, level: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (trait, held-out dataset, repeat): k random rows learn the fusion weights, the rest score them."""
    rows, weights = [], []
    for (trait, held_out), g in wide.groupby(["trait", "held_out"], sort=True):
        g = g.dropna(subset=list(methods) + ["measured"])
        if len(g) < k + 10:
            continue
        p_all, y_all = g[list(methods)].to_numpy(float), g["measured"].to_numpy(float)
        for r in range(repeats):
            idx = np.random.default_rng(1000 + r).permutation(len(g))
            fit_i, test_i = idx[:k], idx[k:]
            base = {"trait": trait, "held_out": held_out, "repeat": r, "n_test": len(test_i)}
            yt = y_all[test_i]
            for j, m in enumerate(methods):
                rows.append({**base, "method": m, "rmse": rmse(yt, p_all[test_i, j]), "r2": r2(yt, p_all[test_i, j]),
                             "coverage90": (gaussian_coverage(yt, p_all[test_i, j], g["prospect_pro_var"].to_numpy()
                                                              [test_i], level) if m == "prospect_pro" else np.nan)})
            for name in FUSERS:
                f = make_fuser(name)
                w = f.fit(p_all[fit_i], y_all[fit_i])
                mean, var = (np.asarray(a) for a in f.predict(w, p_all[test_i]))
                rows.append({**base, "method": f"fusion_{name}", "rmse": rmse(yt, mean), "r2": r2(yt, mean),
                             "coverage90": gaussian_coverage(yt, mean, var, level)})
                weights.append({**base, "fuser": name, **{m: float(v) for m, v in zip(methods, np.asarray(w["w"]))}})
    return pd.DataFrame(rows), pd.DataFrame(weights)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "leaf_spectra"))
    ap.add_argument("--networks", default="results/lodo_networks_cpu", help="output folder of lodo_networks")
    ap.add_argument("--out", default="results/leaf_traits")
    ap.add_argument("--traits", default="lma,ewt,nitrogen")
    ap.add_argument("--k", type=int, default=20, help="labelled target samples for fusion weights / selection")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--level", type=float, default=0.9)
    ap.add_argument("--step-nm", type=float, default=10.0, help="feature grid (must match lodo_networks)")
    ap.add_argument("--no-nested", action="store_true", help="skip the (slower) truly nested PLSR selection")
    ap.add_argument("--nested-components", type=int, default=8, help="max PLSR components in the nested run")
    args = ap.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    traits = [t for t in args.traits.split(",") if t]
    ds = load_shared_datasets(args.data)
    grid = np.arange(400.0, 2400.0 + 1e-9, args.step_nm)
    ds, _ = compose(to_fraction, savgol, partial(resample, target_wavelengths=grid), flag_outliers)(ds)
    ds = ds.subset(~ds.meta["flag_white_background"].to_numpy(bool)) if "flag_white_background" in ds.meta else ds

    # 1. physical inversion, its accuracy and the calibration of its 90 % intervals
    inv = invert_all(ds, traits, out)
    t_inv = time.perf_counter() - t0
    inv_table = pd.DataFrame([{"trait": t, "held_out": d, "n": len(g), "rmse": rmse(g["measured"], g["predicted"]),
                               "r2": r2(g["measured"], g["predicted"]),
                               "coverage90": gaussian_coverage(g["measured"], g["predicted"], g["std"] ** 2, args.level)}
                              for (t, d), g in inv.groupby(["trait", "held_out"]) if len(g) >= 10])

    # 2. fusion of the target-free methods, weights from k target samples
    preds = pd.read_csv(Path(args.networks) / "predictions.csv.gz")
    lodo = preds[(preds["k"] == 0) & preds["method"].isin(TARGET_FREE)]
    wide = lodo.pivot_table(index=["trait", "held_out", "sample_id"], columns="method", values="predicted")
    meas = lodo.groupby(["trait", "held_out", "sample_id"])["measured"].first()
    inv_i = inv.set_index(["trait", "held_out", "sample_id"])
    wide = wide.join(meas).join(inv_i["predicted"].rename("prospect_pro")).join(
        (inv_i["std"] ** 2).rename("prospect_pro_var")).reset_index()
    methods = [m for m in TARGET_FREE if m in wide.columns]
    fusion, weights = fusion_study(wide, methods, args.k, args.repeats, args.level)
    fusion_ds = fusion.groupby(["trait", "held_out", "method"], as_index=False)[["rmse", "r2", "coverage90"]].mean()
    fusion_over = fusion_ds.groupby(["trait", "method"], as_index=False).agg(
        n_datasets=("rmse", "size"), median_rmse=("rmse", "median"), median_r2=("r2", "median"),
        median_coverage90=("coverage90", "median"))

    # 3. model selection: meta-features without labels (incl. the inversion residual), recommend per trait
    resid = inv.drop_duplicates("sample_id").set_index("sample_id")["residual_rmse"]
    feats = dataset_meta_features(ds, residual_fn=lambda sub: resid.reindex(sub.meta["sample_id"].astype(str)).to_numpy())
    summary = summarise(preds, n_boot=0)
    sel_rows, sel_detail = [], []
    for t in traits:
        perf = performance_table(summary, t, args.k).dropna(axis=1, how="any")
        res = nested_lodo_selection(feats, perf, leave_out_rows(perf))
        sel_rows.append({"trait": t, "candidates": "all lodo_networks methods (k=%d)" % args.k, "nested": False,
                         **selection_summary(res)})
        sel_detail.append(res.assign(trait=t, nested=False))
        if not args.no_nested:
            kw = dict(max_components=args.nested_components, folds=3)  # cheaper PLSR: one evaluation per fold
            plsr = (PLSRTargetOnly(**kw), PLSRSourceOnly(**kw), PLSRCombined(**kw), TraitMean())
            from leafjax.evaluation import run_evaluation
            outer = performance_table(summarise(run_evaluation(ds, plsr, [t], ks=[args.k], seeds=[0], lodo=False),
                                                n_boot=0), t, args.k)
            inner = inner_performance_by_evaluation(ds, plsr, t, k=args.k, seeds=[0])
            res = nested_lodo_selection(feats, outer, inner)
            sel_rows.append({"trait": t, "candidates": "PLSR x3 + mean (k=%d)" % args.k, "nested": True,
                             **selection_summary(res)})
            sel_detail.append(res.assign(trait=t, nested=True))
    elapsed = time.perf_counter() - t0
    write_tables({"inversion": inv_table, "fusion_by_dataset": fusion_ds, "fusion_overview": fusion_over,
                  "fusion_weights": weights.groupby(["trait", "fuser"], as_index=False)[methods].mean(),
                  "meta_features": feats.reset_index(), "selection": pd.DataFrame(sel_rows),
                  "selection_by_dataset": pd.concat(sel_detail, ignore_index=True)}, out)
    (out / "runtime.json").write_text(json.dumps({"wall_seconds": round(elapsed, 1),
                                                  "inversion_seconds": round(t_inv, 1)}) + "\n")
    print(fusion_over.to_string(index=False))
    print(pd.DataFrame(sel_rows).to_string(index=False))
    print(f"done in {elapsed:.1f} s; results in {out}")


if __name__ == "__main__":
    main()
