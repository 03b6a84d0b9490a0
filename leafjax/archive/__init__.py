"""Archive engine: chunked, resumable, Dask-distributable inversion of archives too large for memory.

The engine (:func:`invert_archive`) knows no model; each model family is an archive task
(:class:`AbstractArchiveTask`): leaf spectra (:class:`LeafArchiveTask`, PROSPECT-D/-PRO) and canopy pixels
(:class:`CanopyArchiveTask`, PROSAIL), picked by name with :func:`get_task` (:data:`ARCHIVE_TASKS`).  The canopy
task (and with it the canopy model and its inversion) is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._engine import invert_archive as invert_archive
from ._leaf import LeafArchiveTask as LeafArchiveTask, NStructPrior as NStructPrior
from ._registry import ARCHIVE_TASKS as ARCHIVE_TASKS, get_task as get_task, is_canopy_task as is_canopy_task
from ._rows import row_flags as row_flags
from ._settings import ArchiveSettings as ArchiveSettings, check_dtype as check_dtype
from ._table import ArchiveInfo as ArchiveInfo, Chunk as Chunk, open_archive as open_archive
from ._task import AbstractArchiveTask as AbstractArchiveTask, AbstractRowTask as AbstractRowTask

if TYPE_CHECKING:
    from ._canopy import CanopyArchiveTask as CanopyArchiveTask
    from ._scene import SceneArchiveTask as SceneArchiveTask, map_scenes as map_scenes


def __getattr__(name: str) -> Any:
    """``CanopyArchiveTask`` (and the scene task ``SceneArchiveTask``, ``map_scenes``) on first access (:pep:`562`)."""
    if name in ("SceneArchiveTask", "map_scenes"):
        from . import _scene

        globals()[name] = getattr(_scene, name)
        return globals()[name]
    if name == "CanopyArchiveTask":
        from ._canopy import CanopyArchiveTask

        globals()[name] = CanopyArchiveTask
        return CanopyArchiveTask
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
