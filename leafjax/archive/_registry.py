"""The archive tasks by model name: what ``settings.model`` (and ``leafjax invert --model``) selects.

The registry is lazy: a task's module is imported when its name is first looked up, so a leaf run does not
import the canopy model, its priors and its inversion (~0.3 s of a short run's start-up).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from ..physics import LEAF_MODELS
from ._task import AbstractArchiveTask

#: ``{model name: (module, class, constructor arguments)}`` of every task, in the order listed.
_TASK_SPECS: dict[str, tuple[str, str, tuple]] = {
    **{name: ("._leaf", "LeafArchiveTask", (name,)) for name in LEAF_MODELS},
    "prosail": ("._canopy", "CanopyArchiveTask", ()),
    "scene": ("._scene", "SceneArchiveTask", ()),  # product maps of satellite scenes (``leafjax map``)
}


class _LazyTasks(Mapping):
    """A read-only ``{name: task}`` mapping whose tasks are built (and their modules imported) on first use."""

    def __init__(self, specs: dict[str, tuple[str, str, tuple]]):
        self._specs = dict(specs)
        self._built: dict[str, AbstractArchiveTask] = {}

    def __getitem__(self, name: str) -> AbstractArchiveTask:
        if name not in self._built:
            module, cls, args = self._specs[name]  # KeyError for an unknown name, as a mapping should
            self._built[name] = getattr(importlib.import_module(module, __package__), cls)(*args)
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"ARCHIVE_TASKS({', '.join(self._specs)})"


#: ``{model name: task}``: one leaf task per PROSPECT model, and PROSAIL for canopy pixels.
ARCHIVE_TASKS: Mapping[str, AbstractArchiveTask] = _LazyTasks(_TASK_SPECS)


def get_task(model: str) -> AbstractArchiveTask:
    """The archive task of ``model`` (case-insensitive, ``_`` or ``-``); ``ValueError`` listing the choices.

    Example:
        >>> type(get_task("PROSPECT_D")).__name__
        'LeafArchiveTask'
    """
    key = str(model).lower().replace("_", "-")
    if key not in ARCHIVE_TASKS:
        raise ValueError(f"unknown model {model!r}; choose one of: {', '.join(ARCHIVE_TASKS)}")
    return ARCHIVE_TASKS[key]


def is_canopy_task(model: str) -> bool:
    """``True`` if ``model`` names the canopy (PROSAIL) task (no import of it)."""
    return str(model).lower().replace("_", "-") == "prosail"
