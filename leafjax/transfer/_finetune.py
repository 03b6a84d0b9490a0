"""Fine-tuning methods, the same for every network: a (possibly wrapped) model plus a list of filters."""

from __future__ import annotations

from typing import Any

from flax import nnx

from . import _filters as filters
from ._fit import FitHistory, fit
from ._wrappers import apply_wrapper

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


def finetune(model: nnx.Module, data: tuple, method: str = "full", *, seed: int = 0,
             method_kwargs: dict[str, Any] | None = None, **fit_kwargs) -> tuple[nnx.Module, list[FitHistory]]:
    """Fine-tune a copy of ``model`` on ``data = (X, Y)`` with ``method`` (see :func:`prepare_finetuning`),
    through :func:`~leafjax.transfer.fit`: one call per stage (``epochs`` per stage for ``"gradual"``), all
    with the same validation split.  Returns the model and the list of per-stage histories."""
    model, stages = prepare_finetuning(model, method, seed=seed, **(method_kwargs or {}))
    histories: list[FitHistory] = []
    offset = 0
    for trainable in stages:
        model, history = fit(model, data, trainable=trainable, seed=seed, epoch_offset=offset, **fit_kwargs)
        offset += history.epochs_run
        histories.append(history)
    return model, histories
