"""Fine-tuning methods, the same for every network (tabular or 2-D convolutional): a (possibly wrapped) model
plus a list of filters, trained by the one loop of :mod:`leafjax.training`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from flax import nnx

from ..networks.wrappers import apply_wrapper
from ..training import FitHistory, fit_many
from . import _filters as filters

#: Fine-tuning methods understood by :func:`prepare_finetuning` and :func:`finetune`.
FINETUNE_METHODS: tuple[str, ...] = ("full", "head", "gradual", "adapters", "lora")


def prepare_finetuning(model: nnx.Module, method: str = "full", *, seed: int = 0, lora_rank: int = 4,
                       lora_alpha: float = 8.0, adapter_bottleneck: int = 8, n_stages: int | None = None,
                       train_head: bool = True) -> tuple[nnx.Module, list[Any]]:
    """The model to fine-tune (wrapped with LoRA or adapters where the method needs it) and the list of
    ``trainable`` filters, one per stage (a single stage except for ``"gradual"``).

    ``"full"``: all parameters; ``"head"``: the head only; ``"gradual"``: head, then blocks from the last,
    then stem (:func:`~leafjax.transfer.filters.gradual_unfreezing`, ``n_stages``); ``"adapters"``:
    bottleneck adapters after the blocks (+ head if ``train_head``); ``"lora"``: rank-``lora_rank`` updates of
    every dense/conv kernel (+ head if ``train_head``).  Wrapper initialisation draws from ``seed``.
    """
    rngs = nnx.Rngs(seed)
    if method == "full":
        return model, [filters.full()]
    if method == "head":
        return model, [filters.head_only()]
    if method == "gradual":
        return model, filters.gradual_unfreezing(model, n_stages)
    if method == "adapters":
        model = apply_wrapper(model, {"kind": "adapters", "bottleneck": adapter_bottleneck}, rngs=rngs)
        return model, [filters.adapters(include_head=train_head)]
    if method == "lora":
        model = apply_wrapper(model, {"kind": "lora", "rank": lora_rank, "alpha": lora_alpha}, rngs=rngs)
        return model, [filters.lora(include_head=train_head)]
    raise ValueError(f"unknown fine-tuning method {method!r}; known: {', '.join(FINETUNE_METHODS)}")


def finetune_many(models: nnx.Module | Sequence[nnx.Module], data: Sequence[Any], method: str = "full", *,
                  seeds: Sequence[int] | None = None, method_kwargs: dict[str, Any] | None = None, **fit_kwargs
                  ) -> tuple[list[nnx.Module], list[list[FitHistory]]]:
    """Fine-tune ``M`` models of one structure (or one model ``M`` times) on ``M`` data sets at once, each as
    :func:`finetune` would alone: the same wrapping (seeded per model), the same stages, each stage one
    :func:`~leafjax.transfer.fit_many` call.  ``seeds``: one per model (default 0).  Returns the models and,
    per model, its list of per-stage histories."""
    data = list(data)
    n = len(data)
    models = [models] * n if isinstance(models, nnx.Module) else list(models)
    seeds = [0] * n if seeds is None else [int(s) for s in seeds]
    if not len(models) == len(seeds) == n:
        raise ValueError(f"{len(models)} models, {len(seeds)} seeds and {n} data sets: need one of each per model")
    if n == 0:
        return [], []
    prepared = [prepare_finetuning(m, method, seed=s, **(method_kwargs or {})) for m, s in zip(models, seeds)]
    models, stages = [p[0] for p in prepared], prepared[0][1]
    histories: list[list[FitHistory]] = [[] for _ in range(n)]
    offsets = np.zeros(n, dtype=np.int64)
    for trainable in stages:
        models, stage = fit_many(models, data, trainable=trainable, seeds=seeds, epoch_offset=offsets, **fit_kwargs)
        for i, h in enumerate(stage):
            histories[i].append(h)
            offsets[i] += h.epochs_run
    return models, histories


def finetune(model: nnx.Module, data: Any, method: str = "full", *, seed: int = 0,
             method_kwargs: dict[str, Any] | None = None, **fit_kwargs) -> tuple[nnx.Module, list[FitHistory]]:
    """Fine-tune a copy of ``model`` on ``data`` with ``method`` (see :func:`prepare_finetuning`), through
    :func:`~leafjax.training.fit`: one call per stage (``epochs`` per stage for ``"gradual"``), all with the
    same validation split.  ``data``: ``(X, Y)``, or a pytree batch with ``loss(model, batch, mask)`` in
    ``fit_kwargs`` (e.g. images for a :class:`~leafjax.networks.ConvNet2D`).  Returns the model and the list of
    per-stage histories."""
    models, histories = finetune_many([model], [data], method, seeds=[seed], method_kwargs=method_kwargs,
                                      **fit_kwargs)
    return models[0], histories[0]
