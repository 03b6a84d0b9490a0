"""The archive tasks by model name: what ``settings.model`` (and ``leafjax invert --model``) selects."""

from __future__ import annotations

from types import MappingProxyType
from collections.abc import Mapping

from ..physics import LEAF_MODELS
from ._canopy import CanopyArchiveTask
from ._leaf import LeafArchiveTask
from ._task import AbstractArchiveTask

#: ``{model name: task}``: one leaf task per PROSPECT model, and PROSAIL for canopy pixels.
ARCHIVE_TASKS: Mapping[str, AbstractArchiveTask] = MappingProxyType(
    {**{name: LeafArchiveTask(name) for name in LEAF_MODELS}, "prosail": CanopyArchiveTask()})


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
