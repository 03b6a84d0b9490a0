"""A small fully convolutional 2-D network: per-pixel trait maps from multi-band image chips."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from .._base import AbstractBlock, AbstractNetwork


class ConvBlock2D(AbstractBlock):
    r"""``Conv2D(k×k, SAME) -> LayerNorm(channels) -> relu`` on channels-last ``(batch, h, w, c_in) ->
    (batch, h, w, c_out)``, with a residual connection :math:`h + f(h)` when ``c_in == c_out``."""

    def __init__(self, c_in: int, c_out: int, *, kernel_size: int = 3, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.out_features = c_out
        self.residual = c_in == c_out
        self.conv = nnx.Conv(c_in, c_out, (kernel_size, kernel_size), padding="SAME", param_dtype=param_dtype,
                             rngs=rngs)
        self.norm = nnx.LayerNorm(c_out, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, h: Float[Array, "batch h w c_in"]) -> Float[Array, "batch h w c_out"]:
        z = jax.nn.relu(self.norm(self.conv(h)))
        return h + z if self.residual else z


class ConvNet2D(AbstractNetwork):
    """Fully convolutional image regressor: ``(batch, n_inputs, h, w)`` channels-first images to per-pixel
    maps ``(batch, n_outputs, h, w)`` (or, with ``pool_output=True``, the image means ``(batch, n_outputs)``).

    Groups: ``stem`` = ``Conv2D(n_inputs -> channels[0], k×k) -> relu``; ``blocks`` = :class:`ConvBlock2D`
    ``channels[i] -> channels[i + 1]`` (spatial size kept, "SAME" padding; receptive field
    ``1 + (k - 1) · len(channels)`` pixels); ``head`` = a 1×1 ``Conv2D(channels[-1] -> n_outputs)`` (a
    per-pixel linear map).  Inside, activations are channels-last, so bottleneck adapters after the blocks act
    on the channels and LoRA wraps every 2-D convolution kernel (:mod:`leafjax.networks.wrappers`).
    Standardise the inputs per channel with :func:`~leafjax.networks.standardisation_stats` (``axis=1``).

    **Arguments:** ``n_inputs`` (image channels, e.g. bands), ``n_outputs`` (maps), ``channels`` (default
    ``(16, 16, 16)``: stem width then one block per further entry), ``kernel_size`` (3), ``pool_output``,
    ``rngs``.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> net = ConvNet2D(4, 2, channels=(8, 8), rngs=nnx.Rngs(0))
        >>> net(jnp.zeros((3, 4, 16, 16), jnp.float32)).shape
        (3, 2, 16, 16)

    Reference: Long, Shelhamer & Darrell (2015) "Fully convolutional networks for semantic segmentation", CVPR.
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, channels: tuple[int, ...] = (16, 16, 16),
                 kernel_size: int = 3, pool_output: bool = False, param_dtype=jnp.float32, rngs: nnx.Rngs):
        if len(channels) < 1:
            raise ValueError("channels needs at least the stem width")
        self.n_inputs, self.n_outputs, self.pool_output = n_inputs, n_outputs, pool_output
        k = (kernel_size, kernel_size)
        self.stem = nnx.Conv(n_inputs, channels[0], k, padding="SAME", param_dtype=param_dtype, rngs=rngs)
        self.blocks = nnx.List([ConvBlock2D(c_in, c_out, kernel_size=kernel_size, param_dtype=param_dtype, rngs=rngs)
                                for c_in, c_out in zip(channels[:-1], channels[1:])])
        self.head = nnx.Conv(channels[-1], n_outputs, (1, 1), param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x: Float[Array, "batch c h w"]) -> Float[Array, "batch n_out h w"] | Float[Array, "batch n_out"]:
        if x.ndim != 4 or x.shape[1] != self.n_inputs:
            raise ValueError(f"expected images of shape (batch, {self.n_inputs}, h, w), got {x.shape}")
        h = jax.nn.relu(self.stem(jnp.transpose(x, (0, 2, 3, 1))))
        for block in self.blocks:
            h = block(h)
        out = self.head(h)
        if self.pool_output:
            return jnp.mean(out, axis=(1, 2))
        return jnp.transpose(out, (0, 3, 1, 2))
