"""THE training loop: one compiled loop that trains one model or many independent models at once.

:func:`fit_many` trains ``M`` models of the same structure (each with its own data, validation split,
shuffling key, schedule and early stopping) in one ``jax.jit``-compiled ``while_loop`` over epochs, the
models stacked along a leading axis and the step ``vmap``-ped over them: the training runs of a
leave-one-dataset-out experiment (held-out datasets × seeds × target-sample sizes) share every step, which is
what keeps an accelerator busy with small networks.  :func:`fit` is the ``M = 1`` case.

What trains is a parameter filter (``trainable``); everything else in the model is returned bit-identical.
Rows of unequal training sets are padded and masked: a model with fewer rows simply has fewer steps per
epoch, and a model that has stopped early takes no further steps, so each model trains exactly as it would
alone.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jaxtyping import Array, Bool, Float

Loss = Callable[[Array, Array, Array], Array]
Optimiser = optax.GradientTransformation | Callable[[Any], optax.GradientTransformation]


def masked_mse(pred: Float[Array, "batch k"], target: Float[Array, "batch k"],
               mask: Bool[Array, "batch k"]) -> Float[Array, ""]:
    r"""Mean squared error over the observed entries only:
    :math:`\sum_{ij} m_{ij} (\hat y_{ij} - y_{ij})^2 / \max(1, \sum_{ij} m_{ij})`.

    Unobserved entries (``mask == False``; NaN targets, padding rows) contribute neither value nor gradient.
    """
    err = jnp.where(mask, pred - jnp.where(mask, target, 0.0), 0.0)
    return jnp.sum(err * err) / jnp.maximum(jnp.sum(mask), 1).astype(err.dtype)


@dataclasses.dataclass(frozen=True)
class AdamWCosine:
    """AdamW with linear warm-up over ``warmup_fraction`` of the steps and cosine decay to ``end_fraction``
    of ``learning_rate`` (Loshchilov & Hutter 2019).  Called with the total number of steps (a Python int, or
    a traced integer when models with different totals train together) it returns the optax transformation.
    Frozen and hashable, so that equal settings reuse the compiled training loop."""

    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    end_fraction: float = 0.01

    def __call__(self, total_steps) -> optax.GradientTransformation:
        total = jnp.asarray(total_steps, jnp.float32)
        warmup = jnp.maximum(1.0, jnp.floor(self.warmup_fraction * total))
        decay = jnp.maximum(total, warmup + 1.0) - warmup
        lr, end = self.learning_rate, self.end_fraction

        def schedule(count):
            c = jnp.asarray(count, jnp.float32)
            frac = jnp.clip((c - warmup) / decay, 0.0, 1.0)
            cosine = lr * (end + (1.0 - end) * 0.5 * (1.0 + jnp.cos(jnp.pi * frac)))
            return jnp.where(c < warmup, lr * c / warmup, cosine)

        return optax.adamw(schedule, weight_decay=self.weight_decay)


def default_optimiser(learning_rate: float = 1e-3, weight_decay: float = 1e-4, warmup_fraction: float = 0.05
                      ) -> AdamWCosine:
    """AdamW with linear warm-up and cosine decay to 1 % (a function of the total number of steps)."""
    return AdamWCosine(learning_rate, weight_decay, warmup_fraction)


@dataclasses.dataclass
class FitHistory:
    """What one training run did. ``train_indices``/``val_indices`` index the rows of the ``data`` it was given
    (``val_indices`` is ``None`` with an explicit validation set)."""

    train_loss: list[float]
    val_loss: list[float]
    best_epoch: int
    epochs_run: int
    steps: int
    train_indices: np.ndarray
    val_indices: np.ndarray | None


def _outputs(model, x, y):
    """Predictions and targets in the loss space (standardised for a ``TraitRegressor``)."""
    if hasattr(model, "predict_standardised"):
        return model.predict_standardised(x), model.standardise_targets(y)
    return model(x), y


def _tree_select(pred, on_true, on_false):
    """Leaf-wise ``where(pred, a, b)`` with ``pred`` of shape ``(M,)`` (or scalar) broadcast on leading axes."""
    def sel(a, b):
        p = jnp.reshape(pred, jnp.shape(pred) + (1,) * (jnp.ndim(a) - jnp.ndim(pred)))
        return jnp.where(p, a, b)
    return jax.tree.map(sel, on_true, on_false)


def _make_tx(optimiser: Optimiser, total) -> optax.GradientTransformation:
    return optimiser if isinstance(optimiser, optax.GradientTransformation) else optimiser(total)


def _single_step(graphdef, trainable_tx, loss: Loss, regulariser, params, rest, opt_state, x, y, mask, idx, valid):
    """One optimiser step of one model on rows ``idx`` of ``x, y, mask``; no-op when no row is ``valid``.
    Returns ``(params, opt_state, loss, took_step)``."""
    xb, yb = x[idx], y[idx]
    mb = mask[idx] & valid[:, None]

    def loss_fn(p):
        model = nnx.merge(graphdef, p, rest)
        pred, target = _outputs(model, xb, yb)
        value = loss(pred, target, mb)
        return value if regulariser is None else value + regulariser(model, xb)

    value, grads = jax.value_and_grad(loss_fn)(params)
    updates, new_opt = trainable_tx.update(grads, opt_state, params)
    new_params = optax.apply_updates(params, updates)
    take = jnp.any(valid)
    return _tree_select(take, new_params, params), _tree_select(take, new_opt, opt_state), value, take


def make_train_step(model: nnx.Module, tx: optax.GradientTransformation, trainable: Any = nnx.Param,
                    loss: Loss = masked_mse, regulariser: Callable[[nnx.Module, Array], Array] | None = None):
    """The compiled step of one model, as used (``vmap``-ped over models) inside :func:`fit_many`.

    **Returns:** ``(step, state, graphdef)`` where ``step(state, x, y, mask, idx, valid) -> (state, loss)``
    trains on rows ``idx`` (``(batch,)`` ints) of ``x (n, wl)``, ``y (n, k)`` (NaN filled), ``mask (n, k)``;
    rows with ``valid == False`` (padding) are ignored.  ``state = (params, rest, opt_state)`` with ``params``
    the ``trainable`` parameters; ``nnx.merge(graphdef, params, rest)`` gives the model back.
    """
    graphdef, params, rest = nnx.split(model, trainable, ...)
    params, rest = nnx.as_pure(params), nnx.as_pure(rest)
    state = (params, rest, tx.init(params))

    def step(state, x, y, mask, idx, valid):
        params, rest, opt_state = state
        params, opt_state, value, _ = _single_step(graphdef, tx, loss, regulariser, params, rest, opt_state,
                                                   x, y, mask, idx, valid)
        return (params, rest, opt_state), value

    return jax.jit(step), state, graphdef


@dataclasses.dataclass(frozen=True)
class _Loop:
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
def _train(cfg: _Loop, params, rest, x, y, mask, train_rows, n_train, val_rows, n_val, keys, totals, offsets):
    """Train ``M`` stacked models; see :func:`fit_many`.  Shapes: ``params``/``rest`` leaves ``(M, ...)``;
    ``x (P, wl)``, ``y``/``mask (P, k)`` the row pool; ``train_rows (M, S*B)``, ``val_rows (M, V)`` pool
    indices with valid counts ``n_train``/``n_val (M,)``; ``keys (M,)`` shuffling keys; ``totals (M,)`` step
    budgets; ``offsets (M,)`` epoch offsets of the shuffling keys."""
    m_models, width = train_rows.shape
    bs, n_steps = cfg.batch_size, cfg.steps_per_epoch

    def tx_of(total):
        return _make_tx(cfg.optimiser, cfg.uniform_total if cfg.uniform_total is not None else total)

    opt = jax.vmap(lambda p, t: tx_of(t).init(p))(params, totals)

    def step_one(p, r, o, t, idx, valid):
        return _single_step(cfg.graphdef, tx_of(t), cfg.loss, cfg.regulariser, p, r, o, x, y, mask, idx, valid)

    def val_one(p, r, rows, n):
        model = nnx.merge(cfg.graphdef, p, r)
        pred, target = _outputs(model, x[rows], y[rows])
        return cfg.loss(pred, target, mask[rows] & (jnp.arange(rows.shape[0]) < n)[:, None])

    positions = jnp.arange(width)

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
            return (params, opt, steps + took, loss_sum + jnp.where(took, value, 0.0), loss_n + took)

        zeros = jnp.zeros((m_models,), jnp.float32)
        params, opt, steps, loss_sum, loss_n = jax.lax.fori_loop(
            0, n_steps, step_body, (params, opt, steps, zeros, jnp.zeros((m_models,), jnp.int32)))
        ran = active
        hist_train = hist_train.at[:, epoch].set(jnp.where(ran, loss_sum / jnp.maximum(loss_n, 1), jnp.nan))
        epochs_run = jnp.where(ran, epoch + 1, epochs_run)
        if cfg.has_val:
            v = jax.vmap(val_one)(params, rest, val_rows, n_val)
            checks = ran & (n_val > 0)
            hist_val = hist_val.at[:, epoch].set(jnp.where(checks, v, jnp.nan))
            better = checks & (v < best_val)
            best_val = jnp.where(better, v, best_val)
            best_epoch = jnp.where(better, epoch, best_epoch)
            best_params = _tree_select(better, params, best_params)
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
        params = _tree_select(best_epoch >= 0, best_params, params)
    return params, steps, best_epoch, epochs_run, hist_train, hist_val


def _prepare(x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need X (n, wl) and Y (n, k) with the same n, got {x.shape} and {y.shape}")
    if len(x) == 0:
        raise ValueError("no rows to train or evaluate on")
    mask = np.isfinite(y)
    return x, np.where(mask, y, 0.0).astype(np.float32), mask


def _bucket(n: int, minimum: int = 8) -> int:
    """Next power of two ≥ ``n`` (≥ ``minimum``): padded sizes that let similar calls share a compilation."""
    return max(minimum, 1 << max(0, int(n) - 1).bit_length())


def _stack(trees):
    return jax.tree.map(lambda *a: jnp.stack(a), *trees)


def fit_many(models: nnx.Module | Sequence[nnx.Module], data: tuple | Sequence[tuple], *,
             rows: Sequence[np.ndarray] | None = None, validation: Sequence[tuple] | None = None,
             seeds: Sequence[int] | None = None, keys: Sequence[jax.Array] | None = None,
             loss: Loss = masked_mse, optimiser: Optimiser | None = None, trainable: Any = nnx.Param,
             regulariser: Callable[[nnx.Module, Array], Array] | None = None, epochs: int = 100,
             max_steps: int | None = None, batch_size: int = 64, val_fraction: float = 0.1,
             patience: int | None = 10, restore_best: bool = True, epoch_offset: int | Sequence[int] = 0,
             ) -> tuple[list[nnx.Module], list[FitHistory]]:
    """Train ``M`` independent copies of models of one structure, all at once (see :func:`fit` for the
    meaning of every training argument; each model is trained exactly as :func:`fit` would train it alone).

    **Arguments:**
    - ``models``: ``M`` models with the same graph structure (e.g. one network pre-trained on ``M`` different
      source sets), or a single model, trained ``M`` times from the same start.
    - ``data``: ``M`` tuples ``(X (n_i, wl), Y (n_i, k))``, NaN in ``Y`` marking missing targets; or, with
      ``rows``, one pool ``(X (P, wl), Y (P, k))`` and ``rows``: ``M`` index arrays into it (no copies).
    - ``validation``: ``M`` explicit ``(X, Y)`` validation sets; else ``val_fraction`` of each training set.
    - ``seeds`` or ``keys``: one per model (default: seed 0 for all) — validation split and shuffling.
    - ``epoch_offset``: per model (or one for all), shifts the shuffling keys (for a continued fit).

    **Returns:** ``(trained models, histories)``, both of length ``M``, in input order.  Inputs are not
    modified.  The models' parameters are stacked and the step is ``vmap``-ped over them, so memory grows
    with ``M`` × model size and ``M`` × batch activations.
    """
    if rows is not None:
        pool = _prepare(*data)
        row_sets = [np.asarray(r, dtype=np.int64) for r in rows]
        n_models = len(row_sets)
    else:
        data = list(data)
        n_models = len(data)
        prepared = [_prepare(*d) for d in data]
        if len({p[0].shape[1] for p in prepared}) > 1 or len({p[1].shape[1] for p in prepared}) > 1:
            raise ValueError("every data set of fit_many must have the same number of wavelengths and traits")
        starts = np.cumsum([0] + [len(p[0]) for p in prepared])
        pool = tuple(np.concatenate([p[i] for p in prepared]) for i in range(3))
        row_sets = [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])]
    if n_models == 0:
        return [], []
    if isinstance(models, nnx.Module):
        models = [models] * n_models
    models = list(models)
    if len(models) != n_models:
        raise ValueError(f"{len(models)} models for {n_models} data sets")
    if keys is None:
        seeds = [0] * n_models if seeds is None else list(seeds)
        if len(seeds) != n_models:
            raise ValueError(f"{len(seeds)} seeds for {n_models} models")
        keys = [jax.random.key(int(s)) for s in seeds]
    elif len(keys) != n_models:
        raise ValueError(f"{len(keys)} keys for {n_models} models")
    if validation is not None and len(validation) != n_models:
        raise ValueError(f"{len(validation)} validation sets for {n_models} models")
    offsets = np.broadcast_to(np.asarray(epoch_offset, dtype=np.int32), (n_models,))
    x, y, mask = pool

    # validation: explicit sets appended to the pool, or a seeded split of each model's rows
    train_sets, val_sets, shuffle_keys, out_val = [], [], [], []
    extra = []
    offset = len(x)
    for i, (rset, key) in enumerate(zip(row_sets, keys)):
        split_key, shuffle_key = jax.random.split(key)
        shuffle_keys.append(shuffle_key)
        n = len(rset)
        if n == 0:
            raise ValueError(f"model {i}: no rows to train on")
        if validation is not None:
            xv, yv, mv = _prepare(*validation[i])
            extra.append((xv, yv, mv))
            train_sets.append(np.arange(n))
            val_sets.append(np.arange(offset, offset + len(xv)))
            offset += len(xv)
            out_val.append(None)
        else:
            n_val = min(max(int(round(val_fraction * n)), 1), n - 1) if n >= 2 and val_fraction > 0 else 0
            perm = np.asarray(jax.random.permutation(split_key, n))
            train_sets.append(np.sort(perm[n_val:]))
            val_sets.append(np.sort(perm[:n_val]))
            out_val.append(val_sets[-1])
    if extra:
        x, y, mask = (np.concatenate([a, *(e[j] for e in extra)]) for j, a in enumerate((x, y, mask)))
    train_pool = [rset[t] for rset, t in zip(row_sets, train_sets)]
    val_pool = [v if validation is not None else rset[v] for rset, v in zip(row_sets, val_sets)]

    n_train = np.array([len(t) for t in train_pool])
    n_val = np.array([len(v) for v in val_pool])
    bs = int(min(batch_size, n_train.max()))
    steps_per = -(-n_train // bs)
    n_steps = int(steps_per.max())
    totals = epochs * steps_per if max_steps is None else np.minimum(max_steps, epochs * steps_per)
    width = n_steps * bs
    v_width = _bucket(n_val.max(), 1) if n_val.max() > 0 else 1
    train_rows = np.zeros((n_models, width), np.int32)
    val_rows = np.zeros((n_models, v_width), np.int32)
    for i, (t, v) in enumerate(zip(train_pool, val_pool)):
        train_rows[i, :len(t)] = t
        val_rows[i, :len(v)] = v

    graphdefs, params, rests = zip(*(nnx.split(m, trainable, ...) for m in models))
    if any(g != graphdefs[0] for g in graphdefs[1:]):
        raise ValueError("fit_many needs models of one structure (same network, sizes and wrappers)")
    opt = default_optimiser() if optimiser is None else optimiser
    cfg = _Loop(graphdefs[0], trainable, opt, loss, regulariser, bs, n_steps, int(epochs),
                -1 if patience is None else int(patience), bool(restore_best), bool(n_val.max() > 0),
                int(totals[0]) if np.all(totals == totals[0]) else None)
    p_stack = _stack([nnx.as_pure(p) for p in params])
    r_stack = _stack([nnx.as_pure(r) for r in rests])
    p_out, steps, best_epoch, epochs_run, hist_train, hist_val = _train(
        cfg, p_stack, r_stack, jnp.asarray(x), jnp.asarray(y), jnp.asarray(mask), jnp.asarray(train_rows),
        jnp.asarray(n_train, jnp.int32), jnp.asarray(val_rows), jnp.asarray(n_val, jnp.int32),
        jnp.stack(shuffle_keys), jnp.asarray(totals, jnp.int32), jnp.asarray(offsets))
    steps, best_epoch, epochs_run, hist_train, hist_val = jax.device_get(
        (steps, best_epoch, epochs_run, hist_train, hist_val))
    trained, histories = [], []
    for i in range(n_models):
        p_i = jax.tree.map(lambda a: a[i], p_out)
        trained.append(nnx.merge(graphdefs[0], p_i, nnx.as_pure(rests[i])))
        e = int(epochs_run[i])
        histories.append(FitHistory(
            train_loss=[float(v) for v in hist_train[i, :e]],
            val_loss=[float(v) for v in hist_val[i, :e]] if n_val[i] > 0 else [],
            best_epoch=int(best_epoch[i]), epochs_run=e, steps=int(steps[i]),
            train_indices=train_sets[i], val_indices=out_val[i]))
    return trained, histories


def fit(model: nnx.Module, data: tuple, *, loss: Loss = masked_mse, optimiser: Optimiser | None = None,
        trainable: Any = nnx.Param, regulariser: Callable[[nnx.Module, Array], Array] | None = None,
        epochs: int = 100, max_steps: int | None = None, batch_size: int = 64,
        val_fraction: float = 0.1, validation: tuple | None = None, patience: int | None = 10,
        restore_best: bool = True, seed: int = 0, key: jax.Array | None = None, epoch_offset: int = 0,
        ) -> tuple[nnx.Module, FitHistory]:
    """Train a copy of ``model`` on ``data = (X (n, wl), Y (n, k))``; NaN in ``Y`` marks missing targets.

    **Arguments:**
    - ``loss``: ``loss(pred, target, mask) -> scalar`` in the model's standardised target space.
    - ``optimiser``: an optax transformation, or a function of the total number of steps returning one
      (default :func:`default_optimiser`; when models with different budgets train together in
      :func:`fit_many` the function receives a traced integer, so write it with ``jnp``).
    - ``trainable``: an ``nnx`` filter of the parameters to train (see :mod:`leafjax.transfer._filters`);
      all other state is returned bit-identical.
    - ``regulariser``: optional ``regulariser(model, x_batch) -> scalar`` added to the training loss (not to
      the validation loss), e.g. ``lambda m, x: 1e-3 * m.net.mask_entropy(m.standardise_inputs(x))`` for TabNet.
    - ``epochs`` / ``max_steps``: budget; ``batch_size`` (the last batch of an epoch is padded and masked, so
      every step has the same shape).
    - ``validation``: explicit ``(X, Y)``; else ``val_fraction`` of ``data`` is held out (none if ``n < 2``).
      ``patience``: epochs without validation improvement before stopping (``None``: never);
      ``restore_best``: return the parameters of the best validation epoch.
    - ``seed`` or ``key``: the split and the shuffling derive from it; ``epoch_offset`` shifts the shuffling
      keys (for a continued fit).  The input ``model`` is not modified.

    **Returns:** ``(trained model, FitHistory)``.  Deterministic given the seed and the model.  The whole run
    (all epochs, early stopping included) is one compiled call; equal settings and sizes reuse it.
    """
    models, histories = fit_many(
        [model], [data], validation=None if validation is None else [validation],
        seeds=None if key is not None else [seed], keys=None if key is None else [key], loss=loss,
        optimiser=optimiser, trainable=trainable, regulariser=regulariser, epochs=epochs, max_steps=max_steps,
        batch_size=batch_size, val_fraction=val_fraction, patience=patience, restore_best=restore_best,
        epoch_offset=epoch_offset)
    return models[0], histories[0]


@functools.partial(jax.jit, static_argnums=0)
def _forward(graphdef, state, x):
    return nnx.merge(graphdef, state)(x)


def predict(model: nnx.Module, x, *, batch_size: int = 1024) -> np.ndarray:
    """Predictions of ``model`` for spectra ``x (n, wl)`` (trait units for a ``TraitRegressor``), computed in
    fixed-size batches (the last one padded; sizes bucketed to powers of two so that calls share a
    compilation).  Returns a float64 ``(n, k)`` array."""
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    graphdef, state = nnx.split(model)
    state = nnx.as_pure(state)
    if n == 0:
        return np.zeros((0, int(jax.eval_shape(lambda s: _forward(graphdef, s, jnp.zeros((1, x.shape[1]))),
                                                state).shape[1])))
    bs = min(batch_size, _bucket(n))
    padded = np.concatenate([x, np.repeat(x[-1:], (-n) % bs, axis=0)])
    out = [np.asarray(_forward(graphdef, state, padded[i:i + bs])) for i in range(0, len(padded), bs)]
    return np.concatenate(out)[:n].astype(np.float64)


def evaluate(model, data: tuple, loss: Loss = masked_mse) -> float:
    """Loss of ``model`` on ``data = (X, Y)`` (NaN targets masked), in the loss space of :func:`fit`."""
    x, y, mask = _prepare(*data)
    graphdef, state = nnx.split(model)

    @jax.jit
    def value(state, x, y, mask):
        pred, target = _outputs(nnx.merge(graphdef, state), x, y)
        return loss(pred, target, mask)

    return float(value(nnx.as_pure(state), x, y, mask))
