"""``AbstractMethod``: the interface every method implements to be fitted, batched and scored by evaluation.

A method is an immutable configuration.  ``fit`` returns its fitted state explicitly and ``predict`` takes it
back (no hidden state, EXAMPLES practice 3); :func:`~leafjax.evaluation.run_evaluation` and
:func:`~leafjax.evaluation.cross_fit` only ever call ``task_argument``, ``fit_many``/``fit`` and ``predict``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ._task import Task

if TYPE_CHECKING:
    from ..data._abstract import AbstractDataset


class AbstractMethod(abc.ABC):
    """A method under evaluation, on any :class:`~leafjax.data.AbstractDataset`.

    Class attributes tell the runner what the method uses:

    - ``uses_train``: fits on the other groups (skipped when a task has no training rows).
    - ``uses_target_sample``: its fit depends on the ``k`` labelled rows of the held-out group (if ``False``,
      the runner fits it once per held-out group and task and reuses it across k and seeds).
    - ``requires_target_sample``: cannot run without target samples (skipped for plain leave-one-group-out).

    ``name`` (a short label used in tables) must be set by subclasses.  ``fit`` receives datasets restricted to
    labelled rows and harmonised (:meth:`~leafjax.data.AbstractDataset.harmonise`) with the test rows; it never
    receives test rows.
    """

    name: str
    uses_train: ClassVar[bool] = True
    uses_target_sample: ClassVar[bool] = True
    requires_target_sample: ClassVar[bool] = False

    def task_argument(self, task: Task) -> Any:
        """What ``fit`` receives as its ``task`` argument for ``task``.  Default: the :class:`Task` itself.
        Specialisations narrow it (:class:`~leafjax.methods.AbstractTraitMethod`: the trait name) and raise
        ``ValueError`` for tasks they cannot solve."""
        return task

    @abc.abstractmethod
    def fit(self, train: AbstractDataset, task: Any, target_sample: AbstractDataset | None = None) -> Any:
        """Fit on ``train`` (other groups) and/or ``target_sample`` (k labelled rows of the held-out group);
        ``task`` is :meth:`task_argument` of the task.  Returns the fitted state."""

    @abc.abstractmethod
    def predict(self, fitted: Any, test: AbstractDataset) -> np.ndarray:
        """Predictions for every row of ``test``: float64 ``(n_test,)`` for one target, ``(n_test, t)`` for
        ``t`` targets (in the order of ``Task.targets``), canonical units."""

    def fit_many(self, jobs: Sequence[tuple[AbstractDataset, Any, AbstractDataset | None]]) -> list[Any]:
        """Fit several independent ``(train, task, target_sample)`` jobs (e.g. every held-out group × seed of
        one k).  The default fits them one by one; methods that can train many models at once (the networks,
        :class:`~leafjax.transfer.NetworkMethod`) override it.  Returns one fitted state per job, in order."""
        return [self.fit(*job) for job in jobs]
