"""The generic runner with a toy method, summaries and reports."""

from __future__ import annotations

import numpy as np
import pytest

from leafjax.data import SpectralDataset, concat
from leafjax.evaluation import (
    AbstractTraitMethod,
    overview,
    plot_predicted_vs_measured,
    run_evaluation,
    summarise,
    write_tables,
)


class Recorder(AbstractTraitMethod):
    """Predicts the target-sample mean and records what it was given."""

    name = "recorder"
    uses_train = True

    def __init__(self):
        self.calls = []

    def fit(self, train, trait, target_sample=None):
        self.calls.append((set(train.meta["sample_id"]), None if target_sample is None else
                           set(target_sample.meta["sample_id"]), train.wavelengths.size))
        src = target_sample if target_sample is not None else train
        seen = set(train.meta["sample_id"]) | (set() if target_sample is None else set(target_sample.meta["sample_id"]))
        return float(np.mean(src.trait(trait))), seen

    def predict(self, fitted, test):
        mean, seen = fitted
        test_ids = set(test.meta["sample_id"])
        assert not (seen & test_ids), "a test sample leaked into training"
        self.n_predict = getattr(self, "n_predict", 0) + 1
        return np.full(len(test), mean)


class SourceOnly(Recorder):
    name = "source"
    uses_target_sample = False


def pooled():
    rng = np.random.default_rng(0)
    parts = []
    for name, n in [("a", 25), ("b", 40), ("c", 30)]:
        r = rng.uniform(0.1, 0.5, (n, 3))
        if name == "a":
            r[:, 0] = np.nan  # dataset "a" lacks the first band
        parts.append(SpectralDataset.from_arrays(np.array([450.0, 600.0, 800.0]), r, dataset=name,
                                                 lma=rng.uniform(0.005, 0.02, n)))
    return concat(parts)


def test_runner_no_leak_and_band_harmonisation():
    ds = pooled()
    rec, src = Recorder(), SourceOnly()
    preds = run_evaluation(ds, [rec, src], ["lma"], ks=(5, 10), seeds=(0, 1))
    # held-out test rows never appear in the training or target sets of their split
    for key, g in preds.groupby(["held_out", "k", "seed", "method"]):
        assert set(g["held_out"]) == {key[0]}
        assert all(i.startswith(key[0] + "_") for i in g["sample_id"])
    assert set(preds["k"]) == {0, 5, 10}
    assert sorted(pd_unique(preds["held_out"])) == ["a", "b", "c"]
    # band harmonisation: any split involving "a" uses only the 2 shared bands
    assert {c[2] for c in rec.calls} == {2}
    # source-only method fitted once per held-out dataset and reused across k and seeds
    assert len(src.calls) == 3
    # every prediction call checked that no test sample was in its training/target data
    assert rec.n_predict == len(rec.calls) == 3 + 3 * 2 * 2  # 3 LODO + 3 datasets x 2 k x 2 seeds
    g = preds[(preds["method"] == "recorder") & (preds["k"] == 5) & (preds["seed"] == 0) & (preds["held_out"] == "b")]
    assert g["predicted"].nunique() == 1
    assert np.isfinite(preds["predicted"]).all()
    np.testing.assert_allclose(preds["measured"], ds.trait("lma")[preds["row"]])


def pd_unique(s):
    return list(dict.fromkeys(s))


def test_summary_overview_and_reports(tmp_path):
    ds = pooled()
    preds = run_evaluation(ds, [Recorder(), SourceOnly()], ["lma"], ks=(5,), seeds=(0, 1, 2))
    summ = summarise(preds, n_boot=200, seed=0)
    row = summ[(summ["held_out"] == "b") & (summ["k"] == 5) & (summ["method"] == "recorder")].iloc[0]
    assert row["n_seeds"] == 3 and row["n_test"] == 35
    assert row["rmse_lo"] <= row["rmse"] <= row["rmse_hi"]
    over = overview(summ)
    assert set(over["method"]) == {"recorder", "source"} and (over["n_datasets"] == 3).all()
    paths = write_tables({"overview": over}, tmp_path)
    md = (tmp_path / "overview.md").read_text()
    assert md.startswith("| trait | k | method |") and len(paths) == 2
    png = plot_predicted_vs_measured(preds, "lma", 5, tmp_path / "fig" / "lma_k5.png")
    assert png.stat().st_size > 1000
    with pytest.raises(ValueError, match="no predictions"):
        plot_predicted_vs_measured(preds, "ewt", 5, tmp_path / "x.png")


def test_runner_rejects_duplicate_names():
    with pytest.raises(ValueError, match="distinct"):
        run_evaluation(pooled(), [Recorder(), Recorder()], ["lma"])
