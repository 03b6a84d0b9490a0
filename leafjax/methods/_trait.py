"""``AbstractTraitMethod``: the leaf-spectra specialisation of :class:`~leafjax.methods.AbstractMethod`.

A trait method predicts one leaf trait from the spectra of a :class:`~leafjax.data.SpectralDataset`; its ``fit``
receives the trait's canonical name (a string) instead of a :class:`~leafjax.methods.Task`, so PLSR, the trait
mean, the PROSPECT inversion and the networks keep their ``fit(train, trait, target_sample)`` signature.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._method import AbstractMethod
from ._task import Task

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset


class AbstractTraitMethod(AbstractMethod):
    """A trait-retrieval method: one trait of a ``spectra-table`` task at a time.

    Same class attributes as :class:`AbstractMethod` (``uses_train``, ``uses_target_sample``,
    ``requires_target_sample``).  ``fit`` receives datasets restricted to rows where ``trait`` is measured and to
    bands finite in train, target and test alike; it must not look at test traits (it never receives them).
    """

    def task_argument(self, task: Task) -> str:
        """The trait name of a single-target ``spectra-table`` task (``ValueError`` otherwise)."""
        if task.kind != "spectra-table":
            raise ValueError(f"{type(self).__name__} {getattr(self, 'name', '')!r} works on spectra-table data, "
                             f"not {task.kind!r}")
        return task.target

    @abc.abstractmethod
    def fit(self, train: SpectralDataset, trait: str, target_sample: SpectralDataset | None = None) -> Any:
        """Fit on ``train`` (other datasets) and/or ``target_sample`` (k labelled rows of the target dataset)."""

    @abc.abstractmethod
    def predict(self, fitted: Any, test: SpectralDataset) -> np.ndarray:
        """Predicted ``trait`` for every row of ``test``, float64 ``(n_test,)``, canonical unit."""

    def fit_many(self, jobs: Sequence[tuple[SpectralDataset, str, SpectralDataset | None]]) -> list[Any]:
        """Fit several independent ``(train, trait, target_sample)`` jobs; see :meth:`AbstractMethod.fit_many`."""
        return [self.fit(*job) for job in jobs]
