"""The plain MLP ("dnn" in the registry): shapes, the stem/blocks/head groups fine-tuning relies on, seeded
initialisation, checkpoint configs and input errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from leafjax.networks import (
    MLP,
    NETWORKS,
    AbstractBlock,
    DenseBlock,
    make_network,
    make_regressor,
    output_width,
    regressor_from_config,
)
from leafjax.transfer import unfreezing_order


def _params(module) -> list[np.ndarray]:
    return [np.asarray(a) for a in jax.tree.leaves(nnx.state(module, nnx.Param))]


def test_registry_and_shapes():
    assert NETWORKS["dnn"] is MLP
    net = make_network("dnn", 12, 2, rngs=nnx.Rngs(0))
    assert net(jnp.zeros((7, 12), jnp.float32)).shape == (7, 2)
    assert net.n_blocks == 2 and all(isinstance(b, DenseBlock) and isinstance(b, AbstractBlock) for b in net.blocks)
    assert [output_width(b) for b in net.blocks] == [64, 64] and output_width(net.stem) == 64
    n_params = sum(a.size for a in _params(net))
    assert n_params == (12 * 64 + 64) + 2 * (64 * 64 + 64) + (64 * 2 + 2)


def test_depth_width_and_activation():
    net = MLP(5, 1, width=8, depth=1, activation="gelu", rngs=nnx.Rngs(0))
    assert net.n_blocks == 0 and net(jnp.ones((3, 5), jnp.float32)).shape == (3, 1)
    assert unfreezing_order(net) == [("head",), ("stem",)]
    deep = MLP(5, 1, width=8, depth=4, rngs=nnx.Rngs(0))
    assert unfreezing_order(deep) == [("head",), ("blocks", 2), ("blocks", 1), ("blocks", 0), ("stem",)]


def test_forward_matches_the_formula():
    net = MLP(3, 1, width=4, depth=2, rngs=nnx.Rngs(1))
    x = np.random.default_rng(0).normal(size=(5, 3))
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    h = relu(x @ np.asarray(net.stem.kernel[...]) + np.asarray(net.stem.bias[...]))
    lin = net.blocks[0].linear
    h = relu(h @ np.asarray(lin.kernel[...]) + np.asarray(lin.bias[...]))
    expected = h @ np.asarray(net.head.kernel[...]) + np.asarray(net.head.bias[...])
    np.testing.assert_allclose(net(jnp.asarray(x, jnp.float32)), expected, rtol=1e-5, atol=1e-6)


def test_seeded_initialisation():
    a, b, c = (MLP(4, 1, rngs=nnx.Rngs(s)) for s in (0, 0, 1))
    for pa, pb in zip(_params(a), _params(b)):
        np.testing.assert_array_equal(pa, pb)
    assert any(not np.array_equal(pa, pc) for pa, pc in zip(_params(a), _params(c)))


def test_float64_parameters():
    net = MLP(4, 1, width=8, param_dtype=jnp.float64, rngs=nnx.Rngs(0))
    assert net(jnp.ones((2, 4), jnp.float64)).dtype == jnp.float64


def test_regressor_and_checkpoint_config():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 6)), rng.normal(size=(30, 1))
    model = make_regressor("dnn", x, y, rngs=nnx.Rngs(0), width=16, depth=2, activation="silu")
    template = regressor_from_config(model.config)
    assert nnx.graphdef(template) == nnx.graphdef(model)
    nnx.update(template, nnx.state(model))
    np.testing.assert_array_equal(np.asarray(template(x)), np.asarray(model(x)))


def test_errors():
    with pytest.raises(ValueError, match="activation"):
        MLP(4, 1, activation="swish2", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="depth"):
        MLP(4, 1, depth=0, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"\(batch, 4\)"):
        MLP(4, 1, rngs=nnx.Rngs(0))(jnp.zeros((2, 5), jnp.float32))
