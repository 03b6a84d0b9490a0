"""SYNTHETIC cross-site land-surface-temperature transfer (Heidarian et al. 2025 analogue): pre-train on the
leafjax simulation, fine-tune on one region's synthetic sites, test on the other region's.

One command (from the repository root; see ``README.md`` for the runtime on the 2-core CPU):
    python -m experiments.lst_transfer.run

Flags: ``--data`` (default ``$LEAFJAX_SHARED_DATA/thermal`` else ``../shared/data/thermal``), ``--out`` (default
``experiments/lst_transfer/results``), ``--quick`` (reduced simulation, epochs and 2 seeds: a smoke run, not the
committed numbers), ``--n-pretrain``, ``--seeds``, ``--n-boot``, ``--networks``, ``--finetune``, ``--trees``,
``--no-physical``.

Stages (each timed in ``runtime.json``): load the truth and the TIGR profiles; fit / load the band model (cached);
build the 18 sites and observe them through the truth; diagnostics (band model vs truth on the site atmospheres,
±0.05 µm band shifts); simulate the pre-training set; fit the split-window forms on it; physical inversion; pre-train
the networks and trees, fine-tune / adapt them on the source region, train them directly on it, predict the test
region, both directions; the WVC × ΔBT ablation; scores with bootstrap intervals over test sites; tables and figures.
Everything here is synthetic: no real in-situ LST exists in this project.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from leafjax.simulation import split_emissivities

from .._timing import Timer
from . import config, error_budget, report, sites as site_mod
from . import physics_stages as ps

SYNTHETIC = "SYNTHETIC sites (LBLRTM truth + literature error budget)"


def default_data_dir() -> Path:
    env = os.environ.get("LEAFJAX_SHARED_DATA")
    return Path(env) / "thermal" if env else Path("..") / "shared" / "data" / "thermal"


def build_sites(truth, site_idx, site_cols, cfg, timer):
    from leafjax.physics.thermal import vimi_response

    wvc = np.asarray(truth.column_water_vapour, float)
    t_air = np.asarray(truth.atmospheres.temperature, float)[:, 0]
    sites = site_mod.make_sites(site_idx, wvc, len(site_cols), obs_per_site=cfg.obs_per_site)
    states = site_mod.site_states(sites, t_air, wvc)
    srf = vimi_response(np.asarray(truth.wavenumber))
    spectra = np.asarray(truth.emissivity)[list(site_cols)]
    bt = timer.run("observe_truth", ps.truth_bt, truth, states["atm"].to_numpy(),
                   spectra[states["emissivity_id"].to_numpy()], states["lst"].to_numpy(), srf)
    band_e = ps.band_emissivity(spectra, srf)
    tables = [site_mod.apply_errors(states, bt, band_e, s) for s in range(cfg.seeds)]
    return sites, states, tables


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-pretrain", type=int)
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--n-boot", type=int)
    ap.add_argument("--pretrain-epochs", type=int)
    ap.add_argument("--networks", default=",".join(config.NETWORKS))
    ap.add_argument("--finetune", default=",".join(config.FINETUNE))
    ap.add_argument("--trees", default=",".join(config.TREES), help="tree models ('' for none)")
    ap.add_argument("--no-physical", action="store_true")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"thermal data folder not found: {args.data} (set --data or LEAFJAX_SHARED_DATA)")
    cfg = config.settings(args.quick, n_pretrain=args.n_pretrain, seeds=args.seeds, n_boot=args.n_boot,
                          pretrain_epochs=args.pretrain_epochs)
    networks = [n for n in args.networks.split(",") if n]
    methods = [m for m in args.finetune.split(",") if m]
    args.out.mkdir(parents=True, exist_ok=True)
    timer = Timer()
    seeds = list(range(cfg.seeds))

    truth, tigr, cal_idx, site_idx = timer.run("load", ps.load, args.data)
    bm = timer.run("band_model", ps.band_model, args.data)
    pre_cols, site_cols = split_emissivities(truth)
    sites, states, tables = build_sites(truth, site_idx, site_cols, cfg, timer)
    diag = {"band_model_vs_truth": timer.run("diag_band_model", ps.band_model_vs_truth, bm, truth, site_idx,
                                             site_cols),
            "band_shift_sensitivity": timer.run("diag_band_shift", ps.shift_sensitivity, truth, site_idx, site_cols)}
    sim, sim_info = timer.run("simulate", ps.simulate, bm, tigr, truth, pre_cols, cfg.n_pretrain)
    sws = timer.run("split_window_fit", ps.fit_split_windows, sim, config.SW_FORMS)
    clean, _ = timer.run("simulate_noise_free", ps.simulate, bm, tigr, truth, pre_cols, cfg.n_pretrain, noise_k=0.0,
                          check=False)
    diag["split_window"] = _sw_diagnostics(sws, tables[0], ps.fit_split_windows(clean, config.SW_FORMS))

    # direction-independent predictions on all observations: (M, n_all)
    common = {("split-window", f"sw_{f}"): np.stack([ps.predict_split_window(sw, t) for t in tables])
              for f, sw in sws.items()}
    if not args.no_physical:
        from .physical import invert_tables

        phys, diag["physical"] = timer.run("physical_inversion", invert_tables, bm, truth, tables, cfg.invert_max)
        common[("physical", "lm_inversion")] = phys

    splits = {f"{s}->{t}": ([tb[tb["region"] == s].reset_index(drop=True) for tb in tables],
                            [tb[tb["region"] == t].reset_index(drop=True) for tb in tables])
              for s, t in config.DIRECTIONS}
    masks = {f"{s}->{t}": (states["region"] == t).to_numpy() for s, t in config.DIRECTIONS}
    preds = {d: {k: v[:, masks[d]] for k, v in common.items()} for d in splits}
    _learn(networks, methods, sim, splits, seeds, cfg, timer, preds)
    if args.trees:
        from .learning import trees_predict

        for kind in [k for k in args.trees.split(",") if k]:
            out = trees_predict(kind, sim, splits, seeds, max_pretrain=cfg.trees_pretrain_max,
                                timer=lambda st, dt, k=kind: timer.add(f"trees:{kind}:{st}", dt))
            for d, m in out.items():
                preds[d][("pretrained", f"{kind}_pretrained")] = m["pretrained"]
                preds[d][("finetuned", f"{kind}_finetune")] = m["finetune"]
                preds[d][("direct", f"{kind}_direct")] = m["direct"]

    scores = timer.run("scores", _scores, preds, splits, cfg.n_boot)
    from .figures import write_figures

    timer.run("figures", write_figures, scores, preds, splits, args.out, SYNTHETIC)
    timer.seconds["total"] = round(time.time() - timer.t0, 1)
    _write(args, cfg, scores, diag, sim_info, sites, states, tables, cal_idx, site_idx, pre_cols, site_cols,
           timer, networks, methods)
    print(report.markdown(scores, title=f"{SYNTHETIC}: cross-region RMSE against the in-situ label"))
    return 0


def _learn(networks, methods, sim, splits, seeds, cfg, timer, preds):
    from .learning import direct_predict, finetune_predict, pretrain, zero_shot_predict

    for net in networks:
        for interaction in (True, False):
            tag = "" if interaction else "_no_interaction"
            ft_methods = methods if interaction else [m for m in methods if m in cfg.ablation_finetune]
            models = timer.run(f"pretrain:{net}{tag}", pretrain, net, sim, seeds, interaction=interaction,
                               epochs=cfg.pretrain_epochs.get(net, 4), batch_size=cfg.batch_size)
            for d, (sources, tests) in splits.items():
                fam = "finetuned" if interaction else "ablation"
                preds[d][("pretrained" if interaction else "ablation", f"{net}_pretrained{tag}")] = \
                    zero_shot_predict(models, tests, interaction=interaction)
                ft = finetune_predict(models, sources, tests, ft_methods, seeds, interaction=interaction,
                                      epochs=cfg.finetune_epochs, batch_size=cfg.finetune_batch_size,
                                      timer=lambda m, dt, d=d: timer.add(f"finetune:{net}{tag}:{m}", dt))
                for m, p in ft.items():
                    preds[d][(fam, f"{net}_{m}{tag}")] = p
                preds[d][("direct" if interaction else "ablation", f"{net}_direct{tag}")] = timer.run(
                    f"direct:{net}{tag}", direct_predict, net, sources, tests, seeds, interaction=interaction,
                    epochs=cfg.direct_epochs, batch_size=cfg.finetune_batch_size)


def _scores(preds, splits, n_boot) -> pd.DataFrame:
    rows = []
    for d, (_, tests) in splits.items():
        sites = tests[0]["site"].to_numpy()
        draws = report.site_draws(sites, n_boot)
        label = np.stack([t["lst_insitu"].to_numpy(float) for t in tests])
        true = tests[0]["lst"].to_numpy(float)
        for (fam, meth), p in preds[d].items():
            for against, y in (("insitu", label), ("true", true)):
                rows.append({"direction": d, "family": fam, "method": meth, "against": against,
                             **report.score(p, y, sites, draws)})
    return pd.DataFrame(rows)


def _sw_diagnostics(sws, table, sws_clean) -> dict:
    """Per-bin fit RMSE on the simulation (with the sensor NEdT, the fits the experiment uses; and the same states
    without noise, the split-window's own accuracy); RMSE on truth-generated samples (true inputs, no errors)."""
    out = {}
    true = table["lst"].to_numpy(float)
    wet = table["wvc_true"].to_numpy(float) <= 4.5
    for f, sw in sws.items():
        clean = ps.predict_split_window(sw, table, truth_side=True)
        out[f] = {"bins": [list(b) for b in sw.bins], "bin_rmse_k": np.round(sw.rmse, 4).tolist(),
                  "bin_count": sw.count.tolist(),
                  "noise_free_bin_rmse_k": np.round(sws_clean[f].rmse, 4).tolist(),
                  "truth_samples_rmse_k": float(np.sqrt(np.mean((clean - true) ** 2))),
                  "truth_samples_rmse_wvc_le_4p5_k": float(np.sqrt(np.mean((clean[wet] - true[wet]) ** 2))),
                  "truth_samples_bias_k": float(np.mean(clean - true))}
    return out


def _write(args, cfg, scores, diag, sim_info, sites, states, tables, cal_idx, site_idx, pre_cols, site_cols, timer,
           networks, methods):
    import dataclasses

    scores.to_csv(args.out / "scores.csv", index=False, float_format="%.4f")
    md = [f"# {SYNTHETIC}: cross-region LST RMSE", "",
          f"Seeds: {cfg.seeds}; pre-training samples: {sim_info['n_finite']}; bootstrap: {cfg.n_boot} draws of the "
          "test sites; 95 % intervals.  Quick run (not the committed numbers)." if args.quick else
          f"Seeds: {cfg.seeds}; pre-training samples: {sim_info['n_finite']}; bootstrap: {cfg.n_boot} draws of the "
          "test sites; 95 % intervals.", "",
          report.markdown(scores, against="insitu", title=f"{SYNTHETIC}: against the in-situ label"), "",
          report.markdown(scores, against="true", title=f"{SYNTHETIC}: against the true LST")]
    (args.out / "table.md").write_text("\n".join(md))
    results = {"synthetic": True, "label": SYNTHETIC, "quick": bool(args.quick),
               "settings": dataclasses.asdict(cfg), "networks": networks, "finetune_methods": methods,
               "error_budget": error_budget.budget(), "simulation": sim_info,
               "truth_split": {"calibration": [int(i) for i in cal_idx], "site": [int(i) for i in site_idx]},
               "emissivity_split": {"pretraining": [int(c) for c in pre_cols], "site": [int(c) for c in site_cols]},
               "sites": site_mod.describe(sites, states),
               "calibration_bias_k_per_seed": [t.attrs["calibration_bias_k"] for t in tables],
               "diagnostics": diag, "scores": scores.to_dict(orient="records")}
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=float))
    (args.out / "runtime.json").write_text(json.dumps({"seconds": timer.seconds, "quick": bool(args.quick),
                                                       "machine": platform.processor() or platform.machine(),
                                                       "cpus": os.cpu_count(), "gpu": False}, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
