"""Reflectance-only PROSPECT-PRO inversion of every shared leaf dataset (no training data used).

For each dataset: invert the measured reflectance (N from the reflectance N prior; "optimal" spectral
subdomains per constituent, or all bands with ``--strategy full``), then score the physically estimated lma
(prot + cbc), ewt, nitrogen (% dry mass, from protein), nitrogen_area (g/m²) and chl against the measurements.

Run from the repository root:
    python -m experiments.physical_inversion.run --out results/physical_inversion [--strategy optimal]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from leafjax.data import load_shared_datasets
from leafjax.evaluation._metrics import bias, r2, rmse
from leafjax.inversion import Status, invert_spectra
from leafjax.physics import nitrogen_area_from_protein

TRAITS = ("lma", "ewt", "nitrogen", "nitrogen_area", "chl")
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "leaf_spectra"


def run(data: Path, out: Path, strategy: str, max_rows: int | None) -> pd.DataFrame:
    import jax.numpy as jnp

    ds = load_shared_datasets(data)
    rows, preds = [], []
    t_start = time.perf_counter()
    for name in ds.dataset_names():
        sub = ds.where_dataset(name)
        if max_rows is not None and len(sub) > max_rows:
            sub = sub.subset(np.arange(max_rows))
        wl = np.asarray(sub.wavelengths)
        keep = (wl >= 400) & (wl <= 2400) & (np.abs(wl - np.round(wl)) < 1e-9)
        r = sub.reflectance[:, keep]
        t0 = time.perf_counter()
        res = invert_spectra("prospect-pro", wl[keep], reflectance=r, strategy=strategy, dtype=jnp.float32)
        dt = time.perf_counter() - t0
        est = {k: np.asarray(v, np.float64) for k, v in res.estimates.items()}
        est["nitrogen_area"] = np.asarray(nitrogen_area_from_protein(est["prot"]), np.float64)
        status = np.asarray(res.status)
        ok = status == Status.CONVERGED
        pred = pd.DataFrame({"dataset": name, "sample_id": sub.meta["sample_id"].to_numpy(),
                             **{f"{k}_est": est[k] for k in TRAITS}, "status": status,
                             "rmse_fit": np.asarray(res.rmse)})
        for k in TRAITS:
            if k in sub.traits:
                pred[f"{k}_measured"] = sub.traits[k].to_numpy()
        preds.append(pred)
        for k in TRAITS:
            if k not in sub.traits:
                continue
            y = sub.traits[k].to_numpy()
            m = np.isfinite(y) & ok & np.isfinite(est[k])
            if m.sum() < 5:
                continue
            rows.append({"dataset": name, "trait": k, "n": int(m.sum()), "rmse": rmse(y[m], est[k][m]),
                         "r2": r2(y[m], est[k][m]), "bias": bias(y[m], est[k][m]),
                         "converged": float(ok.mean()), "fit_rmse_median": float(np.median(np.asarray(res.rmse))),
                         "seconds": dt})
        print(f"{name}: {len(sub)} spectra in {dt:.1f} s, converged {ok.mean():.1%}")
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "physical_inversion.csv", index=False)
    # per-spectrum predictions with measured values: kept out of version control (not every dataset's licence
    # allows redistributing its measurements)
    pd.concat(preds).to_csv(out / "predictions.csv", index=False)
    total = time.perf_counter() - t_start
    with open(out / "physical_inversion.md", "w") as fh:
        fh.write(f"# R-only PROSPECT-PRO inversion ({strategy} strategy), no training data\n\n")
        fh.write("Units: lma, ewt g/cm²; nitrogen % dry mass; nitrogen_area g/m²; chl µg/cm². Converged spectra only.\n\n")
        fh.write("| dataset | trait | n | RMSE | R² | bias | converged |\n|---|---|---|---|---|---|---|\n")
        for r_ in rows:
            fh.write(f"| {r_['dataset']} | {r_['trait']} | {r_['n']} | {r_['rmse']:.4g} | {r_['r2']:.2f} | "
                     f"{r_['bias']:.3g} | {r_['converged']:.0%} |\n")
        fh.write(f"\nTotal runtime {total:.0f} s.\n")
    print(f"wrote {out} in {total:.0f} s")
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=Path("results/physical_inversion"))
    ap.add_argument("--strategy", default="optimal", choices=["optimal", "full"])
    ap.add_argument("--max-rows", type=int, default=None, help="at most this many spectra per dataset")
    args = ap.parse_args()
    run(args.data, args.out, args.strategy, args.max_rows)


if __name__ == "__main__":
    main()
