"""Metrics against hand-computed values, and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from leafjax.evaluation import bias, bootstrap_distribution, mae, nrmse, nrmse_mean, r2, rmse, score

Y = np.array([1.0, 2.0, 3.0, 4.0])
P = np.array([1.5, 2.0, 2.0, 5.0])  # errors 0.5, 0, -1, 1


def test_hand_computed():
    assert rmse(Y, P) == pytest.approx(0.75)  # sqrt((0.25 + 0 + 1 + 1) / 4)
    assert mae(Y, P) == pytest.approx(0.625)  # (0.5 + 0 + 1 + 1) / 4
    assert bias(Y, P) == pytest.approx(0.125)  # (0.5 + 0 - 1 + 1) / 4
    assert nrmse(Y, P) == pytest.approx(0.25)  # 0.75 / (4 - 1)
    assert nrmse_mean(Y, P) == pytest.approx(0.3)  # 0.75 / 2.5
    assert r2(Y, P) == pytest.approx(0.55)  # 1 - 2.25 / 5


def test_nan_pairs_dropped_and_shape_checked():
    assert rmse(np.append(Y, np.nan), np.append(P, 7.0)) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="shapes"):
        rmse(Y, P[:3])
    assert np.isnan(r2(np.ones(3), np.ones(3)))


def test_score_and_bootstrap_deterministic():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    p = y + rng.normal(0, 0.3, 200)
    s1 = score(y, p, n_boot=500, seed=3)
    s2 = score(y, p, n_boot=500, seed=3)
    assert s1 == s2 and s1["n"] == 200
    for m in ("rmse", "nrmse", "r2", "bias", "mae"):
        assert s1[f"{m}_lo"] <= s1[m] <= s1[f"{m}_hi"]
    assert 0.25 < s1["rmse_lo"] < 0.3 < s1["rmse_hi"] < 0.35
    assert score(y, p, n_boot=500, seed=4)["rmse_lo"] != s1["rmse_lo"]
    d = bootstrap_distribution(Y, P, n_boot=50, seed=0)
    assert d["rmse"].shape == (50,)
    assert "rmse_lo" not in score(Y, P, n_boot=0)
