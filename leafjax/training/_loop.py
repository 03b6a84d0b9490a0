"""The training loop: ``M`` stacked models, epochs of steps, either one compiled program (a ``while_loop`` over
epochs, a ``fori_loop`` over steps: :func:`train`) or driven from the host step by step (:func:`train_host`).

Every model has its own rows of one pool (a pytree batch, :mod:`leafjax.training._batching`), its own
shuffling key, step budget, schedule and early stopping; the step is ``vmap``-ped over the models.  A model
with fewer rows has fewer real steps per epoch (the others are no-ops), and a model that has stopped takes no
further steps, so each model trains exactly as it would alone.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, NamedTuple

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


class LoopData(NamedTuple):
    """The arrays of one training run (see :func:`train` for their shapes)."""

    rest: Any
    pool: Any
    train_rows: jax.Array
    n_train: jax.Array
    val_rows: jax.Array
    n_val: jax.Array
    keys: jax.Array
    totals: jax.Array
    offsets: jax.Array


def _tx_of(cfg: LoopConfig, total):
    return make_tx(cfg.optimiser, cfg.uniform_total if cfg.uniform_total is not None else total)


def _initial_carry(cfg: LoopConfig, params, d: LoopData):
    """``(epoch, params, opt, steps, active, best_val, best_params, best_epoch, waited, epochs_run, hist_train,
    hist_val)`` before the first epoch."""
    m_models = d.train_rows.shape[0]
    opt = jax.vmap(lambda p, t: _tx_of(cfg, t).init(p))(params, d.totals)
    ints = jnp.zeros((m_models,), jnp.int32)
    nan_hist = jnp.full((m_models, cfg.epochs), jnp.nan, jnp.float32)
    return (jnp.asarray(0, jnp.int32), params, opt, ints, d.totals > 0,
            jnp.full((m_models,), jnp.inf, jnp.float32), params, ints - 1, ints, ints, nan_hist, nan_hist)


def _epoch_order(cfg: LoopConfig, epoch, d: LoopData):
    """The shuffled pool rows ``(M, S*B)`` of an epoch and which positions are real rows."""
    width = d.train_rows.shape[1]
    positions = jnp.arange(width, dtype=d.n_train.dtype)
    ekeys = jax.vmap(jax.random.fold_in)(d.keys, epoch + d.offsets)
    u = jax.vmap(lambda k: jax.random.uniform(k, (width,)))(ekeys)
    u = jnp.where(positions[None, :] < d.n_train[:, None], u, 2.0)  # padding sorts last
    order = jnp.take_along_axis(d.train_rows, jnp.argsort(u, axis=1), axis=1)
    return order, positions[None, :] < d.n_train[:, None]


def _step(cfg: LoopConfig, s, order, in_range, active, c, d: LoopData):
    """Step ``s`` of an epoch for every model; ``c = (params, opt, steps, loss_sum, loss_n)``."""
    params, opt, steps, loss_sum, loss_n = c
    bs = cfg.batch_size
    idx = jax.lax.dynamic_slice_in_dim(order, s * bs, bs, axis=1)
    valid = jax.lax.dynamic_slice_in_dim(in_range, s * bs, bs, axis=1) & (active & (steps < d.totals))[:, None]

    def step_one(p, r, o, t, idx, valid):
        p, o, value, took = single_step(cfg.graphdef, _tx_of(cfg, t), cfg.loss, cfg.regulariser, p, r, o, d.pool,
                                        idx, valid)
        return p, o, value.astype(jnp.float32), took  # the loss histories are float32 whatever the data

    params, opt, value, took = jax.vmap(step_one)(params, d.rest, opt, d.totals, idx, valid)
    took_n = took.astype(steps.dtype)  # bool -> int32 explicitly (strict dtype promotion)
    return params, opt, steps + took_n, loss_sum + jnp.where(took, value, 0.0), loss_n + took_n


def _epoch_end(cfg: LoopConfig, carry, c, d: LoopData):
    """Histories, validation, early stopping after the steps of an epoch (``c`` from :func:`_step`)."""
    (epoch, _, _, _, active, best_val, best_params, best_epoch, waited, epochs_run, hist_train, hist_val) = carry
    params, opt, steps, loss_sum, loss_n = c
    ran = active
    mean_loss = loss_sum / jnp.maximum(loss_n, 1).astype(loss_sum.dtype)
    hist_train = hist_train.at[:, epoch].set(jnp.where(ran, mean_loss, jnp.nan))
    epochs_run = jnp.where(ran, epoch + 1, epochs_run)
    if cfg.has_val:
        def val_one(p, r, rows, n):
            model = nnx.merge(cfg.graphdef, p, r)
            mask = jnp.arange(rows.shape[0], dtype=n.dtype) < n
            return cfg.loss(model, take_rows(d.pool, rows), mask).astype(jnp.float32)

        v = jax.vmap(val_one)(params, d.rest, d.val_rows, d.n_val)
        checks = ran & (d.n_val > 0)
        hist_val = hist_val.at[:, epoch].set(jnp.where(checks, v, jnp.nan))
        better = checks & (v < best_val)
        best_val = jnp.where(better, v, best_val)
        best_epoch = jnp.where(better, epoch, best_epoch)
        best_params = tree_select(better, params, best_params)
        waited = jnp.where(better, 0, jnp.where(checks, waited + 1, waited))
        stop = (waited >= cfg.patience) if cfg.patience >= 0 else jnp.zeros_like(ran)
        active = ran & ~stop
    active = active & (steps < d.totals)
    return (epoch + 1, params, opt, steps, active, best_val, best_params, best_epoch, waited, epochs_run,
            hist_train, hist_val)


def _outputs(cfg: LoopConfig, carry):
    (_, params, _, steps, _, _, best_params, best_epoch, _, epochs_run, hist_train, hist_val) = carry
    if cfg.restore_best and cfg.has_val:
        params = tree_select(best_epoch >= 0, best_params, params)
    return params, steps, best_epoch, epochs_run, hist_train, hist_val


def _zeros_c(carry):
    m = carry[3].shape[0]
    return (carry[1], carry[2], carry[3], jnp.zeros((m,), jnp.float32), jnp.zeros((m,), jnp.int32))


@functools.partial(jax.jit, static_argnums=0)
def train(cfg: LoopConfig, params, rest, pool, train_rows, n_train, val_rows, n_val, keys, totals, offsets):
    """Train ``M`` stacked models in one compiled program (a ``while_loop`` over epochs, a ``fori_loop`` over
    steps); see :func:`~leafjax.training.fit_many`.

    Shapes: ``params``/``rest`` leaves ``(M, ...)``; ``pool`` a batch with leaves ``(P, ...)``; ``train_rows
    (M, S*B)`` / ``val_rows (M, V)`` pool indices with valid counts ``n_train`` / ``n_val (M,)``; ``keys (M,)``
    shuffling keys; ``totals (M,)`` step budgets; ``offsets (M,)`` epoch offsets of the shuffling keys.

    **Returns:** ``(params, steps, best_epoch, epochs_run, hist_train (M, epochs), hist_val (M, epochs))``.
    """
    d = LoopData(rest, pool, train_rows, n_train, val_rows, n_val, keys, totals, offsets)

    def epoch_body(carry):
        order, in_range = _epoch_order(cfg, carry[0], d)
        c = jax.lax.fori_loop(0, cfg.steps_per_epoch,
                              lambda s, c: _step(cfg, s, order, in_range, carry[4], c, d), _zeros_c(carry))
        return _epoch_end(cfg, carry, c, d)

    carry = jax.lax.while_loop(lambda c: (c[0] < cfg.epochs) & jnp.any(c[4]), epoch_body,
                               _initial_carry(cfg, params, d))
    return _outputs(cfg, carry)


_jit_cfg = functools.partial(jax.jit, static_argnums=0)
_initial_carry_jit = _jit_cfg(_initial_carry)
_epoch_order_jit = _jit_cfg(_epoch_order)
_step_jit = _jit_cfg(_step)
_epoch_end_jit = _jit_cfg(_epoch_end)
_outputs_jit = _jit_cfg(_outputs)


def train_host(cfg: LoopConfig, params, rest, pool, train_rows, n_train, val_rows, n_val, keys, totals, offsets):
    """:func:`train` with the epochs and steps driven from the host: the same functions, each step one compiled call
    (results equal up to floating-point rounding: XLA fuses the two programs differently).  On CPU a convolution inside a compiled loop body runs several times slower than the
    same convolution at the top level of a program (jax-ml/jax#12868; one epoch of the Sentinel-1/2 radar U-Net
    on 64 chips of 64 × 64: 15.8 s against 0.76 s on the 2-core CPU, ``benchmarks/s1s2_networks.py --loops``), so :func:`~leafjax.training.fit_many` uses this driver for
    convolutional models on CPU.  Costs one dispatch per step and one host synchronisation per epoch."""
    d = LoopData(rest, pool, train_rows, n_train, val_rows, n_val, keys, totals, offsets)
    carry = _initial_carry_jit(cfg, params, d)
    for _ in range(cfg.epochs):
        if not bool(jnp.any(carry[4])):
            break
        order, in_range = _epoch_order_jit(cfg, carry[0], d)
        c = _zeros_c(carry)
        for s in range(cfg.steps_per_epoch):
            c = _step_jit(cfg, jnp.asarray(s, jnp.int32), order, in_range, carry[4], c, d)
        carry = _epoch_end_jit(cfg, carry, c, d)
    return _outputs_jit(cfg, carry)
