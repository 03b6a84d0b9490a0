"""Model selection: meta-features without labels, the recommender, and nested LODO that never lets the
held-out dataset's labels reach the recommendation."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from leafjax.baselines import PLSRSourceOnly, TraitMean
from leafjax.data._dataset import concat, SpectralDataset
from leafjax.evaluation import AbstractTraitMethod
from leafjax.selection import (
    NearestNeighbourRecommender,
    dataset_meta_features,
    inner_performance_by_evaluation,
    leave_out_rows,
    meta_features,
    nested_lodo_selection,
    performance_table,
    selection_summary,
)

WL = np.arange(400.0, 2401.0, 100.0)


def _dataset(name, nir, n=14, seed=0, instrument="ASD FieldSpec 4"):
    rng = np.random.default_rng(seed)
    base = np.where(WL < 700, 0.08, np.where(WL < 1400, nir, 0.3))
    lma = rng.uniform(0.004, 0.012, n)
    r = base[None, :] + 0.5 * (lma[:, None] - 0.008) * (WL[None, :] > 1400) + 0.002 * rng.normal(size=(n, WL.size))
    meta = pd.DataFrame({"instrument": [instrument] * n})
    return SpectralDataset.from_arrays(WL, r, dataset=name, meta=meta, lma=lma)


def _pool():
    return concat([_dataset(f"d{i}", 0.45 + 0.02 * i, seed=i, instrument="ASD" if i % 2 else "SVC HR-1024i")
                   for i in range(5)])


def test_meta_features_ignore_labels():
    ds = _pool()
    one, rest = ds.where_dataset("d1"), ds.where_dataset(["d0", "d2"])
    f = meta_features(one, rest)
    scrambled = one.replace(traits=one.traits.assign(lma=np.random.default_rng(9).permutation(one.traits["lma"])
                                                      * 100))
    pd.testing.assert_series_equal(pd.Series(meta_features(scrambled, rest)), pd.Series(f))
    assert f["instrument_asd"] == 1.0 and f["instrument_svc"] == 0.0
    assert np.isfinite(f["source_distance"]) and f["log_n"] == pytest.approx(np.log(14))
    table = dataset_meta_features(ds)
    assert list(table.index) == ds.dataset_names() and table.notna().all().all()


def test_recommender_on_clustered_datasets():
    feats = pd.DataFrame({"a": [0.0, 0.1, 0.2, 5.0, 5.1, 5.2]}, index=list("uvwxyz"))
    perf = pd.DataFrame({"m1": [1.0, 1.0, 1.0, 3.0, 3.0, 3.0], "m2": [2.0, 2.0, 2.0, 1.0, 1.0, 1.0]},
                        index=list("uvwxyz"))
    rec = NearestNeighbourRecommender(n_neighbours=2)
    result = nested_lodo_selection(feats, perf, leave_out_rows(perf), recommender=rec)
    assert result["correct"].all() and (result["regret"] == 0).all()
    s = selection_summary(result)
    assert s["accuracy"] == 1.0 and s["n"] == 6


def test_nested_rejects_inner_table_with_held_out():
    feats = pd.DataFrame({"a": [0.0, 1.0, 2.0]}, index=list("uvw"))
    perf = pd.DataFrame({"m1": [1.0, 2.0, 3.0], "m2": [2.0, 1.0, 1.0]}, index=list("uvw"))
    with pytest.raises(ValueError, match="held-out"):
        nested_lodo_selection(feats, perf, lambda held_out: perf)


@dataclasses.dataclass(frozen=True)
class _Spy(AbstractTraitMethod):
    """TraitMean that records which datasets' labels it was fitted on."""

    seen: list = dataclasses.field(default_factory=list)
    name: str = "spy"

    def fit(self, train, trait, target_sample=None):
        for part in (train, target_sample):
            if part is not None and len(part):
                self.seen.extend(part.meta["dataset"][np.isfinite(part.trait(trait))].unique())
        return float(np.nanmean(train.trait(trait)))

    def predict(self, fitted, test):
        return np.full(len(test), fitted)


def test_selection_never_sees_held_out_labels():
    ds = _pool()
    feats = dataset_meta_features(ds)
    spy = _Spy()
    methods = [spy, TraitMean(), PLSRSourceOnly(max_components=3)]
    inner_calls = []
    base_inner = inner_performance_by_evaluation(ds, methods, "lma", min_test=5)

    def inner(held_out):
        spy.seen.clear()
        table = base_inner(held_out)
        inner_calls.append((held_out, set(spy.seen)))
        return table

    from leafjax.evaluation import run_evaluation, summarise

    outer = performance_table(summarise(run_evaluation(ds, methods, ["lma"], ks=[], min_test=5), n_boot=0), "lma", 0)
    result = nested_lodo_selection(feats, outer, inner)
    assert len(result) == 5
    for held_out, seen in inner_calls:
        assert held_out not in seen and seen  # the inner evaluation fitted on other datasets only

    # Scramble the held-out dataset's labels: its recommendation must not change (only its score may).
    lma = ds.traits["lma"].to_numpy().copy()
    is_d2 = (ds.meta["dataset"] == "d2").to_numpy()
    lma[is_d2] = np.random.default_rng(3).uniform(0.0, 1.0, is_d2.sum())
    ds2 = ds.replace(traits=ds.traits.assign(lma=lma))
    feats2 = dataset_meta_features(ds2)
    pd.testing.assert_frame_equal(feats2, feats)
    rec2 = nested_lodo_selection(feats2, outer, inner_performance_by_evaluation(ds2, methods, "lma", min_test=5))
    assert rec2.set_index("held_out").loc["d2", "recommended"] == result.set_index("held_out").loc["d2",
                                                                                                "recommended"]
