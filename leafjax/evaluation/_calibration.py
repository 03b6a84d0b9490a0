r"""Calibration of prediction intervals from ``k`` labelled rows of the target dataset.

A method's stated uncertainty (e.g. the Laplace posterior of an inversion, a fuser's predictive variance) is
often wrong on a new dataset.  Given ``k`` labelled target rows that the method did **not** use for its
point prediction (or whose predictions are out-of-fold, see :func:`~leafjax.evaluation.cross_fit`), these
functions turn any point prediction into intervals with a stated coverage:

- :func:`absolute_conformal_interval`: split-conformal :math:`\hat y \pm q`, with :math:`q` the
  :math:`\lceil (k+1)\,\text{level} \rceil`-th smallest absolute residual on the ``k`` rows (Vovk et al. 2005;
  Lei et al. 2018, §2.2).
- :func:`normalised_conformal_interval`: studentised split-conformal :math:`\hat y \pm q\,(\sigma + \beta)`, with
  :math:`q` the same order statistic of :math:`|y - \hat y| / (\sigma + \beta)` (Lei et al. 2018, §5.2;
  Papadopoulos et al. 2008, whose offset :math:`\beta \ge 0` keeps a stated :math:`\sigma = 0` usable), so the
  width follows the method's own per-sample :math:`\sigma`.
- :func:`fit_variance_scaling` / :func:`variance_scaled_interval`: the stated variance multiplied by the mean
  squared standardised residual on the ``k`` rows (the maximum-likelihood scale of Gaussian errors; Laves et
  al. 2020), optionally plus an additive variance, then a central Gaussian interval.

**Guarantee.**  If the ``k`` calibration pairs and a test pair are exchangeable (e.g. drawn at random from the
same dataset) and the point predictions (and :math:`\sigma`) do not depend on the calibration labels, both
conformal intervals cover the test measurement with probability at least ``level`` — averaged over the draw of
calibration and test rows, for any error distribution — and at most ``level + 1/(k + 1)`` when the scores have
no ties.  When :math:`\lceil (k+1)\,\text{level} \rceil > k` (e.g. ``k < 9`` at ``level = 0.9``) no finite
interval has the guarantee and the half-width is ``inf``.  Variance scaling has no finite-sample guarantee
(it assumes Gaussian errors with the stated variances right up to a common factor).

**Missing values.**  Calibration pairs with a non-finite measured value, prediction or stated
:math:`\sigma`/variance are dropped, and ``k`` counts the remaining pairs.  A non-finite test prediction (or
stated :math:`\sigma`) gives NaN bounds for that row.

All arrays are 1-D, in the trait's unit (``std``) or unit² (``variance``); bounds are returned as
``(lower (n,), upper (n,))`` float64 arrays in the trait's unit.

References:
    Vovk, V., Gammerman, A. & Shafer, G. (2005) *Algorithmic Learning in a Random World*. Springer.
    Papadopoulos, H., Gammerman, A. & Vovk, V. (2008) Normalized nonconformity measures for regression
    conformal prediction. Proc. IASTED AIA 2008, 64–69.
    Lei, J., G'Sell, M., Rinaldo, A., Tibshirani, R. J. & Wasserman, L. (2018) Distribution-free predictive
    inference for regression. Journal of the American Statistical Association 113:1094–1111.
    Laves, M.-H., Ihler, S., Fast, J. F., Kahrs, L. A. & Ortmaier, T. (2020) Well-calibrated regression
    uncertainty in medical imaging with deep learning. Proc. MIDL 2020, PMLR 121:393–412.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

from ._coverage import DEFAULT_LEVEL


def _check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return level


def _vectors(names: tuple[str, ...], *arrays) -> list[np.ndarray]:
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    for name, a in zip(names, out):
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if len({a.shape for a in out}) > 1:
        raise ValueError("shapes differ: " + ", ".join(f"{n} {a.shape}" for n, a in zip(names, out)))
    return out


def conformal_rank(k: int, level: float = DEFAULT_LEVEL) -> int:
    r"""The rank :math:`\lceil (k+1)\,\text{level} \rceil` (1-based) of the split-conformal quantile among
    ``k`` calibration scores; larger than ``k`` when ``k`` is too small for a finite interval.  The product is
    rounded to 9 decimals first, so that e.g. ``(9 + 1) * 0.9`` gives 9 despite floating-point error."""
    level = _check_level(level)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return int(math.ceil(round((k + 1) * level, 9)))


def conformal_quantile(scores, level: float = DEFAULT_LEVEL) -> float:
    r"""Split-conformal quantile of nonconformity ``scores`` ``(k,)``: the
    :math:`\lceil (k+1)\,\text{level} \rceil`-th smallest score, or ``inf`` when that rank exceeds the number
    ``k`` of scores (too few calibration rows for ``level``; e.g. ``k < 9`` at 0.9).

    NaN scores are dropped first (``k`` counts the others); ``+inf`` is a valid score (a row no finite interval
    covers) and sorts last.  Scores must be non-negative.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {s.shape}")
    s = s[~np.isnan(s)]
    if np.any(s < 0):
        raise ValueError("nonconformity scores must be non-negative")
    rank = conformal_rank(s.size, level)
    if rank > s.size:
        return float("inf")
    return float(np.partition(s, rank - 1)[rank - 1])


