"""Partial least squares regression (PLS1) with the component count chosen by inner K-fold cross-validation.

The algorithm is the improved kernel PLS of Dayal & MacGregor (1997, J. Chemometrics 11:73), which works on
the cross-products XᵀX and Xᵀy and yields the regression coefficients of every component count 1…A in one pass;
for a single response it gives the same model as NIPALS/SIMPLS.  Features are centred — and, with
``scale=True``, divided by their standard deviation — using statistics of the training rows only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Default largest number of latent components tried (leaf-trait PLSR studies typically select 5–20).
MAX_COMPONENTS: int = 20
#: Default number of inner cross-validation folds.
CV_FOLDS: int = 5


@dataclasses.dataclass(frozen=True)
class PLSRModel:
    """A fitted PLS1 model: ``y ≈ y_mean + ((x − x_mean) / x_scale) @ coef``.

    **Fields:** ``x_mean``, ``x_scale``, ``coef`` (shape ``(p,)``), ``y_mean`` (float), ``n_components`` and
    ``cv_rmse`` (inner CV RMSE for 1…A components, ``(A,)``; empty when the count was fixed).
    """

    x_mean: np.ndarray
    x_scale: np.ndarray
    coef: np.ndarray
    y_mean: float
    n_components: int
    cv_rmse: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.coef.size:
            raise ValueError(f"features have shape {x.shape}, expected (n, {self.coef.size})")
        if not np.all(np.isfinite(x)):
            raise ValueError("PLSR features contain NaN/inf; drop or fill missing bands first")
        return self.y_mean + ((x - self.x_mean) / self.x_scale) @ self.coef


def pls1_coefficients(x: np.ndarray, y: np.ndarray, n_components: int) -> np.ndarray:
    """Coefficients ``(A, p)`` of PLS1 with 1…A components, for centred ``x`` ``(n, p)`` and ``y`` ``(n,)``."""
    return _pls1_kernel(x.T @ x, x.T @ y, n_components)


def _pls1_kernel(xtx: np.ndarray, xty: np.ndarray, n_components: int) -> np.ndarray:
    """Improved kernel PLS1 (Dayal & MacGregor 1997, algorithm 1) from XᵀX ``(p, p)`` and Xᵀy ``(p,)`` of
    centred (and possibly scaled) data; returns the coefficients of 1…A components, ``(A, p)``."""
    p = xtx.shape[0]
    r_all = np.zeros((n_components, p))
    p_all = np.zeros((n_components, p))
    coefs = np.zeros((n_components, p))
    b = np.zeros(p)
    xty = xty.copy()
    for a in range(n_components):
        w = xty.copy()
        norm = np.linalg.norm(w)
        if norm < 1e-14:  # y fully explained: further components add nothing
            coefs[a:] = b
            break
        w /= norm
        r = w - r_all[:a].T @ (p_all[:a] @ w)
        xtx_r = xtx @ r
        tt = float(r @ xtx_r)
        if tt <= 1e-14:
            coefs[a:] = b
            break
        pa = xtx_r / tt
        qa = float(r @ xty) / tt
        xty = xty - pa * qa * tt
        r_all[a], p_all[a] = r, pa
        b = b + r * qa
        coefs[a] = b
    return coefs


def _moments(sxx, sx, sxy, sy, n, scale):
    """Centred/scaled cross-products from raw sums over ``n`` rows: (XᵀX, Xᵀy, x_mean, x_scale, y_mean)."""
    mu = sx / n
    ym = sy / n
    cxx = sxx - n * np.outer(mu, mu)
    cxy = sxy - n * mu * ym
    if scale and n > 1:
        sd = np.sqrt(np.clip(np.diag(cxx), 0.0, None) / (n - 1))
        sd = np.where(sd > 1e-12, sd, 1.0)
    else:
        sd = np.ones_like(mu)
    return cxx / np.outer(sd, sd), cxy / sd, mu, sd, ym


def _fold_ids(n: int, folds: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % folds)


def fit_plsr(x, y, *, n_components: int | None = None, max_components: int = MAX_COMPONENTS,
             folds: int = CV_FOLDS, scale: bool = True, one_se: bool = False, seed: int = 0) -> PLSRModel:
    """Fit PLS1 of ``y`` ``(n,)`` on ``x`` ``(n, p)``.

    With ``n_components=None`` the count is chosen by ``folds``-fold cross-validation (leave-one-out when
    ``n < folds``; folds drawn with ``numpy.random.default_rng(seed)``) among 1…``max_components`` (capped at
    the smallest inner training size − 1): the minimum CV RMSE or, with ``one_se=True``, the fewest components
    within one standard error of it.  Standardisation is recomputed inside each fold from its training rows.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be (n, p) and y (n,), got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("PLSR inputs contain NaN/inf; drop or fill missing bands/values first")
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"PLSR needs at least 3 training samples, got {n}")
    cv = np.empty(0)
    # Raw sums over all rows; each fold's training moments are the totals minus its held-out rows, so the
    # p×p cross-product is formed once rather than once per fold (statistics still from training rows only).
    sxx, sx, sxy, sy = x.T @ x, x.sum(axis=0), x.T @ y, float(y.sum())
    if n_components is None:
        k = min(folds, n)
        ids = _fold_ids(n, k, np.random.default_rng(seed))
        a_max = max(1, min(max_components, n - int(np.ceil(n / k)) - 1, x.shape[1]))
        sq = np.zeros((k, a_max))
        counts = np.zeros(k)
        for f in range(k):
            te = ids == f
            xh, yh = x[te], y[te]
            cxx, cxy, mu, sd, ym = _moments(sxx - xh.T @ xh, sx - xh.sum(axis=0), sxy - xh.T @ yh,
                                            sy - float(yh.sum()), n - int(te.sum()), scale)
            coefs = _pls1_kernel(cxx, cxy, a_max)
            pred = ym + ((xh - mu) / sd) @ coefs.T  # (n_te, A)
            sq[f] = np.sum((pred - yh[:, None]) ** 2, axis=0)
            counts[f] = te.sum()
        cv = np.sqrt(sq.sum(axis=0) / n)
        best = int(np.argmin(cv))
        if one_se:
            fold_rmse = np.sqrt(sq / counts[:, None])
            se = fold_rmse[:, best].std(ddof=1) / np.sqrt(k) if k > 1 else 0.0
            best = int(np.flatnonzero(cv <= cv[best] + se)[0])
        n_components = best + 1
    n_components = int(min(n_components, n - 1, x.shape[1]))
    cxx, cxy, mu, sd, ym = _moments(sxx, sx, sxy, sy, n, scale)
    coef = _pls1_kernel(cxx, cxy, n_components)[-1]
    return PLSRModel(mu, sd, coef, float(ym), n_components, cv)
