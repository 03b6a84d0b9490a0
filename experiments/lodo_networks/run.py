"""LODO + k-target-sample evaluation of every network × transfer strategy (× fine-tuning method for STFT and
hybrid + FT) on the shared leaf datasets, scored by the evaluation runner against the PLSR baselines.

Usage (from the repository root; see experiments/README.md):
    python -m experiments.lodo_networks.run --grid cpu  --out results/lodo_networks_cpu
    python -m experiments.lodo_networks.run --grid full --out results/lodo_networks_full   # GPU

The grid runs as one part per (trait, network) (plus the PLSR baselines per trait); each finished part is
written to ``<out>/parts/`` at once, so an interrupted run (or one stopped by ``--time-budget``) continues
where it stopped when the same command is run again.  Within a part, ``run_evaluation`` fits every held-out
dataset × seed of one k together (``NetworkMethod.fit_many``: one batched training run per phase).
"""

from __future__ import annotations

import argparse
import json
import time
from functools import partial
from pathlib import Path

import jax
import numpy as np

from leafjax.baselines import PLSRCombined, PLSRSourceOnly, PLSRTargetOnly, TraitMean
from leafjax.data import exclude_implausible, load_shared_datasets
from leafjax.evaluation import overview, run_evaluation, summarise, write_tables
from leafjax.preprocessing import compose, flag_outliers, resample, savgol, to_fraction
from leafjax.transfer import simulate_training_set
from leafjax.transfer import SimulatedSource, network_methods

REPO = Path(__file__).resolve().parents[2]