def absolute_conformal_interval(measured_cal, predicted_cal, predicted, level: float = DEFAULT_LEVEL
                                ) -> tuple[np.ndarray, np.ndarray]:
    r"""Split-conformal interval :math:`\hat y \pm q`, :math:`q` = :func:`conformal_quantile` of the absolute
    residuals :math:`|y_i - \hat y_i|` of the ``k`` calibration rows.

    **Arguments:** ``measured_cal``, ``predicted_cal``: ``(k,)``, trait unit; ``predicted``: ``(n,)`` test
    predictions, trait unit; ``level`` in (0, 1).

    **Returns:** ``(lower, upper)``, each ``(n,)``, trait unit; ``(-inf, inf)`` when ``k`` is too small.
    Constant width :math:`2q` for every test row.
    """
    y, p = _vectors(("measured_cal", "predicted_cal"), measured_cal, predicted_cal)
    (pred,) = _vectors(("predicted",), predicted)
    ok = np.isfinite(y) & np.isfinite(p)
    q = conformal_quantile(np.abs(y[ok] - p[ok]), level)
    return pred - q, pred + q


def normalised_conformal_interval(measured_cal, predicted_cal, std_cal, predicted, std,
                                  level: float = DEFAULT_LEVEL, *, offset: float = 0.0
                                  ) -> tuple[np.ndarray, np.ndarray]:
    r"""Studentised split-conformal interval :math:`\hat y \pm q\,(\sigma + \beta)`, :math:`q` =
    :func:`conformal_quantile` of :math:`|y_i - \hat y_i| / (\sigma_i + \beta)` on the ``k`` calibration rows.

    **Arguments:** ``measured_cal``, ``predicted_cal``, ``std_cal``: ``(k,)``; ``predicted``, ``std``:
    ``(n,)``.  Trait unit throughout; ``std`` is the method's stated 1-σ (with ``offset = 0`` any common factor
    cancels: the intervals are invariant to rescaling ``std_cal`` and ``std`` together).  ``offset`` :math:`\beta`
    (trait unit, ≥ 0) is the sensitivity parameter of Papadopoulos et al. (2008): it limits how narrow an
    interval a small stated σ can give and makes σ = 0 usable.  For the guarantee it must not depend on the
    calibration labels (e.g. a fixed value, or a statistic of the stated σ of calibration and test rows
    together).  Finite σ must be ≥ 0 and σ + β > 0.

    **Returns:** ``(lower, upper)``, each ``(n,)``, trait unit; ``(-inf, inf)`` when ``k`` is too small.
    """
    y, p, s = _vectors(("measured_cal", "predicted_cal", "std_cal"), measured_cal, predicted_cal, std_cal)
    pred, sd = _vectors(("predicted", "std"), predicted, std)
    offset = float(offset)
    if not offset >= 0.0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    ok = np.isfinite(y) & np.isfinite(p) & np.isfinite(s)
    finite_sd = sd[np.isfinite(sd)]
    if np.any(s[ok] < 0) or np.any(finite_sd < 0) or np.any(s[ok] + offset <= 0) or np.any(finite_sd + offset <= 0):
        raise ValueError("stated standard deviations must be > 0 (>= 0 with a positive offset)")
    q = conformal_quantile(np.abs(y[ok] - p[ok]) / (s[ok] + offset), level)
    with np.errstate(invalid="ignore"):  # inf * finite σ stays inf; NaN σ gives NaN bounds
        half = q * (sd + offset)
    return pred - half, pred + half


