"""Zero-label leaf traits from reflectance: PROSPECT recalibrated by gradient, leave-one-dataset-out.

For every dataset of ``--data`` with measured ``lma`` or ``ewt`` (the held-out one), the corrections of
:func:`leafjax.inversion.recalibrate` (water and dry-matter absorption, refractive index, measurement model, N
regression) are learned on the *other* datasets' labels only; the held-out dataset's spectra are then inverted
without any of its labels, with the published constants and with the recalibrated ones.  The 90 % interval of
the recalibrated inversion adds to its Laplace σ a relative model error fitted on the source rows only.
``residual_selected`` picks, per held-out dataset and without its labels, whichever of the two fits its spectra
with the lower median residual.

Usage (from the repository root)::

    python -m experiments.leaf_traits.recalibration [--data FOLDER] [--out DIR] [--steps 80]
        [--ablation] [--apply-to FOLDER] [--export-table]

``--data`` is any folder of datasets in the shared format (``leafjax.data.load_shared_datasets``); labels the
plausibility checks flag are excluded (``--keep-implausible`` keeps them).  ``--ablation`` repeats the
leave-one-dataset-out with each correction switched off in turn.  ``--export-table`` fits the corrections on
every dataset of ``--data`` whose name starts with one of ``--export-prefixes`` (default ``gsti_``: the
datasets under CC BY 4.0) and writes the packaged table ``leafjax/physics/leaf/data/
prospect_coefficients_recalibrated.csv`` with its provenance ``.json``.  ``--apply-to FOLDER`` inverts the
datasets of another folder (never used in development) with the packaged table and with the published
constants.

Outputs in ``--out``: ``recalibration_by_dataset.csv|md`` (per held-out dataset, trait and method: n, RMSE and
bias in g/m², R², 90 % coverage), ``recalibration_summary.csv|md`` (median RMSE, datasets with R² > 0,
median coverage), ``recalibration_corrections.json`` (the corrections learned in each fold), and with
``--ablation`` ``recalibration_ablation.csv|md``; ``recalibration_runtime.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import time
from functools import partial
from pathlib import Path

import jax
import numpy as np
import pandas as pd

from leafjax.baselines import ProspectInversion
from leafjax.data import exclude_implausible, load_shared_datasets
from leafjax.evaluation import r2, rmse, write_tables
from leafjax.inversion import ProspectCorrections as Corrections
from leafjax.inversion import corrected_problem, invert_corrected, packaged_corrections, recalibrate, trait_estimates
from leafjax.inversion._recalibration import COMPONENTS, WINDOW
from leafjax.preprocessing import compose, flag_outliers, resample, savgol, to_fraction

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TRAITS = ("lma", "ewt")
#: g/cm² → g/m² for the reported figures.
TO_G_M2 = 1.0e4
#: z of a two-sided 90 % Gaussian interval.
Z90 = 1.6448536269514722


def load(folder, step_nm: float = 5.0, keep_implausible: bool = False, names=None):
    """The study's preprocessing (fractions, Savitzky–Golay, resampling to ``step_nm`` over 400–2400 nm,
    spectral outlier flags), white-background spectra and repeated sample ids dropped, implausible labels
    excluded unless ``keep_implausible``."""
    ds = load_shared_datasets(folder, names)
    if not keep_implausible:
        ds = exclude_implausible(ds)
    grid = np.arange(400.0, 2400.0 + 1e-9, step_nm)
    ds, _ = compose(to_fraction, savgol, partial(resample, target_wavelengths=grid), flag_outliers)(ds)
    if "flag_white_background" in ds.meta:
        ds = ds.subset(~ds.meta["flag_white_background"].to_numpy(bool))
    return ds.subset(~ds.meta.duplicated(["dataset", "sample_id"]).to_numpy())


def arrays(ds) -> dict:
    """Window reflectance, NIR reflectance at :data:`N_BAND`, labels (and whether a row has any) and dataset
    names of the usable rows."""
    wl = ds.wavelengths
    keep = (wl >= WINDOW[0]) & (wl <= WINDOW[1])
    try:
        i_nir = Corrections.identity().n_band(wl)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    r, nir = ds.reflectance[:, keep], ds.reflectance[:, i_nir]
    ok = np.isfinite(r).all(1) & np.isfinite(nir) & (nir > 0) & (nir < 1)
    out = {"wl": wl[keep], "r": r[ok], "nir": nir[ok], "name": ds.meta["dataset"].to_numpy().astype(str)[ok],
           "ds": ds.subset(ok)}
    for t in TRAITS:
        out[t] = ds.trait(t)[ok] if t in ds.traits.columns else np.full(ok.sum(), np.nan)
    out["labelled"] = np.any([np.isfinite(out[t]) for t in TRAITS], axis=0)
    return out


def score(y, est, sd=None) -> dict:
    """n, RMSE and bias (g/m²), R² and 90 % coverage (when ``sd`` is given) on the finite rows."""
    f = np.isfinite(y) & np.isfinite(est)
    if f.sum() < 3:
        return {}
    e, t = est[f], y[f]
    out = {"n": int(f.sum()), "rmse_g_m2": rmse(t, e) * TO_G_M2, "bias_g_m2": float(np.mean(e - t) * TO_G_M2),
           "r2": r2(t, e)}
    if sd is not None:
        out["coverage90"] = float(np.mean(np.abs(e - t) <= Z90 * sd[f]))
    return out


def relative_model_error(y, est, sd, level: float = 0.9) -> float:
    """Relative error ``s`` with ``|est − y| ≤ z·sqrt(sd² + (s·est)²)`` on a fraction ``level`` of the rows
    (bisection; 0 when the stated σ already covers them)."""
    f = np.isfinite(y) & np.isfinite(est) & np.isfinite(sd) & (est > 0)
    if f.sum() < 5:
        return 0.0
    e, t, s0 = est[f], y[f], sd[f]

    def cov(s):
        return np.mean(np.abs(e - t) <= Z90 * np.sqrt(s0 ** 2 + (s * e) ** 2))
    lo, hi = 0.0, 10.0
    if cov(lo) >= level:
        return 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if cov(mid) >= level else (mid, hi)
    return hi


def run_fold(a: dict, problem, hold: str, components, steps: int, seed: int) -> tuple[list[dict], Corrections]:
    """Recalibrate on every dataset but ``hold``, then score ``hold`` with the published and learned constants."""
    src, tst = (a["name"] != hold) & a["labelled"], a["name"] == hold
    labels = {t: a[t][src] for t in TRAITS}
    corr, _ = recalibrate(a["r"][src], a["nir"][src], a["wl"], labels, a["name"][src], components=components,
                          steps=steps, key=jax.random.key(seed))
    rows, fit = [], {}
    for method, c in (("published", Corrections.identity()), ("recalibrated", corr)):
        src_res = invert_corrected(problem, c, a["r"][src], a["nir"][src])
        res = invert_corrected(problem, c, a["r"][tst], a["nir"][tst])
        est_src, est = trait_estimates(src_res), trait_estimates(res)
        # the held-out spectra's fit residual, in measured-reflectance units (label-free)
        fit[method] = float(np.nanmedian(np.asarray(res.rmse))) * float(np.exp(c.log_gain))
        for t in TRAITS:
            s = relative_model_error(labels[t], np.asarray(est_src[t]), np.asarray(src_res.std[t]))
            e, sd = np.asarray(est[t]), np.asarray(res.std[t])
            sc = score(a[t][tst], e, np.sqrt(sd ** 2 + (s * e) ** 2))
            if sc:
                rows.append({"trait": t, "held_out": hold, "method": method, **sc, "model_error_rel": s,
                             "fit_rmse": fit[method]})
    # label-free choice per held-out dataset: the constants whose inversion fits its spectra better
    chosen = min(fit, key=fit.get)
    rows += [dict(r, method="residual_selected", selected=chosen) for r in rows if r["method"] == chosen]
    return rows, corr


def study_baseline(a: dict, hold: str) -> list[dict]:
    """The study's inversion (:class:`~leafjax.baselines.ProspectInversion`: free N, prior 1.5 ± 0.3)."""
    sub = a["ds"].subset(a["name"] == hold)
    out = ProspectInversion()._invert(sub)
    rows = []
    for t in TRAITS:
        sc = score(a[t][a["name"] == hold], out[t], out[f"{t}_std"])
        if sc:
            rows.append({"trait": t, "held_out": hold, "method": "study_free_n", **sc})
    return rows


