"""Network × transfer strategy (× fine-tuning method) as an evaluation method.

:class:`NetworkMethod` implements :class:`~leafjax.methods.AbstractTraitMethod`, so every network of
:mod:`leafjax.networks` trained by every strategy of :mod:`leafjax.transfer` is scored by
:func:`~leafjax.evaluation.run_evaluation` next to the PLSR baselines, on the same splits.

Pre-training (on the source datasets or on simulations) does not depend on the k target samples, so it is
memoised in an explicit, caller-owned ``cache`` dictionary keyed by everything it depends on (trait, network,
sizes, seed, fit settings, wavelengths and the source rows).  Methods that share a cache share pre-trained
models: ``sot`` is the pre-training of ``stft``, and every fine-tuning method starts from the same one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np
from flax import nnx

from ..methods import AbstractTraitMethod
from ..networks._registry import make_regressor
from ._finetune import FINETUNE_METHODS, finetune_many
from ..training._fit import fit_many, predict
from ._strategies import STRATEGIES

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: What each strategy uses: (uses_train, uses_target_sample, requires_target_sample).
_USES: dict[str, tuple[bool, bool, bool]] = {
    "sst": (False, True, True),
    "sot": (True, False, False),
    "stft": (True, True, True),
    "cstt": (True, True, True),
    "hybrid": (False, False, False),
    "hybrid_ft": (False, True, True),
}


@dataclasses.dataclass(frozen=True)
class SimulatedSource:
    """Simulated training spectra for the hybrid strategies: ``wavelengths (wl,)`` in nm, ``x (n, wl)``
    reflectance, ``y (n, t)`` traits in canonical units, named by ``traits`` (e.g. the output of
    :func:`~leafjax.transfer.simulate_training_set`)."""

    wavelengths: np.ndarray
    x: np.ndarray
    y: np.ndarray
    traits: tuple[str, ...]

    def for_trait(self, trait: str, wavelengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(X, Y (n, 1))`` on ``wavelengths`` (each must be on the simulation grid) for ``trait``."""
        if trait not in self.traits:
            raise ValueError(f"the simulations have no {trait!r} (they have {', '.join(self.traits)})")
        idx = np.searchsorted(self.wavelengths, wavelengths)
        idx = np.clip(idx, 0, len(self.wavelengths) - 1)
        if not np.allclose(self.wavelengths[idx], wavelengths):
            raise ValueError("the requested wavelengths are not all on the simulation grid")
        return self.x[:, idx], self.y[:, [self.traits.index(trait)]]


def _xy(ds: SpectralDataset, trait: str) -> tuple[np.ndarray, np.ndarray]:
    y = ds.trait(trait)
    ok = np.isfinite(y)
    return ds.spectra()[ok], y[ok][:, None]


