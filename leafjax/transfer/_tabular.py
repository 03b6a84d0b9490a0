"""Pre-train → fine-tune → predict on plain feature arrays, many seeds at once (e.g. LST from thermal features).

The three stages of strategic fine-tuning transfer learning (Heidarian et al. 2025, Remote Sensing 17:3803):
pre-train a network on a large simulation (:func:`pretrain_many`), fine-tune it on the labelled rows of a
source region with every fine-tuning method (:func:`finetune_grid`), predict another region
(:func:`predict_many`); and their baseline, training from scratch on the source region (:func:`direct_many`).
Each stage is one batched call of the shared loop (:func:`~leafjax.training.fit_many`,
:func:`~leafjax.transfer.finetune_many`) over the seeds; nothing here trains on its own.

Defaults (:data:`LST_NETWORKS`, :data:`PRETRAIN_FIT`, :data:`FINETUNE_FIT`, :data:`DIRECT_FIT`) are sized for
about a dozen features and a 2-core CPU; every one can be overridden by keyword.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from flax import nnx

from ..networks import TraitRegressor, make_regressor
from ..training import AdamWCosine, FitHistory, fit_many, predict
from ._finetune import FINETUNE_METHODS, finetune_many

#: Default size kwargs of the three networks for tabular LST features (k ≈ 12), by registry name:
#: ``dnn``: plain MLP, 3 hidden layers × 64 ReLU units (~9k parameters); ``transformer``: one token per
#: feature (``patch_size=1``), d = 32, 4 heads, 2 pre-norm encoder blocks (~17k parameters); ``cnn``: 1-D
#: convolutions over the feature vector, channels 16 → 32 → 32, kernel 3, pooling by 2 in each of the two
#: blocks (12 → 6 → 3 positions), a 64-unit head (~11k parameters).
LST_NETWORKS: dict[str, dict[str, Any]] = {
    "dnn": {"width": 64, "depth": 3, "activation": "relu"},
    "transformer": {"patch_size": 1, "d": 32, "num_heads": 4, "n_blocks": 2, "mlp_ratio": 2},
    "cnn": {"channels": (16, 32, 32), "kernel_size": 3, "pool": 2, "head_hidden": 64},
}

#: Pre-training on ~10⁵ simulated rows: large batches, few epochs, early stopping on a 5 % validation split.
PRETRAIN_FIT: dict[str, Any] = {"epochs": 20, "batch_size": 512, "patience": 4, "val_fraction": 0.05,
                                "optimiser": AdamWCosine(learning_rate=2e-3)}
#: Fine-tuning on ~10²–10³ source-region rows (per stage, for gradual unfreezing): a lower learning rate.
FINETUNE_FIT: dict[str, Any] = {"epochs": 100, "batch_size": 32, "patience": 15, "val_fraction": 0.2,
                                "optimiser": AdamWCosine(learning_rate=5e-4)}
#: Direct training from scratch on the source-region rows (the paper's baseline).
DIRECT_FIT: dict[str, Any] = {"epochs": 200, "batch_size": 32, "patience": 20, "val_fraction": 0.2,
                              "optimiser": AdamWCosine(learning_rate=1e-3)}


def network_kwargs_for(network: str, network_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The size kwargs of ``network``: :data:`LST_NETWORKS`' defaults (if it has an entry) updated with
    ``network_kwargs``."""
    return {**LST_NETWORKS.get(network, {}), **dict(network_kwargs or {})}


