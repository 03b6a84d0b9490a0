"""Batched training: fit_many trains each model as fit would alone (up to float rounding), for unequal data
sizes, different starting models, early stopping and fine-tuning stages."""

from __future__ import annotations

import jax
import numpy as np
import optax
import pytest
from flax import nnx

from leafjax.networks import make_regressor
from leafjax.transfer import finetune, finetune_many, fit, fit_many, predict

from _nets import linear_data


def _close(m1, m2, x, rtol=2e-3):
    np.testing.assert_allclose(predict(m1, x), predict(m2, x), rtol=rtol, atol=rtol * 10)


def test_unequal_sizes_seeds_and_starts_match_single_fits():
    sets = [linear_data(n, seed=s, nan_every=3) for s, n in enumerate((12, 37, 60, 5))]
    starts = [make_regressor("glm", *sets[0], rngs=nnx.Rngs(i), projection="learned", n_components=4)
              for i in range(4)]  # four sizes: one, two and three steps per epoch, and fewer rows than a batch
    kw = dict(epochs=25, batch_size=16, val_fraction=0.2, patience=4)
    many, hists = fit_many(starts, sets, seeds=[3, 1, 4, 1], **kw)
    for i, (m, h) in enumerate(zip(many, hists)):
        single, hs = fit(starts[i], sets[i], seed=[3, 1, 4, 1][i], **kw)
        assert (h.epochs_run, h.best_epoch, h.steps) == (hs.epochs_run, hs.best_epoch, hs.steps)
        np.testing.assert_array_equal(h.train_indices, hs.train_indices)
        np.testing.assert_array_equal(h.val_indices, hs.val_indices)
        np.testing.assert_allclose(h.train_loss, hs.train_loss, rtol=1e-3)
        _close(m, single, sets[i][0])
    # steps follow each set's own size: ceil(n_train / 16) per epoch
    assert [h.steps // h.epochs_run for h in hists] == [1, 2, 3, 1]
    # models with different data end up different, and early stopping differed between them
    assert not np.allclose(predict(many[1], sets[0][0]), predict(many[2], sets[0][0]))


def test_max_steps_schedule_and_explicit_validation():
    a, b = linear_data(40, seed=0), linear_data(24, seed=1)
    model = make_regressor("glm", *a, rngs=nnx.Rngs(0))
    val = [linear_data(10, seed=5), linear_data(7, seed=6)]
    many, hists = fit_many(model, [a, b], validation=val, epochs=6, max_steps=9, batch_size=8,
                           optimiser=optax.adam(1e-2))
    assert [h.steps for h in hists] == [9, 9] and [h.epochs_run for h in hists] == [2, 3]
    assert all(h.val_indices is None and len(h.val_loss) == h.epochs_run for h in hists)
    single, _ = fit(model, b, validation=val[1], epochs=6, max_steps=9, batch_size=8, optimiser=optax.adam(1e-2))
    _close(many[1], single, b[0])


def test_frozen_parameters_stay_bit_identical_and_inputs_untouched():
    sets = [linear_data(20, seed=s) for s in range(3)]
    model = make_regressor("resnet", *sets[0], rngs=nnx.Rngs(0), d=8, n_blocks=2)
    before = jax.tree.map(np.asarray, nnx.state(model))
    tuned, hists = finetune_many(model, sets, "head", seeds=[0, 1, 2], epochs=5, batch_size=8)
    after_input = jax.tree.map(np.asarray, nnx.state(model))
    assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(before), jax.tree.leaves(after_input)))
    for t in tuned:
        for (path, v0), (_, v1) in zip(nnx.to_flat_state(nnx.state(model, nnx.Param)),
                                       nnx.to_flat_state(nnx.state(t, nnx.Param))):
            same = np.array_equal(np.asarray(v0[...]), np.asarray(v1[...]))
            assert same == ("head" not in path), path
    single, _ = finetune(model, sets[2], "head", seed=2, epochs=5, batch_size=8)
    _close(tuned[2], single, sets[2][0])
    assert len(hists) == 3 and all(len(h) == 1 for h in hists)


def test_gradual_stages_in_batch_match_single():
    sets = [linear_data(18, seed=s) for s in range(2)]
    model = make_regressor("glm", *sets[0], rngs=nnx.Rngs(0), projection="learned", n_components=4)
    tuned, hists = finetune_many(model, sets, "gradual", seeds=[7, 8], method_kwargs={"n_stages": 2},
                                 epochs=4, batch_size=8, patience=None)
    assert [len(h) for h in hists] == [2, 2]
    single, hs = finetune(model, sets[1], "gradual", seed=8, method_kwargs={"n_stages": 2}, epochs=4,
                          batch_size=8, patience=None)
    _close(tuned[1], single, sets[1][0])


def test_mismatched_models_and_counts_are_errors():
    a = linear_data(10)
    glm = make_regressor("glm", *a, rngs=nnx.Rngs(0))
    resnet = make_regressor("resnet", *a, rngs=nnx.Rngs(0), d=8, n_blocks=1)
    with pytest.raises(ValueError, match="one structure"):
        fit_many([glm, resnet], [a, a], epochs=1)
    with pytest.raises(ValueError, match="2 models for 3"):
        fit_many([glm, glm], [a, a, a], epochs=1)
    with pytest.raises(ValueError, match="1 validation sets for 2"):
        fit_many(glm, [a, a], validation=[a], epochs=1)
    with pytest.raises(ValueError, match="same number of wavelengths"):
        fit_many(glm, [a, (a[0][:, :5], a[1])], epochs=1)



@pytest.mark.slow
def test_host_driven_loop_trains_as_the_compiled_loop():
    """The host-driven driver (the default for convolutional models on CPU) runs the same epochs, steps, early
    stopping and best-epoch restore as the compiled one; losses agree to float32 rounding."""

    from leafjax.networks import Sodium
    from leafjax.training import MapMSE, fit_many
    from _s1s2_batches import s1s2_batch

    data = [s1s2_batch(10, 16, 0), s1s2_batch(7, 16, 1)]
    model = Sodium(base_channels=4, depth=1, rngs=nnx.Rngs(0))
    kw = dict(loss=MapMSE(), epochs=4, batch_size=4, patience=1, seeds=[0, 1])
    _, hc = fit_many(model, data, loop="compiled", **kw)
    _, hh = fit_many(model, data, loop="host", **kw)
    for a, b in zip(hc, hh):
        assert (a.steps, a.epochs_run, a.best_epoch) == (b.steps, b.epochs_run, b.best_epoch)
        np.testing.assert_allclose(a.train_loss, b.train_loss, rtol=1e-4)
        np.testing.assert_allclose(a.val_loss, b.val_loss, rtol=1e-4)
    with pytest.raises(ValueError, match="unknown loop"):
        fit_many(model, data, loop="fast", **kw)