def _digest(*parts: Any) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(np.ascontiguousarray(p).tobytes() if isinstance(p, np.ndarray) else
                 json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()


@dataclasses.dataclass(eq=False)
class NetworkMethod(AbstractTraitMethod):
    """Network ``network`` trained with transfer strategy ``strategy`` (fine-tuned with ``finetune_method``
    for ``stft`` / ``hybrid_ft``) for one trait at a time.

    **Arguments:**
    - ``network``: a :data:`~leafjax.networks.NETWORKS` name; ``network_kwargs``: its sizes.
    - ``strategy``: ``sst``, ``sot``, ``stft``, ``cstt``, ``hybrid`` or ``hybrid_ft``.
    - ``finetune_method``: one of :data:`~leafjax.transfer.FINETUNE_METHODS`; ``method_kwargs`` for it.
    - ``fit_kwargs``: for :func:`~leafjax.transfer.fit` (training from scratch and pre-training);
      ``finetune_fit_kwargs``: for the fine-tuning phase (default ``fit_kwargs``).
    - ``simulated``: a :class:`SimulatedSource` (required by the hybrid strategies).
    - ``seed``: network initialisation, validation split and shuffling.
    - ``cache``: a caller-owned dict memoising pre-trained models (share it between methods); ``None``: none.
    - ``name``: table label (default ``<network>_<strategy>[_<finetune_method>]``).
    """

    network: str = "glm"
    strategy: str = "sst"
    finetune_method: str = "full"
    network_kwargs: dict[str, Any] | None = None
    method_kwargs: dict[str, Any] | None = None
    fit_kwargs: dict[str, Any] | None = None
    finetune_fit_kwargs: dict[str, Any] | None = None
    simulated: SimulatedSource | None = None
    seed: int = 0
    cache: dict | None = dataclasses.field(default=None, repr=False)
    name: str = ""

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; known: {', '.join(STRATEGIES)}")
        if self.finetune_method not in FINETUNE_METHODS:
            raise ValueError(f"unknown fine-tuning method {self.finetune_method!r}")
        if self.strategy.startswith("hybrid") and self.simulated is None:
            raise ValueError(f"strategy {self.strategy!r} needs `simulated`")
        self.uses_train, self.uses_target_sample, self.requires_target_sample = _USES[self.strategy]
        if not self.name:
            ft = f"_{self.finetune_method}" if self.strategy in ("stft", "hybrid_ft") else ""
            self.name = f"{self.network}_{self.strategy}{ft}"

    # -- training helpers (each trains a list of independent models in one batched run) ------------------
    def _from_scratch_many(self, data: list[tuple[np.ndarray, np.ndarray]]) -> list[nnx.Module]:
        if not data:
            return []
        models = [make_regressor(self.network, x, y, rngs=nnx.Rngs(self.seed), **(self.network_kwargs or {}))
                  for x, y in data]
        models, _ = fit_many(models, data, seeds=[self.seed] * len(data), **(self.fit_kwargs or {}))
        return models

    def _pretrained_many(self, kind: str, items: list[tuple[np.ndarray, np.ndarray, tuple]]) -> list[nnx.Module]:
        """Models trained from scratch on each ``(x, y, key_parts)``; memoised in ``cache`` by content, and each
        distinct training set trained once."""
        keys = [_digest(kind, self.network, self.network_kwargs, self.fit_kwargs, self.seed, *parts)
                for _, _, parts in items]
        cache = self.cache if self.cache is not None else {}
        todo = {}
        for key, (x, y, _) in zip(keys, items):
            if key not in cache and key not in todo:
                todo[key] = (x, y)
        for key, model in zip(todo, self._from_scratch_many(list(todo.values()))):
            cache[key] = model
        return [cache[key] for key in keys]

    def _source_items(self, trains: list[SpectralDataset], trait: str) -> list[tuple]:
        items = []
        for train in trains:
            xs, ys = _xy(train, trait)
            ids = train.meta["sample_id"].to_numpy().astype(str)
            items.append((xs, ys, (trait, train.wavelengths, ids.tolist(), ys)))
        return items

    def _simulated_items(self, trains: list[SpectralDataset], trait: str) -> list[tuple]:
        items = []
        for train in trains:
            xs, ys = self.simulated.for_trait(trait, train.wavelengths)
            items.append((xs, ys, (trait, train.wavelengths, self.simulated.x.shape)))
        return items

    def _tune_many(self, models: list[nnx.Module], targets: list[tuple]) -> list[nnx.Module]:
        if not targets:
            return []
        models, _ = finetune_many(models, targets, self.finetune_method, seeds=[self.seed] * len(targets),
                                  method_kwargs=self.method_kwargs,
                                  **(self.finetune_fit_kwargs or self.fit_kwargs or {}))
        return models

    # -- AbstractTraitMethod ----------------------------------------------------------------------------
    def fit(self, train: SpectralDataset, trait: str, target_sample: SpectralDataset | None = None) -> nnx.Module:
        return self.fit_many([(train, trait, target_sample)])[0]

    def fit_many(self, jobs) -> list[nnx.Module]:
        """Fit every ``(train, trait, target_sample)`` job; jobs on one wavelength grid train together (one
        :func:`~leafjax.transfer.fit_many` run per phase), pre-training shared through ``cache``."""
        out: list[nnx.Module | None] = [None] * len(jobs)
        groups: dict[tuple, list[int]] = {}
        for i, (train, trait, target) in enumerate(jobs):
            if self.requires_target_sample and target is None:
                raise ValueError(f"{self.name}: strategy {self.strategy!r} needs a target sample")
            grid = (train if train is not None else target).wavelengths
            groups.setdefault((trait, tuple(np.round(np.asarray(grid, float), 6))), []).append(i)
        for (trait, _), idx in groups.items():
            trains = [jobs[i][0] for i in idx]
            targets = [_xy(jobs[i][2], trait) if jobs[i][2] is not None else None for i in idx]
            for i, model in zip(idx, self._fit_group(trains, trait, targets)):
                out[i] = model
        return out

    def _fit_group(self, trains: list, trait: str, targets: list) -> list[nnx.Module]:
        s = self.strategy
        if s == "sst":
            return self._from_scratch_many(targets)
        if s == "sot":
            return self._pretrained_many("source", self._source_items(trains, trait))
        if s == "stft":
            return self._tune_many(self._pretrained_many("source", self._source_items(trains, trait)), targets)
        if s == "cstt":
            both = [(np.concatenate([xs, xt]), np.concatenate([ys, yt]))
                    for (xs, ys), (xt, yt) in zip((_xy(t, trait) for t in trains), targets)]
            return self._from_scratch_many(both)
        pre = self._pretrained_many("simulated", self._simulated_items(trains, trait))
        return pre if s == "hybrid" else self._tune_many(pre, targets)  # hybrid / hybrid_ft

    def predict(self, fitted: nnx.Module, test: SpectralDataset) -> np.ndarray:
        return predict(fitted, test.spectra())[:, 0]


def network_methods(networks, strategies, finetune_methods=("full",), **kwargs) -> list[NetworkMethod]:
    """Every ``network × strategy`` (× ``finetune_method`` for ``stft`` and ``hybrid_ft``) as a
    :class:`NetworkMethod`; ``kwargs`` (``fit_kwargs``, ``simulated``, ``cache``, …) go to each."""
    out = []
    for net in networks:
        for strat in strategies:
            fts = finetune_methods if strat in ("stft", "hybrid_ft") else ("full",)
            out += [NetworkMethod(network=net, strategy=strat, finetune_method=ft, **kwargs) for ft in fts]
    return out
