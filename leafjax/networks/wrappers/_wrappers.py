"""Structural wrappers (LoRA, adapters) described as data, so that checkpoints can rebuild them."""

from __future__ import annotations

from typing import Any

from flax import nnx

from .._standardise import TraitRegressor
from ._adapters import add_adapters
from ._lora import add_lora


def apply_wrapper(model: nnx.Module, spec: dict[str, Any], *, rngs: nnx.Rngs) -> nnx.Module:
    """Apply ``spec`` = ``{"kind": "lora", "rank": r, "alpha": a}`` or ``{"kind": "adapters",
    "bottleneck": b}`` to a copy of ``model``; for a :class:`~leafjax.networks.TraitRegressor`, append ``spec``
    to ``model.config["wrappers"]`` (so that a checkpoint rebuilds the wrapped structure)."""
    kind = spec.get("kind")
    if kind == "lora":
        out = add_lora(model, spec["rank"], spec["alpha"], rngs=rngs)
    elif kind == "adapters":
        out = add_adapters(model, spec["bottleneck"], rngs=rngs)
    else:
        raise ValueError(f"unknown wrapper kind {kind!r}; expected 'lora' or 'adapters'")
    if isinstance(out, TraitRegressor):
        out.config = {**out.config, "wrappers": [*out.config.get("wrappers", []), dict(spec)]}
    return out
