"""Transfer strategies use exactly the data they claim, and never the target test set."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import leafjax.transfer._finetune as finetune_module
import leafjax.transfer._strategies as strategies_module
from leafjax.transfer import SIMULATED_TRAITS, run_strategy, simulate_training_set

from _nets import linear_data

FIT = {"epochs": 2, "batch_size": 16, "val_fraction": 0.2}
N_SOURCE, N_TARGET, N_SIM = 40, 10, 30


@pytest.fixture(scope="module")
def datasets():
    x, y = linear_data(N_SOURCE + N_TARGET + 20 + N_SIM, seed=3, nan_every=5)
    x = x + np.arange(len(x))[:, None] * 1e3  # every row unique and identifiable by its first band
    source = (x[:N_SOURCE], y[:N_SOURCE])
    target = (x[N_SOURCE:N_SOURCE + N_TARGET], y[N_SOURCE:N_SOURCE + N_TARGET])
    test = (x[N_SOURCE + N_TARGET:N_SOURCE + N_TARGET + 20], y[N_SOURCE + N_TARGET:N_SOURCE + N_TARGET + 20])
    sim = (x[-N_SIM:], y[-N_SIM:])
    return {"source": source, "target": target, "test": test, "simulated": sim}


@pytest.fixture
def spy(monkeypatch):
    """Record the rows (first band) of every array handed to the training loop."""
    from leafjax.training import _fit

    seen = []

    def spying_fit(model, data, **kw):
        seen.append(np.asarray(data[0])[:, 0].copy())
        if kw.get("validation") is not None:
            seen.append(np.asarray(kw["validation"][0])[:, 0].copy())
        return _fit.fit(model, data, **kw)

    def spying_fit_many(models, data, **kw):
        for d in data:
            seen.append(np.asarray(d[0])[:, 0].copy())
        for d in kw.get("validation") or ():
            seen.append(np.asarray(d[0])[:, 0].copy())
        return _fit.fit_many(models, data, **kw)

    monkeypatch.setattr(strategies_module, "fit", spying_fit)
    monkeypatch.setattr(finetune_module, "fit_many", spying_fit_many)
    return seen


EXPECTED = {  # strategy -> {phase name: datasets it may use}
    "sst": [("train", {"target"})],
    "sot": [("train", {"source"})],
    "stft": [("pretrain", {"source"}), ("finetune", {"target"})],
    "cstt": [("train", {"source", "target"})],
    "hybrid": [("train", {"simulated"})],
    "hybrid_ft": [("pretrain", {"simulated"}), ("finetune", {"target"})],
}


@pytest.mark.parametrize("strategy", list(EXPECTED))
def test_strategy_uses_exactly_its_data(strategy, datasets, spy):
    result = run_strategy(strategy, source=datasets["source"], target=datasets["target"],
                          simulated=datasets["simulated"], network="glm", seed=0, fit_kwargs=FIT,
                          finetune_method="head")
    record = result.record
    assert record.strategy == strategy
    assert [(p.name, {k for k, v in {**p.train}.items() if len(v)}) for p in record.phases] == EXPECTED[strategy]
    sizes = {"source": N_SOURCE, "target": N_TARGET, "simulated": N_SIM}
    for phase in record.phases:
        for name, idx in phase.train.items():
            val = phase.validation.get(name, np.zeros(0, int))
            assert not set(idx) & set(val)  # validation rows are not trained on
            if len(idx):  # every row of a dataset used by a phase is used (train or validation), nothing else
                assert sorted([*idx, *val]) == list(range(sizes[name]))
    # the rows actually given to the loop: exactly those in the record, never a target-test row
    seen = np.unique(np.concatenate(spy))
    test_rows = datasets["test"][0][:, 0]
    assert not np.isin(test_rows, seen).any()
    claimed = np.concatenate([datasets[n][0][record.used(n), 0] for n in sizes if len(record.used(n))])
    np.testing.assert_array_equal(np.sort(claimed), seen)
    pred = result.model(datasets["test"][0])
    assert pred.shape == (20, 3) and np.all(np.isfinite(pred))


def test_stft_keeps_source_standardisation_and_finetunes(datasets):
    result = run_strategy("stft", source=datasets["source"], target=datasets["target"], network="glm",
                          fit_kwargs=FIT, finetune_method="lora", seed=0)
    x_src = datasets["source"][0]
    np.testing.assert_allclose(result.model.x_mean[...], x_src.mean(axis=0), rtol=1e-5)
    assert result.model.config["wrappers"] == [{"kind": "lora", "rank": 4, "alpha": 8.0}]
    assert len(result.histories) == 2


def test_run_strategy_checks_inputs(datasets):
    with pytest.raises(ValueError, match="needs target"):
        run_strategy("stft", source=datasets["source"])
    with pytest.raises(ValueError, match="unknown strategy"):
        run_strategy("tl", source=datasets["source"])


def test_simulated_training_set_for_hybrid():
    wl = np.arange(400, 2401, 100)
    x, y, names = simulate_training_set(jax.random.key(0), 16, wl, noise_std=0.0, relative_noise=0.0)
    x2, y2, _ = simulate_training_set(jax.random.key(0), 16, wl)
    assert names == list(SIMULATED_TRAITS) == ["lma", "ewt", "nitrogen", "chl", "car"]
    assert x.shape == (16, len(wl)) and y.shape == (16, 5)
    assert np.all((x > 0) & (x < 1))
    np.testing.assert_array_equal(y, y2)  # same key, same traits; the noise is added on top
    assert 0 < np.abs(x2 - x).max() < 0.1
    assert np.all((y[:, 2] > 0) & (y[:, 2] < 10))  # nitrogen, % dry mass