@dataclasses.dataclass(frozen=True)
class VarianceScaling:
    r"""A fitted variance recalibration :math:`\sigma^2_\text{cal} = s\,\sigma^2 + \tau^2`.

    **Fields:** ``scale`` :math:`s` (dimensionless, ≥ 0), ``additive`` :math:`\tau^2` (trait unit², ≥ 0; 0
    without the additive term), ``k`` (calibration pairs used).
    """

    scale: float
    additive: float
    k: int

    def variance(self, variance) -> np.ndarray:
        """Recalibrated variance ``(n,)`` (trait unit²) of stated ``variance`` ``(n,)``."""
        return self.scale * np.asarray(variance, dtype=np.float64) + self.additive

    def interval(self, predicted, variance, level: float = DEFAULT_LEVEL) -> tuple[np.ndarray, np.ndarray]:
        r"""Central Gaussian interval :math:`\hat y \pm z_{(1+\text{level})/2}\sqrt{s\sigma^2 + \tau^2}`."""
        level = _check_level(level)
        pred, var = _vectors(("predicted", "variance"), predicted, variance)
        half = norm.ppf(0.5 + level / 2) * np.sqrt(np.maximum(self.variance(var), 0.0))
        return pred - half, pred + half


def fit_variance_scaling(measured_cal, predicted_cal, variance_cal, *, additive: bool = False
                         ) -> VarianceScaling:
    r"""Fit :math:`\sigma^2_\text{cal} = s\,\sigma^2 (+ \tau^2)` on ``k`` calibration rows.

    Without the additive term, :math:`s = \frac1k \sum_i (y_i - \hat y_i)^2 / \sigma_i^2` — the mean squared
    standardised residual, which is the maximum-likelihood scale when :math:`y_i - \hat y_i \sim
    \mathcal N(0, s\sigma_i^2)` ("σ scaling", Laves et al. 2020).  With ``additive=True``, :math:`s \ge 0` and
    :math:`\tau^2 \ge 0` maximise the Gaussian likelihood of the residuals under
    :math:`\mathcal N(0, s\sigma_i^2 + \tau^2)` (L-BFGS-B in units of the residuals' mean square), which
    also repairs stated variances that are near zero for some rows.  (When every :math:`\sigma_i^2` is equal
    only :math:`s\sigma^2 + \tau^2` is identified.)

    **Arguments:** ``measured_cal``, ``predicted_cal`` ``(k,)`` trait unit; ``variance_cal`` ``(k,)`` trait
    unit², finite values > 0 (without the additive term) or ≥ 0 (with it).

    **Returns:** :class:`VarianceScaling`.  Raises ``ValueError`` when no finite calibration pair remains.
    """
    y, p, v = _vectors(("measured_cal", "predicted_cal", "variance_cal"), measured_cal, predicted_cal,
                       variance_cal)
    ok = np.isfinite(y) & np.isfinite(p) & np.isfinite(v)
    r2, v = (y[ok] - p[ok]) ** 2, v[ok]
    if r2.size == 0:
        raise ValueError("no finite calibration pair to fit the variance scaling")
    if np.any(v < 0) or (not additive and np.any(v <= 0)):
        raise ValueError("stated variances must be > 0 (>= 0 with the additive term)")
    if not additive:
        return VarianceScaling(float(np.mean(r2 / v)), 0.0, int(r2.size))
    unit = float(np.mean(r2))
    if unit == 0.0:  # every residual is zero: nothing to add or scale
        return VarianceScaling(0.0, 0.0, int(r2.size))
    rr, vv = r2 / unit, v / unit

    def nll(theta):
        s, t = np.exp(theta)
        tot = s * vv + t
        grad_tot = 1.0 / tot - rr / tot**2
        return float(np.sum(np.log(tot) + rr / tot)), np.array([s * np.sum(grad_tot * vv), t * np.sum(grad_tot)])

    # start from half the residual variance explained each way; log-parametrised so s, τ² > 0
    s0 = 0.5 / max(float(np.mean(vv)), 1e-12)
    res = minimize(nll, np.log([s0, 0.5]), jac=True, method="L-BFGS-B", bounds=[(-30.0, 30.0)] * 2)
    s, t = np.exp(res.x)
    return VarianceScaling(float(s), float(t * unit), int(r2.size))


