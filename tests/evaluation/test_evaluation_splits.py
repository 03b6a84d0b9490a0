"""Split logic: every dataset held out once, no target/test leakage, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from leafjax.data import SpectralDataset, concat
from leafjax.evaluation import Split, k_target_splits, lodo_splits


def pooled():
    parts = []
    for i, (name, n) in enumerate([("a", 30), ("b", 70), ("c", 12), ("d", 5)]):
        lma = np.linspace(0.005, 0.02, n)
        if name == "b":
            lma[::7] = np.nan  # some unmeasured
        parts.append(SpectralDataset.from_arrays(np.array([500.0, 600.0]), np.full((n, 2), 0.1 * (i + 1)),
                                                 dataset=name, lma=lma))
    return concat(parts)


def test_lodo_each_dataset_once_and_disjoint():
    ds = pooled()
    names = ds.meta["dataset"].to_numpy()
    splits = list(lodo_splits(ds, "lma", min_test=10))
    assert [s.held_out for s in splits] == ["a", "b", "c"]  # d has only 5 rows
    for s in splits:
        assert (names[s.test] == s.held_out).all() and not (names[s.train] == s.held_out).any()
        assert np.isfinite(ds.trait("lma")[np.concatenate([s.train, s.test])]).all()
        assert s.k == 0 and s.target.size == 0
    b = splits[1]
    assert b.test.size == 60 and b.train.size == 30 + 12 + 5


def test_k_splits_no_leak_and_deterministic():
    ds = pooled()
    names = ds.meta["dataset"].to_numpy()
    splits = list(k_target_splits(ds, "lma", ks=(5, 10, 20, 50), seeds=(0, 1, 2), min_test=10))
    # a (30): k=5,10,20; b (60 labelled): k=5,10,20,50; c (12): none (12-5 < 10)
    got = sorted({(s.held_out, s.k) for s in splits})
    assert got == [("a", 5), ("a", 10), ("a", 20), ("b", 5), ("b", 10), ("b", 20), ("b", 50)]
    for s in splits:
        assert s.target.size == s.k
        assert np.intersect1d(s.target, s.test).size == 0 and np.intersect1d(s.train, s.test).size == 0
        assert (names[s.target] == s.held_out).all() and (names[s.test] == s.held_out).all()
        assert not (names[s.train] == s.held_out).any()
        lodo = next(x for x in lodo_splits(ds, "lma") if x.held_out == s.held_out)
        np.testing.assert_array_equal(np.sort(np.concatenate([s.target, s.test])), lodo.test)
    again = list(k_target_splits(ds, "lma", ks=(5, 10, 20, 50), seeds=(0, 1, 2), min_test=10))
    assert all(np.array_equal(x.target, y.target) for x, y in zip(splits, again))
    t = [s.target for s in splits if s.held_out == "b" and s.k == 10]
    assert not np.array_equal(t[0], t[1])  # seeds differ


def test_split_rejects_leak():
    with pytest.raises(ValueError, match="leak"):
        Split("a", "lma", 1, 0, np.array([1, 2]), np.array([3]), np.array([3, 4]))
