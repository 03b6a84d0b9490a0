"""Interval calibration from k labelled rows: the split-conformal order statistic, finite-sample coverage over
many exchangeable draws (Gaussian and heavy-tailed errors), scale invariance, variance scaling, input checks."""

import numpy as np
import pytest

from leafjax.evaluation import (
    CALIBRATIONS,
    absolute_conformal_interval,
    calibrated_interval,
    conformal_quantile,
    conformal_rank,
    fit_variance_scaling,
    interval_coverage,
    normalised_conformal_interval,
    variance_scaled_interval,
)

LEVEL = 0.9


# --- the order statistic ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("k", "level", "rank"), [(9, 0.9, 9), (10, 0.9, 10), (19, 0.9, 18), (20, 0.9, 19),
                                                  (8, 0.9, 9), (19, 0.95, 19), (20, 0.5, 11), (1, 0.4, 1)])
def test_conformal_rank(k, level, rank):
    assert conformal_rank(k, level) == rank


def test_conformal_quantile_picks_the_exact_order_statistic():
    scores = np.arange(20.0, 0.0, -1.0)  # 20, 19, …, 1 (unsorted on purpose)
    assert conformal_quantile(scores, 0.9) == 19.0  # ⌈21·0.9⌉ = 19th smallest
    assert conformal_quantile(scores[:19], 0.9) == 19.0  # k = 19 scores 2…20: ⌈20·0.9⌉ = 18th smallest = 19
    assert conformal_quantile(np.arange(1.0, 10.0), 0.9) == 9.0  # k = 9: ⌈9⌉ = 9th = the largest
    assert conformal_quantile(np.arange(1.0, 9.0), 0.9) == np.inf  # k = 8: rank 9 > 8
    assert conformal_quantile(np.array([]), 0.9) == np.inf
    # NaN scores are dropped; +inf scores count and sort last
    assert conformal_quantile(np.r_[np.arange(1.0, 20.0), np.inf, np.nan], 0.9) == 19.0
    assert conformal_quantile(np.r_[np.arange(1.0, 19.0), np.inf, np.inf], 0.9) == np.inf


def test_absolute_interval_on_crafted_residuals():
    y = np.zeros(20)
    p = np.arange(1.0, 21.0) * np.where(np.arange(20) % 2, 1.0, -1.0)  # |residuals| = 1 … 20
    lo, hi = absolute_conformal_interval(y, p, np.array([0.0, 5.0]), 0.9)
    np.testing.assert_array_equal(lo, [-19.0, -14.0])
    np.testing.assert_array_equal(hi, [19.0, 24.0])
    lo, hi = absolute_conformal_interval(y[:8], p[:8], np.array([1.0]), 0.9)  # k too small: unbounded
    assert lo[0] == -np.inf and hi[0] == np.inf


def test_normalised_interval_on_crafted_scores():
    y = np.arange(1.0, 11.0)  # residuals 1 … 10, σ = 2 → scores 0.5 … 5
    lo, hi = normalised_conformal_interval(y, np.zeros(10), np.full(10, 2.0), np.array([0.0, 1.0]),
                                           np.array([1.0, 3.0]), 0.9)
    np.testing.assert_allclose(hi, [5.0, 16.0])  # ⌈11·0.9⌉ = 10th smallest score = 5
    np.testing.assert_allclose(lo, [-5.0, -14.0])


