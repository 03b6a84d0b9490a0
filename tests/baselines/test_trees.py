"""Random Forest and LightGBM regressors (optional extras): fit, the tree analogue of fine-tuning (trees added
on new rows, pre-trained trees kept), prediction, determinism by seed and input errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from leafjax.baselines import TREE_MODELS, TreeModel, finetune_tree, fit_tree

pytest.importorskip("sklearn")
pytest.importorskip("lightgbm")

SMALL = {"rf": {"n_estimators": 30}, "lightgbm": {"n_estimators": 60}}


def _domain(n: int, seed: int, shift: float = 0.0):
    """``y = a·x + b·x₀² + noise`` (+ ``shift`` on the target domain)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    y = x @ np.array([1.0, -0.5, 0.3, 0.0, 0.2]) + 0.5 * x[:, 0] ** 2 + 0.05 * rng.normal(size=n) + shift
    return x, y


def _rmse(model: TreeModel, x, y) -> float:
    return float(np.sqrt(np.mean((model.predict(x) - y) ** 2)))


@pytest.mark.parametrize("kind", TREE_MODELS)
def test_fit_finetune_predict(kind):
    xs, ys = _domain(600, 0)
    xt, yt = _domain(80, 1, shift=1.5)
    xe, ye = _domain(300, 2, shift=1.5)
    model = fit_tree(kind, xs, ys, **SMALL[kind])
    assert model.kind == kind and model.n_features == 5 and model.stages == (SMALL[kind]["n_estimators"],)
    assert _rmse(model, *_domain(300, 3)) < 0.5  # learned the source relation
    before_pred = model.predict(xe)
    tuned = finetune_tree(model, xt, yt, n_extra=40)
    assert tuned.stages == (*model.stages, 40) and tuned.n_trees == model.n_trees + 40
    # the pre-trained model is unchanged (RF sums its trees on 2 threads in any order: rounding only)
    np.testing.assert_allclose(model.predict(xe), before_pred, rtol=1e-12, atol=1e-12)
    assert _rmse(tuned, xe, ye) < 0.8 * _rmse(model, xe, ye)  # moved towards the shifted domain
    assert model.predict(xe).shape == (300,) and model.predict(xe).dtype == np.float64


def test_random_forest_keeps_the_pretrained_trees():
    xs, ys = _domain(300, 0)
    model = fit_tree("rf", xs, ys, n_estimators=10)
    tuned = finetune_tree(model, *_domain(40, 1, shift=1.0), n_extra=5)
    assert len(tuned.estimator.estimators_) == 15
    for old, kept in zip(model.estimator.estimators_, tuned.estimator.estimators_[:10]):
        np.testing.assert_array_equal(old.predict(xs), kept.predict(xs))


def test_lightgbm_continues_boosting_from_the_pretrained_booster():
    xs, ys = _domain(300, 0)
    model = fit_tree("lightgbm", xs, ys, n_estimators=20)
    tuned = finetune_tree(model, *_domain(40, 1, shift=1.0), n_extra=7, min_child_samples=5)
    assert tuned.estimator.booster_.current_iteration() == 27
    # the first 20 rounds are the pre-trained booster's
    np.testing.assert_allclose(tuned.estimator.booster_.predict(xs, num_iteration=20), model.predict(xs),
                               rtol=1e-10)


@pytest.mark.parametrize("kind", TREE_MODELS)
def test_deterministic_by_seed(kind):
    x, y = _domain(200, 0)
    a, b = (fit_tree(kind, x, y, seed=3, **SMALL[kind]) for _ in range(2))
    c = fit_tree(kind, x, y, seed=4, **SMALL[kind])
    same = dict(rtol=1e-12, atol=1e-12)  # equal trees; RF sums them on 2 threads in any order
    np.testing.assert_allclose(a.predict(x), b.predict(x), **same)
    assert not np.allclose(a.predict(x), c.predict(x), **same)
    xt, yt = _domain(30, 1, shift=1.0)
    np.testing.assert_allclose(finetune_tree(a, xt, yt, n_extra=5).predict(x),
                               finetune_tree(b, xt, yt, n_extra=5).predict(x), **same)


def test_few_target_rows_random_forest():
    model = fit_tree("rf", *_domain(200, 0), n_estimators=5)  # max_samples=0.5 of 3 rows would be < 2
    tuned = finetune_tree(model, *_domain(3, 1), n_extra=2)
    assert tuned.n_trees == 7


def test_errors():
    x, y = _domain(50, 0)
    with pytest.raises(ValueError, match="unknown tree model"):
        fit_tree("xgboost", x, y)
    with pytest.raises(ValueError, match="same n"):
        fit_tree("rf", x, y[:10])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_tree("rf", bad, y)
    model = fit_tree("rf", x, y, n_estimators=3)
    with pytest.raises(ValueError, match="columns"):
        finetune_tree(model, x[:, :3], y)
    with pytest.raises(ValueError, match=r"\(n, 5\)"):
        model.predict(x[:, :4])
    with pytest.raises(ValueError, match="n_extra"):
        finetune_tree(model, x, y, n_extra=0)


def test_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import lightgbm now raises ImportError
    x, y = _domain(20, 0)
    with pytest.raises(ImportError, match=r"leafjax\[lst\]"):
        fit_tree("lightgbm", x, y)
