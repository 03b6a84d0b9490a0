"""The 2-D U-Net: shapes over depths and widths, sizes that are not multiples of 2**depth, the feature map, the
fine-tuning groups, batch independence (GroupNorm), float32 and no recompilation on a second call."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from leafjax.networks import UNet
from leafjax.transfer import group_of

from _compile_count import count_compiles

C = 3


def _forward(net, x):
    return nnx.jit(lambda m, x: (m(x), m.features(x)))(net, x)


@pytest.mark.parametrize("depth,base", [(0, 4), (2, 8)])
def test_shapes_features_and_groups(depth, base):
    net = UNet(C, 2, base_channels=base, depth=depth, rngs=nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, C, 16, 16)), jnp.float32)
    y, f = _forward(net, x)
    assert y.shape == (2, 2, 16, 16) and f.shape == (2, base, 16, 16)
    assert y.dtype == f.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(y)))
    # the head is a 1x1 convolution of the feature map
    head = np.einsum("bchw,co->bohw", np.asarray(f), np.asarray(net.head.kernel[...])[0, 0])
    np.testing.assert_allclose(np.asarray(y), head + np.asarray(net.head.bias[...])[None, :, None, None],
                               rtol=1e-4, atol=1e-5)
    assert net.n_blocks == 2 * depth + 1 and net.feature_channels == base
    groups = {group_of(p) for p, _ in nnx.to_flat_state(nnx.state(net, nnx.Param))}
    assert groups == {("stem",), ("head",), *(("blocks", i) for i in range(net.n_blocks))}


def test_any_size_batch_one_and_input_checks():
    """Sizes that are not multiples of 2**depth are padded inside and cropped back (handled, not rejected);
    samples do not interact (no batch statistics), so batch 1 gives the same maps; float64 inputs are cast."""
    net = UNet(C, 1, base_channels=4, depth=2, rngs=nnx.Rngs(1))
    rng = np.random.default_rng(1)
    odd = jnp.asarray(rng.normal(size=(2, C, 17, 23)), jnp.float32)
    y, f = _forward(net, odd)
    assert y.shape == (2, 1, 17, 23) and f.shape == (2, 4, 17, 23) and bool(jnp.all(jnp.isfinite(y)))
    one, _ = _forward(net, odd[:1])
    np.testing.assert_allclose(np.asarray(one), np.asarray(y[:1]), rtol=1e-5, atol=1e-6)
    tiny, _ = _forward(net, jnp.ones((1, C, 1, 3), jnp.float64))
    assert tiny.shape == (1, 1, 1, 3) and tiny.dtype == jnp.float32
    with pytest.raises(ValueError, match="expected images"):
        _forward(net, jnp.ones((2, C + 1, 8, 8)))
    with pytest.raises((ValueError, TypeError)):  # TypeError: the jaxtyping check of the tests comes first
        _forward(net, jnp.ones((C, 8, 8)))


def test_second_call_does_not_recompile():
    net = UNet(C, 1, base_channels=4, depth=1, rngs=nnx.Rngs(2))
    forward = nnx.jit(lambda m, x: m(x))
    x, x2 = jnp.zeros((2, C, 8, 8), jnp.float32), jnp.ones((2, C, 8, 8), jnp.float32)
    forward(net, x)
    with count_compiles() as counter:
        y = forward(net, x2)
    assert counter.compiles == 0, counter.names
    assert y.shape == (2, 1, 8, 8)