def _xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    """``(X (n, k) float64, Y (n, t) float64)``; ``y`` may be ``(n,)``.  One-line ``ValueError`` on bad input."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need X (n, k) and y (n,) or (n, t) with the same n, got {x.shape} and {y.shape}")
    if len(x) == 0:
        raise ValueError("no rows to train on")
    if not np.all(np.isfinite(x)):
        raise ValueError("features X contain NaN/inf")
    return x, y


def _seeds(seeds: Sequence[int] | int) -> list[int]:
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if not seeds:
        raise ValueError("need at least one seed")
    return seeds


def _from_scratch(network: str, x, y, seeds, network_kwargs, defaults: dict[str, Any], fit_kwargs: dict[str, Any],
                  with_histories: bool):
    x, y = _xy(x, y)
    seeds = _seeds(seeds)
    kwargs = network_kwargs_for(network, network_kwargs)
    models = [make_regressor(network, x, y, rngs=nnx.Rngs(s), **kwargs) for s in seeds]
    rows = [np.arange(len(x))] * len(seeds)  # one pool, every model on all rows: no copies
    trained, histories = fit_many(models, (x, y), rows=rows, seeds=seeds, **{**defaults, **fit_kwargs})
    return (trained, histories) if with_histories else trained


def pretrain_many(network: str, x_sim, y_sim, seeds: Sequence[int] | int = 1, *,
                  network_kwargs: Mapping[str, Any] | None = None, with_histories: bool = False, **fit_kwargs
                  ) -> list[TraitRegressor] | tuple[list[TraitRegressor], list[FitHistory]]:
    """Pre-train one network per seed on simulated rows, all in one :func:`~leafjax.training.fit_many` call.

    **Arguments:**
    - ``network``: a :data:`~leafjax.networks.NETWORKS` name (``"dnn"``, ``"transformer"``, ``"cnn"``, …);
      sizes from :data:`LST_NETWORKS` updated by ``network_kwargs``.
    - ``x_sim (n, k)``: features (e.g. :func:`~leafjax.preprocessing.lst_features`), finite; ``y_sim (n,)`` or
      ``(n, t)``: targets in their units (K for LST; NaN = missing).
    - ``seeds``: one model per seed (or an int ``M``: seeds ``0 … M-1``); a seed fixes the initialisation,
      the validation split and the shuffling, so results are deterministic given it.
    - ``fit_kwargs``: for :func:`~leafjax.training.fit_many`, over :data:`PRETRAIN_FIT` (``epochs``,
      ``batch_size``, ``patience``, ``val_fraction``, ``optimiser``, …).

    **Returns:** ``M`` :class:`~leafjax.networks.TraitRegressor` (standardisation of inputs and targets from
    the simulation, kept by fine-tuning), with their :class:`~leafjax.training.FitHistory` if
    ``with_histories``.
    """
    return _from_scratch(network, x_sim, y_sim, seeds, network_kwargs, PRETRAIN_FIT, fit_kwargs, with_histories)


def direct_many(network: str, x_src, y_src, seeds: Sequence[int] | int = 1, *,
                network_kwargs: Mapping[str, Any] | None = None, with_histories: bool = False, **fit_kwargs
                ) -> list[TraitRegressor] | tuple[list[TraitRegressor], list[FitHistory]]:
    """Train from scratch on the source-region rows only (the paper's *direct training*), one model per seed
    in one :func:`~leafjax.training.fit_many` call; standardisation from the source rows.  Arguments as
    :func:`pretrain_many`, with :data:`DIRECT_FIT` as the default training settings."""
    return _from_scratch(network, x_src, y_src, seeds, network_kwargs, DIRECT_FIT, fit_kwargs, with_histories)


def finetune_grid(models: Sequence[nnx.Module], x_src, y_src, methods: Sequence[str] = FINETUNE_METHODS,
                  seeds: Sequence[int] | None = None, *, method_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
                  with_histories: bool = False, **fit_kwargs
                  ) -> dict[str, list[nnx.Module]] | tuple[dict[str, list[nnx.Module]], dict[str, list]]:
    """Fine-tune every pre-trained model on the source-region rows with every method.

    **Arguments:**
    - ``models``: ``M`` pre-trained models of one structure (e.g. from :func:`pretrain_many`); not modified.
    - ``x_src (n, k)``, ``y_src (n,)`` or ``(n, t)``: the labelled source-region rows (standardised with each
      model's simulation statistics).
    - ``methods``: names from :data:`~leafjax.transfer.FINETUNE_METHODS` (``full``, ``head``, ``gradual``,
      ``adapters``, ``lora``); each is one :func:`~leafjax.transfer.finetune_many` call over the ``M`` models
      (``gradual``: one call per unfreezing stage, each with the full epoch budget).
    - ``seeds``: one per model (default ``0 … M-1``, matching ``pretrain_many(..., seeds=M)``): validation split,
      shuffling and wrapper initialisation.
    - ``method_kwargs``: per method, kwargs of :func:`~leafjax.transfer.prepare_finetuning` (``lora_rank``,
      ``adapter_bottleneck``, ``n_stages``, ``train_head``).
    - ``fit_kwargs``: for the training loop, over :data:`FINETUNE_FIT`.

    **Returns:** ``{method: [M fine-tuned models]}`` (and ``{method: [M lists of per-stage histories]}`` if
    ``with_histories``).
    """
    x, y = _xy(x_src, y_src)
    models = list(models)
    if not models:
        raise ValueError("no models to fine-tune")
    seeds = list(range(len(models))) if seeds is None else _seeds(seeds)
    if len(seeds) != len(models):
        raise ValueError(f"{len(seeds)} seeds for {len(models)} models")
    unknown = [m for m in methods if m not in FINETUNE_METHODS]
    if unknown:
        raise ValueError(f"unknown fine-tuning methods {', '.join(unknown)}; known: {', '.join(FINETUNE_METHODS)}")
    settings = {**FINETUNE_FIT, **fit_kwargs}
    out, hists = {}, {}
    for method in methods:
        kw = dict((method_kwargs or {}).get(method, {}))
        out[method], hists[method] = finetune_many(models, [(x, y)] * len(models), method, seeds=seeds,
                                                   method_kwargs=kw, **settings)
    return (out, hists) if with_histories else out


def predict_many(models: Sequence[nnx.Module], x, *, batch_size: int = 4096) -> np.ndarray:
    """Predictions of ``M`` models on ``x (n, k)``: ``(M, n)`` float64 for single-output models (``(M, n, t)``
    otherwise), in the targets' units.  Models of one structure share one compiled forward pass."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"need features X (n, k), got shape {x.shape}")
    if not len(models):
        return np.zeros((0, len(x)))
    preds = np.stack([predict(m, x, batch_size=batch_size) for m in models])
    return preds[..., 0] if preds.shape[-1] == 1 else preds
