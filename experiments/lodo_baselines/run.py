"""LODO + k-target-sample evaluation of the baselines on the shared leaf datasets.

Usage (from the repository root; see experiments/README.md):
    python -m experiments.lodo_baselines.run --out results/lodo_baselines
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import numpy as np

from leafjax.baselines import PLSRCombined, PLSRSourceOnly, PLSRTargetOnly, TraitMean
from leafjax.data import describe, exclude_implausible, load_shared_datasets
from leafjax.evaluation import overview, plot_predicted_vs_measured, run_evaluation, summarise, write_tables
from leafjax.preprocessing import compose, correct_splice_steps, flag_outliers, resample, savgol, to_fraction

REPO = Path(__file__).resolve().parents[2]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "leaf_spectra"),
                    help="folder of leaf_spectra/*.parquet (default: ../shared/data/leaf_spectra)")
    ap.add_argument("--out", default="results/lodo_baselines", help="output folder")
    ap.add_argument("--traits", default="lma,ewt,nitrogen,chl")
    ap.add_argument("--ks", default="5,10,20,50")
    ap.add_argument("--seeds", type=int, default=10, help="number of seeds (0..n-1) per k")
    ap.add_argument("--step-nm", type=float, default=5.0, help="resampling step of the PLSR features (nm)")
    ap.add_argument("--max-components", type=int, default=20)
    ap.add_argument("--splice", action="store_true", help="apply detector splice-step correction first")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--datasets", default="", help="comma-separated dataset names (default: all files)")
    ap.add_argument("--keep-implausible", action="store_true",
                    help="keep the trait labels that leafjax.data.label_plausibility flags (default: set to NaN)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    ds = load_shared_datasets(args.data, [d for d in args.datasets.split(",") if d] or None)
    if not args.keep_implausible:  # flagged labels leave training and scoring (docs/leaf_traits.md)
        ds = exclude_implausible(ds)
    grid = np.arange(400.0, 2400.0 + 1e-9, args.step_nm)
    steps = [to_fraction] + ([correct_splice_steps] if args.splice else []) + [
        savgol, partial(resample, target_wavelengths=grid), flag_outliers]
    ds, reports = compose(*steps)(ds)
    for r in reports:
        print(r)
    kw = dict(max_components=args.max_components)
    methods = (PLSRTargetOnly(**kw), PLSRSourceOnly(**kw), PLSRCombined(**kw), TraitMean())
    traits = [t for t in args.traits.split(",") if t]
    ks = [int(k) for k in args.ks.split(",") if k]
    preds = run_evaluation(ds, methods, traits, ks=ks, seeds=range(args.seeds))
    summary = summarise(preds, n_boot=args.n_boot)
    over = overview(summary)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    preds.to_csv(out / "predictions.csv.gz", index=False, float_format="%.6g")
    write_tables({"datasets": describe(ds), "metrics_by_dataset": summary, "overview": over}, out)
    for trait in sorted(set(preds["trait"])):
        for k in [0] + ks:
            if ((preds["trait"] == trait) & (preds["k"] == k)).any():
                plot_predicted_vs_measured(preds, trait, k, out / "figures" / f"{trait}_k{k}.png")
    elapsed = time.perf_counter() - t0
    (out / "runtime.txt").write_text(f"{elapsed:.1f} s wall; fit seconds by method: "
                                     f"{ {k: round(v, 1) for k, v in preds.attrs['fit_seconds'].items()} }\n")
    print(over.to_string(index=False))
    print(f"done in {elapsed:.1f} s; results in {out}")


if __name__ == "__main__":
    main()
