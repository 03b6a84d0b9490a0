"""THE training loop: one jit-compiled step and one epoch loop for every network, strategy and fine-tuning.

What trains is a parameter filter (``trainable``); everything else in the model is left bit-identical.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jaxtyping import Array, Bool, Float

Loss = Callable[[Array, Array, Array], Array]


def masked_mse(pred: Float[Array, "batch k"], target: Float[Array, "batch k"],
               mask: Bool[Array, "batch k"]) -> Float[Array, ""]:
    r"""Mean squared error over the observed entries only:
    :math:`\sum_{ij} m_{ij} (\hat y_{ij} - y_{ij})^2 / \max(1, \sum_{ij} m_{ij})`.

    Unobserved entries (``mask == False``; NaN targets) contribute neither value nor gradient.
    """
    err = jnp.where(mask, pred - jnp.where(mask, target, 0.0), 0.0)
    return jnp.sum(err * err) / jnp.maximum(jnp.sum(mask), 1).astype(err.dtype)


def default_optimiser(learning_rate: float = 1e-3, weight_decay: float = 1e-4, warmup_fraction: float = 0.05
                      ) -> Callable[[int], optax.GradientTransformation]:
    """AdamW with linear warm-up and cosine decay to 1 % (a function of the total number of steps)."""

    def make(total_steps: int) -> optax.GradientTransformation:
        warmup = max(1, int(warmup_fraction * total_steps))
        schedule = optax.warmup_cosine_decay_schedule(0.0, learning_rate, warmup, max(total_steps, warmup + 1),
                                                      end_value=0.01 * learning_rate)
        return optax.adamw(schedule, weight_decay=weight_decay)

    return make


@dataclasses.dataclass
class FitHistory:
    """What :func:`fit` did. ``train_indices``/``val_indices`` index the rows of the ``data`` it was given
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


def make_train_step(model: nnx.Module, tx: optax.GradientTransformation, trainable: Any = nnx.Param,
                    loss: Loss = masked_mse, regulariser: Callable[[nnx.Module, Array], Array] | None = None):
    """Build the jit-compiled training step.

    **Returns:** ``(step, state, graphdef)`` where ``step(state, x, y, mask, idx, valid) -> (state, loss)``
    trains on rows ``idx`` (``(batch,)`` ints) of the device arrays ``x (n, wl)``, ``y (n, k)`` (NaN filled),
    ``mask (n, k)``; rows with ``valid == False`` (padding) are ignored.  ``state`` is the ``nnx.State`` of
    ``(model, nnx.Optimizer(model, tx, wrt=trainable))``; ``nnx.merge(graphdef, state)`` gives them back.
    Only parameters matching ``trainable`` receive gradients or updates.  ``regulariser(model, xb)``, if
    given, is added to the loss (e.g. TabNet's mask entropy).
    """
    optimizer = nnx.Optimizer(model, tx, wrt=trainable)
    graphdef, state = nnx.split((model, optimizer))

    def step(state, x, y, mask, idx, valid):
        model, optimizer = nnx.merge(graphdef, state)
        xb, yb = x[idx], y[idx]
        mb = mask[idx] & valid[:, None]

        def loss_fn(m):
            pred, target = _outputs(m, xb, yb)
            value = loss(pred, target, mb)
            return value if regulariser is None else value + regulariser(m, xb)

        value, grads = nnx.value_and_grad(loss_fn, argnums=nnx.DiffState(0, trainable))(model)
        optimizer.update(model, grads)
        return nnx.state((model, optimizer)), value

    return jax.jit(step), state, graphdef


