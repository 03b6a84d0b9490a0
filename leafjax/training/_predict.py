"""Prediction in fixed-size batches, and the loss of a model on a data set, for any input pytree."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ._batching import as_batch, bucket, is_tabular, n_rows
from ._losses import Loss, PointwiseLoss, TabularLoss, masked_mse


@functools.partial(jax.jit, static_argnums=0)
def _forward(graphdef, state, x):
    return nnx.merge(graphdef, state)(x)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _loss(graphdef, loss, state, batch, mask):
    return loss(nnx.merge(graphdef, state), batch, mask)


def _as_float64(a):
    a = np.asarray(a)
    return a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a


def predict(model: nnx.Module, x: Any, *, batch_size: int = 1024) -> Any:
    """``model(x)`` computed in fixed-size batches of the leading sample axis (the last one padded by
    repeating the last row; sizes bucketed to powers of two so that calls share a compilation).

    **Arguments:** ``model`` (any ``nnx`` module; a :class:`~leafjax.networks.TraitRegressor` predicts traits
    in their units), ``x``: an array ``(n, ...)`` -- spectra ``(n, wl)``, images ``(n, c, h, w)``; cast to
    float32 -- or a pytree of arrays sharing the leading axis ``n`` (passed as given), ``batch_size``.

    **Returns:** the model's output for all ``n`` rows (an array ``(n, ...)``, or the model's output pytree),
    floating arrays as float64; e.g. ``(n, k)`` for a trait regressor.
    """
    single = isinstance(x, list) or jax.tree_util.treedef_is_leaf(jax.tree.structure(x))
    inputs = np.asarray(x, dtype=np.float32) if single else jax.tree.map(np.asarray, x)
    n = n_rows(inputs)
    graphdef, state = nnx.split(model)
    state = nnx.as_pure(state)
    if n == 0:
        one = jax.tree.map(lambda a: jnp.zeros((1, *a.shape[1:]), a.dtype), inputs)
        shapes = jax.eval_shape(lambda s: _forward(graphdef, s, one), state)
        return jax.tree.map(lambda s: _as_float64(np.zeros((0, *s.shape[1:]), s.dtype)), shapes)
    bs = min(batch_size, bucket(n))
    padded = jax.tree.map(lambda a: np.concatenate([a, np.repeat(a[-1:], (-n) % bs, axis=0)]), inputs)
    out = [_forward(graphdef, state, jax.tree.map(lambda a: a[i:i + bs], padded))
           for i in range(0, n + (-n) % bs, bs)]
    return jax.tree.map(lambda *o: _as_float64(np.concatenate([np.asarray(a) for a in o])[:n]), *out)


def evaluate(model: nnx.Module, data: Any, loss: Loss | PointwiseLoss | None = None) -> float:
    """The loss of ``model`` on all rows of ``data``, in the loss space of :func:`~leafjax.training.fit`.

    ``data``: the tabular form ``(X (n, wl), Y (n, k))`` (NaN targets masked) with ``loss`` the point-wise
    ``loss(pred, target, mask)`` (default :func:`~leafjax.training.masked_mse`), or a pytree batch with
    ``loss(model, batch, mask)`` (required).  One compilation per model structure, loss and data shape.
    """
    if is_tabular(data):
        loss = TabularLoss(masked_mse if loss is None else loss)
    elif loss is None:
        raise ValueError("evaluate on a pytree batch needs loss(model, batch, mask)")
    batch = as_batch(data)
    graphdef, state = nnx.split(model)
    mask = jnp.ones((n_rows(batch),), bool)
    return float(_loss(graphdef, loss, nnx.as_pure(state), batch, mask))
