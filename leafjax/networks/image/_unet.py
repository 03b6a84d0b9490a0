"""A 2-D U-Net for per-pixel regression on image chips ``(batch, channels, height, width)``.

The encoder has ``depth + 1`` resolution levels of residual convolution blocks (max-pooling 2×2 between them), the
decoder ``depth`` up-sampling blocks that concatenate the encoder's feature map of the same level (the skip
connection, Ronneberger et al. 2015), and a 1×1 convolution maps the last decoder map (the *feature map*,
``base_channels`` channels at full resolution) to the outputs.  Widths double per level, as in the U-Nets of Wang
et al. (LeafNothingBehind: 32, 64, 128).  Group normalisation (Wu & He 2018) replaces batch normalisation, so that
training works at batch 1 and the model has no batch statistics to carry.

As in :class:`~leafjax.networks.ConvNet2D`, inputs and outputs are channels-first and activations channels-last
inside (``(batch, h, w, c)``), so bottleneck adapters after the blocks act on the channels and LoRA wraps every
convolution kernel (the up-sampling is a 1×1 convolution followed by a pixel shuffle: a 2×2 stride-2 transposed
convolution written with ``nnx.Conv``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from .._base import AbstractBlock, AbstractNetwork


def _norm(c: int, groups: int, param_dtype, rngs: nnx.Rngs) -> nnx.GroupNorm:
    """GroupNorm over ``c`` channels with ``gcd(groups, c)`` groups (so any width works)."""
    return nnx.GroupNorm(c, num_groups=math.gcd(groups, c), param_dtype=param_dtype, rngs=rngs)


def max_pool_2x2(h: Float[Array, "batch h w c"]) -> Float[Array, "batch h2 w2 c"]:
    """Non-overlapping 2×2 max pooling of a channels-last map with even ``h`` and ``w``.

    Written as ``lax.reduce_window``, whose gradient routes each window's cotangent to one selected element
    (select-and-scatter).  (The gradient of ``jnp.max`` over a reshaped window divides by the number of elements
    equal to the maximum, and XLA's CPU backend at ``--xla_backend_optimization_level=0`` can round the compared
    values differently, giving 0/0 = NaN gradients.)"""
    return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def pixel_shuffle_2x(h: Float[Array, "batch h w c4"]) -> Float[Array, "batch h2 w2 c"]:
    """Depth-to-space by 2: ``(b, h, w, 4c) -> (b, 2h, 2w, c)``; channel ``(i·2 + j)·c + k`` goes to sub-pixel
    ``(i, j)``, channel ``k``."""
    b, hh, ww, c4 = h.shape
    c = c4 // 4
    h = jnp.reshape(h, (b, hh, ww, 2, 2, c))
    return jnp.reshape(jnp.transpose(h, (0, 1, 3, 2, 4, 5)), (b, 2 * hh, 2 * ww, c))


class ResBlock2D(AbstractBlock):
    r"""Residual convolution block on channels-last ``(batch, h, w, c_in) -> (batch, h, w, c_out)``:

    .. math:: \mathrm{relu}\big(s(h) + \mathrm{GN}(\mathrm{conv}_2(\mathrm{relu}(\mathrm{GN}(\mathrm{conv}_1 h))))\big)

    with ``k×k`` "SAME" convolutions and the shortcut ``s`` the identity, or a 1×1 convolution when
    ``c_in != c_out`` (He et al. 2016)."""

    def __init__(self, c_in: int, c_out: int, *, kernel_size: int = 3, groups: int = 8, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        k = (kernel_size, kernel_size)
        self.out_features = c_out
        self.conv1 = nnx.Conv(c_in, c_out, k, padding="SAME", param_dtype=param_dtype, rngs=rngs)
        self.norm1 = _norm(c_out, groups, param_dtype, rngs)
        self.conv2 = nnx.Conv(c_out, c_out, k, padding="SAME", param_dtype=param_dtype, rngs=rngs)
        self.norm2 = _norm(c_out, groups, param_dtype, rngs)
        self.shortcut = (nnx.Conv(c_in, c_out, (1, 1), param_dtype=param_dtype, rngs=rngs)
                         if c_in != c_out else None)

    def __call__(self, h: Float[Array, "batch h w c_in"]) -> Float[Array, "batch h w c_out"]:
        z = self.norm2(self.conv2(jax.nn.relu(self.norm1(self.conv1(h)))))
        return jax.nn.relu(z + (h if self.shortcut is None else self.shortcut(h)))


class DownBlock2D(AbstractBlock):
    """Encoder level: 2×2 max pooling then :class:`ResBlock2D` ``c_in -> c_out``: ``(batch, h, w, c_in) ->
    (batch, h/2, w/2, c_out)`` (``h``, ``w`` even)."""

    def __init__(self, c_in: int, c_out: int, *, kernel_size: int = 3, groups: int = 8, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        self.out_features = c_out
        self.res = ResBlock2D(c_in, c_out, kernel_size=kernel_size, groups=groups, param_dtype=param_dtype,
                              rngs=rngs)

    def __call__(self, h: Float[Array, "batch h w c_in"]) -> Float[Array, "batch h2 w2 c_out"]:
        return self.res(max_pool_2x2(h))


class UpBlock2D(AbstractBlock):
    """Decoder level: up-sample ``(batch, h, w, c_in)`` by 2 (1×1 convolution to ``4 c_out`` channels and a pixel
    shuffle, i.e. a 2×2 stride-2 transposed convolution), concatenate the skip map ``(batch, 2h, 2w, c_out)`` and
    apply :class:`ResBlock2D` ``2 c_out -> c_out``; output ``(batch, 2h, 2w, c_out)``."""

    def __init__(self, c_in: int, c_out: int, *, kernel_size: int = 3, groups: int = 8, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        self.out_features = c_out
        self.up = nnx.Conv(c_in, 4 * c_out, (1, 1), param_dtype=param_dtype, rngs=rngs)
        self.res = ResBlock2D(2 * c_out, c_out, kernel_size=kernel_size, groups=groups, param_dtype=param_dtype,
                              rngs=rngs)

    def __call__(self, h: Float[Array, "batch h w c_in"], skip: Float[Array, "batch h2 w2 c_out"]
                 ) -> Float[Array, "batch h2 w2 c_out"]:
        return self.res(jnp.concatenate([pixel_shuffle_2x(self.up(h)), skip], axis=-1))


def unet_widths(base_channels: int, depth: int, multiplier: int = 2) -> tuple[int, ...]:
    """Channel widths of the ``depth + 1`` levels: ``base_channels · multiplier**i``."""
    if depth < 0 or base_channels < 1 or multiplier < 1:
        raise ValueError(f"need depth >= 0, base_channels >= 1, multiplier >= 1; got {depth}, {base_channels}, "
                         f"{multiplier}")
    return tuple(base_channels * multiplier ** i for i in range(depth + 1))


def unet_blocks(widths: tuple[int, ...], *, kernel_size: int = 3, groups: int = 8, param_dtype=jnp.float32,
                rngs: nnx.Rngs) -> nnx.List:
    """The ``2 · depth + 1`` ordered blocks of a U-Net with level widths ``widths`` (``depth = len(widths) -
    1``): ``ResBlock2D(w0 -> w0)``, ``DownBlock2D(w[i-1] -> w[i])`` for ``i = 1..depth``, then
    ``UpBlock2D(w[i] -> w[i-1])`` for ``i = depth..1``."""
    kw = dict(kernel_size=kernel_size, groups=groups, param_dtype=param_dtype, rngs=rngs)
    down = [DownBlock2D(a, b, **kw) for a, b in zip(widths[:-1], widths[1:])]
    up = [UpBlock2D(b, a, **kw) for a, b in reversed(list(zip(widths[:-1], widths[1:])))]
    return nnx.List([ResBlock2D(widths[0], widths[0], **kw), *down, *up])


class AbstractUNet(AbstractNetwork):
    """A network whose ``blocks`` are those of :func:`unet_blocks` (``depth`` down- and up-sampling levels) and
    whose ``head`` is a 1×1 convolution on the last decoder map: subclasses differ in their ``stem`` (what turns
    their inputs into the first channels-last map) and call :meth:`trunk` and :meth:`head_map`.

    Sizes: any ``h``, ``w`` ≥ 1.  A map whose sides are not multiples of ``2**depth`` is padded at the bottom and
    right by edge replication before the first block and the result cropped back (the padded pixels only reach
    the real ones through the convolutions near those borders and the group statistics); multiples of
    ``2**depth`` (e.g. the 256 × 256 chips of the paper) are not padded.
    """

    depth: int
    feature_channels: int

    def trunk(self, h: Float[Array, "batch h w c0"]) -> Float[Array, "batch h w c0"]:
        """The blocks on the stem's channels-last map ``(batch, h, w, c0)``: the encoder (its outputs kept as
        skips), then the decoder; returns the feature map ``(batch, h, w, c0)`` at the input's size."""
        b, hh, ww, _ = h.shape
        m = 2 ** self.depth
        ph, pw = (-hh) % m, (-ww) % m
        if ph or pw:
            h = jnp.pad(h, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
        skips = []
        for block in self.blocks[: self.depth + 1]:
            h = block(h)
            skips.append(h)
        for i, block in enumerate(self.blocks[self.depth + 1:]):
            h = block(h, skips[self.depth - 1 - i])
        return h[:, :hh, :ww, :]

    def head_map(self, features: Float[Array, "batch h w c0"]) -> Float[Array, "batch h w n_out"]:
        """The head (1×1 convolution) on a channels-last feature map."""
        return self.head(features)


def channels_last(x: Float[Array, "batch c h w"], n_inputs: int, dtype) -> Float[Array, "batch h w c"]:
    """Check ``x (batch, n_inputs, h, w)`` (``ValueError`` at trace time) and return it channels-last, cast to
    ``dtype`` (the parameters' dtype)."""
    if x.ndim != 4 or x.shape[1] != n_inputs:
        raise ValueError(f"expected images of shape (batch, {n_inputs}, h, w), got {x.shape}")
    return jnp.transpose(x, (0, 2, 3, 1)).astype(dtype)


class UNet(AbstractUNet):
    r"""2-D U-Net: images ``(batch, n_inputs, h, w)`` to per-pixel maps ``(batch, n_outputs, h, w)``.

    Groups (for fine-tuning, :mod:`leafjax.transfer`): ``stem`` = ``Conv2D(n_inputs -> base_channels, k×k)``
    (linear); ``blocks`` = the ``2 · depth + 1`` blocks of :func:`unet_blocks` (encoder levels of widths
    ``base_channels · 2**i``, then decoder levels with skip connections); ``head`` = a 1×1
    ``Conv2D(base_channels -> n_outputs)``.  :meth:`features` gives the map the head sees (the "penultimate"
    map that fused models concatenate).  Receptive field at depth 2 with 3×3 kernels: 46 pixels.

    **Arguments:** ``n_inputs`` (channels), ``n_outputs`` (maps), ``base_channels`` (32: the width of the first
    level and of :meth:`features`), ``depth`` (2: number of 2× down-samplings; the paper's 32/64/128 U-Net),
    ``multiplier`` (2), ``kernel_size`` (3), ``groups`` (8: GroupNorm groups, reduced to ``gcd(groups, c)``),
    ``param_dtype``, ``rngs``.  Inputs are cast to ``param_dtype``; sizes as in :class:`AbstractUNet` (any
    ``h, w``; non-multiples of ``2**depth`` padded internally).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> net = UNet(5, 1, base_channels=8, depth=2, rngs=nnx.Rngs(0))
        >>> x = jnp.zeros((2, 5, 16, 16), jnp.float32)
        >>> y, f = nnx.jit(lambda m, x: (m(x), m.features(x)))(net, x)
        >>> y.shape, f.shape
        ((2, 1, 16, 16), (2, 8, 16, 16))

    References: Ronneberger, Fischer & Brox (2015) "U-Net: convolutional networks for biomedical image
    segmentation", MICCAI; Wu & He (2018) "Group normalization", ECCV; Wang et al. (2023) "Leveraging
    multi-temporal Sentinel-1 and 2 satellite data for leaf area index estimation with deep learning"
    (github.com/valentingol/LeafNothingBehind).
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, base_channels: int = 32, depth: int = 2,
                 multiplier: int = 2, kernel_size: int = 3, groups: int = 8, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        widths = unet_widths(base_channels, depth, multiplier)
        self.n_inputs, self.n_outputs, self.depth, self.feature_channels = n_inputs, n_outputs, depth, widths[0]
        self.param_dtype = param_dtype
        k = (kernel_size, kernel_size)
        self.stem = nnx.Conv(n_inputs, widths[0], k, padding="SAME", param_dtype=param_dtype, rngs=rngs)
        self.blocks = unet_blocks(widths, kernel_size=kernel_size, groups=groups, param_dtype=param_dtype, rngs=rngs)
        self.head = nnx.Conv(widths[0], n_outputs, (1, 1), param_dtype=param_dtype, rngs=rngs)

    def _features(self, x: Float[Array, "batch c h w"]) -> Float[Array, "batch h w c0"]:
        return self.trunk(self.stem(channels_last(x, self.n_inputs, self.param_dtype)))

    def features(self, x: Float[Array, "batch c h w"]) -> Float[Array, "batch c0 h w"]:
        """The feature map ``(batch, base_channels, h, w)`` (the last decoder block's output)."""
        return jnp.transpose(self._features(x), (0, 3, 1, 2))

    def __call__(self, x: Float[Array, "batch c h w"]) -> Float[Array, "batch n_out h w"]:
        return jnp.transpose(self.head_map(self._features(x)), (0, 3, 1, 2))
