"""What the archive engine asks of a model family: the abstract *archive task*.

The engine (:func:`leafjax.archive.invert_archive`) knows chunk indices, the manifest, resumption, Dask and
assembly, and nothing about any model.  A task supplies the rest:

* ``open(path, settings, wavelengths_file=None) -> ArchiveInfo``: inspect and validate the input, without
  loading it;
* ``resolve(settings, info) -> settings``: settings made definite for this input (recorded in the manifest);
* ``n_chunks(info, chunk_size)`` and ``chunks(info, chunk_size, skip)``: the work units, as
  ``(index, chunk)`` pairs in index order (a chunk is any picklable object: a :class:`~leafjax.archive.Chunk`
  of rows for tables);
* ``setup(settings, info) -> state``: everything built once per run — model, look-up tables, priors,
  regressions (on Dask: once per worker process, cached under the run's digest);
* ``run(state, chunk) -> DataFrame``: the chunk's output records, in order; after the carried columns come
  exactly :meth:`~AbstractArchiveTask.output_columns` (checked by the engine), among them a ``status`` column
  (counted in the run's summary);
* ``config() -> dict``: the task's own configuration, recorded in the manifest (a different task never resumes
  another's parts).

``state`` must not change the numbers from one chunk to the next: the output of a chunk depends only on the
chunk, the settings and the input (this is what makes resumption and Dask give identical files).

**Raster tiles** plug in without touching the engine: a tile task's ``open`` returns an ``ArchiveInfo`` with
``n_rows`` = pixels, ``n_chunks``/``chunks`` enumerate windows (e.g. ``TileChunk(window, bands (h, w, b))``
in row-major tile order), and ``run`` returns one record per pixel of the window (with its ``row``/``col``);
a writer turning the assembled table (or the chunk parts) into an image is then a step after assembly.
"""

from __future__ import annotations

import abc
import dataclasses
import os
from dataclasses import replace
from collections.abc import Iterator
from typing import Any

import equinox as eqx
import pandas as pd

from ._rows import DIAGNOSTIC_COLUMNS, sanity_check_percent
from ._settings import ArchiveSettings
from ._table import ArchiveInfo, Chunk, iter_chunks


class AbstractArchiveTask(eqx.Module):
    """A model family solved chunk by chunk by the archive engine (see the module docstring).

    Subclasses are final and hold only static configuration (strings, numbers), so they pickle to Dask workers.
    """

    @abc.abstractmethod
    def open(self, path: str | os.PathLike, settings: ArchiveSettings, *,
             wavelengths_file: str | None = None) -> ArchiveInfo:
        """Inspect and validate the archive at ``path`` without loading it (``ValueError`` naming the problem)."""

    @abc.abstractmethod
    def setup(self, settings: ArchiveSettings, info: ArchiveInfo) -> Any:
        """Build what every chunk of the run shares (model, look-up tables, priors); called once per run."""

    @abc.abstractmethod
    def run(self, state: Any, chunk: Any) -> pd.DataFrame:
        """Solve one chunk with the ``state`` from :meth:`setup`; returns its output records in order."""

    @abc.abstractmethod
    def output_columns(self, settings: ArchiveSettings, info: ArchiveInfo) -> tuple[str, ...]:
        """The columns :meth:`run` writes after the carried ones, in order."""

    @abc.abstractmethod
    def n_chunks(self, info: ArchiveInfo, chunk_size: int) -> int:
        """Number of chunks of the run."""

    @abc.abstractmethod
    def chunks(self, info: ArchiveInfo, chunk_size: int, skip: frozenset[int] = frozenset()
               ) -> Iterator[tuple[int, Any]]:
        """``(index, chunk)`` for every chunk not in ``skip``, in index order, one in memory at a time."""

    def resolve(self, settings: ArchiveSettings, info: ArchiveInfo) -> ArchiveSettings:
        """Settings made definite for this archive (default: unchanged)."""
        return settings

    def config(self) -> dict:
        """The task's configuration for the manifest: its class name and fields."""
        return {"task": type(self).__name__, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


class AbstractRowTask(AbstractArchiveTask):
    """A task on tables with one spectrum per row (parquet, CSV, .npy; see :mod:`leafjax.archive._table`).

    Provides the row chunking (chunk ``i`` holds rows ``i*chunk_size`` … ``(i+1)*chunk_size - 1``), the
    resolution of ``use_r``/``use_t`` to the spectra the archive has, and the percent check.
    """

    def n_chunks(self, info: ArchiveInfo, chunk_size: int) -> int:
        return -(-info.n_rows // chunk_size)

    def chunks(self, info: ArchiveInfo, chunk_size: int, skip: frozenset[int] = frozenset()
               ) -> Iterator[tuple[int, Chunk]]:
        return ((i, c) for i, c in iter_chunks(info, chunk_size) if i not in skip)

    def resolve(self, settings: ArchiveSettings, info: ArchiveInfo) -> ArchiveSettings:
        """Use only the spectra present (``ValueError`` if none of the requested ones is), and reject a file that
        is evidently in percent unless ``settings.percent`` (and one evidently in fractions when it is set)."""
        use_r = settings.use_r and (bool(info.r_columns) or (info.fmt == "npy" and info.npy_kind == "R"))
        use_t = settings.use_t and (bool(info.t_columns) or (info.fmt == "npy" and info.npy_kind == "T"))
        if not (use_r or use_t):
            raise ValueError(f"{info.path}: the archive has none of the requested spectra (R: {settings.use_r}, "
                             f"T: {settings.use_t})")
        settings = replace(settings, use_r=use_r, use_t=use_t)
        sanity_check_percent(info, settings)
        return settings

    @staticmethod
    def diagnostic_columns() -> tuple[str, ...]:
        """``rmse``, ``iterations``, ``status``, ``quality_flags``: written after the estimates by every row
        task (:mod:`leafjax.archive._rows`)."""
        return DIAGNOSTIC_COLUMNS
