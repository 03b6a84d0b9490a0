"""Closed-form fusers: simple averaging and inverse-variance weighting."""

from __future__ import annotations

import jax.numpy as jnp

from ._base import AbstractFuser, check_inputs, residual_variance


class MeanFuser(AbstractFuser):
    r"""Simple averaging, :math:`\hat y = \frac1m \sum_i \mu_i`.

    Weights ``{"w": 1/m (m,), "sigma2": ()}``; ``sigma2`` is the mean squared residual of the average on the
    target sample, used as the (constant) predictive variance.

    Example:
        >>> import jax.numpy as jnp
        >>> f = MeanFuser()
        >>> w = f.fit(jnp.array([[1.0, 3.0], [2.0, 4.0]]), jnp.array([2.0, 3.0]))
        >>> mean, var = f.predict(w, jnp.array([[0.0, 2.0]]))
        >>> mean.tolist()
        [1.0]
    """

    def fit(self, preds, y, variances=None):
        preds, y, _ = check_inputs(preds, y)
        m = preds.shape[1]
        w = jnp.full((m,), 1.0 / m)
        return {"w": w, "sigma2": residual_variance(preds @ w, y)}

    def predict(self, weights, preds, variances=None):
        preds, _, _ = check_inputs(preds)
        mean = preds @ weights["w"]
        return mean, jnp.broadcast_to(weights["sigma2"], mean.shape)


class InverseVarianceFuser(AbstractFuser):
    r"""Inverse-variance weighting, :math:`w_i \propto 1/\sigma_i^2`, :math:`\hat y = \sum_i w_i \mu_i`,
    :math:`\operatorname{Var} = 1 / \sum_i \sigma_i^{-2}` (independent errors).

    :math:`\sigma_i^2` is method ``i``'s mean squared error on the target sample (``fit``), so the fit needs
    no stated variances.  When ``predict`` receives per-sample ``variances (n, m)`` (e.g. an inversion's
    posterior variances), they are used instead, sample by sample.  ``min_variance`` guards against a method
    that fits the target sample exactly.
    """

    min_variance: float = 1e-12

    def fit(self, preds, y, variances=None):
        preds, y, _ = check_inputs(preds, y)
        s2 = jnp.maximum(jnp.mean((preds - y[:, None]) ** 2, axis=0), self.min_variance)
        return {"w": (1.0 / s2) / jnp.sum(1.0 / s2), "sigma2_models": s2}

    def predict(self, weights, preds, variances=None):
        preds, _, variances = check_inputs(preds, None, variances)
        if variances is None:
            variances = jnp.broadcast_to(weights["sigma2_models"][None, :], preds.shape)
        precision = 1.0 / jnp.maximum(variances, self.min_variance)
        total = jnp.sum(precision, axis=1)
        return jnp.sum(precision * preds, axis=1) / total, 1.0 / total
