"""What one training run did: losses per epoch, the early-stopping outcome and the rows it used."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class FitHistory:
    """What one training run did.

    **Fields:** ``train_loss`` / ``val_loss``: per epoch run (mean training loss over the epoch's steps; the
    validation loss, empty without validation rows); ``best_epoch``: 0-based epoch of the best validation loss
    (``-1`` without validation); ``epochs_run``; ``steps``: optimiser steps taken; ``train_indices`` /
    ``val_indices``: rows of the ``data`` it was given (``val_indices`` is ``None`` with an explicit
    validation set).
    """

    train_loss: list[float]
    val_loss: list[float]
    best_epoch: int
    epochs_run: int
    steps: int
    train_indices: np.ndarray
    val_indices: np.ndarray | None


def histories(steps, best_epoch, epochs_run, hist_train, hist_val, n_val, train_sets, val_sets
              ) -> list[FitHistory]:
    """One :class:`FitHistory` per model from the loop's outputs (host arrays: ``(M,)`` counters,
    ``(M, epochs)`` loss tables with NaN for epochs not run), ``n_val (M,)`` validation sizes and the
    per-model train/validation row indices."""
    out = []
    for i in range(len(train_sets)):
        e = int(epochs_run[i])
        out.append(FitHistory(
            train_loss=[float(v) for v in hist_train[i, :e]],
            val_loss=[float(v) for v in hist_val[i, :e]] if n_val[i] > 0 else [],
            best_epoch=int(best_epoch[i]), epochs_run=e, steps=int(steps[i]),
            train_indices=train_sets[i], val_indices=val_sets[i]))
    return out
