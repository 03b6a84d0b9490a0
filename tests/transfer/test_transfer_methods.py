"""NetworkMethod: network × strategy (× fine-tuning) through the evaluation runner."""

import numpy as np
import pytest

from leafjax.data._dataset import SpectralDataset, concat
from leafjax.evaluation import run_evaluation
from leafjax.transfer._methods import NetworkMethod, SimulatedSource, network_methods

WL = np.arange(400.0, 2401.0, 200.0)
FIT = dict(epochs=3, patience=None, batch_size=16)


def _pool():
    parts = []
    for i in range(3):
        rng = np.random.default_rng(i)
        lma = rng.uniform(0.004, 0.012, 16)
        r = 0.3 + 5.0 * lma[:, None] * (WL[None, :] > 1400) + 0.01 * rng.normal(size=(16, WL.size))
        parts.append(SpectralDataset.from_arrays(WL, r, dataset=f"d{i}", lma=lma))
    return concat(parts)


def test_every_strategy_runs_and_pretraining_is_shared():
    sim = SimulatedSource(WL, np.random.default_rng(5).random((40, WL.size)),
                          np.random.default_rng(6).uniform(0.004, 0.012, (40, 1)), ("lma",))
    cache = {}
    methods = network_methods(["glm"], ["sst", "sot", "stft", "hybrid_ft"], ["head"], fit_kwargs=FIT,
                              simulated=sim, cache=cache)
    names = [m.name for m in methods]
    assert names == ["glm_sst", "glm_sot", "glm_stft_head", "glm_hybrid_ft_head"]
    preds = run_evaluation(_pool(), methods, ["lma"], ks=[5], seeds=[0], min_test=5)
    got = preds.groupby(["k", "method"]).size()
    assert set(got.loc[0].index) == {"glm_sot"}  # LODO: only target-free strategies
    assert set(got.loc[5].index) == set(names)
    assert np.isfinite(preds["predicted"]).all()
    # one source pre-training per held-out dataset (shared by sot and stft) + one simulated per band set
    assert len([k for k in cache]) == 3 + 1


def test_hybrid_needs_simulations_and_unknown_names():
    with pytest.raises(ValueError, match="simulated"):
        NetworkMethod(strategy="hybrid")
    with pytest.raises(ValueError, match="unknown strategy"):
        NetworkMethod(strategy="foo")
    with pytest.raises(ValueError, match="fine-tuning"):
        NetworkMethod(strategy="stft", finetune_method="foo")
    sim = SimulatedSource(WL, np.zeros((2, WL.size)), np.zeros((2, 1)), ("lma",))
    with pytest.raises(ValueError, match="no 'ewt'"):
        sim.for_trait("ewt", WL)
    with pytest.raises(ValueError, match="grid"):
        sim.for_trait("lma", WL + 1.0)
