"""Reduced run of the SYNTHETIC cross-site LST experiment (``experiments/lst_transfer``): one network, two
fine-tuning methods, LightGBM, two seeds, a small simulation; checks that the table is complete and sane."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

# An experiment driver (a reduced run still takes about two minutes on 2 cores): run with `pytest -m slow`.
pytestmark = pytest.mark.slow

pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def reduced_run(shared_data, tmp_path_factory):
    from experiments.lst_transfer.run import main

    out = tmp_path_factory.mktemp("lst_transfer")
    main(["--quick", "--data", str(shared_data / "thermal"), "--out", str(out), "--networks", "dnn",
          "--finetune", "full,gradual", "--trees", "lightgbm", "--n-pretrain", "4000", "--n-boot", "50"])
    return out


def test_table_is_complete_and_finite(reduced_run):
    scores = pd.read_csv(reduced_run / "scores.csv")
    methods = set(scores["method"])
    expected = {"sw_gsw", "sw_gsw_wv", "sw_four_channel", "lm_inversion", "dnn_pretrained", "dnn_full",
                "dnn_gradual", "dnn_direct", "lightgbm_finetune", "lightgbm_direct",
                "dnn_full_no_interaction", "dnn_direct_no_interaction"}
    assert expected <= methods, expected - methods
    assert set(scores["direction"]) == {"A->B", "B->A"} and set(scores["against"]) == {"insitu", "true"}
    for d, n_sites in (("A->B", 15), ("B->A", 3)):
        s = scores[scores["direction"] == d]
        assert (s["n_sites"] == n_sites).all()
        assert (s["n_seeds"] == 2).all()
    learned = scores[scores["family"] != "physical"]  # the quick run inverts a subset only
    assert np.isfinite(learned[["rmse", "rmse_lo", "rmse_hi", "bias"]].to_numpy()).all()
    assert (learned["n_nonfinite"] == 0).all()
    assert (scores["rmse_lo"] <= scores["rmse"] + 1e-9).all() and (scores["rmse"] <= scores["rmse_hi"] + 1e-9).all()
    table = (reduced_run / "table.md").read_text()
    assert "SYNTHETIC" in table and "sw_gsw" in table and "dnn_gradual" in table


def test_split_window_and_diagnostics_are_sane(reduced_run):
    res = json.loads((reduced_run / "results.json").read_text())
    assert res["synthetic"] is True
    assert res["error_budget"]["values"]["nedt_k"] == pytest.approx(0.2)
    sw = res["diagnostics"]["split_window"]["gsw"]
    # SW fitted on the simulation, applied to noise-free truth-generated site samples: a few tenths of a kelvin
    # to ~2 K (band-model error, view and emissivity effects), never tens of kelvin.
    assert 0.05 < sw["truth_samples_rmse_k"] < 2.5
    bm = res["diagnostics"]["band_model_vs_truth"]["rmse_k"]
    assert all(0.0 <= v < 1.5 for v in bm.values())
    shift = res["diagnostics"]["band_shift_sensitivity"]["plus"]["max_abs_k"]
    assert all(np.isfinite(v) for v in shift.values())
    assert len(res["sites"]) == 18 and sum(s["region"] == "A" for s in res["sites"]) == 3
    runtime = json.loads((reduced_run / "runtime.json").read_text())["seconds"]
    assert {"simulate", "band_model", "split_window_fit", "total"} <= set(runtime)
    assert (reduced_run / "rmse_insitu.png").stat().st_size > 1000
