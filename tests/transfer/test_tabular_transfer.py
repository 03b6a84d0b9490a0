"""Pre-train → fine-tune → predict on feature arrays (:mod:`leafjax.transfer._tabular`): every LST network with
every fine-tuning method adapts to a shifted target domain; with few target rows, pre-training on a related
simulation then fine-tuning beats training from scratch; results are deterministic by seed."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from flax import nnx

from leafjax.networks import make_regressor
from leafjax.transfer import (
    FINETUNE_METHODS,
    LST_NETWORKS,
    AdamWCosine,
    direct_many,
    finetune_grid,
    network_kwargs_for,
    predict_many,
    prepare_finetuning,
    pretrain_many,
)

K = 12  # features, as lst_features gives
PRETRAIN = dict(epochs=15, batch_size=64, patience=None, optimiser=AdamWCosine(learning_rate=3e-3))
TUNE = dict(epochs=25, batch_size=16, patience=None, val_fraction=0.0, optimiser=AdamWCosine(learning_rate=3e-3))


def _domain(n: int, seed: int, shift: bool) -> tuple[np.ndarray, np.ndarray]:
    """``y = a·x + b·x₀² + noise`` on ``x ~ N(0, 1)^K``; the shifted domain adds ``0.6 x₁ + 0.8`` (a different
    sensitivity and an offset, as a calibration bias or a simulator error would)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, K))
    a = np.linspace(1.0, -1.0, K)
    y = x @ a + 0.5 * x[:, 0] ** 2 + 0.05 * rng.normal(size=n)
    if shift:
        y = y + 0.6 * x[:, 1] + 0.8
    return x, 300.0 + 2.0 * y  # "kelvin"


def _rmse(models, x, y) -> np.ndarray:
    return np.sqrt(np.mean((predict_many(models, x) - y[None, :]) ** 2, axis=1))


SEEDS = [0, 1, 2]
GRADUAL = {"gradual": {"n_stages": 2}}  # head, then head + last block: two stages keep the test short


@pytest.fixture(scope="module")
def domains():
    return {"sim": _domain(1024, 0, False), "target": _domain(48, 1, True), "test": _domain(400, 2, True)}


@pytest.fixture(scope="module")
def pretrained(domains):
    return pretrain_many("dnn", *domains["sim"], seeds=SEEDS, **PRETRAIN)


@pytest.fixture(scope="module")
def tuned(pretrained, domains):
    return finetune_grid(pretrained, *domains["target"], seeds=SEEDS, method_kwargs=GRADUAL, with_histories=True,
                         **TUNE)


def _check_adapts(pre, tuned, hists, domains, factor=0.75):
    """Each method lowers the RMSE on the shifted domain below ``factor`` × its value before, for every seed."""
    (xe, ye) = domains["test"]
    before = _rmse(pre, xe, ye)
    assert np.all(_rmse(pre, *domains["sim"]) < 0.5 * before)  # it learned the simulation, which is off here
    assert set(tuned) == set(FINETUNE_METHODS)
    for method, models in tuned.items():
        after = _rmse(models, xe, ye)
        assert np.all(after < factor * before), (method, before, after)
        assert all(len(h) == (2 if method == "gradual" else 1) for h in hists[method])


@pytest.mark.slow
def test_dnn_every_method_adapts_to_a_shifted_domain(pretrained, tuned, domains):
    _check_adapts(pretrained, *tuned, domains)


@pytest.mark.slow
@pytest.mark.parametrize("network", ["transformer", "cnn"])
def test_every_network_and_method_adapts_to_a_shifted_domain(network, domains):
    pre = pretrain_many(network, *domains["sim"], seeds=[0], **dict(PRETRAIN, epochs=30, batch_size=64))
    _check_adapts(pre, *finetune_grid(pre, *domains["target"], seeds=[0], method_kwargs=GRADUAL,
                                      with_histories=True, **TUNE), domains, factor=0.9)


