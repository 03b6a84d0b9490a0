"""The compiled training loop: ``M`` stacked models, a ``while_loop`` over epochs, a ``fori_loop`` over steps.

Every model has its own rows of one pool (a pytree batch, :mod:`leafjax.training._batching`), its own
shuffling key, step budget, schedule and early stopping; the step is ``vmap``-ped over the models.  A model
with fewer rows has fewer real steps per epoch (the others are no-ops), and a model that has stopped takes no
further steps, so each model trains exactly as it would alone.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from ._batching import take_rows, tree_select
from ._losses import Loss, PointwiseLoss, TabularLoss, TabularRegulariser, masked_mse
from ._schedules import make_tx

#: ``regulariser(model, batch, mask) -> scalar``, added to the training (not the validation) loss.
Regulariser = Callable[[nnx.Module, Any, jax.Array], jax.Array]


def single_step(graphdef, tx: optax.GradientTransformation, loss: Loss, regulariser: Regulariser | None,
                params, rest, opt_state, pool, idx, valid):
    """One optimiser step of one model on rows ``idx (batch,)`` of ``pool``; rows with ``valid == False`` are
    padding (masked in the loss); no-op when no row is valid.  Returns ``(params, opt_state, loss, took)``."""
    batch = take_rows(pool, idx)

    def loss_fn(p):
        model = nnx.merge(graphdef, p, rest)
        value = loss(model, batch, valid)
        return value if regulariser is None else value + regulariser(model, batch, valid)

    value, grads = jax.value_and_grad(loss_fn)(params)
    with jax.numpy_dtype_promotion("standard"):  # optax computes `decay ** count` (float ** int32) implicitly
        updates, new_opt = tx.update(grads, opt_state, params)
    new_params = optax.apply_updates(params, updates)
    take = jnp.any(valid)
    return tree_select(take, new_params, params), tree_select(take, new_opt, opt_state), value, take


def make_batch_step(model: nnx.Module, tx: optax.GradientTransformation, loss: Loss, *, trainable: Any = nnx.Param,
                    regulariser: Regulariser | None = None):
    """The compiled step of one model on a pytree batch, as run (``vmap``-ped over models) by
    :func:`~leafjax.training.fit_many`.

    **Returns:** ``(step, state, graphdef)``: ``step(state, pool, idx, valid) -> (state, loss)`` trains on rows
    ``idx (batch,)`` of the batch ``pool`` (leaves ``(P, ...)``), rows with ``valid (batch,) == False`` being
    padding; ``state = (params, rest, opt_state)`` with ``params`` the ``trainable`` parameters, and
    ``nnx.merge(graphdef, params, rest)`` gives the model back.
    """
    graphdef, params, rest = nnx.split(model, trainable, ...)
    params, rest = nnx.as_pure(params), nnx.as_pure(rest)
    state = (params, rest, tx.init(params))

    def step(state, pool, idx, valid):
        params, rest, opt_state = state
        params, opt_state, value, _ = single_step(graphdef, tx, loss, regulariser, params, rest, opt_state,
                                                  pool, idx, valid)
        return (params, rest, opt_state), value

    return jax.jit(step), state, graphdef


def make_train_step(model: nnx.Module, tx: optax.GradientTransformation, trainable: Any = nnx.Param,
                    loss: PointwiseLoss = masked_mse, regulariser: Callable[[nnx.Module, jax.Array], jax.Array]
                    | None = None):
    """:func:`make_batch_step` for the tabular form.

    **Returns:** ``(step, state, graphdef)`` where ``step(state, x, y, mask, idx, valid) -> (state, loss)``
    trains on rows ``idx`` (``(batch,)`` ints) of ``x (n, wl)``, ``y (n, k)`` (NaN filled), ``mask (n, k)``
    with the point-wise ``loss(pred, target, mask)``; rows with ``valid == False`` (padding) are ignored.
    """
    batch_step, state, graphdef = make_batch_step(
        model, tx, TabularLoss(loss), trainable=trainable,
        regulariser=None if regulariser is None else TabularRegulariser(regulariser))

    def step(state, x, y, mask, idx, valid):
        return batch_step(state, {"x": x, "y": y, "mask": mask}, idx, valid)

    return jax.jit(step), state, graphdef


@dataclasses.dataclass(frozen=True)
class LoopConfig:
    """Static (hashable) settings of one compiled training loop."""

    graphdef: Any
    trainable: Any
    optimiser: Any
    loss: Any
    regulariser: Any
    batch_size: int
    steps_per_epoch: int
    epochs: int
    patience: int  # -1: never stop early
    restore_best: bool
    has_val: bool
    uniform_total: int | None  # the total steps when equal for every model (schedule built from a Python int)


@functools.partial(jax.jit, static_argnums=0)
def train(cfg: LoopConfig, params, rest, pool, train_rows, n_train, val_rows, n_val, keys, totals, offsets):
    """Train ``M`` stacked models; see :func:`~leafjax.training.fit_many`.

    Shapes: ``params``/``rest`` leaves ``(M, ...)``; ``pool`` a batch with leaves ``(P, ...)``; ``train_rows
    (M, S*B)`` / ``val_rows (M, V)`` pool indices with valid counts ``n_train`` / ``n_val (M,)``; ``keys (M,)``
    shuffling keys; ``totals (M,)`` step budgets; ``offsets (M,)`` epoch offsets of the shuffling keys.

    **Returns:** ``(params, steps, best_epoch, epochs_run, hist_train (M, epochs), hist_val (M, epochs))``.
    """
    m_models, width = train_rows.shape
    bs, n_steps = cfg.batch_size, cfg.steps_per_epoch

    def tx_of(total):
        return make_tx(cfg.optimiser, cfg.uniform_total if cfg.uniform_total is not None else total)

    opt = jax.vmap(lambda p, t: tx_of(t).init(p))(params, totals)

    def step_one(p, r, o, t, idx, valid):
        p, o, value, took = single_step(cfg.graphdef, tx_of(t), cfg.loss, cfg.regulariser, p, r, o, pool, idx,
                                        valid)
        return p, o, value.astype(jnp.float32), took  # the loss histories are float32 whatever the data

    def val_one(p, r, rows, n):
        model = nnx.merge(cfg.graphdef, p, r)
        return cfg.loss(model, take_rows(pool, rows), jnp.arange(rows.shape[0], dtype=n.dtype) < n).astype(jnp.float32)

    positions = jnp.arange(width, dtype=n_train.dtype)

    def epoch_body(carry):
        (epoch, params, opt, steps, active, best_val, best_params, best_epoch, waited, epochs_run,
         hist_train, hist_val) = carry
        ekeys = jax.vmap(jax.random.fold_in)(keys, epoch + offsets)
        u = jax.vmap(lambda k: jax.random.uniform(k, (width,)))(ekeys)
        u = jnp.where(positions[None, :] < n_train[:, None], u, 2.0)  # padding sorts last
        order = jnp.take_along_axis(train_rows, jnp.argsort(u, axis=1), axis=1)
        in_range = positions[None, :] < n_train[:, None]

        def step_body(s, c):
            params, opt, steps, loss_sum, loss_n = c
            idx = jax.lax.dynamic_slice_in_dim(order, s * bs, bs, axis=1)
            valid = (jax.lax.dynamic_slice_in_dim(in_range, s * bs, bs, axis=1)
                     & (active & (steps < totals))[:, None])
            params, opt, value, took = jax.vmap(step_one)(params, rest, opt, totals, idx, valid)
            took_n = took.astype(steps.dtype)  # bool -> int32 explicitly (strict dtype promotion)
            return (params, opt, steps + took_n, loss_sum + jnp.where(took, value, 0.0), loss_n + took_n)

        zeros = jnp.zeros((m_models,), jnp.float32)
        params, opt, steps, loss_sum, loss_n = jax.lax.fori_loop(
            0, n_steps, step_body, (params, opt, steps, zeros, jnp.zeros((m_models,), jnp.int32)))
        ran = active
        mean_loss = loss_sum / jnp.maximum(loss_n, 1).astype(loss_sum.dtype)
        hist_train = hist_train.at[:, epoch].set(jnp.where(ran, mean_loss, jnp.nan))
        epochs_run = jnp.where(ran, epoch + 1, epochs_run)
        if cfg.has_val:
            v = jax.vmap(val_one)(params, rest, val_rows, n_val)
            checks = ran & (n_val > 0)
            hist_val = hist_val.at[:, epoch].set(jnp.where(checks, v, jnp.nan))
            better = checks & (v < best_val)
            best_val = jnp.where(better, v, best_val)
            best_epoch = jnp.where(better, epoch, best_epoch)
            best_params = tree_select(better, params, best_params)
            waited = jnp.where(better, 0, jnp.where(checks, waited + 1, waited))
            stop = (waited >= cfg.patience) if cfg.patience >= 0 else jnp.zeros_like(ran)
            active = ran & ~stop
        active = active & (steps < totals)
        return (epoch + 1, params, opt, steps, active, best_val, best_params, best_epoch, waited, epochs_run,
                hist_train, hist_val)

    def cond(carry):
        return (carry[0] < cfg.epochs) & jnp.any(carry[4])

    ints = jnp.zeros((m_models,), jnp.int32)
    nan_hist = jnp.full((m_models, cfg.epochs), jnp.nan, jnp.float32)
    carry = (jnp.asarray(0, jnp.int32), params, opt, ints, totals > 0, jnp.full((m_models,), jnp.inf, jnp.float32),
             params, ints - 1, ints, ints, nan_hist, nan_hist)
    (_, params, _, steps, _, _, best_params, best_epoch, _, epochs_run, hist_train, hist_val) = jax.lax.while_loop(
        cond, epoch_body, carry)
    if cfg.restore_best and cfg.has_val:
        params = tree_select(best_epoch >= 0, best_params, params)
    return params, steps, best_epoch, epochs_run, hist_train, hist_val
