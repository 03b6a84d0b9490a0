"""Networks: output shapes, the common interface, sparsemax, standardisation and the masked loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from leafjax.networks import (
    NETWORKS,
    AbstractBlock,
    AbstractNetwork,
    AbstractRegressor,
    Statistic,
    TabNet,
    TraitRegressor,
    make_network,
    make_regressor,
    output_width,
    sparsemax,
    standardisation_stats,
)
from leafjax.transfer import group_of, masked_mse

from _nets import N_BANDS, N_TRAITS, TINY, TINY_IDS, linear_data


@pytest.mark.parametrize("name,kwargs", TINY, ids=TINY_IDS)
def test_output_shape_groups_and_masked_loss(name, kwargs):
    net = make_network(name, N_BANDS, N_TRAITS, rngs=nnx.Rngs(0), **kwargs)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, N_BANDS)), dtype=jnp.float32)
    forward = nnx.jit(lambda m, x: m(x))
    y = forward(net, x)
    assert y.shape == (5, N_TRAITS) and y.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(y)))
    # every parameter is in a named group; the head and each block exist
    groups = {group_of(p) for p, _ in nnx.to_flat_state(nnx.state(net, nnx.Param))}
    assert ("head",) in groups
    assert {("blocks", i) for i in range(net.n_blocks)} <= groups
    with pytest.raises(ValueError):
        forward(net, x[:, :-1])

    # masked targets neither change the loss nor get gradient (jit-compiled once for both calls)
    xs, ys = linear_data(8)
    m = make_regressor(name, xs, ys, rngs=nnx.Rngs(0), **kwargs)
    y_nan = ys.copy()
    y_nan[:4, 0] = np.nan
    mask = jnp.isfinite(y_nan)
    y_other = np.where(mask, ys, 1e3)  # differs from y_nan only where masked

    @nnx.jit
    def loss_and_grad(mdl, yy):
        def loss(mm):
            return masked_mse(mm.predict_standardised(xs), mm.standardise_targets(yy), mask)
        return nnx.value_and_grad(loss)(mdl)

    l1, g1 = loss_and_grad(m, jnp.asarray(y_nan))
    l2, g2 = loss_and_grad(m, jnp.asarray(y_other))
    assert float(l1) == pytest.approx(float(l2)) and float(l1) > 0
    leaves1, leaves2 = jax.tree.leaves(g1), jax.tree.leaves(g2)
    assert all(bool(jnp.all(jnp.isfinite(a))) for a in leaves1)
    assert all(np.allclose(a, b) for a, b in zip(leaves1, leaves2))


@pytest.mark.parametrize("name,kwargs", TINY, ids=TINY_IDS)
def test_declared_interfaces(name, kwargs):
    """Training and fine-tuning rely on declared interfaces: the network's groups, each block's output width,
    and the regressor's network and loss space (no attribute probing)."""
    x, y = linear_data(6)
    reg = make_regressor(name, x, y, rngs=nnx.Rngs(0), **kwargs)
    net = reg.network
    assert isinstance(reg, TraitRegressor) and isinstance(reg, AbstractRegressor)
    assert isinstance(net, AbstractNetwork) and net is reg.net and net.network is net
    assert all(isinstance(b, AbstractBlock) and output_width(b) == b.out_features > 0 for b in net.blocks)
    pred, target = nnx.jit(lambda m, x, y: m.loss_space(x, y))(reg, x, y)
    np.testing.assert_allclose(target, (y - np.mean(y, 0)) / np.std(y, 0), rtol=1e-4, atol=1e-5)
    assert pred.shape == target.shape == y.shape


def test_registry_names():
    assert set(NETWORKS) == {"glm", "resnet", "tabnet", "transformer", "cnn", "dnn"}
    with pytest.raises(ValueError):
        make_network("mlp", N_BANDS, 1, rngs=nnx.Rngs(0))


