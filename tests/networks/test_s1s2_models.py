"""The Sentinel-1/2 LAI models (Wang et al., LeafNothingBehind): input channels as in the reference code, shapes,
branch outputs of the fused model, which inputs each model reads, a short fit_many run with the fused masked
loss, and masked target pixels that change neither the loss nor its gradient."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from leafjax.networks import Aluminium, S1S2UNet, Sodium, Strontium
from leafjax.training import FusedMapMSE, fit_many
from leafjax.transfer import group_of

from _s1s2_batches import s1s2_batch

SMALL = dict(base_channels=4, depth=1)
N, SIZE = 4, 16


@pytest.fixture(scope="module")
def batch():
    return jax.tree.map(jnp.asarray, s1s2_batch(N, SIZE, seed=0))


@pytest.fixture(scope="module")
def models():
    sodium, aluminium = Sodium(rngs=nnx.Rngs(0), **SMALL), Aluminium(rngs=nnx.Rngs(1), **SMALL)
    fused = Strontium(sodium, aluminium, base_channels=4, depth=1, rngs=nnx.Rngs(2))
    return {"sodium": sodium, "aluminium": aluminium, "stacked": S1S2UNet(rngs=nnx.Rngs(3), **SMALL),
            "strontium": fused}


@nnx.jit
def _outputs(model, x):
    return model.outputs(x), model.features(x)


def test_input_channels_shapes_and_branch_outputs(models, batch):
    # stacked channels before the first convolution: the reference's in_dim 11 (Sodium), 7 (Aluminium); all: 13
    assert [models[k].n_inputs for k in ("sodium", "aluminium", "stacked")] == [11, 7, 13]
    for name in ("sodium", "aluminium", "stacked"):
        out, feats = _outputs(models[name], batch)
        assert set(out) == {"lai"} and out["lai"].shape == (N, SIZE, SIZE) and out["lai"].dtype == jnp.float32
        assert feats.shape == (N, 4, SIZE, SIZE)
    fused = models["strontium"]
    assert fused.n_inputs == 8 and fused.n_blocks == 3
    out, feats = _outputs(fused, batch)
    assert set(out) == {"lai", "radar", "optical"} and feats.shape == (N, 4, SIZE, SIZE)
    # the branches inside are copies of the given ones: same predictions, independent parameters
    np.testing.assert_allclose(out["radar"], _outputs(models["sodium"], batch)[0]["lai"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["optical"], _outputs(models["aluminium"], batch)[0]["lai"], rtol=1e-5, atol=1e-6)
    assert fused.stem.radar is not models["sodium"]
    # both branches, their heads included, are in the fused model's stem group
    for path, _ in nnx.to_flat_state(nnx.state(fused, nnx.Param)):
        if path[:2] in (("stem", "radar"), ("stem", "optical")):
            assert group_of(path) == ("stem",), path


def test_each_model_reads_only_its_inputs(models, batch):
    def changed(model, key):
        other = dict(batch, **{key: batch[key] + 0.5})
        return not np.allclose(_outputs(model, other)[0]["lai"], _outputs(model, batch)[0]["lai"], atol=1e-6)

    reads = {name: {k for k in ("s1", "lai", "lai_mask", "season") if changed(models[name], k)}
             for name in ("sodium", "aluminium", "strontium")}
    assert reads == {"sodium": {"s1", "lai_mask", "season"}, "aluminium": {"lai", "lai_mask", "season"},
                     "strontium": {"s1", "lai", "lai_mask", "season"}}
    radar_only = Sodium(use_masks=False, use_season=False, rngs=nnx.Rngs(4), **SMALL)
    assert radar_only.n_inputs == 6
    assert _outputs(radar_only, {"s1": batch["s1"]})[0]["lai"].shape == (N, SIZE, SIZE)
    with pytest.raises(ValueError, match="no 'lai_mask'"):
        _outputs(models["sodium"], {"s1": batch["s1"], "season": batch["season"]})
    with pytest.raises(ValueError, match="needs shape"):
        _outputs(models["aluminium"], dict(batch, lai=batch["lai"][:, :1]))


def test_masked_target_pixels_change_neither_loss_nor_gradient(models, batch):
    loss = FusedMapMSE()
    rows = jnp.ones((N,), bool)

    @nnx.jit
    def value_and_grad(model, b):
        def f(m):
            return loss(m, b, rows), loss.terms(m, b, rows)
        return nnx.value_and_grad(f, has_aux=True)(model)

    other = dict(batch, target=jnp.where(batch["target_mask"], batch["target"], 1e6))
    nan = dict(batch, target=jnp.where(batch["target_mask"], batch["target"], jnp.nan))
    (v1, terms), g1 = value_and_grad(models["strontium"], batch)
    for b in (other, nan):
        (v2, _), g2 = value_and_grad(models["strontium"], b)
        assert float(v1) == float(v2)
        jax.tree.map(lambda a, c: np.testing.assert_array_equal(np.asarray(a), np.asarray(c)), g1, g2)
    assert all(bool(jnp.all(jnp.isfinite(a))) for a in jax.tree.leaves(g1))
    np.testing.assert_allclose(float(v1), float(terms["lai"] + 0.1 * terms["radar"] + 0.15 * terms["optical"]),
                               rtol=1e-6)


@pytest.mark.slow
def test_fit_many_reduces_the_fused_masked_loss(models):
    """The shared loop on a dict batch of chips (fused loss with the auxiliary branch terms): the loss falls."""
    data = s1s2_batch(9, SIZE, seed=1)
    _, (h,) = fit_many([models["strontium"]], [data], seeds=[1], loss=FusedMapMSE(), optimiser=optax.adam(1e-2),
                       epochs=6, batch_size=4, val_fraction=0.0, patience=None)
    assert h.steps == 18 and len(h.train_loss) == 6 and h.val_loss == []
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]
