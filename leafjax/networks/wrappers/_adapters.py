"""Bottleneck adapters inserted after the blocks of any network (Houlsby et al. 2019, ICML)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from .._base import BLOCKS, STEM, add_bias


class AdapterParam(nnx.Param):
    """Parameters of bottleneck adapters (selected by :func:`leafjax.transfer.filters.adapters`)."""


class BottleneckAdapter(nnx.Module):
    r""":math:`h + W_{up}\,\mathrm{gelu}(W_{down} h + b_{down}) + b_{up}` on the last axis of ``h (..., d)``.

    ``W_up`` and ``b_up`` start at zero, so the adapted model starts identical to the original.
    """

    def __init__(self, d: int, bottleneck: int, *, rngs: nnx.Rngs, param_dtype=jnp.float32):
        self.down = AdapterParam(jax.random.normal(rngs.params(), (d, bottleneck), param_dtype) / math.sqrt(d))
        self.down_bias = AdapterParam(jnp.zeros((bottleneck,), param_dtype))
        self.up = AdapterParam(jnp.zeros((bottleneck, d), param_dtype))
        self.up_bias = AdapterParam(jnp.zeros((d,), param_dtype))

    def __call__(self, h: Float[Array, "... d"]) -> Float[Array, "... d"]:
        z = jax.nn.gelu(add_bias(h @ self.down[...], self.down_bias[...]))
        return add_bias(h + z @ self.up[...], self.up_bias[...])


class AdaptedBlock(nnx.Module):
    """A block followed by an adapter on its primary output (the first element if it returns a tuple)."""

    def __init__(self, block: nnx.Module, adapter: BottleneckAdapter):
        self.block = block
        self.adapter = adapter
        self.out_features = getattr(block, "out_features", None)

    def __call__(self, *args, **kwargs):
        out = self.block(*args, **kwargs)
        if isinstance(out, tuple):
            return (self.adapter(out[0]), *out[1:])
        return self.adapter(out)


def add_adapters(model: nnx.Module, bottleneck: int = 8, *, rngs: nnx.Rngs) -> nnx.Module:
    """A copy of ``model`` with a :class:`BottleneckAdapter` after every block (of ``model.net`` for a
    ``TraitRegressor``), or after the stem for a network without blocks; a network with neither is returned
    unchanged.  Blocks need ``out_features`` (the width of their primary output)."""
    model = nnx.clone(model)
    net = getattr(model, "net", model)
    blocks = getattr(net, BLOCKS)
    if len(blocks):
        for i in range(len(blocks)):
            blocks[i] = AdaptedBlock(blocks[i], BottleneckAdapter(blocks[i].out_features, bottleneck, rngs=rngs))
    elif getattr(net, STEM, None) is not None and getattr(net.stem, "out_features", None):
        net.stem = AdaptedBlock(net.stem, BottleneckAdapter(net.stem.out_features, bottleneck, rngs=rngs))
    return model
