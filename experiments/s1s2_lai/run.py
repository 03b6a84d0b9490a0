"""SYNTHETIC multi-temporal Sentinel-1/2 LAI study (Wang et al. 2023, LeafNothingBehind, analogue), with a real
check: LAI(t) from S1 at t−2, t−1, t and the S2 LAI product at t−2, t−1 on simulated chips, and the "t−1 task"
on the real sample.

One command (from the repository root; ``README.md`` of this folder gives the runtime on the 2-core CPU):
    python -m experiments.s1s2_lai.run

Flags: ``--config`` (``cpu`` default: 64 × 64 chips and small U-Nets; ``quick``: a smoke run, not the committed
numbers; ``gpu``: the paper's size), ``--data`` (default ``$LEAFJAX_SHARED_DATA`` else ``../shared/data``),
``--out`` (default ``experiments/s1s2_lai/results``), ``--seed``.

Stages (each timed in ``runtime.json``): fit the water-cloud model on the real sample (the simulator's radar
coefficients); prepare the S2 LAI retrieval (hybrid route); simulate the source region's train / validation /
test chips and the shifted region's; baselines (persistence, linear extrapolation, per-pixel LightGBM,
water-cloud inversion of S1(t)); stage 1 (Sodium, Aluminium), stage 2 (Strontium), the single U-Net; ablations
(no pre-training, no seasonality, no radar = Aluminium, no optical = Sodium without the S2 masks); transfer to
the shifted region (zero-shot, full, head, gradual, LoRA; from scratch on its chips); the t−1 task (simulated,
then the two intact real scenes, with no real-data training); scores with bootstrap intervals over test chips.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import jax
import numpy as np
import pandas as pd

from leafjax.inversion import fit_water_cloud, wcm_fit_data
from leafjax.simulation import default_scene_optics, scene_radar_coefficients

from .._timing import Timer
from . import baselines as bl
from . import models as md
from . import report
from .config import CONFIGS, scene_config
from .data import make_retrieval, previous_date_batch, real_previous_date_tiles, simulate_sets
from .scores import paired_effects, r2, rmse, score_table, strata_masks

SYNTHETIC = "SYNTHETIC chips (leafjax scene simulator; radar calibrated on the real sample)"
FINETUNE = ("full", "head", "gradual", "lora")


def default_data_dir() -> Path:
    env = os.environ.get("LEAFJAX_SHARED_DATA")
    return Path(env) if env else Path("..") / "shared" / "data"


def _load_sample(data_dir: Path):
    """The real chips (the reader's ``RuntimeWarning`` for the sample's corrupt LAI file silenced: the t−1 task
    leaves that chip out) and the water-cloud fit on them."""
    import warnings

    from leafjax.data import load_s1s2_sample

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        chips = load_s1s2_sample(data_dir)
    return chips, fit_water_cloud(wcm_fit_data(chips))


def train_networks(cfg, sets, timer, seed):
    """Stage 1, stage 2, the single U-Net and the ablations: ``{name: model}`` and their training summaries."""
    tr, va = sets["train"], sets["val"]
    nets, info = {}, {}

    def fit(name, kind, epochs, **kw):
        model, loss = md.build(kind, cfg, seed=seed, **kw)
        nets[name], info[name] = timer.run(f"train_{name}", md.train, model, loss, tr, va, cfg, epochs, seed=seed)
        info[name]["params"] = md.n_params(nets[name])

    fit("sodium", "sodium", cfg.epochs_branch)
    fit("aluminium", "aluminium", cfg.epochs_branch)
    fit("strontium", "strontium", cfg.epochs_fused, radar=nets["sodium"], optical=nets["aluminium"])
    fit("unet", "unet", cfg.epochs_branch)
    fit("strontium_no_pretraining", "strontium", cfg.epochs_fused)
    fit("sodium_no_season", "sodium", cfg.epochs_branch, use_season=False)
    fit("aluminium_no_season", "aluminium", cfg.epochs_branch, use_season=False)
    fit("strontium_no_season", "strontium", cfg.epochs_fused, use_season=False, radar=nets["sodium_no_season"],
        optical=nets["aluminium_no_season"])
    fit("sodium_no_optical", "sodium_no_masks", cfg.epochs_branch)
    return nets, info


def transfer(cfg, nets, shifted, timer, seed):
    """The fused model on the shifted region: zero-shot, each fine-tuning method, and from scratch on its
    chips; ``({name: prediction on the shifted test chips}, summaries)``."""
    tr, va, te = shifted["train"], shifted["val"], shifted["test"]
    preds = {"persistence": bl.persistence(te), "zero_shot": md.predict_map(nets["strontium"], te, cfg)}
    info = {}
    for method in FINETUNE:
        model, info[method] = timer.run(f"finetune_{method}", md.finetune, nets["strontium"], tr, va, cfg, method,
                                        seed=seed)
        preds[f"finetune_{method}"] = md.predict_map(model, te, cfg)
    scratch, loss = md.build("strontium", cfg, seed=seed)
    model, info["scratch"] = timer.run("transfer_scratch", md.train, scratch, loss, tr, va, cfg, cfg.epochs_fused,
                                       seed=seed)
    preds["scratch_on_region"] = md.predict_map(model, te, cfg)
    return preds, info


def previous_date_task(cfg, nets, sets, real, timer, seed):
    """The t−1 task: the fused model zero-shot (t−1 layout) and fine-tuned on the simulated t−1 layout, against
    persistence, on simulated test chips and on each real scene."""
    tr, va, te = (previous_date_batch(sets[k]) for k in ("train", "val", "test"))
    tuned, info = timer.run("finetune_t-1", md.finetune, nets["strontium"], tr, va, cfg, "full", seed=seed)
    models = {"strontium_zero_shot": nets["strontium"], "strontium_t-1": tuned}
    rows = []
    for where, batch in [("simulated", te)] + [(f"real:{k}", v) for k, v in real.items()]:
        preds = {"persistence": bl.persistence(batch)} | {k: md.predict_map(m, batch, cfg) for k, m in models.items()}
        masks = strata_masks(batch)
        for name, p in preds.items():
            rows.append({"data": where, "method": name, "rmse": rmse(p, batch["target"], masks["all"]),
                         "rmse_clear_t-2": rmse(p, batch["target"], masks["clear_t-1"]),
                         "r2": r2(p, batch["target"], masks["all"]), "pixels": int(masks["all"].sum())})
    return rows, info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="cpu", choices=sorted(CONFIGS))
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("experiments") / "s1s2_lai" / "results")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cfg = CONFIGS[args.config]
    data_dir = args.data or default_data_dir()
    args.out.mkdir(parents=True, exist_ok=True)
    timer = Timer()
    key = jax.random.key(args.seed)

    chips, fit = timer.run("fit_water_cloud", _load_sample, data_dir)
    coefficients, _ = scene_radar_coefficients(fit.coefficients)
    real = timer.run("read_real_t-1", real_previous_date_tiles, chips, cfg.size)
    optics = default_scene_optics()
    retrieve = timer.run("prepare_retrieval", make_retrieval, cfg, optics, jax.random.fold_in(key, 1))
    sets = timer.run("simulate_source", simulate_sets, cfg, {"train": cfg.n_train, "val": cfg.n_val,
                     "test": cfg.n_test}, scene_config(cfg, "source"), fit.coefficients, retrieve, optics,
                     jax.random.fold_in(key, 2))
    shifted = timer.run("simulate_shifted", simulate_sets, cfg, {"train": cfg.n_shift_train,
                        "val": cfg.n_shift_val, "test": cfg.n_shift_test}, scene_config(cfg, "shifted"),
                        fit.coefficients, retrieve, optics, jax.random.fold_in(key, 3))
    test = sets["test"]

    preds = {"persistence": bl.persistence(test), "linear_extrapolation": bl.linear_extrapolation(test)}
    gbm = timer.run("fit_gbm", bl.PixelGBM, sets["train"], n_pixels=cfg.gbm_pixels, seed=args.seed)
    preds["pixel_gbm"] = timer.run("predict_gbm", gbm, test)
    preds["water_cloud_s1_t"], wcm_info = timer.run("water_cloud_inversion", bl.water_cloud_inversion, test,
                                                    coefficients, pixels_per_chip=cfg.wcm_pixels_per_chip,
                                                    seed=args.seed, sigma_db=tuple(fit.rmse_db[p] for p in ("vh", "vv")))
    nets, train_info = train_networks(cfg, sets, timer, args.seed)
    for name, model in nets.items():
        preds[name] = timer.run("predict", md.predict_map, model, test, cfg)
    ablations = {"no_pretraining": ("strontium_no_pretraining", "strontium"),
                 "no_seasonality": ("strontium_no_season", "strontium"),
                 "no_radar": ("aluminium", "strontium"), "no_optical": ("sodium_no_optical", "strontium")}
    # the water-cloud inversion covers a subset of pixels: it is scored on its own pixels, beside persistence there
    wcm_mask = np.isfinite(preds["water_cloud_s1_t"])
    scores = (score_table({k: v for k, v in preds.items() if k != "water_cloud_s1_t"}, test, n_boot=cfg.n_boot)
              + score_table({k: v for k, v in preds.items() if k != "water_cloud_s1_t"}, test, n_boot=cfg.n_boot,
                            against="truth"))
    wcm_batch = dict(test, target_mask=test["target_mask"] & wcm_mask)
    wcm_scores = score_table({k: preds[k] for k in ("persistence", "water_cloud_s1_t", "strontium", "pixel_gbm")},
                             wcm_batch, n_boot=cfg.n_boot)
    effects = paired_effects(preds, test, ablations, n_boot=cfg.n_boot)
    t_preds, transfer_info = transfer(cfg, nets, shifted, timer, args.seed)
    transfer_scores = score_table(t_preds, shifted["test"], n_boot=cfg.n_boot)
    t1_rows, t1_info = previous_date_task(cfg, nets, sets, real, timer, args.seed)

    device = jax.devices()[0]
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"{device.platform}:{device.device_kind}")
    results = {"data": SYNTHETIC, "config": args.config, "settings": vars(cfg), "seed": args.seed,
               "machine": machine, "jax": jax.__version__, "water_cloud_fit": fit.summary(),
               "train": train_info, "transfer_train": transfer_info, "t-1_train": t1_info, "water_cloud": wcm_info,
               "gbm_pixels": gbm.n_pixels, "scores": scores, "water_cloud_scores": wcm_scores, "ablations": effects,
               "transfer": transfer_scores, "t-1_task": t1_rows,
               "chips": {k: int(len(v["target"])) for k, v in sets.items()}
               | {f"shifted_{k}": int(len(v["target"])) for k, v in shifted.items()},
               "target_valid_share": float(test["target_mask"].mean()),
               "cloudy_t-1_share": float((test["target_mask"] & ~test["prev_valid"]).sum() / test["target_mask"].sum())}
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=float))
    pd.DataFrame(scores + wcm_scores).to_csv(args.out / "scores.csv", index=False)
    (args.out / "table.md").write_text(report.tables(results))
    timer.seconds["total"] = round(time.time() - timer.t0, 1)
    (args.out / "runtime.json").write_text(json.dumps({"machine": machine, "seconds": timer.seconds}, indent=1))
    print(report.tables(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