#: The two grids: ``cpu`` (two networks, 3 seeds, smaller budgets) runs on 2 CPU cores in under an hour;
#: ``full`` is the complete grid (GPU).
GRIDS = {
    "cpu": dict(networks="glm,resnet", strategies="sst,sot,stft,cstt,hybrid,hybrid_ft",
                finetune="full,head,gradual,adapters,lora", ks="5,10,20,50", seeds=3, n_simulated=2000, epochs=30,
                patience=6, step_nm=10.0, batch_size=128),
    "full": dict(networks="glm,resnet,tabnet,transformer,cnn", strategies="sst,sot,stft,cstt,hybrid,hybrid_ft",
                 finetune="full,head,gradual,adapters,lora", ks="5,10,20,50", seeds=5, n_simulated=20000,
                 epochs=200, patience=20, step_nm=5.0, batch_size=64),
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", choices=sorted(GRIDS), default="cpu")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "leaf_spectra"))
    ap.add_argument("--out", default=None, help="output folder (default results/lodo_networks_<grid>)")
    ap.add_argument("--traits", default="lma,ewt,nitrogen")
    for name in ("networks", "strategies", "finetune", "ks"):
        ap.add_argument(f"--{name}", default=None, help="comma-separated; default from --grid")
    for name in ("seeds", "n_simulated", "epochs", "patience", "batch_size"):
        ap.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, default=None)
    ap.add_argument("--step-nm", type=float, default=None, help="feature grid step (nm)")
    ap.add_argument("--datasets", default="", help="comma-separated dataset names (default: all files)")
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--no-lodo", action="store_true", help="skip the k = 0 (plain LODO) splits")
    ap.add_argument("--time-budget", type=float, default=None,
                    help="seconds: start no new (trait, network) part after this; rerun to continue")
    ap.add_argument("--restart", action="store_true", help="discard finished parts of an earlier run in --out")
    ap.add_argument("--keep-implausible", action="store_true",
                    help="keep the trait labels that leafjax.data.label_plausibility flags (default: set to NaN)")
    args = ap.parse_args(argv)
    cfg = dict(GRIDS[args.grid])
    cfg.update({k: v for k, v in vars(args).items() if k in cfg and v is not None})
    out = Path(args.out or f"results/lodo_networks_{args.grid}")
    split = lambda s: [t for t in str(s).split(",") if t]  # noqa: E731

    jax.config.update("jax_enable_x64", True)  # entry point: float64 physics for the simulations
    t0 = time.perf_counter()
    parts = _parts_folder(out, {**cfg, "traits": args.traits, "datasets": args.datasets, "lodo": not args.no_lodo,
                                **({"labels": "all"} if args.keep_implausible else {})},
                          restart=args.restart)
    ds = load_shared_datasets(args.data, split(args.datasets) or None)
    if not args.keep_implausible:  # flagged labels leave training and scoring (docs/leaf_traits.md)
        ds = exclude_implausible(ds)
    grid = np.arange(400.0, 2400.0 + 1e-9, cfg["step_nm"])
    ds, reports = compose(to_fraction, savgol, partial(resample, target_wavelengths=grid), flag_outliers)(ds)
    for r in reports:
        print(r)
    strategies = split(cfg["strategies"])
    simulated = None
    if any(s.startswith("hybrid") for s in strategies):
        x, y, names = simulate_training_set(jax.random.key(0), cfg["n_simulated"], grid)
        simulated = SimulatedSource(grid, x, y, tuple(names))
    t_sim = time.perf_counter() - t0
    fit_kwargs, ft_kwargs = training_kwargs(cfg)
    ks = [int(k) for k in split(cfg["ks"])]
    units = ["plsr", *split(cfg["networks"])]
    complete = True
    for trait in split(args.traits):
        for unit in units:  # one part per (trait, network): its strategies share the pre-training cache
            path = parts / f"{trait}__{unit}.csv.gz"
            if path.exists():
                continue
            if args.time_budget is not None and time.perf_counter() - t0 > args.time_budget:
                complete = False
                continue
            if unit == "plsr":
                methods = [PLSRTargetOnly(), PLSRSourceOnly(), PLSRCombined(), TraitMean()]
            else:
                methods = network_methods([unit], strategies, split(cfg["finetune"]), fit_kwargs=fit_kwargs,
                                          finetune_fit_kwargs=ft_kwargs, simulated=simulated, cache={})
            t_part = time.perf_counter()
            preds = run_evaluation(ds, methods, [trait], ks=ks, seeds=range(cfg["seeds"]), lodo=not args.no_lodo,
                                   verbose=True)
            _write_part(path, preds, time.perf_counter() - t_part)
            print(f"part {trait}/{unit}: {time.perf_counter() - t_part:.1f} s", flush=True)
    preds, fit_s, part_s = _read_parts(parts)
    summary = summarise(preds, n_boot=args.n_boot)
    over = overview(summary)
    best = best_per_trait(over)
    out.mkdir(parents=True, exist_ok=True)
    preds.to_csv(out / "predictions.csv.gz", index=False, float_format="%.6g")
    write_tables({"metrics_by_dataset": summary, "overview": over, "best": best}, out)
    plot_rmse_vs_k(over, out)
    elapsed = time.perf_counter() - t0
    (out / "runtime.json").write_text(json.dumps({
        "grid": args.grid, "config": cfg, "complete": complete,
        "compute_seconds": round(sum(part_s.values()), 1), "this_call_wall_seconds": round(elapsed, 1),
        "setup_seconds": round(t_sim, 1), "device": str(jax.devices()[0]),
        "part_seconds": {k: round(v, 1) for k, v in part_s.items()},
        "fit_seconds": {k: round(v, 1) for k, v in fit_s.items()}}, indent=1) + "\n")
    print(over.to_string(index=False))
    print(best.to_string(index=False))
    state = "complete" if complete else "INCOMPLETE (time budget reached; rerun the same command to continue)"
    print(f"{state}: {sum(part_s.values()):.1f} s of fitting in parts, this call {elapsed:.1f} s on "
          f"{jax.devices()[0]}; results in {out}")


