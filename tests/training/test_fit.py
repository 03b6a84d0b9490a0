"""The generic training loop: learning, masked targets, validation split, early stopping, reproducibility."""

from __future__ import annotations

import jax
import numpy as np
import optax
import pytest
from flax import nnx

from leafjax.networks import make_regressor
from leafjax.transfer import evaluate, fit, make_train_step, predict

from _nets import linear_data


def _leaves(model):
    return [np.asarray(a) for a in jax.tree.leaves(nnx.state(model))]


@pytest.fixture(scope="module")
def data():
    return linear_data(60, nan_every=4)


def test_fit_learns_and_records_split(data):
    x, y = data
    model = make_regressor("glm", x, y, rngs=nnx.Rngs(0))
    before = _leaves(model)
    trained, h = fit(model, data, optimiser=optax.adam(3e-2), epochs=40, batch_size=16, val_fraction=0.2,
                     patience=None, seed=1)
    # the input model is not modified; the trained one is better on its training rows
    assert all(np.array_equal(a, b) for a, b in zip(before, _leaves(model)))
    sub = (x[h.train_indices], y[h.train_indices])
    assert evaluate(trained, sub) < 0.5 * evaluate(model, sub)
    # the split: disjoint, complete, 20 % validation
    assert len(h.val_indices) == 12 and len(h.train_indices) == 48
    assert not set(h.train_indices) & set(h.val_indices)
    assert sorted([*h.train_indices, *h.val_indices]) == list(range(60))
    assert h.epochs_run == 40 and h.steps == 40 * 3 and len(h.val_loss) == 40
    assert all(np.isfinite(h.train_loss))


def test_early_stopping_restores_best(data):
    x, y = data
    model = make_regressor("resnet", x, y, rngs=nnx.Rngs(0), d=8, n_blocks=1)
    # a large learning rate without decay overfits/oscillates; patience stops the run
    trained, h = fit(model, data, optimiser=optax.sgd(0.3), epochs=60, batch_size=8, patience=3, seed=0)
    assert h.epochs_run < 60
    assert h.epochs_run == h.best_epoch + 1 + 3
    val = (x[h.val_indices], y[h.val_indices])
    assert evaluate(trained, val) == pytest.approx(min(h.val_loss), rel=1e-5)


def test_explicit_validation_and_max_steps(data):
    x, y = data
    model = make_regressor("glm", x, y, rngs=nnx.Rngs(0))
    _, h = fit(model, (x[:40], y[:40]), validation=(x[40:], y[40:]), epochs=10, max_steps=7, batch_size=16)
    assert h.val_indices is None and list(h.train_indices) == list(range(40))
    assert h.steps == 7 and h.epochs_run == 3


def test_reproducible_from_seed(data):
    x, y = data

    def run(seed):
        model = make_regressor("glm", x, y, rngs=nnx.Rngs(seed), projection="learned", n_components=4)
        return fit(model, data, epochs=3, batch_size=16, seed=seed)

    (m1, h1), (m2, h2), (m3, h3) = run(0), run(0), run(1)
    assert all(np.array_equal(a, b) for a, b in zip(_leaves(m1), _leaves(m2)))
    assert h1.train_loss == h2.train_loss and np.array_equal(h1.val_indices, h2.val_indices)
    assert not all(np.array_equal(a, b) for a, b in zip(_leaves(m1), _leaves(m3)))
    assert not np.array_equal(h1.val_indices, h3.val_indices)


def test_train_step_compiles_once(data):
    x, y = data
    model = make_regressor("glm", x, y, rngs=nnx.Rngs(0))
    step, state, _ = make_train_step(model, optax.adam(1e-2))
    xd, yd, md = (jax.numpy.asarray(a) for a in (x, np.nan_to_num(y), np.isfinite(y)))
    idx, valid = jax.numpy.arange(8), jax.numpy.ones(8, bool)
    state, l0 = step(state, xd, yd, md, idx, valid)
    state, l1 = step(state, xd, yd, md, idx + 8, valid)
    if hasattr(step, "_cache_size"):  # private jax API; the check is skipped where it is gone
        assert step._cache_size() == 1
    assert np.isfinite(float(l0)) and np.isfinite(float(l1))


def test_all_missing_targets_do_not_produce_nan(data):
    x, y = data
    y = y.copy()
    y[:, 2] = np.nan  # a trait never observed
    model = make_regressor("glm", x, y, rngs=nnx.Rngs(0))
    trained, h = fit(model, (x, y), epochs=2, batch_size=16)
    assert all(np.all(np.isfinite(a)) for a in _leaves(trained))
    assert np.all(np.isfinite(h.train_loss))


def test_predict_in_batches_matches_direct_call(data):
    x, y = data
    model = make_regressor("glm", x, y, rngs=nnx.Rngs(0))
    direct = np.asarray(nnx.jit(lambda m, x: m(x))(model, x))
    np.testing.assert_allclose(predict(model, x, batch_size=16), direct, rtol=1e-5, atol=1e-6)
    assert predict(model, x[:3], batch_size=16).shape == (3, y.shape[1])


def test_regulariser_is_added_to_the_training_loss(data):
    x, y = data
    model = make_regressor("glm", x, y, rngs=nnx.Rngs(0))
    kw = dict(optimiser=optax.sgd(0.0), epochs=1, batch_size=60, val_fraction=0.0)  # lr 0: loss of the init
    l2 = lambda m, xb: 10.0 * jax.numpy.sum(m.net.head.out.kernel[...] ** 2)  # noqa: E731
    _, plain = fit(model, data, **kw)
    _, reg = fit(model, data, regulariser=l2, **kw)
    assert reg.train_loss[0] == pytest.approx(plain.train_loss[0] + float(l2(model, x)), rel=1e-5)
