"""Which parameters train: fine-tuning methods as ``nnx`` filters over the model's paths.

Networks name a ``stem``, ordered ``blocks`` and a ``head`` (:mod:`leafjax.networks._base`); a parameter
belongs to the group named by the first of these keys on its path (``('net', 'blocks', 2, ...)`` ->
``('blocks', 2)``), so the filters work for every network and survive LoRA/adapter wrapping.  Parameters on
no group's path count as ``stem`` (unfrozen last).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from flax import nnx

from ..networks._base import BLOCKS, HEAD, STEM, AbstractRegressor
from ..networks.wrappers._adapters import AdapterParam

Group = tuple  # ("head",) | ("blocks", i) | ("stem",)


def group_of(path: Sequence[Any]) -> Group:
    """The group of a parameter path: ``("head",)``, ``("blocks", i)`` or ``("stem",)``."""
    for i, k in enumerate(path):
        if k == HEAD:
            return (HEAD,)
        if k == BLOCKS and i + 1 < len(path):
            return (BLOCKS, int(path[i + 1]))
        if k == STEM:
            break
    return (STEM,)


@dataclasses.dataclass(frozen=True)
class InGroups:
    """``nnx`` filter: True for variables whose path lies in one of ``groups``."""

    groups: tuple[Group, ...]

    def __call__(self, path, value) -> bool:
        return group_of(path) in self.groups


def unfreezing_order(model: AbstractRegressor) -> list[Group]:
    """Groups from output to input: ``head``, ``blocks[-1]``, ..., ``blocks[0]``, ``stem`` of the model's
    :attr:`~leafjax.networks._base.AbstractRegressor.network` (a network, or a regressor around one)."""
    if not isinstance(model, AbstractRegressor):
        raise TypeError(f"unfreezing order needs an AbstractRegressor/AbstractNetwork, got {type(model).__name__}")
    n = model.network.n_blocks
    return [(HEAD,)] + [(BLOCKS, i) for i in reversed(range(n))] + [(STEM,)]


def full() -> Any:
    """Full fine-tuning: every parameter (including LoRA/adapter parameters, if any)."""
    return nnx.Param


def head_only() -> Any:
    """Only the head's parameters."""
    return nnx.All(nnx.Param, InGroups(((HEAD,),)))


def gradual_unfreezing(model: AbstractRegressor, n_stages: int | None = None) -> list[Any]:
    """Filters of gradual unfreezing (Howard & Ruder 2018): stage ``s`` (0-based) trains the first ``s + 1``
    groups of :func:`unfreezing_order`; ``n_stages`` defaults to all groups (the last stage trains all)."""
    order = unfreezing_order(model)
    n_stages = len(order) if n_stages is None else min(n_stages, len(order))
    return [nnx.All(nnx.Param, InGroups(tuple(order[: s + 1]))) for s in range(n_stages)]


def adapters(include_head: bool = True) -> Any:
    """Bottleneck-adapter parameters (:func:`leafjax.transfer.add_adapters`), and the head's by default."""
    return nnx.Any(AdapterParam, head_only()) if include_head else AdapterParam


def lora(include_head: bool = True) -> Any:
    """LoRA parameters (``nnx.LoRAParam``, :func:`leafjax.transfer.add_lora`), and the head's by default."""
    return nnx.Any(nnx.LoRAParam, head_only()) if include_head else nnx.LoRAParam
