"""Stacking: simplex-constrained linear weights learned by least squares with optax."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from ._base import AbstractFuser, check_inputs, residual_variance


def minimise(loss, params, *, steps: int, learning_rate: float):
    """Minimise ``loss(params)`` with Adam for a fixed number of steps (one compiled ``lax.scan``): the
    ``init``/``update`` pair of optax threaded through explicitly.  Returns the final ``params``."""
    tx = optax.adam(learning_rate)

    def step(carry, _):
        p, state = carry
        value, grads = jax.value_and_grad(loss)(p)
        with jax.numpy_dtype_promotion("standard"):  # optax computes `decay ** count` (float ** int32)
            updates, state = tx.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), value

    (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), None, length=steps)
    return params


def _standardise(preds, y):
    loc, scale = jnp.mean(y), jnp.maximum(jnp.std(y), 1e-12 * (1.0 + jnp.abs(jnp.mean(y))))
    return (preds - loc) / scale, (y - loc) / scale, loc, scale


class StackingFuser(AbstractFuser):
    r"""Stacking with weights on the simplex: :math:`w = \operatorname{softmax}(\theta)`,
    :math:`\theta^\star = \arg\min_\theta \frac1n \sum_j (y_j - \sum_i w_i \mu_{ji})^2 + \lambda \lVert\theta\rVert^2`
    (Breiman 1996, with the non-negativity and sum-to-one constraints by parametrisation), solved with Adam.

    The problem is solved in units of the target sample's standard deviation; ``l2`` (small) keeps
    :math:`\theta` finite when a weight goes to 0.  Weights ``{"w": (m,), "sigma2": ()}`` with ``sigma2`` the
    mean squared residual on the target sample.

    References: Breiman, L. (1996) Stacked regressions, Machine Learning 24:49–64.
    """

    steps: int = 2000
    learning_rate: float = 0.05
    l2: float = 1e-6

    @eqx.filter_jit  # one compilation per (n, m): repeated fits on k samples reuse it
    def fit(self, preds, y, variances=None):
        preds, y, _ = check_inputs(preds, y)
        p, z, _, _ = _standardise(preds, y)

        def loss(theta):
            return jnp.mean((z - p @ jax.nn.softmax(theta)) ** 2) + self.l2 * jnp.sum(theta ** 2)

        theta = minimise(loss, jnp.zeros(preds.shape[1]), steps=self.steps, learning_rate=self.learning_rate)
        w = jax.nn.softmax(theta)
        return {"w": w, "sigma2": residual_variance(preds @ w, y)}

    def predict(self, weights, preds, variances=None):
        preds, _, _ = check_inputs(preds)
        mean = preds @ weights["w"]
        return mean, jnp.broadcast_to(weights["sigma2"], mean.shape)
