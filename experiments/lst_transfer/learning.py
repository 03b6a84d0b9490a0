"""Learning stages of the SYNTHETIC LST transfer experiment: pre-train the networks on the simulation, fine-tune
them on the source region with every method, train them directly on the source region, and the tree ensembles'
analogues.  Every stage returns predictions ``(seeds, n_test)`` on the test region.

The seed fixes a network's initialisation (and its validation split / shuffling) and, in :mod:`.sites`, the error
draws of the site observations; the source rows therefore differ between seeds, so fine-tuning and direct training
give each model its own data set (one batched call over the seeds all the same).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from flax import nnx

from leafjax.networks import make_regressor
from leafjax.preprocessing import lst_features
from leafjax.training import fit_many
from leafjax.transfer import (DIRECT_FIT, FINETUNE_FIT, finetune_many, network_kwargs_for, predict_many,
                              pretrain_many)

#: The label the models are fine-tuned / trained on (the in-situ LST, as in the paper).
LABEL = "lst_insitu"


def features(table, interaction: bool = True) -> np.ndarray:
    """The LST feature matrix (:func:`leafjax.preprocessing.lst_features`) of a table."""
    return lst_features(table, interaction=interaction)[0]


def pretrain(network: str, sim: dict, seeds: Sequence[int], *, interaction: bool, epochs: int, batch_size: int):
    """``len(seeds)`` models of ``network`` pre-trained on the simulated rows (target: the true LST)."""
    x = features(sim, interaction)
    return pretrain_many(network, x, np.asarray(sim["lst"], float), seeds=list(seeds), epochs=epochs,
                         batch_size=batch_size)


def finetune_predict(models, sources: Sequence[pd.DataFrame], tests: Sequence[pd.DataFrame], methods: Sequence[str],
                     seeds: Sequence[int], *, interaction: bool, epochs: int, batch_size: int,
                     timer: Callable[[str, float], None] | None = None) -> dict[str, np.ndarray]:
    """Fine-tune model ``i`` on ``sources[i]`` (seed ``seeds[i]``) with every method; predictions on
    ``tests[i]``: ``{method: (M, n_test)}``."""
    data = [(features(s, interaction), s[LABEL].to_numpy(float)[:, None]) for s in sources]
    xt = [features(t, interaction) for t in tests]
    out = {}
    for method in methods:
        t0 = time.time()
        tuned, _ = finetune_many(list(models), data, method, seeds=list(seeds),
                                 **{**FINETUNE_FIT, "epochs": epochs, "batch_size": batch_size})
        out[method] = np.stack([predict_many([m], x)[0] for m, x in zip(tuned, xt)])
        if timer:
            timer(method, time.time() - t0)
    return out


def direct_predict(network: str, sources: Sequence[pd.DataFrame], tests: Sequence[pd.DataFrame],
                   seeds: Sequence[int], *, interaction: bool, epochs: int, batch_size: int) -> np.ndarray:
    """Networks trained from scratch on each seed's source rows (standardisation from them); ``(M, n_test)``."""
    data = [(features(s, interaction), s[LABEL].to_numpy(float)[:, None]) for s in sources]
    kwargs = network_kwargs_for(network)
    models = [make_regressor(network, x, y, rngs=nnx.Rngs(int(s)), **kwargs) for (x, y), s in zip(data, seeds)]
    trained, _ = fit_many(models, data, seeds=list(seeds), **{**DIRECT_FIT, "epochs": epochs,
                                                              "batch_size": batch_size})
    return np.stack([predict_many([m], features(t, interaction))[0] for m, t in zip(trained, tests)])


def zero_shot_predict(models, tests: Sequence[pd.DataFrame], *, interaction: bool) -> np.ndarray:
    """The pre-trained models applied as they are (no in-situ data): ``(M, n_test)``."""
    return np.stack([predict_many([m], features(t, interaction))[0] for m, t in zip(models, tests)])


def trees_predict(kind: str, sim: dict, splits: dict, seeds: Sequence[int], *, max_pretrain: int,
                  timer: Callable[[str, float], None] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Random forest / LightGBM (:func:`leafjax.baselines.fit_tree`): pre-trained once per seed on the simulation,
    then, per direction, adapted to the source rows (:func:`leafjax.baselines.finetune_tree`: extra trees / boosting
    rounds on the source rows, the trees' analogue of fine-tuning), trained directly on the source rows, and the
    pre-trained model as it is.  ``splits``: ``{direction: (sources, tests)}`` (per-seed tables).  Returns
    ``{direction: {"finetune"|"direct"|"pretrained": (M, n_test)}}``."""
    from leafjax.baselines import finetune_tree, fit_tree

    x_sim = features(sim)[:max_pretrain]
    y_sim = np.asarray(sim["lst"], float)[:max_pretrain]
    out = {d: {"finetune": [], "direct": [], "pretrained": []} for d in splits}
    for i, s in enumerate(seeds):
        t0 = time.time()
        pre = fit_tree(kind, x_sim, y_sim, seed=int(s))
        if timer:
            timer("pretrain", time.time() - t0)
        t0 = time.time()
        for d, (sources, tests) in splits.items():
            src, tst = sources[i], tests[i]
            xs, ys, xt = features(src), src[LABEL].to_numpy(float), features(tst)
            out[d]["pretrained"].append(pre.predict(xt))
            out[d]["finetune"].append(finetune_tree(pre, xs, ys).predict(xt))
            out[d]["direct"].append(fit_tree(kind, xs, ys, seed=int(s)).predict(xt))
        if timer:
            timer("adapt", time.time() - t0)
    return {d: {k: np.stack(v) for k, v in m.items()} for d, m in out.items()}
