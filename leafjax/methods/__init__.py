"""leafjax.methods: the method interface shared by baselines, networks with transfer strategies, fusion and
evaluation.

- :class:`Task`: what to predict (target names), from which data kind, split by which group column.
- :class:`AbstractMethod`: ``fit(train, task, target_sample) -> fitted``, ``predict(fitted, test)``,
  ``fit_many(jobs)``, on any :class:`AbstractDataset` (``__len__``, ``subset``, ``groups``, ``target``).
- :class:`AbstractTraitMethod`: the leaf-spectra specialisation (``fit(train, trait, target_sample)`` on a
  :class:`~leafjax.data.SpectralDataset`).

This layer sits below training, baselines, transfer and evaluation, and imports only :mod:`leafjax.data`.

Example:
    >>> import numpy as np
    >>> from leafjax.methods import AbstractMethod, Task
    >>> class GroupMean(AbstractMethod):
    ...     name = "mean"
    ...     def fit(self, train, task, target_sample=None):
    ...         return float(np.nanmean(train.target(task.target)))
    ...     def predict(self, fitted, test):
    ...         return np.full(len(test), fitted)
    >>> GroupMean().task_argument(Task("lma")).targets
    ('lma',)
"""

from ..data._abstract import AbstractDataset as AbstractDataset, DATA_KINDS as DATA_KINDS
from ._method import AbstractMethod as AbstractMethod
from ._task import Task as Task, as_task as as_task
from ._trait import AbstractTraitMethod as AbstractTraitMethod