def plot_rmse_vs_k(over, out: Path) -> Path:
    """``figures/rmse_vs_k.png``: per trait, median RMSE over held-out datasets against k for the best
    configuration of each network × strategy family (STFT and hybrid-FT: best fine-tuning method at each k) and
    the PLSR baselines and target mean."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import pandas as pd

    over = over[over["k"] > 0].copy()
    base = {"plsr_target", "plsr_source", "plsr_combined", "mean"}
    over["family"] = [m if m in base else "_".join(m.split("_")[:3]) if "_hybrid_ft" in m else
                      "_".join(m.split("_")[:2]) for m in over["method"]]
    best = over.groupby(["trait", "k", "family"], as_index=False)["median_rmse"].min()
    traits = sorted(pd.unique(best["trait"]))
    families = sorted(set(best["family"]) - base)
    colours = dict(zip(families, plt.get_cmap("tab20")(np.linspace(0, 1, max(len(families), 2)))))
    fig, axes = plt.subplots(1, len(traits), figsize=(5 * len(traits), 4.4), squeeze=False)
    for ax, trait in zip(axes[0], traits):
        g = best[best["trait"] == trait]
        for fam, gf in g.groupby("family"):
            style = dict(lw=2.2, color="k") if fam == "plsr_combined" else dict(lw=2.2, color="0.5") if \
                fam == "plsr_target" else dict(lw=1, ls=":", color="0.3") if fam in base else \
                dict(lw=1, color=colours[fam], ls="--" if "hybrid" in fam else "-")
            ax.plot(gf["k"], gf["median_rmse"], marker="o", ms=3, label=fam, **style)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_xticks(sorted(pd.unique(g["k"])), [str(k) for k in sorted(pd.unique(g["k"]))])
        ax.set_xlabel("k labelled target samples")
        ax.set_ylabel(f"median RMSE ({trait})")
        ax.set_title(trait)
    axes[0][-1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / "rmse_vs_k.png", dpi=120)
    plt.close(fig)
    return folder / "rmse_vs_k.png"


def training_kwargs(cfg: dict) -> tuple[dict, dict]:
    """``fit`` arguments of a grid configuration: (training from scratch and pre-training, fine-tuning).
    Fine-tuning on k rows: a fifth of them validate (at least 2 rows for k = 10), with twice the epochs and
    patience."""
    fit_kwargs = dict(epochs=cfg["epochs"], patience=cfg["patience"], batch_size=cfg["batch_size"])
    ft_kwargs = dict(epochs=2 * cfg["epochs"], patience=2 * cfg["patience"], batch_size=64, val_fraction=0.2)
    return fit_kwargs, ft_kwargs


def _parts_folder(out: Path, settings: dict, *, restart: bool) -> Path:
    """``out/parts`` for finished (trait, network) prediction tables; refuses to mix settings across runs."""
    parts = out / "parts"
    manifest = parts / "settings.json"
    if restart and parts.exists():
        for f in parts.iterdir():
            f.unlink()
    parts.mkdir(parents=True, exist_ok=True)
    text = json.dumps(settings, sort_keys=True, default=str)
    if manifest.exists() and manifest.read_text() != text:
        raise SystemExit(f"{parts} holds parts of a run with other settings; use --restart or another --out")
    manifest.write_text(text)
    return parts


def _write_part(path: Path, preds, seconds: float) -> None:
    """Write one part atomically (temporary file, then rename) with its timing in a JSON sidecar."""
    tmp = path.with_suffix(".tmp")
    preds.to_csv(tmp, index=False, float_format="%.6g", compression="gzip")
    meta = {"seconds": seconds, "fit_seconds": preds.attrs.get("fit_seconds", {})}
    path.with_name(path.name.replace(".csv.gz", ".json")).write_text(json.dumps(meta))
    tmp.replace(path)


def _read_parts(parts: Path):
    import pandas as pd

    frames, fit_s, part_s = [], {}, {}
    for f in sorted(parts.glob("*.csv.gz")):
        frames.append(pd.read_csv(f))
        meta = json.loads(f.with_name(f.name.replace(".csv.gz", ".json")).read_text())
        part_s[f.name.replace(".csv.gz", "")] = meta["seconds"]
        for k, v in meta["fit_seconds"].items():
            fit_s[k] = fit_s.get(k, 0.0) + v
    if not frames:
        raise SystemExit("no finished part to summarise")
    return pd.concat(frames, ignore_index=True), fit_s, part_s


def best_per_trait(over):
    """Per (trait, k): the configuration with the lowest median RMSE, and the PLSR baselines beside it."""
    import pandas as pd

    rows = []
    for (trait, k), g in over.groupby(["trait", "k"], sort=True):
        nets = g[~g["method"].isin(["plsr_target", "plsr_source", "plsr_combined", "mean"])]
        if nets.empty:
            continue
        b = nets.loc[nets["median_rmse"].idxmin()]
        row = {"trait": trait, "k": k, "best_network_method": b["method"], "best_rmse": b["median_rmse"],
               "best_r2": b["median_r2"]}
        for base in ("plsr_target", "plsr_combined", "plsr_source"):
            m = g[g["method"] == base]
            row[f"{base}_rmse"] = float(m["median_rmse"].iloc[0]) if len(m) else np.nan
        row["beats_plsr_target"] = bool(row["best_rmse"] < row["plsr_target_rmse"]) if k else None
        row["beats_plsr_combined"] = bool(row["best_rmse"] < row["plsr_combined_rmse"]) if k else None
        rows.append(row)
    return pd.DataFrame(rows)


if __name__ == "__main__":
    main()
