"""Declared interfaces of the networks: what training, prediction and fine-tuning rely on.

- :class:`AbstractRegressor`: anything :func:`~leafjax.training.predict` and the tabular form of
  :func:`~leafjax.training.fit` need: ``__call__``, :meth:`~AbstractRegressor.loss_space` (predictions and
  targets in the space the loss is computed in) and :attr:`~AbstractRegressor.network` (the
  :class:`AbstractNetwork` inside, whose groups the fine-tuning filters and adapters address).
- :class:`AbstractNetwork`: a network with three named groups of sub-modules, so that fine-tuning can be
  written once, as parameter filters on paths (see :mod:`leafjax.transfer`):

  - ``stem``: input processing before the first block (projection, patch embedding, shared layers);
  - ``blocks``: an ordered ``nnx.List`` of blocks, input side first; each block's primary output (its return
    value, or the first element when it returns a tuple) has ``block.out_features`` features on its last axis
    (:class:`AbstractBlock`);
  - ``head``: the last layer(s), mapping the final representation to ``n_outputs``.

Gradual unfreezing unfreezes ``head``, then ``blocks[-1]``, ..., ``blocks[0]``, then ``stem``
(Howard & Ruder 2018, ULMFiT).  Bottleneck adapters are inserted after blocks; LoRA wraps every
``nnx.Linear``/``nnx.Conv`` wherever it sits.
"""

from __future__ import annotations

import abc

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

#: Names of the three groups every network defines (attribute names on the network).
STEM, BLOCKS, HEAD = "stem", "blocks", "head"


class AbstractRegressor(nnx.Module):
    """What prediction and the tabular training form need from a model.

    ``__call__(x: (batch, ...)) -> (batch, ...)`` (predictions in the data's units); :meth:`loss_space`;
    :attr:`network`.
    """

    @abc.abstractmethod
    def __call__(self, x: Float[Array, "batch ..."]) -> Float[Array, "batch ..."]:
        raise NotImplementedError

    def loss_space(self, x: Float[Array, "batch ..."], y: Float[Array, "batch ..."]
                   ) -> tuple[Float[Array, "batch ..."], Float[Array, "batch ..."]]:
        """Predictions for ``x`` and the targets ``y``, both in the space the loss is computed in (the
        identity here; standardised for :class:`~leafjax.networks.TraitRegressor`)."""
        return self(x), y

    @property
    @abc.abstractmethod
    def network(self) -> AbstractNetwork:
        """The network with the ``stem``/``blocks``/``head`` groups (the model itself for a network)."""
        raise NotImplementedError


class AbstractBlock(nnx.Module):
    """A sub-module whose primary output has ``out_features`` features on its last axis (the channels, for
    channels-last convolutions): the width an adapter after it needs."""

    out_features: int


def output_width(module: nnx.Module) -> int | None:
    """``out_features`` of an :class:`AbstractBlock`, ``nnx.Linear``, ``nnx.Conv`` or ``nnx.LoRA``; ``None``
    for any other module (its output width is not declared)."""
    if isinstance(module, (AbstractBlock, nnx.Linear, nnx.Conv, nnx.LoRA)):
        return module.out_features
    return None


class AbstractNetwork(AbstractRegressor):
    """Base class of the networks: ``__call__(x: (batch, *input)) -> (batch, n_outputs, ...)`` (spectra
    ``(batch, wl) -> (batch, n_outputs)`` for the tabular networks).

    Subclasses set ``n_inputs``, ``n_outputs``, ``stem`` (a module, or ``None``), ``blocks`` (an
    ``nnx.List`` of :class:`AbstractBlock`, possibly empty) and ``head`` (a module), and implement
    ``__call__``.
    """

    n_inputs: int
    n_outputs: int
    stem: nnx.Module | None
    blocks: nnx.List
    head: nnx.Module

    @abc.abstractmethod
    def __call__(self, x: Float[Array, "batch ..."]) -> Float[Array, "batch n_out ..."]:
        raise NotImplementedError

    @property
    def network(self) -> AbstractNetwork:
        return self

    @property
    def n_blocks(self) -> int:
        """Number of ordered blocks."""
        return len(self.blocks)


def check_input(x: Array, n_inputs: int) -> None:
    """Raise ``ValueError`` at trace time unless ``x`` has shape ``(batch, n_inputs)``."""
    if x.ndim != 2 or x.shape[1] != n_inputs:
        raise ValueError(f"expected spectra of shape (batch, {n_inputs}), got {x.shape}")


def block_output(out):
    """The primary output of a block: the array itself, or the first element of a tuple."""
    return out[0] if isinstance(out, tuple) else out


class MLPHead(nnx.Module):
    """Final layer(s): ``[LN -> relu ->] [Linear(d, hidden) -> gelu ->] Linear(., n_out)``.

    ``pre_norm`` adds the leading layer norm and relu (for residual trunks); ``hidden == 0`` gives a single
    ``Linear``.  Input ``(batch, d)``, output ``(batch, n_out)``.
    """

    def __init__(self, in_features: int, out_features: int, *, hidden: int = 0, pre_norm: bool = False,
                 param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.norm = nnx.LayerNorm(in_features, param_dtype=param_dtype, rngs=rngs) if pre_norm else None
        self.hidden = nnx.Linear(in_features, hidden, param_dtype=param_dtype, rngs=rngs) if hidden else None
        self.out = nnx.Linear(hidden or in_features, out_features, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, h: Float[Array, "batch d"]) -> Float[Array, "batch n_out"]:
        if self.norm is not None:
            h = jax.nn.relu(self.norm(h))
        if self.hidden is not None:
            h = jax.nn.gelu(self.hidden(h))
        return self.out(h)


def add_bias(x: Array, b: Array) -> Array:
    """``x + b`` with ``b`` of shape ``(x.shape[-1],)`` broadcast explicitly over the leading axes."""
    return x + jnp.reshape(b, (1,) * (x.ndim - 1) + (-1,))
