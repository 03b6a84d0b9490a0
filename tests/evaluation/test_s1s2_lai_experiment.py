"""The multi-temporal S1/S2 LAI study (``experiments/s1s2_lai``): baselines and scores on hand-made chips, the
t−1 layout, the real sample's t−1 persistence figures, one training and fine-tuning pass through the study's
code on small chips; the whole quick run is marked ``slow``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from experiments.s1s2_lai import baselines as bl
from experiments.s1s2_lai import models as md
from experiments.s1s2_lai.config import CONFIGS, scene_config
from experiments.s1s2_lai.data import previous_date_batch
from experiments.s1s2_lai.scores import paired_effects, rmse, score_table
from _s1s2_batches import s1s2_batch


def _hand_batch():
    """Two 2 × 2 chips; product (LAI) at t−2, t−1, t with NaN where not valid."""
    nan = np.nan
    product = np.array([[[[1.0, 1.0], [2.0, nan]], [[2.0, nan], [3.0, nan]], [[3.0, 3.0], [4.0, 4.0]]],
                        [[[nan, nan], [nan, nan]], [[nan, nan], [nan, nan]], [[1.0, 1.0], [1.0, 1.0]]]])
    return {"product": product, "s2_doy": np.array([[100.0, 110.0, 120.0], [100.0, 105.0, 115.0]]),
            "target": np.nan_to_num(product[:, 2]) / 5.0, "target_mask": np.isfinite(product[:, 2]),
            "prev_valid": np.isfinite(product[:, 1]), "truth": np.nan_to_num(product[:, 2]) / 5.0}


def test_persistence_falls_back_from_t1_to_t2_to_the_chip_median_to_the_default():
    p = bl.persistence(_hand_batch(), fallback=0.5) * 5.0
    np.testing.assert_allclose(p[0], [[2.0, 1.0], [3.0, 2.0]])  # t−1; t−2; t−1; chip median of t−2/t−1
    np.testing.assert_allclose(p[1], 0.5)  # nothing valid in the chip


def test_linear_extrapolation_extends_the_line_to_the_date_of_t():
    e = bl.linear_extrapolation(_hand_batch(), fallback=0.5) * 5.0
    # (1 -> 2 over 10 days, t 10 days later) = 3; (2 -> 3) = 4; elsewhere persistence
    np.testing.assert_allclose(e[0], [[3.0, 1.0], [4.0, 2.0]])


def test_scores_intervals_and_paired_effects():
    b = _hand_batch()
    preds = {"persistence": bl.persistence(b), "exact": b["target"].copy(), "same": bl.persistence(b)}
    rows = score_table(preds, b, n_boot=200)
    exact = [r for r in rows if r["method"] == "exact"]
    assert all(r["rmse"] == 0.0 and r["ratio_to_reference"] == 0.0 for r in exact)
    for r in rows:
        assert r["rmse_lo"] - 1e-12 <= r["rmse"] <= r["rmse_hi"] + 1e-12
    eff = paired_effects(preds, b, {"x": ("same", "persistence")}, n_boot=100)
    assert all(r["effect"] == 0.0 and r["effect_lo"] == 0.0 == r["effect_hi"] for r in eff)
    assert {r["stratum"] for r in rows} == {"all", "clear_t-1", "cloudy_t-1"}
    assert rmse(preds["persistence"], b["target"], b["target_mask"]) > 0.0


def test_the_previous_date_layout_uses_only_the_history_of_t1():
    batch = s1s2_batch(n=3, size=8)
    batch["product"] = np.random.default_rng(0).random((3, 3, 8, 8))
    t1 = previous_date_batch(batch)
    np.testing.assert_array_equal(t1["s1"][:, 0], batch["s1"][:, 0])
    np.testing.assert_array_equal(t1["s1"][:, 1], batch["s1"][:, 0])
    np.testing.assert_array_equal(t1["s1"][:, 2], batch["s1"][:, 1])
    np.testing.assert_array_equal(t1["lai"][:, 1], batch["lai"][:, 0])
    np.testing.assert_allclose(t1["target"], batch["product"][:, 1] / 5.0, rtol=1e-6)
    assert t1["season"] is batch["season"]


def test_shifted_region_differs_from_the_source():
    cfg = CONFIGS["quick"]
    src, shf = scene_config(cfg, "source"), scene_config(cfg, "shifted")
    assert src.product_at_t and shf.product_at_t
    assert shf.latitude[0] > src.latitude[1] - 4 and shf.parcel_px != src.parcel_px
    share = {c.name: c.share for c in shf.classes}
    assert abs(sum(share.values()) - 1.0) < 1e-9 and share["grassland"] > share["maize"]


def test_real_previous_date_task_reproduces_the_measured_persistence(shared_data):
    import warnings

    from experiments.s1s2_lai.data import real_previous_date_tiles
    from leafjax.data import load_s1s2_sample

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the sample's corrupt LAI file
        chips = load_s1s2_sample(shared_data)
    real = real_previous_date_tiles(chips, 64)
    assert set(real) == {"KALININGRAD_GUSEV", "MOLDOVA_ROMANIA"}  # the corrupt chip is left out
    for scene, expected in (("KALININGRAD_GUSEV", 0.040), ("MOLDOVA_ROMANIA", 0.111)):
        b = real[scene]
        both = b["target_mask"] & b["prev_valid"]
        assert b["s1"].shape == (16, 3, 2, 64, 64)
        assert abs(rmse(bl.persistence(b), b["target"], both) - expected) < 0.001


@pytest.mark.slow
def test_training_and_finetuning_run_through_the_shared_loop():
    cfg = CONFIGS["quick"]
    tr, va = s1s2_batch(n=4, size=8, seed=1), s1s2_batch(n=2, size=8, seed=2)
    sodium, loss = md.build("sodium", cfg)
    sodium, info = md.train(sodium, loss, tr, va, cfg, 2)
    aluminium, loss = md.build("aluminium", cfg)
    aluminium, _ = md.train(aluminium, loss, tr, va, cfg, 1)
    fused, loss = md.build("strontium", cfg, radar=sodium, optical=aluminium)
    fused, _ = md.train(fused, loss, tr, va, cfg, 1)
    tuned, tinfo = md.finetune(fused, tr, va, cfg, "lora")
    pred = md.predict_map(tuned, va, cfg)
    assert pred.shape == (2, 8, 8) and np.isfinite(pred).all()
    assert info["epochs_run"] == 2 and tinfo["stages"] == 1


@pytest.mark.slow
def test_quick_run_writes_complete_tables(shared_data, tmp_path):
    from experiments.s1s2_lai.run import main

    assert main(["--config", "quick", "--data", str(shared_data), "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    methods = {r["method"] for r in res["scores"]}
    assert {"persistence", "linear_extrapolation", "pixel_gbm", "sodium", "aluminium", "strontium", "unet",
            "strontium_no_pretraining", "strontium_no_season", "sodium_no_optical"} <= methods
    assert {r["ablation"] for r in res["ablations"]} == {"no_pretraining", "no_seasonality", "no_radar",
                                                         "no_optical"}
    assert {r["method"] for r in res["transfer"]} >= {"zero_shot", "finetune_full", "finetune_head",
                                                      "finetune_gradual", "finetune_lora"}
    assert {r["data"] for r in res["t-1_task"]} == {"simulated", "real:KALININGRAD_GUSEV", "real:MOLDOVA_ROMANIA"}
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert np.isfinite(scores["rmse"]).all()
    assert (tmp_path / "table.md").read_text().startswith("# Multi-temporal S1/S2 LAI: SYNTHETIC")
