"""Evaluation splits: leave-one-group-out (LOGO; leave-one-dataset-out, LODO, when the group column is
``dataset``) and "k target samples" splits, as in the reference leaf-trait study: the held-out group is the
target; ``k`` of its labelled samples may be used for training (SST, CSTT variants) and the rest are the test set.

Splits work on any :class:`~leafjax.data.AbstractDataset`: the groups are ``ds.groups(task.group_column)`` and
a row is labelled when every target of the task is finite (``ds.target(name)``).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..methods._task import Task, as_task

if TYPE_CHECKING:
    from ..data._abstract import AbstractDataset

#: Target-sample sizes of the reference protocol.
DEFAULT_KS: tuple[int, ...] = (5, 10, 20, 50)
#: A k-split is made only if at least this many target samples remain for testing.
MIN_TEST: int = 10


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """One train/target/test partition (row positions into the pooled dataset).

    **Fields:** ``held_out`` (the held-out group, e.g. a dataset name), ``trait`` (the task's label: the
    target name, or the names joined by ``+``), ``k`` (0 for plain leave-one-group-out), ``seed`` (None for
    LOGO), ``train`` (labelled rows of the other groups), ``target`` (the ``k`` labelled held-out rows),
    ``test`` (the remaining labelled held-out rows).
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


def labelled_rows(ds: AbstractDataset, task: Task | str) -> np.ndarray:
    """Boolean ``(n,)``: rows where every target of ``task`` is finite."""
    task = as_task(task, ds)
    ok = np.ones(len(ds), dtype=bool)
    for name in task.targets:
        ok &= np.isfinite(np.asarray(ds.target(name), dtype=np.float64))
    return ok


def lodo_splits(ds: AbstractDataset, task: Task | str, *, min_test: int = MIN_TEST) -> Iterator[Split]:
    """One split per group (of ``task.group_column``, in order of first appearance) with at least ``min_test``
    labelled rows: test = that group's labelled rows, train = labelled rows of every other group (possibly
    empty, e.g. the only chl dataset).  ``task`` may be a target name (split by ``dataset``)."""
    task = as_task(task, ds)
    has = labelled_rows(ds, task)
    groups = np.asarray(ds.groups(task.group_column))
    if groups.shape != (len(ds),):
        raise ValueError(f"groups({task.group_column!r}) has shape {groups.shape}, expected ({len(ds)},)")
    for name in pd.unique(groups):
        test = np.flatnonzero(has & (groups == name))
        if test.size < min_test:
            continue
        train = np.flatnonzero(has & (groups != name))
        yield Split(str(name), task.label, 0, None, train, np.empty(0, np.int64), test)


#: Alias: leave-one-group-out splits (:func:`lodo_splits` is not restricted to datasets).
logo_splits = lodo_splits


def _rng(seed: int, held_out: str, trait: str, k: int) -> np.random.Generator:
    # Stable across runs and Python versions (crc32, not hash()); independent per group/task/k.
    return np.random.default_rng([seed, zlib.crc32(f"{held_out}|{trait}|{k}".encode())])


def k_target_splits(ds: AbstractDataset, task: Task | str, ks: Sequence[int] = DEFAULT_KS,
                    seeds: Sequence[int] = (0, 1, 2, 3, 4), *, min_test: int = MIN_TEST) -> Iterator[Split]:
    """For every held-out group, every ``k`` with at least ``min_test`` rows left, and every seed: ``k``
    labelled held-out rows drawn at random without replacement, the rest of the labelled held-out rows for
    testing, and every other group's labelled rows for training.  Deterministic given the seeds."""
    for lodo in lodo_splits(ds, task, min_test=min_test):
        for k in ks:
            if k <= 0 or lodo.test.size - k < min_test:
                continue
            for seed in seeds:
                perm = _rng(int(seed), lodo.held_out, lodo.trait, int(k)).permutation(lodo.test.size)
                yield Split(lodo.held_out, lodo.trait, int(k), int(seed), lodo.train,
                            np.sort(lodo.test[perm[:k]]), np.sort(lodo.test[perm[k:]]))
