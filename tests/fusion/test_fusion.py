"""Fusion: each algorithm on crafted predictions with known optimal weights, simplex weights, the BMA
variance formula, and interval coverage."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.evaluation import gaussian_coverage, gaussian_interval, interval_coverage
from leafjax.fusion import FUSERS, BMAFuser, InverseVarianceFuser, MeanFuser, StackingFuser, make_fuser


def _independent(n=400, m=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(10.0, 2.0, (n, m))


def test_mean_fuser_is_the_average():
    preds = _independent(50, 4)
    y = preds.mean(axis=1) + 0.1
    f = MeanFuser()
    w = f.fit(preds, y)
    np.testing.assert_allclose(w["w"], 0.25)
    mean, var = f.predict(w, preds)
    np.testing.assert_allclose(mean, preds.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(var, 0.01, rtol=1e-9)  # constant residual of 0.1


def test_ivw_recovers_inverse_variance_weights():
    rng = np.random.default_rng(1)
    n, sig = 20000, np.array([0.5, 1.0, 2.0])
    y = rng.normal(5.0, 1.0, n)
    preds = y[:, None] + rng.normal(0.0, 1.0, (n, 3)) * sig[None, :]
    f = InverseVarianceFuser()
    w = f.fit(preds, y)
    expect = (1 / sig**2) / np.sum(1 / sig**2)
    np.testing.assert_allclose(w["w"], expect, atol=0.01)
    np.testing.assert_allclose(w["sigma2_models"], sig**2, rtol=0.05)
    # stated per-sample variances: the textbook formula, sample by sample
    v = np.array([[1.0, 4.0, 4.0], [4.0, 1.0, 1.0]])
    p = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    mean, var = f.predict(w, p, v)
    np.testing.assert_allclose(mean, [(1 + 0.5 + 0.75) / 1.5, (0.25 + 2 + 3) / 2.25], rtol=1e-12)
    np.testing.assert_allclose(var, [1 / 1.5, 1 / 2.25], rtol=1e-12)


def test_stacking_recovers_known_simplex_weights():
    preds = _independent(300, 3, seed=2)
    true_w = np.array([0.2, 0.5, 0.3])
    y = preds @ true_w
    f = StackingFuser()
    w = f.fit(preds, y)
    np.testing.assert_allclose(w["w"], true_w, atol=1e-2)
    assert float(w["sigma2"]) < 1e-3


def test_stacking_puts_all_weight_on_an_exact_method():
    preds = _independent(200, 3, seed=3)
    w = StackingFuser().fit(preds, preds[:, 1])
    assert float(w["w"][1]) > 0.97


def test_bma_recovers_mixture_weights_and_variances():
    rng = np.random.default_rng(4)
    n = 4000
    preds = rng.normal(0.0, 3.0, (n, 2))
    true_w, true_s = np.array([0.7, 0.3]), np.array([0.5, 2.0])
    which = rng.random(n) < true_w[1]
    y = np.where(which, preds[:, 1] + true_s[1] * rng.normal(size=n), preds[:, 0] + true_s[0] * rng.normal(size=n))
    w = BMAFuser().fit(preds, y)
    np.testing.assert_allclose(w["w"], true_w, atol=0.04)
    np.testing.assert_allclose(np.sqrt(w["sigma2_models"]), true_s, rtol=0.1)


def test_bma_variance_formula():
    f = BMAFuser()
    weights = {"w": jnp.array([0.2, 0.3, 0.5]), "sigma2_models": jnp.array([1.0, 0.5, 2.0])}
    preds = jnp.array([[1.0, 2.0, 4.0], [0.0, 0.0, 0.0]])
    mean, var = f.predict(weights, preds)
    w, s2 = np.asarray(weights["w"]), np.asarray(weights["sigma2_models"])
    mu = np.asarray(preds)
    expect_mean = mu @ w
    expect_var = (s2[None] + mu**2) @ w - expect_mean**2
    np.testing.assert_allclose(mean, expect_mean, rtol=1e-12)
    np.testing.assert_allclose(var, expect_var, rtol=1e-12)
    # law of total variance: within + between
    np.testing.assert_allclose(var, s2 @ w + ((mu - expect_mean[:, None]) ** 2) @ w, rtol=1e-12)
    np.testing.assert_allclose(var[1], s2 @ w, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FUSERS))
def test_weights_on_the_simplex_and_shapes(name):
    rng = np.random.default_rng(5)
    preds = rng.normal(size=(20, 4))
    y = preds[:, 0] + 0.3 * rng.normal(size=20)
    f = make_fuser(name)
    w = f.fit(preds, y)
    assert w["w"].shape == (4,)
    assert np.all(np.asarray(w["w"]) >= 0) and abs(float(jnp.sum(w["w"])) - 1) < 1e-9
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(w))
    mean, var = f.predict(w, preds[:7])
    assert mean.shape == var.shape == (7,) and np.all(np.asarray(var) >= 0)
    with pytest.raises(ValueError):
        f.fit(preds[:, 0], y)
    with pytest.raises(ValueError):
        f.fit(preds, y[:-1])


def test_unknown_fuser():
    with pytest.raises(ValueError, match="unknown fuser"):
        make_fuser("median")


def test_gaussian_coverage_is_calibrated_for_gaussian_errors():
    rng = np.random.default_rng(6)
    mean = rng.normal(size=20000)
    sd = rng.uniform(0.5, 2.0, 20000)
    y = mean + sd * rng.normal(size=20000)
    assert abs(gaussian_coverage(y, mean, sd**2, 0.9) - 0.9) < 0.01
    assert gaussian_coverage(y, mean, (sd / 3) ** 2, 0.9) < 0.5  # over-confident
    lo, hi = gaussian_interval(np.zeros(1), np.ones(1), 0.9)
    np.testing.assert_allclose(hi, 1.6448536, rtol=1e-6)
    assert interval_coverage([0.0, 2.0, np.nan], [-1, -1, -1], [1, 1, 1]) == 0.5
    with pytest.raises(ValueError):
        gaussian_interval(np.zeros(1), np.ones(1), 1.5)
