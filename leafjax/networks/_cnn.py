"""1-D convolutional network on the spectrum."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from ._base import AbstractBlock, AbstractNetwork, MLPHead, check_input


def max_pool_1d(h: Float[Array, "batch length c"], window: int) -> Float[Array, "batch pooled c"]:
    """Non-overlapping max pooling along the length axis (a trailing remainder is dropped).

    ``lax.reduce_window`` rather than a max over reshaped windows: the latter's gradient came out NaN under XLA's
    CPU optimisation level 0 (the test suite's setting) in LoRA fine-tuning of the CNN."""
    n = h.shape[1] // window
    return jax.lax.reduce_window(h[:, : n * window, :], -jnp.inf, jax.lax.max, (1, window, 1), (1, window, 1),
                                 "VALID")


class ConvBlock(AbstractBlock):
    """``Conv1D(k) -> LayerNorm -> relu -> max-pool(pool)`` on ``(batch, length, c_in)``."""

    def __init__(self, c_in: int, c_out: int, *, kernel_size: int = 7, pool: int = 2, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        self.out_features = c_out
        self.pool = pool
        self.conv = nnx.Conv(c_in, c_out, kernel_size, padding="SAME", param_dtype=param_dtype, rngs=rngs)
        self.norm = nnx.LayerNorm(c_out, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, h: Float[Array, "batch length c_in"]) -> Float[Array, "batch length2 c_out"]:
        return max_pool_1d(jax.nn.relu(self.norm(self.conv(h))), self.pool)


class CNN(AbstractNetwork):
    """1-D CNN: stem ``Conv1D(1 -> channels[0], k)``; blocks ``ConvBlock(channels[i] -> channels[i+1])`` each
    halving the length; head: flatten ``(length_out · c)`` then an MLP.  Flattening (not global pooling) keeps
    the position of absorption features.

    **Arguments:** ``n_inputs`` (wl), ``n_outputs``, ``channels`` (default ``(8, 16, 32, 32)``: stem width and
    ``len-1`` blocks), ``kernel_size`` (7), ``pool`` (4), ``head_hidden`` (64), ``rngs``.
    Input ``(batch, wl)``, output ``(batch, n_outputs)``.

    Reference: Kiranyaz et al. (2021) "1D convolutional neural networks and applications: a survey", MSSP 151.
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, channels: tuple[int, ...] = (8, 16, 32, 32),
                 kernel_size: int = 7, pool: int = 4, head_hidden: int = 64, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        if len(channels) < 1:
            raise ValueError("channels needs at least the stem width")
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        self.stem = nnx.Conv(1, channels[0], kernel_size, padding="SAME", param_dtype=param_dtype, rngs=rngs)
        self.blocks = nnx.List([ConvBlock(c_in, c_out, kernel_size=kernel_size, pool=pool,
                                          param_dtype=param_dtype, rngs=rngs)
                                for c_in, c_out in zip(channels[:-1], channels[1:])])
        length = n_inputs
        for _ in channels[1:]:
            length //= pool
        if length < 1:
            raise ValueError(f"{len(channels) - 1} pooling blocks of {pool} leave no bands of {n_inputs}")
        self.head = MLPHead(length * channels[-1], n_outputs, hidden=head_hidden, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch n_out"]:
        check_input(x, self.n_inputs)
        h = jax.nn.relu(self.stem(x[:, :, None]))
        for block in self.blocks:
            h = block(h)
        return self.head(jnp.reshape(h, (h.shape[0], -1)))
