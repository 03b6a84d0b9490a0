"""Transformer encoder on spectral patches (a 1-D Vision Transformer)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, Float

from ._base import AbstractBlock, AbstractNetwork, MLPHead, check_input


def sinusoidal_positions(n_tokens: int, d: int) -> np.ndarray:
    r"""Fixed positional encoding ``(n_tokens, d)``: :math:`PE_{p,2i} = \sin(p/10000^{2i/d})`,
    :math:`PE_{p,2i+1} = \cos(\cdot)` (Vaswani et al. 2017)."""
    pos = np.arange(n_tokens)[:, None]
    freq = np.exp(-math.log(10000.0) * np.arange(0, d, 2) / d)[None, :]
    pe = np.zeros((n_tokens, d))
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq)[:, : d // 2]
    return pe


class PatchEmbedding(nnx.Module):
    """Split ``(batch, wl)`` into ``n_tokens = ceil(wl / patch)`` patches (edge-padded), embed each with a
    shared ``Linear(patch, d)`` and add the sinusoidal position: output ``(batch, n_tokens, d)``."""

    def __init__(self, n_inputs: int, patch_size: int, d: int, *, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.patch_size = patch_size
        self.n_tokens = -(-n_inputs // patch_size)
        self.pad = self.n_tokens * patch_size - n_inputs
        self.linear = nnx.Linear(patch_size, d, param_dtype=param_dtype, rngs=rngs)
        self.d = d

    def __call__(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch tokens d"]:
        x = jnp.pad(x, ((0, 0), (0, self.pad)), mode="edge")
        tokens = self.linear(jnp.reshape(x, (x.shape[0], self.n_tokens, self.patch_size)))
        pe = jnp.asarray(sinusoidal_positions(self.n_tokens, self.d), dtype=tokens.dtype)
        return tokens + pe[None, :, :]


class MultiHeadSelfAttention(nnx.Module):
    r"""Multi-head self-attention with ``nnx.Linear`` projections (so that LoRA can wrap them):
    :math:`\mathrm{softmax}(QK^\top/\sqrt{d_h})V` per head, then an output projection.  ``(b, t, d) -> (b, t, d)``."""

    def __init__(self, d: int, num_heads: int, *, param_dtype=jnp.float32, rngs: nnx.Rngs):
        if d % num_heads:
            raise ValueError(f"d={d} must be divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.query = nnx.Linear(d, d, param_dtype=param_dtype, rngs=rngs)
        self.key = nnx.Linear(d, d, param_dtype=param_dtype, rngs=rngs)
        self.value = nnx.Linear(d, d, param_dtype=param_dtype, rngs=rngs)
        self.out = nnx.Linear(d, d, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, h: Float[Array, "batch tokens d"]) -> Float[Array, "batch tokens d"]:
        b, t, d = h.shape
        split = lambda z: jnp.reshape(z, (b, t, self.num_heads, d // self.num_heads))  # noqa: E731
        q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
        scores = jnp.einsum("bqhc,bkhc->bhqk", q, k) / math.sqrt(d // self.num_heads)
        attended = jnp.einsum("bhqk,bkhc->bqhc", jax.nn.softmax(scores, axis=-1), v)
        return self.out(jnp.reshape(attended, (b, t, d)))


class EncoderBlock(AbstractBlock):
    """Pre-norm transformer encoder block: ``h + MHSA(LN h)``, then ``h + MLP(LN h)`` (gelu MLP)."""

    def __init__(self, d: int, num_heads: int, mlp_ratio: int = 2, *, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.out_features = d
        self.norm1 = nnx.LayerNorm(d, param_dtype=param_dtype, rngs=rngs)
        self.attention = MultiHeadSelfAttention(d, num_heads, param_dtype=param_dtype, rngs=rngs)
        self.norm2 = nnx.LayerNorm(d, param_dtype=param_dtype, rngs=rngs)
        self.mlp1 = nnx.Linear(d, mlp_ratio * d, param_dtype=param_dtype, rngs=rngs)
        self.mlp2 = nnx.Linear(mlp_ratio * d, d, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, h: Float[Array, "batch tokens d"]) -> Float[Array, "batch tokens d"]:
        h = h + self.attention(self.norm1(h))
        return h + self.mlp2(jax.nn.gelu(self.mlp1(self.norm2(h))))


class Transformer(AbstractNetwork):
    """Spectral transformer: patches of ``patch_size`` bands are tokens (stem = :class:`PatchEmbedding`),
    ``n_blocks`` encoder blocks, mean pooling over tokens, ``LN -> relu -> Linear`` head.

    **Arguments:** ``n_inputs`` (wl), ``n_outputs``, ``patch_size`` (default 50 bands), ``d`` (64),
    ``num_heads`` (4), ``n_blocks`` (2), ``mlp_ratio`` (2), ``rngs``.

    References: Vaswani et al. (2017) "Attention is all you need"; Dosovitskiy et al. (2021) ViT (patches as
    tokens).
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, patch_size: int = 50, d: int = 64, num_heads: int = 4,
                 n_blocks: int = 2, mlp_ratio: int = 2, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        self.stem = PatchEmbedding(n_inputs, patch_size, d, param_dtype=param_dtype, rngs=rngs)
        self.blocks = nnx.List([EncoderBlock(d, num_heads, mlp_ratio, param_dtype=param_dtype, rngs=rngs)
                                for _ in range(n_blocks)])
        self.head = MLPHead(d, n_outputs, pre_norm=True, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch n_out"]:
        check_input(x, self.n_inputs)
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.head(jnp.mean(h, axis=1))
