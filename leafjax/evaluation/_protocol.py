"""The trait-method interface and the generic evaluation runner.

Any retrieval method — PLSR, physical inversion, a neural network, a fusion of others — takes part in the
evaluation by implementing :class:`AbstractTraitMethod`: ``fit(train, trait, target_sample) -> fitted`` and
``predict(fitted, test) -> (n_test,)``.  The runner loops held-out datasets × traits × k × seeds × methods and
returns one long table of predictions; metrics and reports are computed from that table.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ._splits import DEFAULT_KS, MIN_TEST, Split, k_target_splits, lodo_splits

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset


class AbstractTraitMethod(abc.ABC):
    """A trait-retrieval method under evaluation.

    Class attributes tell the runner what the method uses:

    - ``uses_train``: fits on the source datasets (skipped when a trait has no source data).
    - ``uses_target_sample``: its fit depends on the ``k`` labelled target samples (if ``False``, the runner
      fits it once per held-out dataset and trait and reuses it across k and seeds).
    - ``requires_target_sample``: cannot run without target samples (skipped for plain LODO, k = 0).

    ``name`` (a short label used in tables) must be set by subclasses.  ``fit`` receives datasets restricted to
    rows where ``trait`` is measured and to bands finite in train, target and test alike; it must not look at
    test traits (it never receives them).
    """

    name: str
    uses_train: ClassVar[bool] = True
    uses_target_sample: ClassVar[bool] = True
    requires_target_sample: ClassVar[bool] = False

    @abc.abstractmethod
    def fit(self, train: SpectralDataset, trait: str, target_sample: SpectralDataset | None = None) -> Any:
        """Fit on ``train`` (other datasets) and/or ``target_sample`` (k labelled rows of the target dataset)."""

    @abc.abstractmethod
    def predict(self, fitted: Any, test: SpectralDataset) -> np.ndarray:
        """Predicted ``trait`` for every row of ``test``, float64 ``(n_test,)``, canonical unit."""

    def fit_many(self, jobs: Sequence[tuple[SpectralDataset, str, SpectralDataset | None]]) -> list[Any]:
        """Fit several independent ``(train, trait, target_sample)`` jobs (e.g. every held-out dataset × seed of
        one k).  The default fits them one by one; methods that can train many models at once (the networks,
        :class:`~leafjax.transfer.NetworkMethod`) override it.  Returns one fitted object per job, in order."""
        return [self.fit(*job) for job in jobs]


def _training_mask(ds: SpectralDataset, exclude_flags: Sequence[str]) -> np.ndarray:
    ok = np.ones(len(ds), dtype=bool)
    for f in exclude_flags:
        if f in ds.meta.columns:
            ok &= ~ds.meta[f].to_numpy(dtype=bool)
    return ok


def _frame(split: Split, method: str, rows: np.ndarray, ds: SpectralDataset, pred: np.ndarray) -> pd.DataFrame:
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    if pred.shape != rows.shape:
        raise ValueError(f"method {method!r} returned {pred.shape} predictions for {rows.size} test rows")
    return pd.DataFrame({
        "held_out": split.held_out, "trait": split.trait, "k": split.k,
        "seed": -1 if split.seed is None else split.seed, "method": method, "row": rows,
        "sample_id": ds.meta["sample_id"].to_numpy()[rows].astype(str),
        "measured": ds.trait(split.trait)[rows], "predicted": pred})


def run_evaluation(ds: SpectralDataset, methods: Sequence[AbstractTraitMethod], traits: Sequence[str], *,
                   ks: Sequence[int] = DEFAULT_KS, seeds: Sequence[int] = (0, 1, 2, 3, 4), lodo: bool = True,
                   min_test: int = MIN_TEST, exclude_from_training: Sequence[str] = ("flag_white_background",),
                   verbose: bool = False) -> pd.DataFrame:
    """Evaluate ``methods`` on LODO (k = 0) and k-target-sample splits of the pooled dataset ``ds``.

    **Arguments:**
    - ``ds``: all datasets, one wavelength grid (preprocessed already).
    - ``methods``: objects implementing :class:`AbstractTraitMethod`, with distinct ``name``.
    - ``traits``: canonical trait names; traits with no dataset of ``min_test`` labelled rows are skipped.
    - ``ks``, ``seeds``: target-sample sizes and random seeds of the k splits; ``lodo``: include k = 0.
    - ``exclude_from_training``: boolean ``meta`` columns whose true rows never enter training sets (default:
      white-background spectra, which are not comparable with black-backed leaf-clip spectra).

    **Returns:** long DataFrame, one row per test sample and split and method: ``held_out, trait, k, seed``
    (−1 for LODO), ``method, row, sample_id, measured, predicted``; ``attrs['fit_seconds']`` holds the total fit
    time per method.
    """
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be distinct, got {names}")
    allowed = _training_mask(ds, exclude_from_training)
    frames = []
    fit_seconds = dict.fromkeys(names, 0.0)
    for trait in traits:
        splits = list(lodo_splits(ds, trait, min_test=min_test)) if lodo else []
        splits += list(k_target_splits(ds, trait, ks, seeds, min_test=min_test))
        fitted_once: dict[tuple[str, str], Any] = {}  # methods that ignore the target sample: one fit per fold
        train_views: dict[tuple[str, bytes], Any] = {}  # one training view per held-out dataset and band set
        # every split of the trait (all k, seeds, held-out datasets) is handed to each method at once (fit_many)
        views = []
        for split in splits:
            train_rows = split.train[allowed[split.train]]
            rows_all = np.concatenate([train_rows, split.target, split.test])
            bands = ds.subset(rows_all).valid_bands()
            view = ds.select_wavelengths(bands)
            key = (split.held_out, np.packbits(bands).tobytes())
            if key not in train_views:
                train_views[key] = view.subset(train_rows)
            views.append((split, train_rows.size, train_views[key], view.subset(split.test),
                          view.subset(split.target) if split.k > 0 else None))
            if verbose:
                print(f"{trait} {split.held_out} k={split.k} seed={split.seed}: {train_rows.size} train, "
                      f"{split.test.size} test, {int(bands.sum())} bands", flush=True)
        for m in methods:
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
            results = m.fit_many([(views[i][2], trait, views[i][4]) for i in new.values()])
            fitted = dict(zip(new, results))
            for key in new:
                if not isinstance(key, int):
                    fitted_once[key] = fitted[key]
            fit_seconds[m.name] += time.perf_counter() - t0
            for i, key in todo:
                split, _, _, test, _ = views[i]
                model = fitted[i] if key is None else fitted_once[key]
                frames.append(_frame(split, m.name, split.test, ds, m.predict(model, test)))
    cols = ["held_out", "trait", "k", "seed", "method", "row", "sample_id", "measured", "predicted"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out.attrs["fit_seconds"] = fit_seconds
    return out
