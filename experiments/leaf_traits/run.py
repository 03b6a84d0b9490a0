"""The leaf-trait study: physical inversion, data-driven and hybrid networks, fusion of per-trait predictions
with k target samples (target-free methods, and with target-trained PLSR and a fine-tuned network cross-fitted),
calibrated 90 % intervals, and model selection by nested leave-one-dataset-out.

One command runs the whole study (from the repository root):
    python -m experiments.leaf_traits.run --out results/leaf_traits

It reads the predictions of the network grid (``experiments.lodo_networks``) from ``--networks`` (default
``results/lodo_networks_cpu``) and, when that folder has none, first runs the grid there (``--grid``, default
``cpu``; resumable).  The committed tables in ``experiments/leaf_traits/results/`` come from this command with
its default settings, on the predictions of the CPU grid whose tables are committed in
``experiments/lodo_networks/results/``; ``runtime.json`` records the wall time of that run and the
``--networks`` folder it read.

Outputs (``--out``), per trait; "held-out rows" are the rows of a held-out dataset not among its k labelled
rows, over ``--repeats`` random draws of those k rows:
- ``inversion``: RMSE, R² and stated-interval coverage of the PROSPECT-PRO inversion per dataset (all rows).
- ``fusion_by_dataset``, ``fusion_overview``: RMSE, R² (and the coverage of the stated intervals, where a method
  states them) on the held-out rows of every single method and fuser: ``fusion_*`` (target-free methods),
  ``xfit_fusion_*`` (plus ``plsr_target``, ``plsr_combined`` and the network of ``--xfit-network``, by default
  ``resnet_stft_gradual``, with weights learned on their cross-fitted predictions of the k rows) and
  ``insample_fusion_*`` (the same with their in-sample predictions, the biased alternative).
- ``fusion_vs_best``: each fuser against the best single method of its inputs, median RMSE over held-out
  datasets with 95 % bootstrap intervals over datasets and the paired interval of the difference.
- ``calibration_by_dataset``, ``calibration_overview``: coverage and mean width on the held-out rows of the
  stated ``--level`` intervals and of the calibrated ones (``leafjax.evaluation.CALIBRATIONS``), calibrated on
  the same k rows that learn the fusion weights.
- ``fusion_weights``, ``meta_features``, ``selection``, ``selection_by_dataset``, ``runtime.json``.
- ``figures/fusion_vs_best.png`` (each fuser against the best single method, with 95 % bootstrap intervals) and
  ``figures/calibration.png`` (coverage of the stated and calibrated 90 % intervals).
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
from leafjax.data import exclude_implausible, load_shared_datasets
from leafjax.evaluation import (
    CALIBRATIONS,
    calibrated_interval,
    cross_fit,
    fold_ids,
    gaussian_coverage,
    gaussian_interval,
    interval_coverage,
    r2,
    rmse,
    summarise,
    write_tables,
)
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
from leafjax.transfer import FINETUNE_METHODS, network_methods

from experiments.lodo_networks.run import GRIDS, main as run_network_grid, training_kwargs

REPO = Path(__file__).resolve().parents[2]
#: Methods that use neither the target sample nor (for the inversion) any training data: their LODO (k = 0)
#: predictions can be fused with weights learned from k labelled target samples.
TARGET_FREE = ("plsr_source", "glm_sot", "resnet_sot", "glm_hybrid", "resnet_hybrid", "prospect_pro")


def invert_all(ds, traits, out: Path) -> pd.DataFrame:
    """PROSPECT-PRO inversion of every spectrum with one of ``traits`` measured (cached in ``out``)."""
    path = out / "inversion_predictions.csv.gz"
    if path.exists():
        return pd.read_csv(path).drop_duplicates(["trait", "held_out", "sample_id"])
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


def target_trained_methods(network: str, networks_dir: Path) -> tuple:
    """Methods trained on the k target rows that join the cross-fitted fusion (their predictions of those rows
    are out-of-fold, see ``leafjax.evaluation.cross_fit``): PLSR on the target sample, PLSR on source + target,
    and the network configuration named ``network`` (e.g. ``resnet_stft_lora``; ``none``: no network), trained
    with the settings of the ``lodo_networks`` run in ``networks_dir`` (its ``runtime.json``)."""
    methods = [PLSRTargetOnly(), PLSRCombined()]
    if network and network != "none":
        cfg = json.loads((Path(networks_dir) / "runtime.json").read_text())["config"]
        fit_kwargs, ft_kwargs = training_kwargs(cfg)
        candidates = network_methods([network.split("_")[0]], ["sst", "stft", "cstt"], FINETUNE_METHODS,
                                     fit_kwargs=fit_kwargs, finetune_fit_kwargs=ft_kwargs, cache={})
        named = {m.name: m for m in candidates}
        if network not in named:
            raise SystemExit(f"--xfit-network {network!r}: not one of {', '.join(named)}")
        methods.append(named[network])
    return tuple(methods)
#: Interval kinds reported: the method's stated Gaussian interval, then each calibration of leafjax.evaluation.
INTERVALS = ("stated",) + CALIBRATIONS


def _oof_fused(fuser, p, y, folds) -> tuple[np.ndarray, np.ndarray]:
    """Fused mean and variance of each of the k rows with weights learned on the other folds ``(k,)``."""
    mean, var = np.empty(len(y)), np.empty(len(y))
    for f in np.unique(folds):
        held = folds == f
        m, v = fuser.predict(fuser.fit(p[~held], y[~held]), p[held])
        mean[held], var[held] = np.asarray(m), np.asarray(v)
    return mean, var


def _intervals(base, method, cal, test, level) -> list[dict]:
    """Coverage and mean width on the test rows of the stated and calibrated intervals; ``cal`` and ``test`` are
    ``(measured, predicted, variance)`` triples (calibration: the k rows only).  Stated σ get the offset β =
    median stated σ of the k + test rows (labels unused), which keeps σ = 0 — the inversion states it for
    estimates at a parameter bound — usable in the σ-based calibrations."""
    beta = float(np.median(np.sqrt(np.concatenate([cal[2], test[2]]))))
    rows = []
    for kind in INTERVALS:
        if kind == "stated":
            lo, hi = gaussian_interval(test[1], test[2], level)
        else:
            lo, hi = calibrated_interval(kind, *cal, test[1], test[2], level, std_offset=beta)
        rows.append({**base, "method": method, "interval": kind, "coverage": interval_coverage(test[0], lo, hi),
                     "mean_width": float(np.mean(hi - lo))})
    return rows


def _split_data(ds, trait, held_out, fit_ids, test_ids):
    """Source rows (other datasets with ``trait``), the k target rows and the test rows, on the bands finite in
    all three."""
    sid = ds.meta["sample_id"].astype(str).to_numpy()
    pos = pd.Series(np.arange(len(ds)), index=sid)
    has = np.isfinite(ds.trait(trait))
    train = np.flatnonzero(has & (ds.meta["dataset"].to_numpy() != held_out))
    target, test = pos[fit_ids].to_numpy(), pos[test_ids].to_numpy()
    view = ds.select_wavelengths(ds.subset(np.concatenate([train, target, test])).valid_bands())
    return view.subset(train), view.subset(target), view.subset(test)


def fusion_study(wide: pd.DataFrame, methods, k: int, repeats: int, level: float, ds=None, target_trained=()
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per (trait, held-out dataset, repeat): k random rows learn the fusion weights and calibrate the
    intervals, the other rows score them.

    Fusion groups: ``fusion_*`` fuses the target-free ``methods`` (their predictions of the k rows are
    out-of-sample already); with ``ds`` given, ``xfit_fusion_*`` adds the ``target_trained`` methods with
    weights learned on their cross-fitted (out-of-fold) predictions of the k rows, and ``insample_fusion_*``
    the same with their in-sample predictions (the biased alternative, for comparison).  Intervals of the
    inversion are calibrated on its predictions of the k rows; those of a fuser on its out-of-fold fused
    predictions of the k rows (weights from the other folds), so no test row is used.

    Returns ``(scores, intervals, weights)`` tables, one row per repeat.
    """
    rows, ints, weights = [], [], []
    for (trait, held_out), g in wide.groupby(["trait", "held_out"], sort=True):
        g = g.dropna(subset=list(methods) + ["measured"])
        if len(g) < k + 10:
            continue
        p_all, y_all = g[list(methods)].to_numpy(float), g["measured"].to_numpy(float)
        inv_var = g["prospect_pro_var"].to_numpy(float) if "prospect_pro" in methods else None
        sid = g["sample_id"].astype(str).to_numpy()
        for r in range(repeats):
            idx = np.random.default_rng(1000 + r).permutation(len(g))
            fit_i, test_i = idx[:k], idx[k:]
            folds = fold_ids(k, seed=r)
            base = {"trait": trait, "held_out": held_out, "repeat": r, "n_test": len(test_i)}
            yf, yt = y_all[fit_i], y_all[test_i]
            single = {m: (p_all[fit_i, j], p_all[test_i, j]) for j, m in enumerate(methods)}
            groups = {"fusion": (list(methods), p_all[fit_i], p_all[test_i], True)}
            if ds is not None:
                train, target, test = _split_data(ds, trait, held_out, sid[fit_i], sid[test_i])
                names, oof, insample, test_pred = [], [], [], []
                for m in target_trained:
                    cf = cross_fit(m, train, trait, target, test, seed=r)
                    single[m.name] = (cf.target, cf.test)
                    names.append(m.name)
                    oof.append(cf.target)
                    insample.append(m.predict(cf.fitted, target))
                    test_pred.append(cf.test)
                names = list(methods) + names
                pt = np.column_stack([p_all[test_i]] + test_pred)
                groups["xfit_fusion"] = (names, np.column_stack([p_all[fit_i]] + oof), pt, True)
                groups["insample_fusion"] = (names, np.column_stack([p_all[fit_i]] + insample), pt, False)
            for m, (_, pt) in single.items():
                rows.append({**base, "method": m, "rmse": rmse(yt, pt), "r2": r2(yt, pt)})
            if inv_var is not None:
                ints += _intervals(base, "prospect_pro", (yf, single["prospect_pro"][0], inv_var[fit_i]),
                                   (yt, single["prospect_pro"][1], inv_var[test_i]), level)
            for group, (names, pf, pt, calibrate) in groups.items():
                for name in FUSERS:
                    f = make_fuser(name)
                    w = f.fit(pf, yf)
                    mean, var = (np.asarray(a) for a in f.predict(w, pt))
                    label = f"{group}_{name}"
                    rows.append({**base, "method": label, "rmse": rmse(yt, mean), "r2": r2(yt, mean)})
                    weights.append({**base, "group": group, "fuser": name,
                                    **{m: float(v) for m, v in zip(names, np.asarray(w["w"]))}})
                    if calibrate:
                        ints += _intervals(base, label, (yf, *_oof_fused(f, pf, yf, folds)), (yt, mean, var), level)
    return pd.DataFrame(rows), pd.DataFrame(ints), pd.DataFrame(weights)


