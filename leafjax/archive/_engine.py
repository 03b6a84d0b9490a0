"""The archive engine: chunked, resumable (and optionally Dask-distributed) inversion that knows no model.

A *task* (:class:`~leafjax.archive.AbstractArchiveTask`, picked by ``settings.model`` through
:func:`~leafjax.archive.get_task`) opens the input, cuts it into chunks, builds its state once per run
(``setup``) and solves chunk after chunk (``run``).  The engine does the rest:

* **output**: a parquet file with the chunks' records in chunk order (for tables: one row per input row, in
  input order: the carried columns, then the task's :meth:`~leafjax.archive.AbstractArchiveTask.output_columns`);
* **incremental writing and resumption**: finished chunks are written atomically to ``<out>.parts/`` together
  with a manifest of the run (task configuration, settings, input size/mtime/rows, wavelength fingerprint); an
  interrupted run started again with the same manifest skips the finished chunks, one with another manifest is
  refused (or, with ``resume=False``, discarded); the final file is assembled only when every chunk is done, and
  the parts are then removed;
* **memory**: one chunk in flight locally (``max_in_flight`` on Dask), whatever the archive's length;
* **precision**: ``dtype="float64"`` without JAX's 64-bit mode is a one-line ``ValueError`` (checked here and in
  every Dask task);
* **Dask** (``client=``): chunks are solved on the workers (see :mod:`leafjax.archive._dask`); the output is
  identical to a local run.

Table formats and per-row flags: :mod:`leafjax.archive._table`, :mod:`leafjax.archive._rows`; canopy archives:
:mod:`leafjax.archive._canopy`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ._registry import get_task
from ._settings import ArchiveSettings, check_dtype
from ._table import ArchiveInfo
from ._task import AbstractArchiveTask

#: Name pattern of the finished chunks in ``<out>.parts/``.
PART_NAME = "chunk-{:08d}.parquet"


def run_digest(task: AbstractArchiveTask, settings: ArchiveSettings, info: ArchiveInfo) -> dict:
    """The manifest of a run: everything that determines its output (JSON-serialisable)."""
    st = info.path.stat()
    digest = {"task": task.config(), "settings": asdict(settings), "input": str(info.path.resolve().name),
              "input_size": st.st_size, "input_mtime_ns": st.st_mtime_ns, "n_rows": info.n_rows,
              "wavelengths_sha1": hashlib.sha1(np.asarray(info.wavelengths).tobytes()).hexdigest()}
    return json.loads(json.dumps(digest))


def digest_key(digest: dict) -> str:
    """A short stable key of a manifest (names the per-worker state of a run on Dask)."""
    return hashlib.sha1(json.dumps(digest, sort_keys=True).encode()).hexdigest()


def _write_part(path: Path, df: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _prepare_parts(out: Path, digest: dict, resume: bool) -> tuple[Path, set[int]]:
    """Create (or reuse, if its manifest matches) ``<out>.parts``; returns it and the finished chunk indices."""
    parts = out.with_name(out.name + ".parts")
    manifest_path = parts / "manifest.json"
    if parts.exists():
        old = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
        if not resume or old != digest:
            if resume and old is not None:
                raise ValueError(f"{parts} holds an unfinished run with other settings or input; remove it or "
                                 f"pass resume=False (--overwrite) to start again")
            shutil.rmtree(parts)
    parts.mkdir(exist_ok=True)
    manifest_path.write_text(json.dumps(digest, indent=1))
    return parts, {int(p.stem.split("-")[1]) for p in parts.glob("chunk-*.parquet")}


def run_local(task: AbstractArchiveTask, settings: ArchiveSettings, info: ArchiveInfo,
              todo: Iterable[tuple[int, Any]], finish: Callable[[int, pd.DataFrame], None]) -> int:
    """Solve ``todo`` in this process; ``setup`` runs once, before the first chunk (not at all if none is left).
    Returns the number of setups (0 or 1)."""
    state, setups = None, 0
    for i, chunk in todo:
        if setups == 0:
            state, setups = task.setup(settings, info), 1
        finish(i, task.run(state, chunk))
    return setups


def invert_archive(input_path, output_path, settings: ArchiveSettings, *, task: AbstractArchiveTask | None = None,
                   wavelengths_file: str | None = None, resume: bool = True, progress: bool = True, client=None,
                   max_in_flight: int | None = None) -> dict:
    """Invert every record of an archive, chunk by chunk; see the module docstring for output and resumption.

    **Arguments:**
    - ``input_path``, ``output_path``: archive and output parquet file.
    - ``settings``: :class:`~leafjax.archive.ArchiveSettings`.
    - ``task``: the task solving the chunks (default: ``get_task(settings.model)``).
    - ``wavelengths_file``: for ``.npy`` tables, the wavelengths (nm) of their columns.
    - ``resume``: reuse finished chunks of an interrupted run with an identical manifest (default); ``False``
      discards them.
    - ``client``: optional ``dask.distributed.Client``: chunks are solved on its workers (which need leafjax
      installed), at most ``max_in_flight`` at a time (default: 2 per worker) so that memory stays bounded;
      each finished chunk is written as it arrives, so resumption works as for a local run.

    **Returns:** a summary dict: ``rows``, ``chunks``, ``chunks_computed``, ``chunks_reused``, ``seconds``,
    ``spectra_per_second``, ``status`` (counts per status name) and ``setups`` (task setups run: 1 locally,
    at most one per worker process on Dask, 0 if every chunk was reused).
    """
    check_dtype(settings.dtype)
    task = get_task(settings.model) if task is None else task
    info = task.open(input_path, settings, wavelengths_file=wavelengths_file)
    out = Path(output_path)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OSError(f"{out}: folder {parent} does not exist or is not writable")
    settings = task.resolve(settings, info)
    columns = tuple(task.output_columns(settings, info))
    digest = run_digest(task, settings, info)
    parts, done = _prepare_parts(out, digest, resume)
    n_chunks = task.n_chunks(info, settings.chunk_size)
    t0 = time.perf_counter()
    computed = rows_computed = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=info.n_rows, unit="spectra", desc="invert", smoothing=0.1)
        bar.update(sum(pq.ParquetFile(parts / PART_NAME.format(i)).metadata.num_rows for i in done))

    def finish(i: int, df: pd.DataFrame) -> None:
        nonlocal computed, rows_computed
        if tuple(df.columns[len(df.columns) - len(columns):]) != columns:
            raise RuntimeError(f"{type(task).__name__}.run wrote columns {list(df.columns)[-len(columns):]}, "
                               f"expected {list(columns)}")
        _write_part(parts / PART_NAME.format(i), df)
        computed += 1
        rows_computed += len(df)
        if bar is not None:
            bar.update(len(df))

    todo = task.chunks(info, settings.chunk_size, skip=frozenset(done))
    try:
        if client is None:
            setups = run_local(task, settings, info, todo, finish)
        else:
            from ._dask import run_on_dask

            setups = run_on_dask(client, task, settings, info, digest_key(digest), todo, finish, max_in_flight)
    except BaseException:
        # finished chunks stay for a resumed run; a run that finished none leaves nothing behind
        if not any(parts.glob("chunk-*.parquet")):
            shutil.rmtree(parts, ignore_errors=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    status_counts = _assemble(parts, n_chunks, out)
    shutil.rmtree(parts)
    return {"rows": info.n_rows, "chunks": n_chunks, "chunks_computed": computed,
            "chunks_reused": n_chunks - computed, "seconds": elapsed,
            "spectra_per_second": rows_computed / elapsed if elapsed > 0 and computed else float("nan"),
            "status": status_counts, "setups": setups}


def _assemble(parts: Path, n_chunks: int, out: Path) -> dict:
    """Concatenate the parts (in chunk order, one in memory at a time) into ``out``; returns status counts."""
    files = [parts / PART_NAME.format(i) for i in range(n_chunks)]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise RuntimeError(f"cannot assemble {out}: missing {missing[:3]}")
    tmp = out.with_name(f".{out.name}.partial")
    writer = None
    counts: dict[str, int] = {}
    try:
        for f in files:
            table = pq.read_table(f)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            table = table.cast(writer.schema) if table.schema != writer.schema else table
            writer.write_table(table)
            for s, c in pd.Series(table.column("status").to_pylist()).value_counts().items():
                counts[s] = counts.get(s, 0) + int(c)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, out)
    return counts
