"""The training loop over pytree batches: image batches with a masked per-pixel loss, 2-D convolutional networks
wrapped with LoRA and adapters, per-channel standardisation, and the tabular form as a special case."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from leafjax.networks import ConvNet2D, make_regressor, standardisation_stats, standardise
from leafjax.networks.wrappers import LoRAConv, add_adapters, add_lora
from leafjax.training import (
    TabularLoss,
    evaluate,
    fit,
    fit_many,
    masked_mse,
    predict,
    rows_mask,
    tabular_batch,
)
from leafjax.transfer import filters

from _nets import linear_data

C, H, W = 3, 6, 6


def _images(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Image chips ``(n, C, H, W)`` with per-channel offsets/scales, a per-pixel target that depends on a
    3×3 neighbourhood, and a pixel mask (about a quarter of the pixels unobserved, their target NaN)."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(n, C, H, W)) * np.array([1.0, 10.0, 0.1])[None, :, None, None] \
        + np.array([0.0, 50.0, -3.0])[None, :, None, None]
    mean, scale = standardisation_stats(raw, axis=1)
    image = standardise(raw, mean, scale, axis=1).astype(np.float32)
    padded = np.pad(image[:, 0], ((0, 0), (1, 1), (1, 1)))
    smooth = sum(padded[:, i:i + H, j:j + W] for i in range(3) for j in range(3)) / 9.0
    target = (smooth - 0.5 * image[:, 2]).astype(np.float32)
    mask = rng.random((n, H, W)) > 0.25
    return {"image": image, "target": np.where(mask, target, np.nan).astype(np.float32), "mask": mask}


def pixel_loss(model, batch, mask):
    """Masked per-pixel MSE of the first output map: padding rows and unobserved pixels are excluded."""
    observed = batch["mask"] & rows_mask(mask, batch["mask"])
    return masked_mse(model(batch["image"])[:, 0], batch["target"], observed)


def _flat(model, filt=...):
    state = nnx.state(model) if filt is ... else nnx.state(model, filt)
    return {p: np.asarray(v[...]) for p, v in nnx.to_flat_state(state)}


FIT = dict(loss=pixel_loss, optimiser=optax.adam(3e-2), epochs=8, batch_size=8, val_fraction=0.25, patience=None)


@pytest.fixture(scope="module")
def batch():
    return _images(20)


def test_standardisation_per_channel():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 3, 4, 2)) * np.array([1.0, 4.0, 0.5])[None, :, None, None] + 7.0
    x[0, 1, 0, 0] = np.nan
    x[:, 2] = 3.0  # a constant channel
    mean, scale = standardisation_stats(x, axis=1)
    assert mean.shape == scale.shape == (3,)
    for c in range(2):
        values = x[:, c][np.isfinite(x[:, c])]
        np.testing.assert_allclose([mean[c], scale[c]], [values.mean(), values.std()], rtol=1e-12)
    assert mean[2] == 3.0 and scale[2] == 1.0
    z = standardise(x, mean, scale, axis=1)
    np.testing.assert_allclose(np.nanmean(z[:, :2], axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.nanstd(z[:, :2], axis=(0, 2, 3)), 1.0, rtol=1e-12)
    # the same under jit, on JAX arrays, and per feature of a matrix (the default last axis)
    zj = jax.jit(lambda a: standardise(a, mean, scale, axis=1))(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(zj), z, rtol=1e-12)
    m2, s2 = standardisation_stats(x[:, :, 0, 0])
    np.testing.assert_allclose(m2, np.nanmean(x[:, :, 0, 0], axis=0))
    with pytest.raises(ValueError, match="sample axis"):
        standardisation_stats(x, axis=0)


@pytest.mark.parametrize("wrapper", ["lora", "adapters"])
def test_conv2d_wrapped_trains_on_image_batch_and_keeps_base_frozen(wrapper, batch):
    net = ConvNet2D(C, 1, channels=(4, 4), rngs=nnx.Rngs(0))
    if wrapper == "lora":
        wrapped, trainable = add_lora(net, rank=2, rngs=nnx.Rngs(1)), filters.lora(include_head=False)
        convs = [m for _, m in nnx.iter_graph(wrapped) if isinstance(m, LoRAConv)]
        assert len(convs) == 3 and all(c.lora_a.ndim == 4 for c in convs)  # stem, block and 1x1 head: 2-D kernels
    else:
        wrapped, trainable = add_adapters(net, bottleneck=2, rngs=nnx.Rngs(1)), filters.adapters(include_head=False)
    forward = nnx.jit(lambda m, x: m(x))
    np.testing.assert_allclose(forward(wrapped, batch["image"]), forward(net, batch["image"]), rtol=1e-5, atol=1e-6)
    before = _flat(wrapped)
    trained, h = fit(wrapped, batch, trainable=trainable, seed=2, **FIT)
    after = _flat(trained)
    train_paths = set(_flat(wrapped, trainable))
    assert before.keys() == after.keys() and train_paths and len(train_paths) < len(before)
    for p in before:  # every base parameter bit-identical; every wrapper parameter moved
        assert np.array_equal(before[p], after[p]) == (p not in train_paths), p
    assert h.epochs_run == 8 and h.steps == 8 * 2 and len(h.val_indices) == 5
    assert h.train_loss[-1] < 0.8 * h.train_loss[0]
    val = jax.tree.map(lambda a: a[h.val_indices], batch)
    assert evaluate(trained, val, pixel_loss) == pytest.approx(min(h.val_loss), rel=1e-5)
    maps = predict(trained, batch["image"], batch_size=8)
    assert maps.shape == (20, 1, H, W) and maps.dtype == np.float64


def test_masked_pixels_and_padding_rows_do_not_matter(batch):
    """Targets of unobserved pixels get neither value nor gradient: changing them changes nothing."""
    net = ConvNet2D(C, 1, channels=(4,), rngs=nnx.Rngs(0))
    other = dict(batch, target=np.where(batch["mask"], batch["target"], 1e6).astype(np.float32))
    kw = dict(FIT, epochs=2, batch_size=6)  # 15 training rows: the last step of each epoch is padded
    (m1, h1), (m2, h2) = fit(net, batch, **kw), fit(net, other, **kw)
    assert all(np.isfinite(h1.train_loss)) and h1.train_loss == h2.train_loss
    assert all(np.array_equal(a, b) for a, b in zip(_flat(m1).values(), _flat(m2).values()))


def test_fit_many_on_image_batches_matches_single_fits():
    sets = [_images(9, seed=1), _images(14, seed=2)]
    net = ConvNet2D(C, 1, channels=(4,), rngs=nnx.Rngs(0))
    kw = dict(FIT, epochs=3, batch_size=4)
    many, hists = fit_many(net, sets, seeds=[5, 6], **kw)
    for m, h, s, seed in zip(many, hists, sets, (5, 6)):
        single, hs = fit(net, s, seed=seed, **kw)
        assert h.steps == hs.steps and np.array_equal(h.val_indices, hs.val_indices)
        np.testing.assert_allclose(predict(m, s["image"]), predict(single, s["image"]), rtol=1e-4, atol=1e-5)
    assert [h.steps for h in hists] == [3 * 2, 3 * 3]


def test_tabular_form_is_the_pytree_form_with_the_default_loss():
    x, y = linear_data(30, nan_every=4)
    model = make_regressor("resnet", x, y, rngs=nnx.Rngs(0), d=8, n_blocks=1)
    kw = dict(epochs=3, batch_size=8, seed=4)
    m1, h1 = fit(model, (x, y), **kw)
    m2, h2 = fit(model, tabular_batch(x, y), loss=TabularLoss(masked_mse), **kw)
    assert h1.train_loss == h2.train_loss and h1.val_loss == h2.val_loss
    assert all(np.array_equal(a, b) for a, b in zip(_flat(m1).values(), _flat(m2).values()))
    assert evaluate(m1, (x, y)) == evaluate(m2, tabular_batch(x, y), TabularLoss())


def test_pytree_errors(batch):
    net = ConvNet2D(C, 1, channels=(4,), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="needs loss"):
        fit(net, batch, epochs=1)
    with pytest.raises(ValueError, match="same leading sample axis"):
        fit(net, dict(batch, mask=batch["mask"][:-1]), loss=pixel_loss, epochs=1)
    with pytest.raises(ValueError, match="all be"):
        fit_many(net, [batch, linear_data(5)], loss=pixel_loss, epochs=1)
    with pytest.raises(ValueError, match="images of shape"):
        net(jnp.zeros((2, C + 1, H, W)))


def test_flax_lora_layers_are_trained_by_the_lora_filter_and_not_rewrapped():
    """A model built with flax's own ``nnx.LoRALinear`` is left as it is by ``add_lora``, and its
    ``nnx.LoRAParam``s are what ``filters.lora`` trains."""

    class Tiny(nnx.Module):
        def __init__(self, rngs):
            self.layer = nnx.LoRALinear(4, 2, lora_rank=2, rngs=rngs)

        def __call__(self, x):
            return self.layer(x)

    model = Tiny(nnx.Rngs(0))
    assert set(_flat(add_lora(model, rngs=nnx.Rngs(1)))) == set(_flat(model))
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(16, 4)).astype(np.float32), "y": rng.normal(size=(16, 2)).astype(np.float32)}

    def loss(m, b, mask):
        return masked_mse(m(b["x"]), b["y"], rows_mask(mask, b["y"]))

    before = _flat(model)
    trained, _ = fit(model, data, loss=loss, trainable=filters.lora(include_head=False), epochs=2, batch_size=8,
                     optimiser=optax.adam(1e-2), val_fraction=0.0)
    after = _flat(trained)
    for p in before:
        assert np.array_equal(before[p], after[p]) == ("lora" not in p), p