def variance_scaled_interval(measured_cal, predicted_cal, variance_cal, predicted, variance,
                             level: float = DEFAULT_LEVEL, *, additive: bool = False
                             ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit_variance_scaling` on the ``k`` calibration rows, then its central Gaussian ``level``
    interval for ``predicted`` ``(n,)`` with stated ``variance`` ``(n,)`` (trait unit²).  Returns
    ``(lower, upper)``, each ``(n,)``, trait unit."""
    _check_level(level)
    fit = fit_variance_scaling(measured_cal, predicted_cal, variance_cal, additive=additive)
    return fit.interval(predicted, variance, level)


#: Names accepted by :func:`calibrated_interval`.
CALIBRATIONS: tuple[str, ...] = ("conformal_abs", "conformal_norm", "var_scaling", "var_scaling_add")


def calibrated_interval(name: str, measured_cal, predicted_cal, variance_cal, predicted, variance,
                        level: float = DEFAULT_LEVEL, *, std_offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Interval calibration ``name`` (one of :data:`CALIBRATIONS`) with one signature: ``conformal_abs``
    (:func:`absolute_conformal_interval`, variances unused), ``conformal_norm``
    (:func:`normalised_conformal_interval` with σ = sqrt(variance) and ``offset = std_offset``), ``var_scaling``
    and ``var_scaling_add`` (:func:`variance_scaled_interval` without / with the additive term, of the variance
    (sqrt(variance) + ``std_offset``)²).

    **Arguments:** ``measured_cal``, ``predicted_cal`` ``(k,)`` and ``variance_cal`` ``(k,)`` of the calibration
    rows, ``predicted`` and ``variance`` ``(n,)`` of the test rows (trait unit and unit²); ``std_offset``
    (trait unit, ≥ 0) added to every stated σ.  Shapes are checked for every ``name`` (also the variances
    ``conformal_abs`` does not use).

    **Returns:** ``(lower, upper)``, each ``(n,)``, trait unit.
    """
    _check_level(level)
    _vectors(("measured_cal", "predicted_cal", "variance_cal"), measured_cal, predicted_cal, variance_cal)
    _vectors(("predicted", "variance"), predicted, variance)
    v_cal, v = np.asarray(variance_cal, float), np.asarray(variance, float)
    if np.any(v_cal[np.isfinite(v_cal)] < 0) or np.any(v[np.isfinite(v)] < 0):
        raise ValueError("stated variances must be >= 0")
    sd_cal, sd = np.sqrt(v_cal), np.sqrt(v)
    if name == "conformal_abs":
        return absolute_conformal_interval(measured_cal, predicted_cal, predicted, level)
    if name == "conformal_norm":
        return normalised_conformal_interval(measured_cal, predicted_cal, sd_cal, predicted, sd, level,
                                             offset=std_offset)
    if name in ("var_scaling", "var_scaling_add"):
        if not std_offset >= 0.0:
            raise ValueError(f"std_offset must be >= 0, got {std_offset}")
        return variance_scaled_interval(measured_cal, predicted_cal, (sd_cal + std_offset) ** 2, predicted,
                                        (sd + std_offset) ** 2, level, additive=name == "var_scaling_add")
    raise ValueError(f"unknown calibration {name!r}; known: {', '.join(CALIBRATIONS)}")