# --- finite-sample coverage over exchangeable draws -------------------------------------------------------------
def _draws(noise: str, rng, reps: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions and measurements of ``reps`` independent data sets of ``n`` rows, with per-row stated σ that
    is right only up to an unknown factor 0.2 (an over-confident method, as the inversion)."""
    sigma = rng.uniform(0.5, 3.0, (reps, n))
    if noise == "gaussian":
        e = rng.normal(size=(reps, n))
    elif noise == "student_t2":
        e = rng.standard_t(2.0, size=(reps, n))
    elif noise == "cauchy":
        e = rng.standard_cauchy(size=(reps, n))
    else:
        raise ValueError(noise)
    pred = rng.normal(10.0, 3.0, (reps, n))
    return pred, pred + sigma * e, 0.2 * sigma


@pytest.mark.parametrize("noise", ["gaussian", "student_t2", "cauchy"])
@pytest.mark.parametrize("k", [9, 20])
def test_conformal_coverage_at_least_level(noise, k):
    """Marginal coverage over 2000 draws of (k calibration rows, 40 test rows) is ≥ level and ≤ level + 1/(k+1)
    (the theoretical bounds for continuous scores), up to 4 standard errors of the mean over draws."""
    rng = np.random.default_rng([k, len(noise)])
    reps, n_test = 2000, 40
    pred, y, sd = _draws(noise, rng, reps, k + n_test)
    cov = {"abs": np.empty(reps), "norm": np.empty(reps)}
    for r in range(reps):
        c, t = slice(0, k), slice(k, None)
        lo, hi = absolute_conformal_interval(y[r, c], pred[r, c], pred[r, t], LEVEL)
        cov["abs"][r] = interval_coverage(y[r, t], lo, hi)
        lo, hi = normalised_conformal_interval(y[r, c], pred[r, c], sd[r, c], pred[r, t], sd[r, t], LEVEL)
        cov["norm"][r] = interval_coverage(y[r, t], lo, hi)
    expected = conformal_rank(k, LEVEL) / (k + 1)  # exact expectation with continuous, exchangeable scores
    for name, c in cov.items():
        se = c.std(ddof=1) / np.sqrt(reps)
        assert c.mean() >= LEVEL - 4 * se, (name, c.mean(), se)
        assert c.mean() <= LEVEL + 1 / (k + 1) + 4 * se, (name, c.mean(), se)
        assert abs(c.mean() - expected) <= 4 * se, (name, c.mean(), expected, se)


def test_uncorrected_quantile_would_fail_the_coverage_check():
    """The plain empirical 90 % quantile of k = 9 residuals under-covers: the check above has power."""
    rng = np.random.default_rng(7)
    reps, k, n_test = 2000, 9, 40
    pred, y, _ = _draws("gaussian", rng, reps, k + n_test)
    cov = np.empty(reps)
    for r in range(reps):
        q = np.quantile(np.abs(y[r, :k] - pred[r, :k]), LEVEL)
        cov[r] = interval_coverage(y[r, k:], pred[r, k:] - q, pred[r, k:] + q)
    se = cov.std(ddof=1) / np.sqrt(reps)
    assert cov.mean() < LEVEL - 4 * se


def test_normalised_conformal_adapts_width_to_stated_sigma():
    """With heteroscedastic errors and a correct σ ranking, studentised intervals cover both the noisy and the
    quiet rows at about the level, while absolute-residual intervals over-cover quiet rows and under-cover
    noisy ones (same average coverage)."""
    rng = np.random.default_rng(3)
    k, n = 500, 20000
    sigma = np.where(rng.random(k + n) < 0.5, 0.2, 2.0)
    pred = rng.normal(size=k + n)
    y = pred + sigma * rng.normal(size=k + n)
    loud = sigma[k:] > 1
    lo, hi = normalised_conformal_interval(y[:k], pred[:k], sigma[:k], pred[k:], sigma[k:], LEVEL)
    for rows in (loud, ~loud):
        assert abs(interval_coverage(y[k:][rows], lo[rows], hi[rows]) - LEVEL) < 0.03
    lo, hi = absolute_conformal_interval(y[:k], pred[:k], pred[k:], LEVEL)
    assert interval_coverage(y[k:][~loud], lo[~loud], hi[~loud]) > 0.99
    assert interval_coverage(y[k:][loud], lo[loud], hi[loud]) < 0.85


# --- scale invariance -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CALIBRATIONS)
def test_units_scale_the_intervals(name):
    """Changing the trait unit by a factor c (values ×c, variances ×c²) scales the bounds by c."""
    rng = np.random.default_rng(11)
    k, n = 30, 15
    p = rng.normal(5.0, 1.0, k + n)
    v = rng.uniform(0.1, 1.0, k + n)
    y = p + np.sqrt(v) * rng.normal(size=k + n) * 1.7
    lo, hi = calibrated_interval(name, y[:k], p[:k], v[:k], p[k:], v[k:], LEVEL)
    c = 1e-3  # e.g. mg/cm² → g/cm²
    lo_c, hi_c = calibrated_interval(name, c * y[:k], c * p[:k], c**2 * v[:k], c * p[k:], c**2 * v[k:], LEVEL)
    np.testing.assert_allclose(lo_c, c * lo, rtol=1e-6)
    np.testing.assert_allclose(hi_c, c * hi, rtol=1e-6)
    assert np.all(hi > lo)


@pytest.mark.parametrize("name", ["conformal_norm", "var_scaling"])
def test_stated_uncertainty_factor_cancels(name):
    """Multiplying every stated σ by a constant leaves the calibrated intervals unchanged."""
    rng = np.random.default_rng(12)
    k, n = 25, 10
    p = rng.normal(size=k + n)
    v = rng.uniform(0.5, 2.0, k + n)
    y = p + rng.normal(size=k + n)
    a = calibrated_interval(name, y[:k], p[:k], v[:k], p[k:], v[k:], LEVEL)
    b = calibrated_interval(name, y[:k], p[:k], 1e-4 * v[:k], p[k:], 1e-4 * v[k:], LEVEL)
    np.testing.assert_allclose(a, b, rtol=1e-9)


# --- variance scaling -------------------------------------------------------------------------------------------
def test_variance_scaling_is_the_mean_squared_standardised_residual():
    y, p, v = np.array([1.0, -2.0, 3.0]), np.zeros(3), np.array([1.0, 4.0, 9.0])
    fit = fit_variance_scaling(y, p, v)
    assert fit.scale == pytest.approx(1.0) and fit.additive == 0.0 and fit.k == 3
    fit = fit_variance_scaling(2 * y, p, v)
    assert fit.scale == pytest.approx(4.0)
    np.testing.assert_allclose(fit.variance([1.0, 2.0]), [4.0, 8.0])


def test_variance_scaling_recovers_scale_and_additive_term():
    rng = np.random.default_rng(5)
    n = 20000
    v = rng.uniform(0.1, 3.0, n)
    y = rng.normal(0.0, np.sqrt(2.0 * v + 0.5))
    fit = fit_variance_scaling(y, np.zeros(n), v, additive=True)
    assert fit.scale == pytest.approx(2.0, rel=0.1)
    assert fit.additive == pytest.approx(0.5, rel=0.2)
    # the additive term repairs a stated variance of zero
    fit0 = fit_variance_scaling(rng.normal(0.0, 1.0, 4000), np.zeros(4000), np.zeros(4000), additive=True)
    assert fit0.additive == pytest.approx(1.0, rel=0.1)


def test_variance_scaling_calibrates_gaussian_errors():
    rng = np.random.default_rng(6)
    k, n = 400, 20000
    v = rng.uniform(0.2, 2.0, k + n)
    p = rng.normal(size=k + n)
    y = p + 3.0 * np.sqrt(v) * rng.normal(size=k + n)  # stated σ 3× too small
    lo, hi = variance_scaled_interval(y[:k], p[:k], v[:k], p[k:], v[k:], LEVEL)
    assert abs(interval_coverage(y[k:], lo, hi) - LEVEL) < 0.03


# --- inputs ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5])
@pytest.mark.parametrize("name", CALIBRATIONS)
def test_level_outside_unit_interval_raises(level, name):
    x = np.ones(10)
    with pytest.raises(ValueError, match="level"):
        calibrated_interval(name, x, x, x, x, x, level)


def test_level_checked_by_quantile_and_rank():
    with pytest.raises(ValueError, match="level"):
        conformal_quantile(np.ones(10), 1.0)
    with pytest.raises(ValueError, match="level"):
        conformal_rank(10, 0.0)


@pytest.mark.parametrize("name", CALIBRATIONS)
def test_shape_mismatch_raises(name):
    x = np.ones(10)
    with pytest.raises(ValueError, match="shape"):
        calibrated_interval(name, x, np.ones(9), x, x, x, LEVEL)
    with pytest.raises(ValueError):
        calibrated_interval(name, x, x, x, np.ones(4), np.ones(5), LEVEL)
    with pytest.raises(ValueError, match="1-D"):
        calibrated_interval(name, x, x, x, np.ones((2, 2)), np.ones((2, 2)), LEVEL)


def test_offset_makes_zero_sigma_usable():
    """σ + β with β the offset: the same as stating σ + β with no offset; zero σ rows then get width 2qβ."""
    rng = np.random.default_rng(13)
    k, n = 20, 6
    p = rng.normal(size=k + n)
    sd = np.where(np.arange(k + n) % 3 == 0, 0.0, rng.uniform(0.5, 2.0, k + n))
    y = p + rng.normal(size=k + n)
    beta = 0.7
    a = normalised_conformal_interval(y[:k], p[:k], sd[:k], p[k:], sd[k:], LEVEL, offset=beta)
    b = normalised_conformal_interval(y[:k], p[:k], sd[:k] + beta, p[k:], sd[k:] + beta, LEVEL)
    np.testing.assert_allclose(a, b)
    for name in ("conformal_norm", "var_scaling", "var_scaling_add"):
        a = calibrated_interval(name, y[:k], p[:k], sd[:k] ** 2, p[k:], sd[k:] ** 2, LEVEL, std_offset=beta)
        b = calibrated_interval(name, y[:k], p[:k], (sd[:k] + beta) ** 2, p[k:], (sd[k:] + beta) ** 2, LEVEL)
        np.testing.assert_allclose(a, b, rtol=1e-6)
        assert np.all(a[1] > a[0])
    with pytest.raises(ValueError, match="offset"):
        normalised_conformal_interval(y[:k], p[:k], sd[:k], p[k:], sd[k:], LEVEL, offset=-1.0)


def test_non_positive_sigma_raises():
    x = np.ones(10)
    with pytest.raises(ValueError, match="> 0"):
        normalised_conformal_interval(x, x, np.r_[0.0, np.ones(9)], x, x, LEVEL)
    with pytest.raises(ValueError, match="> 0"):
        fit_variance_scaling(x, x, -x)
    with pytest.raises(ValueError, match=">= 0"):
        calibrated_interval("conformal_norm", x, x, -x, x, x, LEVEL)
    with pytest.raises(ValueError, match="negative"):
        conformal_quantile(np.array([1.0, -1.0]), LEVEL)


def test_nan_calibration_pairs_are_dropped_and_nan_predictions_propagate():
    y = np.arange(1.0, 21.0)
    p = np.zeros(20)
    y_nan = np.r_[y, np.nan, 100.0]
    p_nan = np.r_[p, 0.0, np.nan]
    lo, hi = absolute_conformal_interval(y_nan, p_nan, np.array([0.0, np.nan]), LEVEL)
    assert hi[0] == 19.0 and lo[0] == -19.0  # same as the 20 finite pairs
    assert np.isnan(lo[1]) and np.isnan(hi[1])
    lo, hi = normalised_conformal_interval(y_nan, p_nan, np.ones(22), np.zeros(2), np.array([1.0, np.nan]), LEVEL)
    assert hi[0] == 19.0 and np.isnan(hi[1])
    fit = fit_variance_scaling(y_nan, p_nan, np.ones(22))
    assert fit.k == 20 and fit.scale == pytest.approx(np.mean(y**2))
    with pytest.raises(ValueError, match="no finite"):
        fit_variance_scaling([np.nan], [1.0], [1.0])
    # too few finite pairs left: unbounded rather than a falsely narrow interval
    lo, hi = absolute_conformal_interval(np.r_[y[:8], np.nan, np.nan], np.zeros(10), np.zeros(1), LEVEL)
    assert hi[0] == np.inf


def test_unknown_calibration_name():
    x = np.ones(10)
    with pytest.raises(ValueError, match="unknown calibration"):
        calibrated_interval("isotonic", x, x, x, x, x, LEVEL)
