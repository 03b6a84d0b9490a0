"""``Task``: what a method is asked to predict, from which kind of data, and how the data are grouped for
leave-one-group-out evaluation."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..data._abstract import DATA_KINDS, AbstractDataset


@dataclasses.dataclass(frozen=True)
class Task:
    """A prediction task.

    **Fields:**
    - ``targets``: target name(s), e.g. ``"lma"`` (canonical trait names for spectra) or ``("lst", "emis")``;
      a single string is taken as one target.  Stored as a tuple of distinct names.
    - ``kind``: the data kind the task is posed on, one of :data:`~leafjax.data.DATA_KINDS`
      (``"spectra-table"``, ``"image-tiles"``, ``"thermal-table"``).
    - ``unit``: the split unit of leave-one-group-out evaluation, e.g. ``"dataset"``, ``"site"``, ``"parcel"``.
    - ``group_column``: the grouping column passed to :meth:`~leafjax.data.AbstractDataset.groups` (default:
      ``unit``; set it when the column is named differently, e.g. ``unit="parcel", group_column="parcel_id"``).

    Example:
        >>> Task("lma")
        Task(targets=('lma',), kind='spectra-table', unit='dataset', group_column='dataset')
        >>> Task(("lst", "emissivity"), kind="thermal-table", unit="site").label
        'lst+emissivity'
    """

    targets: Sequence[str]  # one name or several; stored as a tuple
    kind: str = "spectra-table"
    unit: str = "dataset"
    group_column: str | None = None

    def __post_init__(self):
        targets = (self.targets,) if isinstance(self.targets, str) else tuple(self.targets)
        if not targets or not all(isinstance(t, str) and t for t in targets):
            raise ValueError(f"Task.targets must be one or more non-empty names, got {self.targets!r}")
        if len(set(targets)) != len(targets):
            raise ValueError(f"Task.targets must be distinct, got {targets}")
        if self.kind not in DATA_KINDS:
            raise ValueError(f"unknown data kind {self.kind!r}; known: {', '.join(DATA_KINDS)}")
        if not isinstance(self.unit, str) or not self.unit:
            raise ValueError(f"Task.unit must be a non-empty name, got {self.unit!r}")
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "group_column", self.group_column or self.unit)

    @property
    def target(self) -> str:
        """The single target name; ``ValueError`` for a multi-target task."""
        if len(self.targets) != 1:
            raise ValueError(f"task has {len(self.targets)} targets {self.targets}, expected one")
        return self.targets[0]

    @property
    def label(self) -> str:
        """The targets joined by ``+`` (the name of the task in split labels and seeds)."""
        return "+".join(self.targets)


def as_task(task: Task | str, data: AbstractDataset | None = None) -> Task:
    """``task`` itself, or a single-target :class:`Task` named ``task`` on ``data``'s kind (default
    ``"spectra-table"``), split by ``"dataset"``.  With ``data`` given, raises ``ValueError`` when the task's kind
    is not the data's."""
    kind = getattr(data, "kind", None) if data is not None else None
    if isinstance(task, str):
        task = Task(task, kind=kind or "spectra-table")
    elif not isinstance(task, Task):
        raise TypeError(f"expected a Task or a target name, got {type(task).__name__}")
    if kind is not None and task.kind != kind:
        raise ValueError(f"task {task.label!r} is posed on {task.kind!r} data, but the dataset is {kind!r}")
    return task