def _median_ci(values: np.ndarray, n_boot: int, seed: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the median of per-dataset ``values`` ``(n_datasets,)`` (datasets
    resampled with replacement, ``numpy.random.default_rng(seed)``)."""
    idx = np.random.default_rng(seed).integers(0, values.size, (n_boot, values.size))
    a = 100 * (1 - level) / 2
    return tuple(float(x) for x in np.percentile(np.median(values[idx], axis=1), [a, 100 - a]))


def fusion_against_best(by_dataset: pd.DataFrame, target_trained=(), n_boot: int = 2000, seed: int = 0,
                        target_free=TARGET_FREE) -> pd.DataFrame:
    """Per trait and fuser of each fusion group: its median RMSE over held-out datasets and that of the best
    single method among the group's inputs (lowest median RMSE), each with a 95 % bootstrap interval over
    datasets, and the paired bootstrap interval of the difference of the medians (same resampled datasets).
    ``fusion_better`` is true when that interval lies below 0; ``datasets_better`` counts the datasets where the
    fuser's RMSE is lower than the best single method's."""
    target_free = [m for m in target_free if m in set(by_dataset["method"])]
    trained = [m.name for m in target_trained]
    inputs = {"fusion": target_free, "xfit_fusion": target_free + trained, "insample_fusion": target_free + trained}
    rows = []
    for trait, g in by_dataset.groupby("trait", sort=True):
        tab = g.pivot_table(index="held_out", columns="method", values="rmse")
        for group, singles in inputs.items():
            singles = [m for m in singles if m in tab.columns]
            fusers = [c for c in tab.columns if c.startswith(group + "_") and c[len(group) + 1:] in FUSERS]
            if not singles or not fusers:
                continue
            best = min(singles, key=lambda m: float(tab[m].median()))
            b = tab[best].to_numpy(float)
            for fu in fusers:
                f = tab[fu].to_numpy(float)
                idx = np.random.default_rng(seed).integers(0, f.size, (n_boot, f.size))
                diff = np.median(f[idx], axis=1) - np.median(b[idx], axis=1)
                lo, hi = np.percentile(diff, [2.5, 97.5])
                rows.append({"trait": trait, "group": group, "fuser": fu, "n_datasets": f.size,
                             "median_rmse": float(np.median(f)), **dict(zip(("median_rmse_lo", "median_rmse_hi"),
                                                                          _median_ci(f, n_boot, seed))),
                             "best_single": best, "best_median_rmse": float(np.median(b)),
                             **dict(zip(("best_median_rmse_lo", "best_median_rmse_hi"), _median_ci(b, n_boot, seed))),
                             "diff_median": float(np.median(f) - np.median(b)), "diff_lo": float(lo),
                             "diff_hi": float(hi), "fusion_better": bool(hi < 0),
                             "datasets_better": int(np.sum(f < b))})
    return pd.DataFrame(rows)


def plot_figures(fusion_best: pd.DataFrame, calib_over: pd.DataFrame, out: Path) -> list[Path]:
    """``figures/fusion_vs_best.png`` (median RMSE over held-out datasets with 95 % bootstrap intervals: each
    fuser against the best single method of its inputs, per trait) and ``figures/calibration.png`` (mean
    coverage of the stated and calibrated 90 % intervals, per trait and method)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    traits = sorted(pd.unique(fusion_best["trait"]))
    fig, axes = plt.subplots(1, len(traits), figsize=(5.2 * len(traits), 4.2), squeeze=False)
    for ax, trait in zip(axes[0], traits):
        g = fusion_best[fusion_best["trait"] == trait]
        labels, mid, lo, hi, colour = [], [], [], [], []
        for group, gg in g.groupby("group", sort=False):
            b = gg.iloc[0]
            labels.append(f"{b['best_single']} (best of {group})")
            mid.append(b["best_median_rmse"]), lo.append(b["best_median_rmse_lo"]), hi.append(b["best_median_rmse_hi"])
            colour.append("0.4")
            for _, r in gg.iterrows():
                labels.append(r["fuser"])
                mid.append(r["median_rmse"]), lo.append(r["median_rmse_lo"]), hi.append(r["median_rmse_hi"])
                colour.append("tab:green" if r["fusion_better"] else "tab:blue")
        y = np.arange(len(labels))[::-1]
        mid, lo, hi = (np.asarray(v, float) for v in (mid, lo, hi))
        ax.errorbar(mid, y, xerr=[mid - lo, hi - mid], fmt="none", ecolor="0.6", lw=1)
        ax.scatter(mid, y, c=colour, zorder=3, s=18)
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_xlabel(f"median RMSE over held-out datasets ({trait})")
        ax.set_title(f"{trait}: fusion vs best single (green: CI of difference < 0)", fontsize=8)
    fig.tight_layout()
    paths = [folder / "fusion_vs_best.png"]
    fig.savefig(paths[0], dpi=120)
    plt.close(fig)
    kinds = list(pd.unique(calib_over["interval"]))
    fig, axes = plt.subplots(1, len(traits), figsize=(5.2 * len(traits), 4.2), squeeze=False)
    for ax, trait in zip(axes[0], traits):
        g = calib_over[calib_over["trait"] == trait]
        methods = list(pd.unique(g["method"]))
        width = 0.8 / max(len(kinds), 1)
        for j, kind in enumerate(kinds):
            cov = g[g["interval"] == kind].set_index("method")["mean_coverage"].reindex(methods)
            ax.barh(np.arange(len(methods)) + j * width, cov.to_numpy(float), height=width, label=kind)
        ax.axvline(0.9, color="k", lw=0.8, ls="--")
        ax.set_yticks(np.arange(len(methods)) + 0.4 - width / 2, methods, fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_xlabel("mean coverage of the 90 % intervals on held-out rows")
        ax.set_title(trait, fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=len(kinds))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    paths.append(folder / "calibration.png")
    fig.savefig(paths[1], dpi=120)
    plt.close(fig)
    return paths


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "leaf_spectra"))
    ap.add_argument("--networks", default="results/lodo_networks_cpu", help="output folder of lodo_networks")
    ap.add_argument("--grid", default="cpu", choices=("cpu", "full"),
                    help="network grid to run into --networks when it holds no predictions yet")
    ap.add_argument("--out", default="results/leaf_traits")
    ap.add_argument("--traits", default="lma,ewt,nitrogen")
    ap.add_argument("--k", type=int, default=20, help="labelled target samples for fusion weights / selection")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--level", type=float, default=0.9)
    ap.add_argument("--step-nm", type=float, default=None,
                    help="feature grid in nm (default: that of the network grid in --networks, or of --grid)")
    ap.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples of the held-out datasets")
    ap.add_argument("--no-cross-fit", action="store_true", help="fuse the target-free methods only")
    ap.add_argument("--xfit-network", default="resnet_stft_gradual",
                    help="network configuration cross-fitted into the fusion beside the two PLSR (none: no network)")
    ap.add_argument("--no-nested", action="store_true", help="skip the (slower) truly nested PLSR selection")
    ap.add_argument("--nested-components", type=int, default=8, help="max PLSR components in the nested run")
    ap.add_argument("--keep-implausible", action="store_true",
                    help="keep the trait labels that leafjax.data.label_plausibility flags (default: set to NaN)")
    args = ap.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    traits = [t for t in args.traits.split(",") if t]
    ds = load_shared_datasets(args.data)
    if not args.keep_implausible:  # flagged labels leave training and scoring (docs/leaf_traits.md)
        ds = exclude_implausible(ds)
    step_nm = args.step_nm
    if step_nm is None:  # the network grid's features, so that cross-fitted networks see what the grid saw
        runtime = Path(args.networks) / "runtime.json"
        step_nm = (json.loads(runtime.read_text())["config"] if runtime.exists() else GRIDS[args.grid])["step_nm"]
    grid = np.arange(400.0, 2400.0 + 1e-9, step_nm)
    ds, _ = compose(to_fraction, savgol, partial(resample, target_wavelengths=grid), flag_outliers)(ds)
    ds = ds.subset(~ds.meta["flag_white_background"].to_numpy(bool)) if "flag_white_background" in ds.meta else ds
    # one row per leaf: a few leaves have two spectra under one sample id; keep the first (the lodo_networks
    # predictions of such a leaf are averaged over its spectra when the tables are joined by sample id)
    ds = ds.subset(~ds.meta.duplicated(["dataset", "sample_id"]).to_numpy())

    # 1. physical inversion, its accuracy and the calibration of its 90 % intervals
    inv = invert_all(ds, traits, out)
    t_inv = time.perf_counter() - t0
    inv_table = pd.DataFrame([{"trait": t, "held_out": d, "n": len(g), "rmse": rmse(g["measured"], g["predicted"]),
                               "r2": r2(g["measured"], g["predicted"]),
                               "coverage90": gaussian_coverage(g["measured"], g["predicted"], g["std"] ** 2, args.level)}
                              for (t, d), g in inv.groupby(["trait", "held_out"]) if len(g) >= 10])

    # 2. fusion, weights from k target rows: target-free methods, then with target-trained methods cross-fitted;
    #    intervals of the inversion and of each fuser, stated and calibrated on the same k rows
    t_grid = time.perf_counter()
    if not (Path(args.networks) / "predictions.csv.gz").exists():  # the network grid first (resumable)
        run_network_grid(["--grid", args.grid, "--out", args.networks, "--data", args.data]
                         + (["--keep-implausible"] if args.keep_implausible else []))
    t_grid = time.perf_counter() - t_grid
    t1 = time.perf_counter()
    preds = pd.read_csv(Path(args.networks) / "predictions.csv.gz")
    # target-free: the methods of the LODO (k = 0) splits (they use no target sample), bar the source mean
    extra = sorted(set(preds.loc[preds["k"] == 0, "method"]) - set(TARGET_FREE) - {"mean"})
    target_free = list(TARGET_FREE) + extra
    lodo = preds[(preds["k"] == 0) & preds["method"].isin(target_free)]
    wide = lodo.pivot_table(index=["trait", "held_out", "sample_id"], columns="method", values="predicted")
    meas = lodo.groupby(["trait", "held_out", "sample_id"])["measured"].first()
    inv_i = inv.set_index(["trait", "held_out", "sample_id"])
    wide = wide.join(meas).join(inv_i["predicted"].rename("prospect_pro")).join(
        (inv_i["std"] ** 2).rename("prospect_pro_var")).reset_index()
    methods = [m for m in target_free if m in wide.columns]
    trained = target_trained_methods(args.xfit_network, Path(args.networks))
    fusion, intervals, weights = fusion_study(wide, methods, args.k, args.repeats, args.level,
                                              ds=None if args.no_cross_fit else ds, target_trained=trained)
    t_fusion = time.perf_counter() - t1
    fusion_ds = fusion.groupby(["trait", "held_out", "method"], as_index=False)[["rmse", "r2"]].mean()
    fusion_over = fusion_ds.groupby(["trait", "method"], as_index=False).agg(
        n_datasets=("rmse", "size"), median_rmse=("rmse", "median"), median_r2=("r2", "median"))
    fusion_best = fusion_against_best(fusion_ds, trained, n_boot=args.n_boot, target_free=methods)
    calib_ds = intervals.groupby(["trait", "held_out", "method", "interval"], as_index=False)[
        ["coverage", "mean_width"]].mean()
    calib_over = calib_ds.groupby(["trait", "method", "interval"], as_index=False).agg(
        n_datasets=("coverage", "size"), mean_coverage=("coverage", "mean"), median_coverage=("coverage", "median"),
        min_coverage=("coverage", "min"), median_mean_width=("mean_width", "median"))
    # coverage of the stated intervals beside the accuracy (column name as in earlier versions of the tables)
    cov_col = f"coverage{round(100 * args.level)}"
    stated = calib_ds[calib_ds["interval"] == "stated"].rename(columns={"coverage": cov_col})
    fusion_ds = fusion_ds.merge(stated[["trait", "held_out", "method", cov_col]], how="left")
    fusion_over = fusion_over.merge(fusion_ds.groupby(["trait", "method"], as_index=False)[cov_col].median()
                                    .rename(columns={cov_col: f"median_{cov_col}"}), how="left")
    weight_cols = [c for c in weights.columns if c not in ("trait", "held_out", "repeat", "n_test", "group", "fuser")]

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
                  "fusion_vs_best": fusion_best, "calibration_by_dataset": calib_ds,
                  "calibration_overview": calib_over,
                  "fusion_weights": weights.groupby(["trait", "group", "fuser"], as_index=False)[weight_cols].mean(),
                  "meta_features": feats.reset_index(), "selection": pd.DataFrame(sel_rows),
                  "selection_by_dataset": pd.concat(sel_detail, ignore_index=True)}, out)
    plot_figures(fusion_best, calib_over, out)
    (out / "runtime.json").write_text(json.dumps({"wall_seconds": round(elapsed, 1),
                                                  "inversion_seconds": round(t_inv, 1),
                                                  "network_grid_seconds": round(t_grid, 1),
                                                  "fusion_seconds": round(t_fusion, 1),
                                                  "networks": str(args.networks)}) + "\n")
    print(fusion_over.to_string(index=False))
    print(fusion_best.to_string(index=False))
    print(calib_over.to_string(index=False))
    print(pd.DataFrame(sel_rows).to_string(index=False))
    print(f"done in {elapsed:.1f} s; results in {out}")


if __name__ == "__main__":
    main()
