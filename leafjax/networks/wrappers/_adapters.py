"""Bottleneck adapters inserted after the blocks of any network (Houlsby et al. 2019, ICML)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from .._base import AbstractBlock, AbstractRegressor, add_bias, output_width


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


class AdaptedBlock(AbstractBlock):
    """A block followed by an adapter on its primary output (the first element if it returns a tuple).
    ``block`` must declare its output width (:func:`~leafjax.networks._base.output_width`)."""

    def __init__(self, block: nnx.Module, adapter: BottleneckAdapter):
        width = output_width(block)
        if width is None:
            raise TypeError(f"{type(block).__name__} does not declare out_features (make it an AbstractBlock)")
        self.block = block
        self.adapter = adapter
        self.out_features = width

    def __call__(self, *args, **kwargs):
        out = self.block(*args, **kwargs)
        if isinstance(out, tuple):
            return (self.adapter(out[0]), *out[1:])
        return self.adapter(out)


def add_adapters(model: AbstractRegressor, bottleneck: int = 8, *, rngs: nnx.Rngs) -> AbstractRegressor:
    """A copy of ``model`` with a :class:`BottleneckAdapter` after every block of its
    :attr:`~leafjax.networks._base.AbstractRegressor.network` (the network itself, or ``model.net`` for a
    ``TraitRegressor``), or after the stem for a network without blocks whose stem declares its width; a
    network with neither is returned unchanged.

    Works for any :class:`~leafjax.networks.AbstractNetwork` whose blocks declare ``out_features`` (the width
    of the last axis of their primary output: features, or channels of a channels-last convolution).
    """
    if not isinstance(model, AbstractRegressor):
        raise TypeError(f"add_adapters needs an AbstractRegressor/AbstractNetwork, got {type(model).__name__}")
    model = nnx.clone(model)
    net = model.network
    blocks = net.blocks
    if len(blocks):
        for i in range(len(blocks)):
            blocks[i] = _adapted(blocks[i], bottleneck, rngs)
    elif net.stem is not None and output_width(net.stem):
        net.stem = _adapted(net.stem, bottleneck, rngs)
    return model


def _adapted(block: nnx.Module, bottleneck: int, rngs: nnx.Rngs) -> AdaptedBlock:
    width = output_width(block)
    if width is None:
        raise TypeError(f"{type(block).__name__} does not declare out_features (make it an AbstractBlock)")
    return AdaptedBlock(block, BottleneckAdapter(width, bottleneck, rngs=rngs))