def _prepare(x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need X (n, wl) and Y (n, k) with the same n, got {x.shape} and {y.shape}")
    if len(x) == 0:
        raise ValueError("no rows to train or evaluate on")
    mask = np.isfinite(y)
    return x, np.where(mask, y, 0.0).astype(np.float32), mask


def predict(model: nnx.Module, x, *, batch_size: int = 1024) -> np.ndarray:
    """Predictions of ``model`` for spectra ``x (n, wl)`` (trait units for a ``TraitRegressor``), computed in
    fixed-size batches (the last one padded) by one compiled function.  Returns a float64 ``(n, k)`` array."""
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    bs = max(1, min(batch_size, n))
    padded = np.concatenate([x, np.repeat(x[-1:], (-n) % bs, axis=0)]) if n else x
    graphdef, state = nnx.split(model)
    forward = jax.jit(lambda state, xb: nnx.merge(graphdef, state)(xb))
    out = [np.asarray(forward(state, padded[i:i + bs])) for i in range(0, len(padded), bs)]
    return np.concatenate(out)[:n].astype(np.float64)


def evaluate(model, data: tuple, loss: Loss = masked_mse) -> float:
    """Loss of ``model`` on ``data = (X, Y)`` (NaN targets masked), in the loss space of :func:`fit`."""
    x, y, mask = _prepare(*data)
    graphdef, state = nnx.split(model)

    @jax.jit
    def value(state, x, y, mask):
        pred, target = _outputs(nnx.merge(graphdef, state), x, y)
        return loss(pred, target, mask)

    return float(value(state, x, y, mask))


def fit(model: nnx.Module, data: tuple, *, loss: Loss = masked_mse,
        optimiser: optax.GradientTransformation | Callable[[int], optax.GradientTransformation] | None = None,
        trainable: Any = nnx.Param, regulariser: Callable[[nnx.Module, Array], Array] | None = None,
        epochs: int = 100, max_steps: int | None = None, batch_size: int = 64,
        val_fraction: float = 0.1, validation: tuple | None = None, patience: int | None = 10,
        restore_best: bool = True, seed: int = 0, key: jax.Array | None = None, epoch_offset: int = 0,
        ) -> tuple[nnx.Module, FitHistory]:
    """Train a copy of ``model`` on ``data = (X (n, wl), Y (n, k))``; NaN in ``Y`` marks missing targets.

    **Arguments:**
    - ``loss``: ``loss(pred, target, mask) -> scalar`` in the model's standardised target space.
    - ``optimiser``: an optax transformation, or a function of the total number of steps returning one
      (default :func:`default_optimiser`).
    - ``trainable``: an ``nnx`` filter of the parameters to train (see :mod:`leafjax.transfer._filters`);
      all other state is returned bit-identical.
    - ``regulariser``: optional ``regulariser(model, x_batch) -> scalar`` added to the training loss (not to
      the validation loss), e.g. ``lambda m, x: 1e-3 * m.net.mask_entropy(m.standardise_inputs(x))`` for TabNet.
    - ``epochs`` / ``max_steps``: budget; ``batch_size`` (the last batch of an epoch is padded and masked, so
      every step has the same shape and compiles once).
    - ``validation``: explicit ``(X, Y)``; else ``val_fraction`` of ``data`` is held out (none if ``n < 2``).
      ``patience``: epochs without validation improvement before stopping (``None``: never);
      ``restore_best``: return the parameters of the best validation epoch.
    - ``seed`` or ``key``: the split and the shuffling derive from it; ``epoch_offset`` shifts the shuffling
      keys (for a continued fit).  The input ``model`` is not modified.

    **Returns:** ``(trained model, FitHistory)``.  Deterministic given the seed and the model.
    """
    model = nnx.clone(model)
    x, y, mask = _prepare(*data)
    n = len(x)
    key = jax.random.key(seed) if key is None else key
    split_key, shuffle_key = jax.random.split(key)
    if validation is not None:
        train_idx, val_idx = np.arange(n), None
        xv, yv, mv = _prepare(*validation)
    else:
        n_val = min(max(int(round(val_fraction * n)), 1), n - 1) if n >= 2 and val_fraction > 0 else 0
        perm = np.asarray(jax.random.permutation(split_key, n))
        train_idx, val_idx = np.sort(perm[n_val:]), np.sort(perm[:n_val])
        xv, yv, mv = x[val_idx], y[val_idx], mask[val_idx]
    has_val = len(xv) > 0
    n_train = len(train_idx)
    bs = min(batch_size, n_train)
    steps_per_epoch = -(-n_train // bs)
    total = epochs * steps_per_epoch if max_steps is None else min(max_steps, epochs * steps_per_epoch)
    opt = default_optimiser() if optimiser is None else optimiser
    tx = opt if isinstance(opt, optax.GradientTransformation) else opt(total)

    step, state, graphdef = make_train_step(model, tx, trainable, loss, regulariser)
    xd, yd, md = (jnp.asarray(a) for a in (x[train_idx], y[train_idx], mask[train_idx]))
    xvd, yvd, mvd = jnp.asarray(xv), jnp.asarray(yv), jnp.asarray(mv)

    @jax.jit
    def val_loss_fn(state):
        m, _ = nnx.merge(graphdef, state)
        pred, target = _outputs(m, xvd, yvd)
        return loss(pred, target, mvd)

    history = FitHistory([], [], -1, 0, 0, train_idx, val_idx)
    best, best_state, waited = np.inf, None, 0
    for epoch in range(epochs):
        if history.steps >= total:
            break
        perm = np.asarray(jax.random.permutation(jax.random.fold_in(shuffle_key, epoch + epoch_offset), n_train))
        padded = np.zeros(steps_per_epoch * bs, dtype=np.int32)
        padded[:n_train] = perm
        valid = np.arange(steps_per_epoch * bs) < n_train
        losses = []
        for s in range(steps_per_epoch):
            if history.steps >= total:
                break
            sl = slice(s * bs, (s + 1) * bs)
            state, value = step(state, xd, yd, md, jnp.asarray(padded[sl]), jnp.asarray(valid[sl]))
            losses.append(value)
            history.steps += 1
        history.train_loss.append(float(np.mean(jax.device_get(losses))))
        history.epochs_run = epoch + 1
        if not has_val:
            continue
        v = float(val_loss_fn(state))
        history.val_loss.append(v)
        if v < best:
            best, history.best_epoch, waited = v, epoch, 0
            best_state = jax.tree.map(jnp.copy, state)
        else:
            waited += 1
            if patience is not None and waited >= patience:
                break
    if restore_best and best_state is not None:
        state = best_state
    trained, _ = nnx.merge(graphdef, state)
    return trained, history
