"""Sentinel-2 winter-wheat traits on real pixels: every leafjax route against in-situ green LAI and canopy
chlorophyll content (CCC) and against the published peer on the same rows (Graf et al. 2023), then maps of the
real 15-date Witzwil series with ``leafjax map``.

One command (from the repository root; about 15 minutes on the 2-core CPU):
    python -m experiments.s2_crop_traits.run

Flags: ``--data`` (default ``../shared/data/s2_crop_traits``), ``--out`` (default
``experiments/s2_crop_traits/results``), ``--quick`` (small tables and networks: a smoke run, not the committed
numbers), ``--no-maps`` (skip the map run), ``--n-boot`` (bootstrap resamples, default 1000).

What it does:
1. Loads both tables and computes the sun angles per row (:mod:`experiments.s2_crop_traits.data`).
2. Applies every candidate route (:data:`~experiments.s2_crop_traits.routes.CANDIDATES`) to every row.
3. Scores each candidate and the peer's two variants on the same rows: RMSE, R², bias with 95 % bootstrap
   intervals (``scores.csv``, ``scores.md``), by location too (``scores_by_location.csv``).
4. Chooses the route without looking at the rows it is scored on: nested leave-one-location-out — for each
   location, the candidate with the lowest RMSE on the *other* locations' rows predicts that location's rows —
   and scores those out-of-fold predictions (``selected`` in the tables; the choices in ``selection.csv``).
5. Runs ``leafjax map`` on the 15 real scenes (``maps.py``): LAI maps with σ and flags, and the per-date parcel
   median (``witzwil_parcel_median.csv``, ``witzwil_lai.png``).

Only aggregate scores and the project's own estimates (keyed by row number) are written; the in-situ values stay
in the shared folder.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .data import TRAITS, default_data_dir, load_rows
from .routes import candidates, apply

#: Products scored per table.
SCORED = ("lai", "ccc")


def _score(y, p, n_boot: int) -> dict:
    from leafjax.evaluation import score

    s = score(np.asarray(y, float), np.asarray(p, float), n_boot=n_boot)
    keep = ("n", "rmse", "rmse_lo", "rmse_hi", "r2", "r2_lo", "r2_hi", "bias", "bias_lo", "bias_hi")
    return {k: s.get(k, np.nan) for k in keep}


def nested_selection(rows: pd.DataFrame, preds: dict[str, pd.Series], truth: str) -> tuple[pd.Series, list]:
    """Out-of-fold predictions of the candidate chosen, for each location, by RMSE on the other locations."""
    out = pd.Series(np.nan, index=rows.index)
    choices = []
    for loc in sorted(rows["location"].unique()):
        held = rows["location"] == loc
        y = rows.loc[~held, truth].to_numpy(float)
        errs = {name: float(np.sqrt(np.nanmean((p[~held].to_numpy(float) - y) ** 2))) for name, p in preds.items()}
        best = min(errs, key=errs.get)
        out[held] = preds[best][held]
        choices.append({"trait": truth, "held_out": loc, "chosen": best, "rmse_on_others": errs[best],
                        **{f"rmse_others_{k}": v for k, v in errs.items()}})
    return out, choices


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-maps", action="store_true")
    ap.add_argument("--maps-only", action="store_true", help="only the map run (step 5)")
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if args.maps_only:
        from .maps import run_maps

        print(f"maps: {run_maps(args.data / 'witzwil_2022', args.out)} s")
        return 0
    routes = candidates(args.quick)
    scores, by_loc, choices, estimates, timing = [], [], [], [], {}
    for trait in SCORED:
        rows = load_rows(args.data, trait)
        preds = {}
        for name, route in routes.items():
            t = time.time()
            res = apply(route, rows)
            timing[f"{trait}:{name}"] = round(time.time() - t, 1)
            preds[name] = res[trait]
            estimates.append(pd.DataFrame({"table": trait, "row": rows["row"], "route": name,
                                           "estimate": res[trait], "std": res[f"{trait}_std"],
                                           "fit_rmse": res["rmse"]}))
            print(f"{trait} {name}: {timing[f'{trait}:{name}']} s", flush=True)
        selected, ch = nested_selection(rows, preds, trait)
        choices += ch
        estimates.append(pd.DataFrame({"table": trait, "row": rows["row"], "route": "selected",
                                       "estimate": selected, "std": np.nan, "fit_rmse": np.nan}))
        peer, peer_ph = TRAITS[trait]
        columns = {**preds, "selected": selected, "peer (no constraints)": rows[peer],
                   "peer (phenology)": rows[peer_ph]}
        for name, p in columns.items():
            scores.append({"trait": trait, "method": name, **_score(rows[trait], p, args.n_boot)})
            for loc, g in rows.groupby("location"):
                by_loc.append({"trait": trait, "method": name, "location": loc,
                               **_score(g[trait], p[g.index], 0)})
    scores = pd.DataFrame(scores)
    scores.to_csv(args.out / "scores.csv", index=False, float_format="%.4f")
    pd.DataFrame(by_loc).to_csv(args.out / "scores_by_location.csv", index=False, float_format="%.4f")
    pd.DataFrame(choices).to_csv(args.out / "selection.csv", index=False, float_format="%.4f")
    pd.concat(estimates).to_csv(args.out / "estimates.csv", index=False, float_format="%.5g")
    (args.out / "scores.md").write_text(_markdown(scores))
    if not args.no_maps:
        from .maps import run_maps

        timing["maps"] = run_maps(args.data / "witzwil_2022", args.out)
    timing["total"] = round(time.time() - t0, 1)
    (args.out / "runtime.json").write_text(json.dumps({"seconds": timing, "quick": args.quick,
                                                       "machine": platform.processor() or platform.machine(),
                                                       "cpus": __import__("os").cpu_count()}, indent=1))
    print(_markdown(scores))
    return 0


def _markdown(scores: pd.DataFrame) -> str:
    lines = ["| trait | method | n | RMSE [95 % CI] | R² [95 % CI] | bias [95 % CI] |", "|---|---|---|---|---|---|"]
    for r in scores.itertuples():
        lines.append(f"| {r.trait} | {r.method} | {int(r.n)} | {r.rmse:.3f} [{r.rmse_lo:.3f}, {r.rmse_hi:.3f}] | "
                     f"{r.r2:.2f} [{r.r2_lo:.2f}, {r.r2_hi:.2f}] | {r.bias:+.3f} [{r.bias_lo:+.3f}, {r.bias_hi:+.3f}] |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
