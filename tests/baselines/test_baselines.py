"""PLSR and the baseline methods."""

from __future__ import annotations

import numpy as np
import pytest

from leafjax.baselines import (
    PLSRCombined,
    PLSRSourceOnly,
    PLSRTargetOnly,
    TraitMean,
    default_baselines,
    fit_plsr,
    pls1_coefficients,
)
from leafjax.data import SpectralDataset
from leafjax.evaluation import AbstractTraitMethod, rmse


def latent_data(n, p=60, rank=3, noise=0.01, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(n, rank))
    loadings = np.random.default_rng(100).normal(size=(rank, p))  # one spectra-trait relation for all seeds
    x = scores @ loadings + noise * rng.normal(size=(n, p)) + offset
    y = scores @ np.array([1.0, -0.5, 0.25][:rank]) + noise * rng.normal(size=n)
    return x, y


def test_full_rank_pls_equals_least_squares():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 8))
    y = x @ rng.normal(size=8) + 0.1 * rng.normal(size=40)
    xc, yc = x - x.mean(0), y - y.mean()
    coefs = pls1_coefficients(xc, yc, 8)
    np.testing.assert_allclose(coefs[-1], np.linalg.lstsq(xc, yc, rcond=None)[0], atol=1e-10)
    # one component: coefficient proportional to X^T y
    c1 = coefs[0]
    np.testing.assert_allclose(c1 / np.linalg.norm(c1), xc.T @ yc / np.linalg.norm(xc.T @ yc), atol=1e-12)


def test_cv_picks_latent_rank_and_predicts():
    x, y = latent_data(150)
    model = fit_plsr(x, y, max_components=10)
    assert 3 <= model.n_components <= 6
    assert model.cv_rmse.shape == (10,) and model.cv_rmse[2] < 0.2 * model.cv_rmse[0]
    xt, yt = latent_data(50, seed=7)
    assert rmse(yt, model.predict(xt)) < 0.05
    assert fit_plsr(x, y, max_components=10, seed=0).n_components == model.n_components  # deterministic
    assert fit_plsr(x, y, n_components=2).n_components == 2


def test_standardisation_from_training_only():
    x, y = latent_data(80, p=20)
    m = fit_plsr(x, y, n_components=3)
    np.testing.assert_allclose(m.x_mean, x.mean(0))
    np.testing.assert_allclose(m.x_scale, x.std(0, ddof=1))
    shifted = x + 100.0
    # a shifted test set is not re-standardised by its own statistics: predictions change
    assert not np.allclose(m.predict(shifted), m.predict(x))


def test_plsr_small_sample_and_errors():
    x, y = latent_data(5)
    m = fit_plsr(x, y)  # k = 5: leave-one-out CV, at most 3 components
    assert 1 <= m.n_components <= 3
    with pytest.raises(ValueError, match="NaN"):
        fit_plsr(np.where(np.eye(5, 60) > 0, np.nan, x), y)
    with pytest.raises(ValueError, match="at least 3"):
        fit_plsr(x[:2], y[:2])
    with pytest.raises(ValueError, match="features have shape"):
        m.predict(x[:, :10])


def _ds(x, y, name):
    return SpectralDataset.from_arrays(np.arange(x.shape[1], dtype=float) + 400, x, dataset=name, lma=y)


def test_three_ways_and_mean():
    xs, ys = latent_data(200, seed=0)
    xt, yt = latent_data(60, seed=1)
    # target domain: same spectra-trait relation plus an additive offset in the trait
    yt = yt + 2.0
    source, target, test = _ds(xs, ys, "s"), _ds(xt[:20], yt[:20], "t"), _ds(xt[20:], yt[20:], "t")
    methods = default_baselines()
    assert all(isinstance(m, AbstractTraitMethod) for m in methods)
    assert [m.name for m in methods] == ["plsr_target", "plsr_source", "plsr_combined", "mean"]
    err = {m.name: rmse(test.trait("lma"), m.predict(m.fit(source, "lma", target), test)) for m in methods}
    assert err["plsr_source"] > 1.5  # misses the offset
    assert err["plsr_target"] < 0.5  # learns it from 20 samples
    assert err["mean"] == pytest.approx(np.sqrt(np.mean((yt[20:] - yt[:20].mean()) ** 2)))
    assert TraitMean().fit(source, "lma", None) == pytest.approx(ys.mean())
    with pytest.raises(ValueError, match="target sample"):
        PLSRTargetOnly().fit(source, "lma", None)
    with pytest.raises(ValueError, match="target sample"):
        PLSRCombined().fit(source, "lma", None)
    # the combined model sees the target rows (weighting them more moves predictions toward the offset)
    m1 = PLSRCombined(max_components=8)
    m5 = PLSRCombined(max_components=8, target_weight=10)
    e1 = rmse(test.trait("lma"), m1.predict(m1.fit(source, "lma", target), test))
    e5 = rmse(test.trait("lma"), m5.predict(m5.fit(source, "lma", target), test))
    assert e5 < e1
    assert PLSRSourceOnly.uses_target_sample is False and PLSRTargetOnly.requires_target_sample
