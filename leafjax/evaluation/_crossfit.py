r"""Cross-fitted (out-of-fold) predictions of the k labelled target rows, for any method and dataset type.

A method trained on the ``k`` labelled target rows (e.g. PLSR on the target sample, or on source + target)
predicts those rows in-sample, so its errors there are optimistic; fusion weights, calibration quantiles or
model choices learned from them would favour it unduly (a method that memorises its training rows would get all
the weight).  :func:`cross_fit` splits the target sample into ``K`` folds and predicts each fold with the
method fitted on the training datasets plus the *other* folds — the out-of-fold ("cross-fitted") predictions
of stacked generalisation (Wolpert 1992; Breiman 1996) and of double machine learning (Chernozhukov et al.
2018) — and predicts the test rows with the method fitted on all ``k`` rows.

References:
    Wolpert, D. H. (1992) Stacked generalization. Neural Networks 5:241–259.
    Breiman, L. (1996) Stacked regressions. Machine Learning 24:49–64.
    Chernozhukov, V. et al. (2018) Double/debiased machine learning for treatment and structural parameters.
    The Econometrics Journal 21:C1–C68.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ..methods._method import AbstractMethod
from ..methods._task import Task, as_task

if TYPE_CHECKING:
    from ..data._abstract import AbstractDataset

#: Largest number of folds of :func:`cross_fit` (the folds are ``min(MAX_FOLDS, k)``).
MAX_FOLDS: int = 5


@dataclasses.dataclass(frozen=True)
class CrossFit:
    """Result of :func:`cross_fit`.

    **Fields:**
    - ``target``: float64 ``(k,)`` (``(k, t)`` for a task with ``t`` targets), out-of-fold predictions of the
      target rows (target unit), each from a model that never saw that row's label.
    - ``test``: float64 ``(n_test,)`` (``(n_test, t)``), predictions of the test rows by the model fitted on all
      ``k`` rows.
    - ``folds``: int ``(k,)``, fold of each target row (0 … K−1; all 0 when the method does not use the
      target sample and a single fit serves every row).
    - ``fitted``: the method's fitted state on all ``k`` rows.
    """

    target: np.ndarray
    test: np.ndarray
    folds: np.ndarray
    fitted: Any


def fold_ids(k: int, folds: int = MAX_FOLDS, seed: int = 0) -> np.ndarray:
    """Fold of each of ``k`` rows, ``(k,)`` int: ``K = min(folds, k)`` folds of sizes differing by at most
    one, assigned in the order of ``numpy.random.default_rng(seed).permutation(k)``."""
    if k < 1 or folds < 1:
        raise ValueError(f"need k >= 1 rows and folds >= 1, got k={k}, folds={folds}")
    n_folds = min(int(folds), int(k))
    ids = np.empty(k, dtype=np.int64)
    ids[np.random.default_rng(seed).permutation(k)] = np.arange(k) % n_folds
    return ids


def _predict(method: AbstractMethod, fitted, ds: AbstractDataset, n_targets: int) -> np.ndarray:
    pred = np.asarray(method.predict(fitted, ds), dtype=np.float64)
    pred = pred.reshape(-1) if n_targets == 1 else pred
    if pred.shape != ((len(ds),) if n_targets == 1 else (len(ds), n_targets)):
        raise ValueError(f"method {method.name!r} returned {pred.shape} predictions for {len(ds)} rows")
    return pred


def cross_fit(method: AbstractMethod, train: AbstractDataset, task: Task | str, target_sample: AbstractDataset,
              test: AbstractDataset, *, folds: int = MAX_FOLDS, seed: int = 0) -> CrossFit:
    """Out-of-fold predictions of ``target_sample`` and full-sample predictions of ``test`` for one split.

    For each of ``K = min(folds, k)`` folds of the ``k`` target rows (:func:`fold_ids`), ``method`` is fitted
    on ``train`` and the target rows of the other folds (``method.fit(train, task, other_folds)``) and predicts
    the held-out fold; then it is fitted on ``train`` and all ``k`` rows and predicts ``test``.  A method with
    ``uses_target_sample = False`` is fitted once (its predictions of the target rows are out-of-sample
    already).  ``test`` is only ever passed to ``predict``.

    **Arguments:** ``method`` (:class:`~leafjax.methods.AbstractMethod`, e.g. an
    :class:`~leafjax.methods.AbstractTraitMethod`); ``train`` (the other groups, possibly empty for a method
    with ``uses_train = False``), ``target_sample`` (``k`` labelled target rows) and ``test``, harmonised
    together (for spectra: one wavelength grid with finite bands); ``task``: a
    :class:`~leafjax.methods.Task` or a target name (for spectra: the canonical trait name), turned into
    ``fit``'s argument by ``method.task_argument``; ``folds``, ``seed``: fold count cap and fold assignment
    seed.  Each fold fit sees ``k − ⌈k/K⌉`` or more target rows, which must suffice for the method (e.g. PLSR
    needs 3).

    **Returns:** :class:`CrossFit` (predictions in the targets' canonical units).
    """
    task = as_task(task, target_sample)
    arg, n_t = method.task_argument(task), len(task.targets)
    k = len(target_sample)
    if k < 2 and method.uses_target_sample:
        raise ValueError(f"cross-fitting needs at least 2 target rows, got {k}")
    full = method.fit(train, arg, target_sample)
    if not method.uses_target_sample:
        return CrossFit(_predict(method, full, target_sample, n_t), _predict(method, full, test, n_t),
                        np.zeros(k, dtype=np.int64), full)
    ids = fold_ids(k, folds, seed)
    oof = np.full((k,) if n_t == 1 else (k, n_t), np.nan)
    for f in range(int(ids.max()) + 1):
        held = ids == f
        fitted = method.fit(train, arg, target_sample.subset(~held))
        oof[held] = _predict(method, fitted, target_sample.subset(held), n_t)
    return CrossFit(oof, _predict(method, full, test, n_t), ids, full)
