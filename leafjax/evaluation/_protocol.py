"""The generic evaluation runner: leave-one-group-out and k-target-sample splits × tasks × methods.

Any method implementing :class:`~leafjax.methods.AbstractMethod` (PLSR, physical inversion, a neural network, a
fusion of others; leaf-trait methods through :class:`~leafjax.methods.AbstractTraitMethod`) is evaluated on any
dataset implementing :class:`~leafjax.data.AbstractDataset`.  The runner loops tasks × held-out groups × k ×
seeds × methods and returns one long table of predictions; metrics and reports are computed from that table.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..methods._method import AbstractMethod
from ..methods._task import Task, as_task
from ..methods._trait import AbstractTraitMethod
from ._splits import DEFAULT_KS, MIN_TEST, Split, k_target_splits, lodo_splits

if TYPE_CHECKING:
    from ..data._abstract import AbstractDataset

__all__ = ["AbstractMethod", "AbstractTraitMethod", "COLUMNS", "run_evaluation"]

#: Columns of the predictions table of :func:`run_evaluation` (``trait`` holds the target name).
COLUMNS: tuple[str, ...] = ("held_out", "trait", "k", "seed", "method", "row", "sample_id", "measured",
                            "predicted")


def _training_mask(ds: AbstractDataset, exclude_flags: Sequence[str]) -> np.ndarray:
    ok = np.ones(len(ds), dtype=bool)
    for f in exclude_flags:
        ok &= ~np.asarray(ds.row_flag(f), dtype=bool)
    return ok


def _frames(split: Split, task: Task, method: str, ds: AbstractDataset, pred) -> list[pd.DataFrame]:
    rows = split.test
    n_t = len(task.targets)
    pred = np.asarray(pred, dtype=np.float64)
    pred = pred.reshape(-1, 1) if n_t == 1 else pred
    if pred.shape != (rows.size, n_t):
        expected = f"({rows.size},)" if n_t == 1 else f"({rows.size}, {n_t})"
        raise ValueError(f"method {method!r} returned {pred.shape} predictions for {rows.size} test rows "
                         f"(expected {expected})")
    ids = np.asarray(ds.sample_ids())[rows].astype(str)
    return [pd.DataFrame({
        "held_out": split.held_out, "trait": name, "k": split.k,
        "seed": -1 if split.seed is None else split.seed, "method": method, "row": rows,
        "sample_id": ids, "measured": np.asarray(ds.target(name), dtype=np.float64)[rows], "predicted": pred[:, j]})
        for j, name in enumerate(task.targets)]


def run_evaluation(ds: AbstractDataset, methods: Sequence[AbstractMethod], tasks: Sequence[Task | str], *,
                   ks: Sequence[int] = DEFAULT_KS, seeds: Sequence[int] = (0, 1, 2, 3, 4), lodo: bool = True,
                   min_test: int = MIN_TEST, exclude_from_training: Sequence[str] = ("flag_white_background",),
                   verbose: bool = False) -> pd.DataFrame:
    """Evaluate ``methods`` on leave-one-group-out (k = 0) and k-target-sample splits of the pooled ``ds``.

    **Arguments:**
    - ``ds``: all groups pooled, an :class:`~leafjax.data.AbstractDataset` (for spectra: one wavelength grid,
      preprocessed already).
    - ``methods``: objects implementing :class:`~leafjax.methods.AbstractMethod`, with distinct ``name``.
    - ``tasks``: :class:`~leafjax.methods.Task` objects, or target names (canonical trait names for spectra),
      which become single-target tasks on ``ds.kind`` split by ``dataset``.  The group column of each task
      defines the held-out unit; tasks with no group of ``min_test`` labelled rows are skipped.
    - ``ks``, ``seeds``: target-sample sizes and random seeds of the k splits; ``lodo``: include k = 0.
    - ``exclude_from_training``: row flags (:meth:`~leafjax.data.AbstractDataset.row_flag`; for spectra,
      boolean ``meta`` columns) whose rows never enter training sets (default: white-background spectra, which
      are not comparable with black-backed leaf-clip spectra).

    Each split's train, target and test rows are harmonised together
    (:meth:`~leafjax.data.AbstractDataset.harmonise`: for spectra, the bands finite in all of them).  Every
    split of a task (all k, seeds, held-out groups) is handed to each method at once
    (:meth:`~leafjax.methods.AbstractMethod.fit_many`); a method with ``uses_target_sample = False`` is fitted
    once per held-out group.

    **Returns:** long DataFrame, one row per test sample, target, split and method, columns :data:`COLUMNS`:
    ``held_out, trait`` (target name), ``k, seed`` (−1 for LOGO), ``method, row, sample_id, measured,
    predicted``; ``attrs['fit_seconds']`` holds the total fit time per method.
    """
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be distinct, got {names}")
    tasks = [as_task(t, ds) for t in tasks]
    allowed = _training_mask(ds, exclude_from_training)
    frames = []
    fit_seconds = dict.fromkeys(names, 0.0)
    for task in tasks:
        arguments = [m.task_argument(task) for m in methods]  # fails early for a task a method cannot solve
        splits = list(lodo_splits(ds, task, min_test=min_test)) if lodo else []
        splits += list(k_target_splits(ds, task, ks, seeds, min_test=min_test))
        fitted_once: dict[tuple[str, str], Any] = {}  # methods that ignore the target sample: one fit per group
        train_views: dict[tuple[str, Any], Any] = {}  # one training view per held-out group and feature set
        views = []
        for split in splits:
            train_rows = split.train[allowed[split.train]]
            view, feature_key = ds.harmonise(np.concatenate([train_rows, split.target, split.test]))
            key = (split.held_out, feature_key)
            if key not in train_views:
                train_views[key] = view.subset(train_rows)
            views.append((split, train_rows.size, train_views[key], view.subset(split.test),
                          view.subset(split.target) if split.k > 0 else None))
            if verbose:
                print(f"{task.label} {split.held_out} k={split.k} seed={split.seed}: {train_rows.size} train, "
                      f"{split.test.size} test", flush=True)
        for m, arg in zip(methods, arguments):
            todo = []  # (view index, cache key or None)
            for i, (split, n_train, train, test, target) in enumerate(views):
                no_data = target is None and n_train == 0  # e.g. LODO of the only dataset with chl
                if no_data or (m.requires_target_sample and target is None) or (m.uses_train and not n_train):
                    continue
                todo.append((i, None if m.uses_target_sample else (m.name, split.held_out)))
            t0 = time.perf_counter()
            new = {}
            for i, key in todo:  # one job per distinct fit
                if key is None or (key not in fitted_once and key not in new):
                    new[i if key is None else key] = i
            results = m.fit_many([(views[i][2], arg, views[i][4]) for i in new.values()])
            fitted = dict(zip(new, results))
            for key in new:
                if not isinstance(key, int):
                    fitted_once[key] = fitted[key]
            fit_seconds[m.name] += time.perf_counter() - t0
            for i, key in todo:
                split, _, _, test, _ = views[i]
                model = fitted[i] if key is None else fitted_once[key]
                frames += _frames(split, task, m.name, ds, m.predict(model, test))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    out.attrs["fit_seconds"] = fit_seconds
    return out