@pytest.mark.parametrize("network", list(LST_NETWORKS))
@pytest.mark.slow
def test_every_network_is_ready_for_every_method(network, domains):
    """The structure fine-tuning needs, without training: for each method a non-empty subset of the parameters
    trains in the first stage (all of them for "full" only), wrappers start as the identity, and gradual
    unfreezing has head, block and stem stages."""
    xs, ys = domains["sim"]
    model = make_regressor(network, xs[:64], ys[:64, None], rngs=nnx.Rngs(0), **network_kwargs_for(network))
    reference = np.asarray(model(xs[:4]))
    for method in FINETUNE_METHODS:
        wrapped, stages = prepare_finetuning(model, method, seed=1)
        n_all = sum(v.size for v in jax.tree.leaves(nnx.state(wrapped, nnx.Param)))
        n_first = sum(v.size for v in jax.tree.leaves(nnx.state(wrapped, stages[0])))
        assert 0 < n_first <= n_all and (n_first == n_all) == (method == "full"), method
        if method == "gradual":
            assert len(stages) == model.net.n_blocks + 2 == 4
        if method in ("adapters", "lora"):  # structural wrappers start as the identity
            np.testing.assert_allclose(np.asarray(wrapped(xs[:4])), reference, rtol=1e-5, atol=1e-4)


def test_pretrain_then_finetune_beats_direct_training_with_few_target_rows(tuned, domains):
    (xt, yt), (xe, ye) = domains["target"], domains["test"]
    direct = direct_many("dnn", xt, yt, seeds=SEEDS, epochs=100, batch_size=16, patience=None, val_fraction=0.0,
                         optimiser=AdamWCosine(learning_rate=3e-3))
    rmse_tuned, rmse_direct = _rmse(tuned[0]["full"], xe, ye), _rmse(direct, xe, ye)
    assert rmse_tuned.mean() < 0.6 * rmse_direct.mean(), (rmse_tuned, rmse_direct)
    assert np.all(rmse_tuned < rmse_direct)


def test_deterministic_by_seed_in_any_batch_position(pretrained, domains):
    xs, ys = domains["sim"]
    again = pretrain_many("dnn", xs, ys, seeds=[2, 0, 5], **PRETRAIN)  # same batch size: same compiled loop
    p_first, p_again = predict_many(pretrained, xs[:50]), predict_many(again, xs[:50])
    np.testing.assert_allclose(p_again[0], p_first[2], rtol=0, atol=1e-4)  # a model trains alike anywhere
    np.testing.assert_allclose(p_again[1], p_first[0], rtol=0, atol=1e-4)
    assert not np.allclose(p_again[2], p_first[1], atol=1e-3)
    # the simulation's standardisation is in the models and kept by fine-tuning
    np.testing.assert_allclose(np.asarray(pretrained[0].y_mean[...]), [ys.mean()], rtol=1e-6)


def test_finetuning_keeps_the_simulation_standardisation(pretrained, tuned):
    for models in tuned[0].values():
        for pre, model in zip(pretrained, models):
            np.testing.assert_array_equal(np.asarray(model.x_mean[...]), np.asarray(pre.x_mean[...]))
            np.testing.assert_array_equal(np.asarray(model.y_scale[...]), np.asarray(pre.y_scale[...]))


def test_network_kwargs_and_prediction_shapes(domains):
    assert network_kwargs_for("dnn", {"width": 8}) == {"width": 8, "depth": 3, "activation": "relu"}
    assert network_kwargs_for("resnet") == {}
    xs, ys = domains["sim"]
    models = [make_regressor("dnn", xs, np.stack([ys, -ys], 1), rngs=nnx.Rngs(s),
                             **network_kwargs_for("dnn", {"width": 8})) for s in (0, 1)]
    assert models[0].net.stem.out_features == 8
    pred = predict_many(models, xs[:5])
    assert pred.shape == (2, 5, 2) and pred.dtype == np.float64
    assert predict_many([], xs[:5]).shape == (0, 5)


def test_errors(domains):
    xs, ys = domains["sim"]
    with pytest.raises(ValueError, match="same n"):
        pretrain_many("dnn", xs, ys[:10])
    bad = xs.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        direct_many("dnn", bad, ys)
    model = make_regressor("dnn", xs, ys[:, None], rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="unknown fine-tuning"):
        finetune_grid([model], xs, ys, methods=("bitfit",))
    with pytest.raises(ValueError, match="seeds"):
        finetune_grid([model], xs, ys, seeds=[0, 1])
    with pytest.raises(ValueError, match="no models"):
        finetune_grid([], xs, ys)
    with pytest.raises(ValueError, match="seed"):
        pretrain_many("dnn", xs, ys, seeds=[])