def fold_part(parts: Path, a: dict, problem, hold: str, steps: int, seed: int, without: str | None = None) -> dict:
    """One fold (all corrections, or all but ``without``), read from ``parts`` when an earlier run finished it,
    else computed and written there at once: ``{rows, corrections, seconds}``."""
    part = parts / f"{hold}_{steps}_{seed}{'' if without is None else f'_without_{without}'}.json"
    if part.exists():
        return json.loads(part.read_text())
    t = time.perf_counter()
    comps = tuple(c for c in COMPONENTS if c != without)
    r, c = run_fold(a, problem, hold, comps, steps, seed)
    done = {"rows": r + (study_baseline(a, hold) if without is None else []), "corrections": c.to_dict(),
            "seconds": round(time.perf_counter() - t, 1)}
    part.write_text(json.dumps(done))
    print(f"{hold}{'' if without is None else f' without {without}'}: {done['seconds']:.0f} s", flush=True)
    return done


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per trait and method: datasets, median RMSE (g/m²), datasets with R² > 0, median coverage."""
    g = table.groupby(["trait", "method"], sort=False)
    return pd.DataFrame({"datasets": g.size(), "median_rmse_g_m2": g["rmse_g_m2"].median(),
                         "r2_positive": g["r2"].apply(lambda r: int((r > 0).sum())),
                         "median_coverage90": g["coverage90"].median()}).reset_index()


def export_table(a: dict, prefixes, steps: int, seed: int, out_csv: Path) -> Corrections:
    """Fit on the datasets whose names start with ``prefixes``; write the corrected table and its provenance."""
    use = np.array([any(n.startswith(p) for p in prefixes) for n in a["name"]]) & a["labelled"]
    if not use.any():
        raise SystemExit(f"no dataset name starts with {prefixes}")
    corr, hist = recalibrate(a["r"][use], a["nir"][use], a["wl"], {t: a[t][use] for t in TRAITS}, a["name"][use],
                             steps=steps, key=jax.random.key(seed))
    table = pd.DataFrame(corr.to_table())
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False, float_format="%.9g")
    prov = {"description": "PROSPECT-D/PRO optical constants recalibrated by gradient through the reflectance-only "
                           "inversion (experiments/leaf_traits/recalibration.py --export-table)",
            "base_table": "prospect_coefficients.csv (Féret et al. 2017, 2021)",
            "datasets": sorted(set(a["name"][use])),
            "data_source": "Global Spectra-Trait Initiative (github TESTgroup-BNL/gsti), CC BY 4.0, "
                           "doi:10.5281/zenodo.4330119 and each dataset's primary paper",
            "components": list(COMPONENTS), "steps": steps, "seed": seed, "final_loss": float(np.mean(hist[-10:])),
            "window_nm": list(WINDOW), "inversion": {"free": ["ewt", "prot", "cbc"], "fixed": {"chl": 40, "car": 10},
                                                     "n_struct": "n_intercept + n_slope * R/(1-R) at n_band_nm"},
            **corr.to_dict(), "sha256": hashlib.sha256(out_csv.read_bytes()).hexdigest()}
    out_csv.with_suffix(".json").write_text(json.dumps(prov, indent=1))
    return corr


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "leaf_spectra")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--step-nm", type=float, default=5.0)
    ap.add_argument("--folds", default=None, help="comma-separated held-out datasets (default: all labelled)")
    ap.add_argument("--keep-implausible", action="store_true")
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--skip-lodo", action="store_true")
    ap.add_argument("--export-table", action="store_true")
    ap.add_argument("--export-prefixes", default="gsti_")
    ap.add_argument("--apply-to", type=Path, default=None)
    ap.add_argument("--apply-datasets", default=None, help="comma-separated dataset names of --apply-to")
    args = ap.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    t0 = time.perf_counter()
    a = arrays(load(args.data, args.step_nm, args.keep_implausible))
    problem = corrected_problem(a["wl"])
    labelled = sorted({n for n in a["name"] for t in TRAITS
                       if np.isfinite(a[t][a["name"] == n]).sum() >= 3})
    folds = args.folds.split(",") if args.folds else labelled
    args.out.mkdir(parents=True, exist_ok=True)
    runtime = {"machine": f"{platform.machine()} {platform.processor()}".strip(), "jax_devices": jax.device_count(),
               "backend": jax.default_backend(), "steps": args.steps, "folds": folds}
    if args.export_table:
        path = REPO / "leafjax" / "physics" / "leaf" / "data" / "prospect_coefficients_recalibrated.csv"
        export_table(a, tuple(args.export_prefixes.split(",")), args.steps, args.seed, path)
        print(f"wrote {path.relative_to(REPO)}")
    parts = args.out / "recalibration_parts"  # one file per finished fold: a rerun continues
    parts.mkdir(parents=True, exist_ok=True)
    fold_seconds = 0.0
    if not args.skip_lodo:
        rows, corrections = [], {}
        for hold in folds:
            done = fold_part(parts, a, problem, hold, args.steps, args.seed)
            rows += done["rows"]
            corrections[hold] = done["corrections"]
            fold_seconds += done["seconds"]
        table = pd.DataFrame(rows)
        summ = summary(table)
        write_tables({"recalibration_by_dataset": table, "recalibration_summary": summ}, args.out)
        (args.out / "recalibration_corrections.json").write_text(json.dumps(corrections))
        print(summ.to_string(index=False))
    if args.ablation:
        rows = []
        for off in COMPONENTS:
            for hold in folds:
                done = fold_part(parts, a, problem, hold, args.steps, args.seed, without=off)
                rows += [dict(x, switched_off=off) for x in done["rows"] if x["method"] == "recalibrated"]
                fold_seconds += done["seconds"]
        abl = pd.DataFrame(rows)
        g = abl.groupby(["trait", "switched_off"], sort=False)
        write_tables({"recalibration_ablation": pd.DataFrame({
            "median_rmse_g_m2": g["rmse_g_m2"].median(), "r2_positive": g["r2"].apply(lambda r: int((r > 0).sum())),
            "datasets": g.size()}).reset_index()}, args.out)
    if args.apply_to is not None:
        names = args.apply_datasets.split(",") if args.apply_datasets else None
        b = arrays(load(args.apply_to, args.step_nm, args.keep_implausible, names))
        rows, new_problem = [], corrected_problem(b["wl"])
        methods = (("published", Corrections.identity()), ("recalibrated", packaged_corrections()))
        for n in sorted(set(b["name"])):
            m = b["name"] == n
            for method, c in methods:
                res = invert_corrected(new_problem, c, b["r"][m], b["nir"][m])
                est = trait_estimates(res)
                for t in TRAITS:
                    sc = score(b[t][m], np.asarray(est[t]))
                    if sc:
                        rows.append({"trait": t, "dataset": n, "method": method, **sc})
        write_tables({"recalibration_new_datasets": pd.DataFrame(rows)}, args.out)
        print(pd.DataFrame(rows).to_string(index=False))
    # fold_seconds: compute of the folds, including those an earlier run wrote to recalibration_parts
    runtime.update(wall_s=round(time.perf_counter() - t0, 1), fold_seconds=round(fold_seconds, 1))
    (args.out / "recalibration_runtime.json").write_text(json.dumps(runtime, indent=1))


if __name__ == "__main__":
    main()
