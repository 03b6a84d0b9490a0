"""Transfer strategies of the reference study: SST, SOT, STFT, CSTT, hybrid and hybrid + FT.

Each takes arrays (source ``(X, Y)``, target *sample* ``(X, Y)``, simulations ``(X, Y)``) and returns the
trained model with a :class:`TrainingRecord` of exactly which rows of which array were used to train and to
validate, built from the indices that :func:`~leafjax.transfer.fit` reports (not from what the strategy
intended).  The target *test* set is never an argument, so it cannot leak; the record lets tests and
experiments check this.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
from flax import nnx

from ..networks import make_regressor
from ..training import FitHistory, fit
from ._finetune import finetune

Data = tuple  # (X (n, wl), Y (n, k)), NaN = missing target


@dataclasses.dataclass
class Phase:
    """One training phase: ``name`` (``"train"``, ``"pretrain"``, ``"finetune"``) and, per dataset name
    (``"source"``, ``"target"``, ``"simulated"``), the sorted row indices used for training and validation."""

    name: str
    train: dict[str, np.ndarray]
    validation: dict[str, np.ndarray]


@dataclasses.dataclass
class TrainingRecord:
    """The phases of a strategy, in order."""

    strategy: str
    phases: list[Phase]

    def used(self, dataset: str, *, validation: bool = True) -> np.ndarray:
        """Sorted unique rows of ``dataset`` used in any phase (for training, and validation if asked)."""
        parts = [p.train.get(dataset, np.zeros(0, int)) for p in self.phases]
        if validation:
            parts += [p.validation.get(dataset, np.zeros(0, int)) for p in self.phases]
        return np.unique(np.concatenate(parts)).astype(int) if parts else np.zeros(0, int)


@dataclasses.dataclass
class StrategyResult:
    model: nnx.Module
    histories: list[FitHistory]
    record: TrainingRecord


def _split(history: FitHistory, names_sizes: list[tuple[str, int]]) -> tuple[dict, dict]:
    """Map the indices of a fit on concatenated datasets back to (dataset, row)."""
    out = []
    for idx in (history.train_indices, history.val_indices):
        idx = np.zeros(0, int) if idx is None else np.asarray(idx)
        d, start = {}, 0
        for name, size in names_sizes:
            d[name] = np.sort(idx[(idx >= start) & (idx < start + size)] - start)
            start += size
        out.append(d)
    return out[0], out[1]


def _train(name: str, datasets: list[tuple[str, Data]], *, network: str, network_kwargs, seed, fit_kwargs):
    x = np.concatenate([np.asarray(d[0]) for _, d in datasets])
    y = np.concatenate([np.asarray(d[1]) for _, d in datasets])
    model = make_regressor(network, x, y, rngs=nnx.Rngs(seed), **(network_kwargs or {}))
    model, history = fit(model, (x, y), seed=seed, **(fit_kwargs or {}))
    train, val = _split(history, [(n, len(d[0])) for n, d in datasets])
    return model, history, Phase(name, train, val)


def _tune(model, target: Data, method, *, seed, method_kwargs, fit_kwargs):
    model, histories = finetune(model, target, method, seed=seed, method_kwargs=method_kwargs, **(fit_kwargs or {}))
    phases = [Phase("finetune", *_split(h, [("target", len(target[0]))])) for h in histories]
    return model, histories, phases


def _pretrain_then_tune(strategy: str, pretrain: tuple[str, Data], target: Data, *, network, network_kwargs,
                        finetune_method, method_kwargs, seed, fit_kwargs, finetune_fit_kwargs) -> StrategyResult:
    model, h, phase = _train("pretrain", [pretrain], network=network, network_kwargs=network_kwargs, seed=seed,
                             fit_kwargs=fit_kwargs)
    model, hs, phases = _tune(model, target, finetune_method, seed=seed, method_kwargs=method_kwargs,
                              fit_kwargs=finetune_fit_kwargs or fit_kwargs)
    return StrategyResult(model, [h, *hs], TrainingRecord(strategy, [phase, *phases]))


def sst(target: Data, *, network: str = "glm", network_kwargs=None, seed: int = 0, fit_kwargs=None,
) -> StrategyResult:
    """Small target sample only: train from scratch on the target sample."""
    model, h, phase = _train("train", [("target", target)], network=network, network_kwargs=network_kwargs,
                             seed=seed, fit_kwargs=fit_kwargs)
    return StrategyResult(model, [h], TrainingRecord("sst", [phase]))


def sot(source: Data, *, network: str = "glm", network_kwargs=None, seed: int = 0, fit_kwargs=None,
) -> StrategyResult:
    """Source only: train on the source datasets; the target is not seen."""
    model, h, phase = _train("train", [("source", source)], network=network, network_kwargs=network_kwargs,
                             seed=seed, fit_kwargs=fit_kwargs)
    return StrategyResult(model, [h], TrainingRecord("sot", [phase]))


def stft(source: Data, target: Data, *, network: str = "glm", network_kwargs=None, finetune_method: str = "full",
         method_kwargs=None, seed: int = 0, fit_kwargs=None, finetune_fit_kwargs=None) -> StrategyResult:
    """Source pre-training, then fine-tuning on the target sample with ``finetune_method``.  The
    standardisation learned on the source is kept."""
    return _pretrain_then_tune("stft", ("source", source), target, network=network, network_kwargs=network_kwargs,
                               finetune_method=finetune_method, method_kwargs=method_kwargs, seed=seed,
                               fit_kwargs=fit_kwargs, finetune_fit_kwargs=finetune_fit_kwargs)


def cstt(source: Data, target: Data, *, network: str = "glm", network_kwargs=None, seed: int = 0,
         fit_kwargs=None) -> StrategyResult:
    """Source and target sample together, from scratch (standardisation from their union)."""
    model, h, phase = _train("train", [("source", source), ("target", target)], network=network,
                             network_kwargs=network_kwargs, seed=seed, fit_kwargs=fit_kwargs)
    return StrategyResult(model, [h], TrainingRecord("cstt", [phase]))


def hybrid(simulated: Data, *, network: str = "glm", network_kwargs=None, seed: int = 0, fit_kwargs=None,
   ) -> StrategyResult:
    """The source replaced by PROSPECT simulations (e.g. 20,000 noisy PROSPECT-PRO spectra): train on them only."""
    model, h, phase = _train("train", [("simulated", simulated)], network=network, network_kwargs=network_kwargs,
                             seed=seed, fit_kwargs=fit_kwargs)
    return StrategyResult(model, [h], TrainingRecord("hybrid", [phase]))


def hybrid_ft(simulated: Data, target: Data, *, network: str = "glm", network_kwargs=None,
              finetune_method: str = "full", method_kwargs=None, seed: int = 0, fit_kwargs=None,
              finetune_fit_kwargs=None) -> StrategyResult:
    """Pre-training on simulations, then fine-tuning on the target sample."""
    return _pretrain_then_tune("hybrid_ft", ("simulated", simulated), target, network=network,
                               network_kwargs=network_kwargs, finetune_method=finetune_method,
                               method_kwargs=method_kwargs, seed=seed, fit_kwargs=fit_kwargs,
                               finetune_fit_kwargs=finetune_fit_kwargs)


#: Strategies by name, and the datasets each needs.
STRATEGIES: dict[str, tuple[Callable[..., StrategyResult], tuple[str, ...]]] = {
    "sst": (sst, ("target",)),
    "sot": (sot, ("source",)),
    "stft": (stft, ("source", "target")),
    "cstt": (cstt, ("source", "target")),
    "hybrid": (hybrid, ("simulated",)),
    "hybrid_ft": (hybrid_ft, ("simulated", "target")),
}


_FINETUNE_ONLY = ("finetune_method", "method_kwargs", "finetune_fit_kwargs")


def run_strategy(name: str, *, source: Data | None = None, target: Data | None = None,
                 simulated: Data | None = None, **kwargs: Any) -> StrategyResult:
    """Run strategy ``name`` with only the datasets it needs (others are not passed on).

    ``kwargs``: ``network``, ``network_kwargs`` (sizes, and ``trait_names`` to store in the model's config),
    ``seed``, ``fit_kwargs`` (for :func:`~leafjax.transfer.fit`), and for the fine-tuning strategies
    ``finetune_method``, ``method_kwargs``, ``finetune_fit_kwargs`` (default: ``fit_kwargs``), which the
    other strategies ignore, so one configuration can drive all six.  Raises ``ValueError`` if a needed
    dataset is missing."""
    try:
        fn, needs = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
    given = {"source": source, "target": target, "simulated": simulated}
    missing = [d for d in needs if given[d] is None]
    if missing:
        raise ValueError(f"strategy {name!r} needs {', '.join(missing)}")
    if name not in ("stft", "hybrid_ft"):  # not a fine-tuning strategy
        kwargs = {k: v for k, v in kwargs.items() if k not in _FINETUNE_ONLY}
    return fn(*(given[d] for d in needs), **kwargs)
