"""Evaluation splits: leave-one-dataset-out (LODO) and "k target samples" splits, as in the reference
leaf-trait study: the held-out dataset is the target; ``k`` of its labelled samples may be used for training
(SST, CSTT variants) and the rest are the test set."""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: Target-sample sizes of the reference protocol.
DEFAULT_KS: tuple[int, ...] = (5, 10, 20, 50)
#: A k-split is made only if at least this many target samples remain for testing.
MIN_TEST: int = 10


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """One train/target/test partition (row positions into the pooled dataset).

    **Fields:** ``held_out`` (target dataset name), ``trait``, ``k`` (0 for plain LODO), ``seed`` (None for
    LODO), ``train`` (rows of the other datasets with the trait measured), ``target`` (the ``k`` labelled target
    rows), ``test`` (the remaining target rows with the trait measured).
    """

    held_out: str
    trait: str
    k: int
    seed: int | None
    train: np.ndarray
    target: np.ndarray
    test: np.ndarray

    def __post_init__(self):
        if np.intersect1d(self.test, np.union1d(self.train, self.target)).size:
            raise ValueError(f"split {self.held_out}/{self.trait}/k={self.k}: test rows leak into training")


def _labelled(ds: SpectralDataset, trait: str) -> np.ndarray:
    return np.isfinite(ds.trait(trait))


def lodo_splits(ds: SpectralDataset, trait: str, *, min_test: int = MIN_TEST) -> Iterator[Split]:
    """One split per dataset with at least ``min_test`` measured values of ``trait``: test = that dataset's
    labelled rows, train = labelled rows of every other dataset (possibly empty, e.g. the only chl dataset)."""
    has = _labelled(ds, trait)
    names = ds.meta["dataset"].to_numpy()
    for name in ds.dataset_names():
        test = np.flatnonzero(has & (names == name))
        if test.size < min_test:
            continue
        train = np.flatnonzero(has & (names != name))
        yield Split(name, trait, 0, None, train, np.empty(0, np.int64), test)


def _rng(seed: int, held_out: str, trait: str, k: int) -> np.random.Generator:
    # Stable across runs and Python versions (crc32, not hash()); independent per dataset/trait/k.
    return np.random.default_rng([seed, zlib.crc32(f"{held_out}|{trait}|{k}".encode())])


def k_target_splits(ds: SpectralDataset, trait: str, ks: Sequence[int] = DEFAULT_KS,
                    seeds: Sequence[int] = (0, 1, 2, 3, 4), *, min_test: int = MIN_TEST) -> Iterator[Split]:
    """For every held-out dataset, every ``k`` with at least ``min_test`` rows left, and every seed: ``k``
    labelled target rows drawn at random without replacement, the rest of the labelled target rows for testing,
    and every other dataset's labelled rows for training.  Deterministic given the seeds."""
    for lodo in lodo_splits(ds, trait, min_test=min_test):
        for k in ks:
            if k <= 0 or lodo.test.size - k < min_test:
                continue
            for seed in seeds:
                perm = _rng(int(seed), lodo.held_out, trait, int(k)).permutation(lodo.test.size)
                yield Split(lodo.held_out, trait, int(k), int(seed), lodo.train,
                            np.sort(lodo.test[perm[:k]]), np.sort(lodo.test[perm[k:]]))