@pytest.mark.parametrize("projection", [None, "learned", "pca"])
def test_glm_projections(projection):
    x, y = linear_data(20)
    m = make_regressor("glm", x, y, rngs=nnx.Rngs(0), projection=projection, n_components=4)
    assert m(x).shape == (20, N_TRAITS)
    if projection == "pca":
        basis = np.asarray(m.net.stem.basis[...])
        np.testing.assert_allclose(basis.T @ basis, np.eye(4), atol=1e-5)  # orthonormal axes
        assert not nnx.state(m.net.stem, nnx.Param)  # the PCA basis is not trainable


def test_sparsemax():
    z = jnp.array([[2.0, 1.0, -1.0], [0.1, 0.2, 0.3], [0.0, 0.0, 0.0]])
    p = jax.jit(sparsemax)(z)
    np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(p[1], [0.7 / 3, 1 / 3, 1.3 / 3])  # tau = (0.6 - 1) / 3
    np.testing.assert_allclose(p[2], [1 / 3] * 3)
    # projection onto the simplex: non-negative, sums to one, exact zeros, gradients finite
    zr = jax.random.normal(jax.random.key(0), (50, 7)) * 3
    pr = jax.jit(sparsemax)(zr)
    assert bool(jnp.all(pr >= 0)) and np.allclose(jnp.sum(pr, -1), 1.0)
    assert int(jnp.sum(pr == 0)) > 0
    g = jax.jit(jax.grad(lambda z: jnp.sum(sparsemax(z)[:, 0] ** 2)))(zr)
    assert bool(jnp.all(jnp.isfinite(g)))


def test_tabnet_masks_select_features():
    net = TabNet(N_BANDS, 2, n_d=4, n_a=4, n_steps=3, rngs=nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(6, N_BANDS)), dtype=jnp.float32)
    masks = nnx.jit(lambda m, x: m.masks(x))(net, x)
    assert len(masks) == 3
    for m in masks:
        assert m.shape == (6, N_BANDS)
        np.testing.assert_allclose(jnp.sum(m, -1), 1.0, rtol=1e-5)
    assert float(nnx.jit(lambda m, x: m.mask_entropy(x))(net, x)) >= 0.0


def test_standardisation_ignores_nan():
    x = np.array([[1.0, np.nan, 5.0], [3.0, np.nan, 5.0]])
    mean, scale = standardisation_stats(x)
    np.testing.assert_allclose(mean, [2.0, 0.0, 5.0])
    np.testing.assert_allclose(scale, [1.0, 1.0, 1.0])
    xs, ys = linear_data(30, nan_every=3)
    m = make_regressor("resnet", xs, ys, rngs=nnx.Rngs(0), d=4, n_blocks=1)
    np.testing.assert_allclose(m.y_mean[...], np.nanmean(ys, axis=0), rtol=1e-5)
    # __call__ returns trait units: standardised prediction mapped back
    z, y_hat = nnx.jit(lambda m, x: (m.predict_standardised(x), m(x)))(m, xs)
    np.testing.assert_allclose(y_hat, z * m.y_scale[...][None, :] + m.y_mean[...][None, :], rtol=1e-6)
    # the statistics are stored with the model but are not parameters
    param_paths = {p for p, _ in nnx.to_flat_state(nnx.state(m, nnx.Param))}
    assert not any("x_mean" in p or "y_scale" in p for p in param_paths)
    assert len(nnx.state(m, Statistic)) == 4


def test_masked_loss():
    pred = jnp.array([[1.0, 2.0], [3.0, 4.0]])
    target = jnp.array([[0.0, jnp.nan], [3.0, 6.0]])
    mask = jnp.isfinite(target)
    assert float(masked_mse(pred, target, mask)) == pytest.approx((1.0 + 0.0 + 4.0) / 3)
    g = jax.grad(lambda p: masked_mse(p, target, mask))(pred)
    assert bool(jnp.all(jnp.isfinite(g))) and float(g[0, 1]) == 0.0
    assert float(masked_mse(pred, target, jnp.zeros_like(mask))) == 0.0
