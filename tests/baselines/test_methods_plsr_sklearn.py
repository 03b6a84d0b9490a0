"""PLSR (improved kernel PLS1) against scikit-learn's ``PLSRegression`` (NIPALS) on real leaf spectra from the
embedded demo dataset: same predictions and coefficients for fixed component counts, and the same inner
cross-validation errors for the same folds."""

from __future__ import annotations

import numpy as np
import pytest

from leafjax.baselines import PLSRSourceOnly, fit_plsr
from leafjax.data import load_demo

cross_decomposition = pytest.importorskip("sklearn.cross_decomposition")
model_selection = pytest.importorskip("sklearn.model_selection")

TRAITS = ("lma", "ewt", "nitrogen")


def _xy(trait: str):
    ds = load_demo()
    y = ds.trait(trait)
    ok = np.isfinite(y)
    x = ds.spectra()[ok]
    assert np.isfinite(x).all() and x.shape[1] == 401  # 400–2400 nm every 5 nm, reflectance
    return x, y[ok]


@pytest.mark.parametrize("trait", TRAITS)
@pytest.mark.parametrize("scale", [True, False])
def test_predictions_and_coefficients_match_sklearn(trait, scale):
    x, y = _xy(trait)
    train = np.arange(len(y)) % 4 != 0  # every fourth leaf held out
    for a in (1, 2, 3, 5, 10, 15):
        ours = fit_plsr(x[train], y[train], n_components=a, scale=scale)
        ref = cross_decomposition.PLSRegression(n_components=a, scale=scale).fit(x[train], y[train])
        assert ours.n_components == a
        np.testing.assert_allclose(ours.predict(x[~train]), ref.predict(x[~train]).reshape(-1), rtol=1e-8,
                                   atol=1e-10 * np.std(y))
        coef = ours.coef / ours.x_scale  # per unit of reflectance, like sklearn's coef_
        ref_coef = np.asarray(ref.coef_).reshape(-1)
        np.testing.assert_allclose(coef, ref_coef, rtol=0, atol=1e-8 * np.abs(ref_coef).max())


def test_inner_cross_validation_matches_sklearn_with_the_same_folds():
    x, y = _xy("lma")
    n, folds, a_max = len(y), 5, 8
    model = fit_plsr(x, y, max_components=a_max, folds=folds, seed=0)
    ids = np.random.default_rng(0).permutation(np.arange(n) % folds)  # fit_plsr's fold assignment
    cv = model_selection.PredefinedSplit(ids)
    ref = np.array([np.sqrt(np.mean((model_selection.cross_val_predict(
        cross_decomposition.PLSRegression(n_components=a), x, y, cv=cv).reshape(-1) - y) ** 2))
        for a in range(1, a_max + 1)])
    np.testing.assert_allclose(model.cv_rmse, ref, rtol=1e-8)
    assert model.n_components == int(np.argmin(ref)) + 1


def test_plsr_method_uses_the_same_model():
    ds = load_demo()
    names = ds.meta["dataset"].to_numpy()
    train, test = ds.subset(names == ds.dataset_names()[0]), ds.subset(names == ds.dataset_names()[1])
    ok = np.isfinite(train.trait("lma"))
    method = PLSRSourceOnly(max_components=6)
    fitted = method.fit(train, "lma")
    ref = cross_decomposition.PLSRegression(n_components=fitted.n_components).fit(
        train.spectra()[ok], train.trait("lma")[ok])
    np.testing.assert_allclose(method.predict(fitted, test), ref.predict(test.spectra()).reshape(-1), rtol=1e-8)
