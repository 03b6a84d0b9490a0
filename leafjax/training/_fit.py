"""THE training loop's entry points: :func:`fit` trains one model, :func:`fit_many` ``M`` models at once.

Both take a *pytree batch* with a leading sample axis (``{"x": (n, wl), "y": (n, k)}``, ``{"image": (n, c, h,
w), "target": (n, h, w), "mask": (n, h, w)}``, …) and a loss ``loss(model, batch, mask) -> scalar`` with
``mask (batch,)`` marking the real sample rows (the others are padding), or the tabular form ``(X (n, wl),
Y (n, k))`` with a point-wise loss (default :func:`~leafjax.training.masked_mse` on standardised traits).

:func:`fit_many` trains ``M`` models of the same structure (each with its own data, validation split,
shuffling key, schedule and early stopping) in one ``jax.jit``-compiled ``while_loop`` over epochs
(:mod:`leafjax.training._loop`): the training runs of a leave-one-dataset-out experiment (held-out datasets ×
seeds × target-sample sizes) share every step, which keeps an accelerator busy with small networks.
What trains is a parameter filter (``trainable``); everything else in the model is returned bit-identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ._batching import as_batch, bucket, concat, is_tabular, n_rows, row_table, split_rows, stack
from ._history import FitHistory, histories
from ._losses import Loss, PointwiseLoss, TabularLoss, TabularRegulariser, masked_mse
from ._loop import LoopConfig, Regulariser, make_train_step, train, train_host
from ._predict import evaluate, predict
from ._schedules import AdamWCosine, Optimiser, default_optimiser

# names that lived in this module before the split, kept importable from it
__all__ = ["AdamWCosine", "FitHistory", "default_optimiser", "evaluate", "fit", "fit_many", "make_train_step",
           "masked_mse", "predict"]


def _losses(tabular: bool, loss, regulariser):
    """The batch-form loss and regulariser of a fit (the tabular form's point-wise ones wrapped)."""
    if tabular:
        return (TabularLoss(masked_mse if loss is None else loss),
                None if regulariser is None else TabularRegulariser(regulariser))
    if loss is None:
        raise ValueError("training on a pytree batch needs loss(model, batch, mask) -> scalar")
    return loss, regulariser


def _pool(data, rows):
    """``(tabular, pool, row_sets)``: the data of every model as one batch and each model's rows in it."""
    if rows is not None:
        return is_tabular(data), as_batch(data), [np.asarray(r, dtype=np.int64) for r in rows]
    data = list(data)
    forms = {is_tabular(d) for d in data}
    if len(forms) > 1:
        raise ValueError("fit_many data sets must all be (X, Y) tuples or all pytree batches")
    tabular = forms.pop() if forms else True
    batches = [as_batch(d) for d in data]
    if not batches:
        return tabular, None, []
    if tabular and (len({b["x"].shape[1] for b in batches}) > 1 or len({b["y"].shape[1] for b in batches}) > 1):
        raise ValueError("every data set of fit_many must have the same number of wavelengths and traits")
    starts = np.cumsum([0] + [n_rows(b) for b in batches])
    return tabular, concat(batches), [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])]


#: Training-loop drivers of :func:`fit_many`.
LOOPS: tuple[str, ...] = ("auto", "compiled", "host")


def _host_loop(loop: str, model: nnx.Module) -> bool:
    """Whether :func:`fit_many` drives the loop from the host (``loop``: one of :data:`LOOPS`)."""
    if loop not in LOOPS:
        raise ValueError(f"unknown loop {loop!r}; known: {', '.join(LOOPS)}")
    if loop != "auto":
        return loop == "host"
    return jax.default_backend() == "cpu" and any(isinstance(m, nnx.Conv) for _, m in nnx.iter_modules(model))


