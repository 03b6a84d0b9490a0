"""Residual network on the spectrum vector (the "ResNet" of tabular deep learning)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from ._base import AbstractBlock, AbstractNetwork, MLPHead, check_input


class ResidualBlock(AbstractBlock):
    r"""Pre-norm residual block ``h + W_2\,\mathrm{relu}(W_1\,\mathrm{LN}(h))`` on ``(batch, d)``.

    Reference: Gorishniy et al. (2021) "Revisiting deep learning models for tabular data", NeurIPS (ResNet);
    He et al. (2016) identity mappings.
    """

    def __init__(self, d: int, hidden: int, *, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.out_features = d
        self.norm = nnx.LayerNorm(d, param_dtype=param_dtype, rngs=rngs)
        self.linear1 = nnx.Linear(d, hidden, param_dtype=param_dtype, rngs=rngs)
        self.linear2 = nnx.Linear(hidden, d, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, h: Float[Array, "batch d"]) -> Float[Array, "batch d"]:
        return h + self.linear2(jax.nn.relu(self.linear1(self.norm(h))))


class ResNet(AbstractNetwork):
    """1-D residual network: ``Linear(wl, d)`` stem, ``n_blocks`` residual blocks, ``LN -> relu -> head``.

    **Arguments:** ``n_inputs`` (wl), ``n_outputs``, ``d`` (width, default 128), ``hidden`` (block hidden
    width, default ``2 d``), ``n_blocks`` (default 3), ``head_hidden`` (0: linear head), ``rngs``.
    Input ``(batch, wl)``, output ``(batch, n_outputs)``.
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, d: int = 128, hidden: int | None = None,
                 n_blocks: int = 3, head_hidden: int = 0, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        self.stem = nnx.Linear(n_inputs, d, param_dtype=param_dtype, rngs=rngs)
        self.blocks = nnx.List([ResidualBlock(d, hidden or 2 * d, param_dtype=param_dtype, rngs=rngs)
                                for _ in range(n_blocks)])
        self.head = MLPHead(d, n_outputs, hidden=head_hidden, pre_norm=True, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch n_out"]:
        check_input(x, self.n_inputs)
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)
