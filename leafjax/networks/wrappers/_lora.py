"""LoRA: low-rank updates of every dense and convolution kernel of any model (Hu et al. 2022, ICLR).

``W' = W + (alpha / r) A B`` with ``A`` random, ``B`` zero: the wrapped model starts identical to the original,
and only ``A``, ``B`` (``nnx.LoRAParam``) need training.  For a convolution kernel ``(*k, c_in, c_out)`` the
update is ``A (*k, c_in, r) · B (r, c_out)``, computed as a rank-``r`` convolution followed by a 1x1 map.

Why not ``flax.nnx.LoRA`` / ``nnx.LoRALinear`` for the dense case: they have no ``alpha / r`` scale, draw two
keys per layer (one for the zero ``B``), and cover dense kernels only; these wrappers keep the original layer
at ``.base`` (so the fine-tuning filters and checkpoints see one layout for dense and convolution kernels).
They use the same ``nnx.LoRAParam`` variables, so ``nnx.Optimizer(..., wrt=nnx.LoRAParam)`` and
:func:`leafjax.transfer.filters.lora` select both; :func:`add_lora` leaves flax's own ``nnx.LoRALinear``
layers (already low-rank adapted) as they are.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from .._base import AbstractBlock


class LoRALinear(AbstractBlock):
    """``base(x) + (alpha / rank) · x A B`` for an ``nnx.Linear`` ``base`` (kept, and frozen by the filters):
    ``(..., d_in) -> (..., d_out)``, ``A (d_in, r)`` normal with variance ``1 / d_in``, ``B (r, d_out)`` zero."""

    def __init__(self, base: nnx.Linear, rank: int, alpha: float, *, rngs: nnx.Rngs):
        d_in, d_out = base.kernel.shape
        dtype = base.kernel.dtype
        self.base = base
        self.out_features = d_out
        self.scale = alpha / rank
        self.lora_a = nnx.LoRAParam(jax.random.normal(rngs.params(), (d_in, rank), dtype) / math.sqrt(d_in))
        self.lora_b = nnx.LoRAParam(jnp.zeros((rank, d_out), dtype))

    def __call__(self, x: Float[Array, "... d_in"]) -> Float[Array, "... d_out"]:
        return self.base(x) + (x @ self.lora_a[...] @ self.lora_b[...]) * self.scale


def _tuple(v, n: int) -> tuple[int, ...]:
    return (v,) * n if isinstance(v, int) else tuple(v)


class LoRAConv(AbstractBlock):
    """``base(x) + (alpha / rank) · conv(x, A) B`` for an ``nnx.Conv`` ``base`` with the same strides, padding
    and dilations (1-D or 2-D, channels last, ``feature_group_count == 1``): ``(batch, *spatial, c_in) ->
    (batch, *spatial', c_out)``; ``A (*k, c_in, r)`` normal with variance ``1 / (c_in · prod(k))``, ``B (r,
    c_out)`` zero."""

    _SPECS = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}

    def __init__(self, base: nnx.Conv, rank: int, alpha: float, *, rngs: nnx.Rngs):
        *k, c_in, c_out = base.kernel.shape
        if base.feature_group_count != 1 or len(k) not in self._SPECS:
            raise NotImplementedError("LoRA supports 1-D/2-D convolutions with feature_group_count == 1")
        if not (isinstance(base.padding, str) and base.padding in ("SAME", "VALID")) and \
                not isinstance(base.padding, (int, tuple, list)):
            raise NotImplementedError(f"LoRA does not support padding {base.padding!r}")
        dtype = base.kernel.dtype
        fan_in = c_in * math.prod(k)
        self.base = base
        self.out_features = c_out
        self.scale = alpha / rank
        self.lora_a = nnx.LoRAParam(jax.random.normal(rngs.params(), (*k, c_in, rank), dtype) / math.sqrt(fan_in))
        self.lora_b = nnx.LoRAParam(jnp.zeros((rank, c_out), dtype))

    def __call__(self, x: Float[Array, "batch *spatial c_in"]) -> Float[Array, "batch *spatial2 c_out"]:
        b = self.base
        n = self.lora_a.ndim - 2
        padding = b.padding
        if isinstance(padding, int):
            padding = [(padding, padding)] * n
        elif not isinstance(padding, str):
            padding = [(p, p) if isinstance(p, int) else tuple(p) for p in padding]
        low = jax.lax.conv_general_dilated(
            x.astype(self.lora_a.dtype), self.lora_a[...], window_strides=_tuple(b.strides or 1, n),
            padding=padding, lhs_dilation=_tuple(b.input_dilation or 1, n),
            rhs_dilation=_tuple(b.kernel_dilation or 1, n), dimension_numbers=self._SPECS[n])
        return b(x) + (low @ self.lora_b[...]) * self.scale


def _replace_modules(model: nnx.Module, make: Callable[[nnx.Module], nnx.Module | None]) -> None:
    """Replace, in place, every sub-module ``m`` for which ``make(m)`` is not ``None`` by ``make(m)``."""
    nodes = dict(nnx.iter_graph(model))
    found = [(path, m) for path, m in nodes.items() if isinstance(m, nnx.Module) and path]
    for path, module in found:
        new = make(module)
        if new is None:
            continue
        parent, key = nodes[path[:-1]], path[-1]
        if isinstance(key, int):
            parent[key] = new
        else:
            setattr(parent, key, new)


def add_lora(model: nnx.Module, rank: int = 4, alpha: float = 8.0, *, rngs: nnx.Rngs) -> nnx.Module:
    """A copy of ``model`` (any ``nnx`` module: tabular, 1-D or 2-D convolutional networks, or a regressor
    around one) with every ``nnx.Linear`` wrapped in :class:`LoRALinear` and every ``nnx.Conv`` in
    :class:`LoRAConv` (rank ``rank``, scale ``alpha / rank``; wrapper keys drawn from ``rngs.params()`` in
    graph order).  The copy computes exactly the same function
    until its ``nnx.LoRAParam``\\ s are trained (``B = 0``).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> from leafjax.networks import make_network
        >>> net = make_network("resnet", 10, 2, d=8, n_blocks=1, rngs=nnx.Rngs(0))
        >>> lora_net = add_lora(net, rank=2, rngs=nnx.Rngs(1))
        >>> x = jnp.ones((3, 10), jnp.float32)
        >>> bool(jnp.array_equal(net(x), lora_net(x)))
        True
    """
    model = nnx.clone(model)

    def make(m):
        if isinstance(m, nnx.LoRALinear):  # flax's own low-rank adapted layer: already LoRA
            return None
        if isinstance(m, nnx.Linear):
            return LoRALinear(m, rank, alpha, rngs=rngs)
        if isinstance(m, nnx.Conv):
            return LoRAConv(m, rank, alpha, rngs=rngs)
        return None

    _replace_modules(model, make)
    return model