def fit_many(models: nnx.Module | Sequence[nnx.Module], data: Any, *,
             rows: Sequence[np.ndarray] | None = None, validation: Sequence[Any] | None = None,
             seeds: Sequence[int] | None = None, keys: Sequence[jax.Array] | None = None,
             loss: Loss | PointwiseLoss | None = None, optimiser: Optimiser | None = None,
             trainable: Any = nnx.Param, regulariser: Regulariser | None = None, epochs: int = 100,
             max_steps: int | None = None, batch_size: int = 64, val_fraction: float = 0.1,
             patience: int | None = 10, restore_best: bool = True, epoch_offset: int | Sequence[int] | np.ndarray = 0,
             loop: str = "auto") -> tuple[list[nnx.Module], list[FitHistory]]:
    """Train ``M`` independent copies of models of one structure, all at once (see :func:`fit` for the
    meaning of every training argument; each model is trained exactly as :func:`fit` would train it alone).

    **Arguments:**
    - ``models``: ``M`` models with the same graph structure (e.g. one network pre-trained on ``M`` different
      source sets), or a single model, trained ``M`` times from the same start.
    - ``data``: ``M`` data sets, each a pytree batch (leaves ``(n_i, ...)``, one structure and equal trailing
      shapes for all) or each a tabular ``(X (n_i, wl), Y (n_i, k))``, NaN in ``Y`` marking missing targets;
      or, with ``rows``, one pool (a batch with leaves ``(P, ...)`` or ``(X (P, wl), Y (P, k))``) and
      ``rows``: ``M`` index arrays into it (no copies).
    - ``validation``: ``M`` explicit validation sets of the same form; else ``val_fraction`` of each set.
    - ``seeds`` or ``keys``: one per model (default: seed 0 for all) — validation split and shuffling.
    - ``epoch_offset``: per model (or one for all), shifts the shuffling keys (for a continued fit).
    - ``loop``: ``"compiled"`` (the whole run one compiled program), ``"host"`` (epochs and steps driven from the
      host, one compiled call per step: the same results), or ``"auto"``: ``"host"`` for convolutional models on
      CPU, where a convolution inside a compiled loop runs several times slower (:func:`_loop.train_host`),
      else ``"compiled"``.

    **Returns:** ``(trained models, histories)``, both of length ``M``, in input order.  Inputs are not
    modified.  The models' parameters are stacked and the step is ``vmap``-ped over them, so memory grows
    with ``M`` × model size and ``M`` × batch activations.
    """
    tabular, pool, row_sets = _pool(data, rows)
    n_models = len(row_sets)
    if n_models == 0:
        return [], []
    loss, regulariser = _losses(tabular, loss, regulariser)
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

    # validation: explicit sets appended to the pool, or a seeded split of each model's rows
    val_starts = val_sizes = None
    if validation is not None:
        if any(is_tabular(v) != tabular for v in validation):
            raise ValueError("validation sets must have the form of the training data ((X, Y) or pytree batch)")
        val_batches = [as_batch(v) for v in validation]
        val_sizes = [n_rows(v) for v in val_batches]
        val_starts = list(n_rows(pool) + np.cumsum([0] + val_sizes[:-1]))
        pool = concat([pool, *val_batches])
    train_pool, val_pool, train_sets, val_sets, shuffle_keys = split_rows(
        row_sets, keys, val_fraction, val_starts, val_sizes)

    n_train = np.array([len(t) for t in train_pool])
    n_val = np.array([len(v) for v in val_pool])
    bs = int(min(batch_size, n_train.max()))
    steps_per = -(-n_train // bs)
    n_steps = int(steps_per.max())
    totals = epochs * steps_per if max_steps is None else np.minimum(max_steps, epochs * steps_per)
    train_rows = row_table(train_pool, n_steps * bs)
    val_rows = row_table(val_pool, bucket(n_val.max(), 1) if n_val.max() > 0 else 1)

    graphdefs, params, rests = zip(*(nnx.split(m, trainable, ...) for m in models))
    if any(g != graphdefs[0] for g in graphdefs[1:]):
        raise ValueError("fit_many needs models of one structure (same network, sizes and wrappers)")
    cfg = LoopConfig(graphdefs[0], trainable, default_optimiser() if optimiser is None else optimiser, loss,
                     regulariser, bs, n_steps, int(epochs), -1 if patience is None else int(patience),
                     bool(restore_best), bool(n_val.max() > 0),
                     int(totals[0]) if np.all(totals == totals[0]) else None)
    driver = train_host if _host_loop(loop, models[0]) else train
    p_out, *counters = driver(
        cfg, stack([nnx.as_pure(p) for p in params]), stack([nnx.as_pure(r) for r in rests]),
        jax.tree.map(jnp.asarray, pool), jnp.asarray(train_rows), jnp.asarray(n_train, jnp.int32),
        jnp.asarray(val_rows), jnp.asarray(n_val, jnp.int32), jnp.stack(shuffle_keys),
        jnp.asarray(totals, jnp.int32), jnp.asarray(offsets))
    steps, best_epoch, epochs_run, hist_train, hist_val = jax.device_get(counters)
    trained = [nnx.merge(graphdefs[0], jax.tree.map(lambda a: a[i], p_out), nnx.as_pure(rests[i]))
               for i in range(n_models)]
    return trained, histories(steps, best_epoch, epochs_run, hist_train, hist_val, n_val, train_sets, val_sets)


def fit(model: nnx.Module, data: Any, *, loss: Loss | PointwiseLoss | None = None,
        optimiser: Optimiser | None = None, trainable: Any = nnx.Param, regulariser: Regulariser | None = None,
        epochs: int = 100, max_steps: int | None = None, batch_size: int = 64,
        val_fraction: float = 0.1, validation: Any | None = None, patience: int | None = 10,
        restore_best: bool = True, seed: int = 0, key: jax.Array | None = None, epoch_offset: int = 0,
        loop: str = "auto") -> tuple[nnx.Module, FitHistory]:
    """Train a copy of ``model`` on ``data``.

    **Arguments:**
    - ``data``: a pytree batch whose leaves share the leading sample axis ``n`` (e.g. ``{"image": (n, c, h,
      w), "target": (n, h, w), "mask": (n, h, w)}``), or the tabular form ``(X (n, wl), Y (n, k))`` (a plain
      2-tuple; NaN in ``Y`` marks missing targets), trained as the batch ``{"x", "y", "mask"}`` of
      :func:`~leafjax.training.tabular_batch`.
    - ``loss``: for a batch, ``loss(model, batch, mask) -> scalar`` (required), with ``mask (batch,)`` False
      on padding rows, which must get neither value nor gradient (combine it with a pixel mask through
      :func:`~leafjax.training.rows_mask`); for the tabular form, ``loss(pred, target, mask)`` in the model's
      standardised target space (default :func:`~leafjax.training.masked_mse`).
    - ``optimiser``: an optax transformation, or a function of the total number of steps returning one
      (default :func:`default_optimiser`; when models with different budgets train together in
      :func:`fit_many` the function receives a traced integer, so write it with ``jnp``).
    - ``trainable``: an ``nnx`` filter of the parameters to train (see :mod:`leafjax.transfer._filters`);
      all other state is returned bit-identical.
    - ``regulariser``: added to the training loss (not to the validation loss): for a batch
      ``regulariser(model, batch, mask) -> scalar``; for the tabular form ``regulariser(model, x_batch)``,
      e.g. ``lambda m, x: 1e-3 * m.net.mask_entropy(m.standardise_inputs(x))`` for TabNet.
    - ``epochs`` / ``max_steps``: budget; ``batch_size`` (the last batch of an epoch is padded and masked, so
      every step has the same shape).
    - ``validation``: an explicit validation set of the form of ``data``; else ``val_fraction`` of ``data``
      is held out (none if ``n < 2``).  ``patience``: epochs without validation improvement before stopping
      (``None``: never); ``restore_best``: return the parameters of the best validation epoch.
    - ``seed`` or ``key``: the split and the shuffling derive from it; ``epoch_offset`` shifts the shuffling
      keys (for a continued fit); ``loop``: the driver (see :func:`fit_many`).  The input ``model`` is not modified.

    **Returns:** ``(trained model, FitHistory)``.  Deterministic given the seed and the model.  The whole run
    (all epochs, early stopping included) is one compiled call; equal settings and sizes reuse it.

    Example:
        >>> import numpy as np, optax
        >>> from flax import nnx
        >>> from leafjax.networks import make_regressor
        >>> x = np.random.default_rng(0).random((32, 10)); y = x[:, :2] * 3.0
        >>> model = make_regressor("glm", x, y, rngs=nnx.Rngs(0))
        >>> trained, history = fit(model, (x, y), optimiser=optax.adam(1e-2), epochs=3, batch_size=8)
        >>> history.epochs_run, history.steps, len(history.train_indices)
        (3, 12, 29)
    """
    models, hists = fit_many(
        [model], [data], validation=None if validation is None else [validation],
        seeds=None if key is not None else [seed], keys=None if key is None else [key], loss=loss,
        optimiser=optimiser, trainable=trainable, regulariser=regulariser, epochs=epochs, max_steps=max_steps,
        batch_size=batch_size, val_fraction=val_fraction, patience=patience, restore_best=restore_best, loop=loop,
        epoch_offset=epoch_offset)
    return models[0], hists[0]
