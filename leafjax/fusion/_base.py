"""The fusion interface: combine per-trait predictions of ``m`` methods into one prediction with a variance.

A fuser is an immutable configuration (an ``eqx.Module``); what it learns from the k labelled target samples
is returned as a *weights pytree* by :meth:`AbstractFuser.fit` and passed back explicitly to
:meth:`AbstractFuser.predict` (no hidden state, EXAMPLES practice 3).
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

Predictions = Float[Array, "n m"]
Targets = Float[Array, "n"]
Variances = Float[Array, "n m"]
Weights = Any  # a pytree of arrays, e.g. {"w": (m,), "sigma2": ()}


def check_inputs(preds, y=None, variances=None) -> tuple[Array, Array | None, Array | None]:
    """Validate shapes (trace-time ``ValueError``) and return float arrays: ``preds (n, m)``, ``y (n,)``,
    ``variances (n, m)`` (broadcast from ``(m,)``)."""
    preds = jnp.asarray(preds, dtype=float)
    if preds.ndim != 2 or preds.shape[1] < 1:
        raise ValueError(f"preds must be (n, m) with m >= 1 methods, got shape {preds.shape}")
    if y is not None:
        y = jnp.asarray(y, dtype=float)
        if y.shape != preds.shape[:1]:
            raise ValueError(f"y must be (n,) = {preds.shape[:1]}, got {y.shape}")
        if preds.shape[0] < 2:
            raise ValueError("need at least 2 labelled target samples to learn fusion weights")
    if variances is not None:
        variances = jnp.asarray(variances, dtype=float)
        if variances.shape == preds.shape[1:]:
            variances = jnp.broadcast_to(variances[None, :], preds.shape)
        if variances.shape != preds.shape:
            raise ValueError(f"variances must be (n, m) or (m,) like preds {preds.shape}, got {variances.shape}")
    return preds, y, variances


def residual_variance(fused: Array, y: Array) -> Array:
    r"""Mean squared residual :math:`\frac1n\sum_j (y_j - \hat y_j)^2` of a fused prediction on the target sample
    (the predictive variance of the point fusers)."""
    return jnp.mean((y - fused) ** 2)


class AbstractFuser(eqx.Module):
    """Decision-level fusion of ``m`` methods' predictions of one trait.

    - ``fit(preds (n, m), y (n,), variances=None) -> weights``: learn from the k target samples only
      (``variances``: the methods' own predictive variances, if they state any).
    - ``predict(weights, preds (n', m), variances=None) -> (mean (n',), variance (n',))``.
    """

    @abc.abstractmethod
    def fit(self, preds: Predictions, y: Targets, variances: Variances | None = None) -> Weights:
        ...

    @abc.abstractmethod
    def predict(self, weights: Weights, preds: Predictions, variances: Variances | None = None
                ) -> tuple[Float[Array, "n"], Float[Array, "n"]]:
        ...


def as_numpy(tree: Weights) -> Any:
    """The weights pytree with numpy leaves (for tables and JSON)."""
    import jax

    return jax.tree.map(np.asarray, tree)
