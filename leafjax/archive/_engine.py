"""The archive engine: chunked, resumable (and optionally Dask-distributed) inversion that knows no model.

A *task* (:class:`~leafjax.archive.AbstractArchiveTask`, picked by ``settings.model`` through
:func:`~leafjax.archive.get_task`) opens the input, cuts it into chunks, builds its state once per run
(``setup``) and solves chunk after chunk (``run``).  The engine does the rest:

* **safe output**, checked before anything is read or computed (:func:`leafjax.io.check_output`): the format is
  the one the extension names (``.parquet``/``.pq`` Parquet, ``.csv`` CSV; any other is refused); an output that
  is the input (or the wavelengths file), also through links or relative paths, is refused; an existing output
  is refused unless ``overwrite=True``, and is then replaced only when the new run completes (atomically); a
  lock ``<out>.lock`` (:class:`leafjax.io.OutputLock`) is held for the whole run, so a second run on the same
  output is refused with a message naming the first;
* **output**: the chunks' records in chunk order (for tables: one row per input row, in input order: the carried
  columns, then the task's :meth:`~leafjax.archive.AbstractArchiveTask.output_columns`); CSV has a header,
  floats in their shortest exact (round-trip) form and NaN/missing values as empty cells;
* **incremental writing and resumption**: finished chunks are written atomically to ``<out>.parts/`` together
  with a manifest of the run (task configuration, settings, output format, input size/mtime/rows, wavelength
  fingerprint); an interrupted run started again with the same manifest skips the finished chunks, one with
  another manifest is refused (or, with ``resume=False`` or ``overwrite=True``, discarded); the final file is
  assembled only when every chunk is done, and the parts are then removed;
* **assembly never fails after compute**: the parts' schemas are unified first (a column's type is kept when
  every part agrees, promoted when Arrow can promote it losslessly, e.g. int64 and float64 to float64, and
  otherwise widened to text), and every part is cast to that schema;
* **memory**: one chunk in flight locally (``max_in_flight`` on Dask), whatever the archive's length; one part
  in memory during assembly;
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
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..io import OutputLock, TableStreamWriter, check_output
from ._registry import get_task
from ._settings import ArchiveSettings, check_dtype
from ._table import ArchiveInfo
from ._task import AbstractArchiveTask

#: Name pattern of the finished chunks in ``<out>.parts/``.
PART_NAME = "chunk-{:08d}.parquet"


def run_digest(task: AbstractArchiveTask, settings: ArchiveSettings, info: ArchiveInfo,
               output_format: str = "parquet") -> dict:
    """The manifest of a run: everything that determines its output (JSON-serialisable)."""
    st = info.path.stat()
    digest = {"task": task.config(), "settings": asdict(settings), "input": str(info.path.resolve().name),
              "input_size": st.st_size, "input_mtime_ns": st.st_mtime_ns, "n_rows": info.n_rows,
              "wavelengths_sha1": hashlib.sha1(np.asarray(info.wavelengths).tobytes()).hexdigest(),
              "output_format": output_format}
    if getattr(info, "fingerprint", None):  # several inputs (the scenes of a map run)
        digest["inputs"] = info.fingerprint
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
                                 f"pass --overwrite (overwrite=True) to start again")
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
                   wavelengths_file: str | None = None, resume: bool = True, overwrite: bool = False,
                   progress: bool = True, client=None, max_in_flight: int | None = None) -> dict:
    """Invert every record of an archive, chunk by chunk; see the module docstring for output and resumption.

    **Arguments:**
    - ``input_path``: the archive; ``output_path``: the output, ``.parquet``/``.pq`` (Parquet) or ``.csv``.
      A task may accept other outputs and assemble them itself (its ``output_formats``, ``check_target(info,
      out, fmt)`` before any compute, ``assemble(parts, n_chunks, out, fmt, info)``): the scene task
      (:mod:`leafjax.archive._scene`) writes maps (.tif, .zarr, .nc, ``DIR/``) from a scene or a list of them.
    - ``settings``: :class:`~leafjax.archive.ArchiveSettings`.
    - ``task``: the task solving the chunks (default: ``get_task(settings.model)``).
    - ``wavelengths_file``: for ``.npy`` tables, the wavelengths (nm) of their columns.
    - ``resume``: reuse finished chunks of an interrupted run with an identical manifest (default); ``False``
      discards them.
    - ``overwrite``: replace an existing output (when the new run completes) and discard any unfinished parts;
      without it an existing output is a ``FileExistsError``.
    - ``client``: optional ``dask.distributed.Client``: chunks are solved on its workers (which need leafjax
      installed), at most ``max_in_flight`` at a time (default: 2 per worker) so that memory stays bounded;
      each finished chunk is written as it arrives, so resumption works as for a local run.

    Before anything is read or computed: an unknown output extension, an output equal to the input (or to the
    wavelengths file), an existing output without ``overwrite`` or a missing/unwritable folder are one-line
    ``ValueError``/``OSError``; so is a run on an output that another live run holds (``<out>.lock``).

    **Returns:** a summary dict: ``rows`` (written), ``chunks``, ``chunks_computed``, ``chunks_reused``,
    ``seconds``, ``spectra_per_second``, ``status`` (counts per status name), ``quality_flags`` (counts per
    flag name, ``at_bound:<param>`` per parameter), ``format`` (``"parquet"`` or ``"csv"``) and ``setups``
    (task setups run: 1 locally, at most one per worker process on Dask, 0 if every chunk was reused).
    """
    check_dtype(settings.dtype)
    many = isinstance(input_path, (list, tuple))
    inputs = (*(input_path if many else (input_path,)), wavelengths_file)
    task = get_task(settings.model) if task is None else task
    formats = getattr(task, "output_formats", None)  # a task writing other outputs (maps) names their formats
    out, fmt = check_output(output_path, inputs=inputs, overwrite=overwrite, formats=formats)
    with OutputLock(out):
        # another run may have finished it meanwhile
        check_output(output_path, inputs=inputs, overwrite=overwrite, formats=formats)
        return _run(task, input_path, out, fmt, settings, wavelengths_file=wavelengths_file,
                    resume=resume and not overwrite, progress=progress, client=client, max_in_flight=max_in_flight)


def _run(task: AbstractArchiveTask, input_path, out: Path, fmt: str, settings: ArchiveSettings, *,
         wavelengths_file, resume: bool, progress: bool, client, max_in_flight) -> dict:
    """The run of :func:`invert_archive` once its output is checked and locked."""
    info = task.open(input_path, settings, wavelengths_file=wavelengths_file)
    settings = task.resolve(settings, info)
    if hasattr(task, "check_target"):  # the output can hold this input (e.g. one scene per GeoTIFF)
        task.check_target(info, out, fmt)
    columns = tuple(task.output_columns(settings, info))
    digest = run_digest(task, settings, info, fmt)
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
    if hasattr(task, "assemble"):  # a task assembling its own output (maps from tiles)
        counts = task.assemble(parts, n_chunks, out, fmt, info)
    else:
        counts = _assemble(parts, n_chunks, out, fmt)
    shutil.rmtree(parts)
    return {"rows": counts["rows"], "chunks": n_chunks, "chunks_computed": computed,
            "chunks_reused": n_chunks - computed, "seconds": elapsed,
            "spectra_per_second": rows_computed / elapsed if elapsed > 0 and computed else float("nan"),
            "status": counts["status"], "quality_flags": counts["quality_flags"], "format": fmt, "setups": setups}


# ----------------------------------------------------------------------------------------------- assembly


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def common_type(types: list[pa.DataType]) -> pa.DataType:
    """One Arrow type for a column whose parts have ``types`` (in part order): the type if all agree (null
    parts ignored), Arrow's lossless promotion if one exists (int64 + float64 -> float64), else text."""
    distinct: list[pa.DataType] = []
    for t in types:
        if not pa.types.is_null(t) and t not in distinct:
            distinct.append(t)
    if not distinct:
        return types[0]
    if len(distinct) == 1:
        return distinct[0]
    if any(_is_text(t) for t in distinct):
        return pa.string()
    try:
        return pa.unify_schemas([pa.schema([("x", t)]) for t in distinct], promote_options="permissive"
                                ).field("x").type
    except (pa.ArrowException, ValueError, TypeError):
        return pa.string()


def unified_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """The schema every part is cast to: columns in first-seen order, each of :func:`common_type`.  The first
    part's metadata (pandas dtypes) is kept only when no column changed type."""
    names: list[str] = []
    types: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for f in schema:
            if f.name not in types:
                names.append(f.name)
                types[f.name] = []
            types[f.name].append(f.type)
    fields = [pa.field(n, common_type(types[n])) for n in names]
    first = schemas[0]
    same = names == first.names and all(f.type == first.field(f.name).type for f in fields)
    return pa.schema(fields, metadata=first.metadata if same else None)


def _as_text(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Any column as text (Arrow's cast where it has one, ``str`` of each value otherwise; missing stays
    missing)."""
    try:
        return col.cast(pa.string())
    except (pa.ArrowException, ValueError, TypeError):
        return pa.array([None if v is None else str(v) for v in col.to_pylist()], type=pa.string())


def _cast(col: pa.ChunkedArray | pa.Array, target: pa.DataType) -> pa.ChunkedArray | pa.Array:
    if col.type == target:
        return col
    if _is_text(target):
        text = _as_text(col)
        return text if text.type == target else text.cast(target)
    try:
        return col.cast(target)
    except (pa.ArrowException, ValueError, TypeError):
        return col.cast(target, safe=False)  # a permissive promotion (e.g. a huge int64 to float64)


def conform(table: pa.Table, schema: pa.Schema, fmt: str = "parquet") -> pa.Table:
    """``table`` cast to ``schema`` (missing columns all-null); for CSV, columns CSV cannot hold (lists,
    structs, ...) become text and float32 becomes float64 (so that the text is the exact value)."""
    cols = []
    for f in schema:
        col = table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        cols.append(_cast(col, f.type))
    out = pa.Table.from_arrays(cols, schema=schema)
    if fmt != "csv":
        return out
    flat = []
    for col in out.columns:
        t = col.type
        if pa.types.is_float16(t) or pa.types.is_float32(t):
            col = col.cast(pa.float64())
        elif pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            col = _as_text(col)
        flat.append(col)
    return pa.Table.from_arrays(flat, names=out.column_names)


def _assemble(parts: Path, n_chunks: int, out: Path, fmt: str = "parquet") -> dict:
    """Concatenate the parts (in chunk order, one in memory at a time) into ``out`` (``fmt`` ``"parquet"`` or
    ``"csv"``), replacing it atomically; returns ``{"rows", "status": counts, "quality_flags": counts}``."""
    files = [parts / PART_NAME.format(i) for i in range(n_chunks)]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise RuntimeError(f"cannot assemble {out}: missing {missing[:3]}")
    schema = unified_schema([pq.read_schema(f) for f in files])
    status: Counter = Counter()
    flags: Counter = Counter()
    with TableStreamWriter(out, fmt) as writer:
        for f in files:
            table = conform(pq.read_table(f), schema, fmt)
            writer.write({name: table.column(name) for name in table.column_names})
            if "status" in table.column_names:
                status.update(v for v in table.column("status").to_pylist() if v is not None)
            if "quality_flags" in table.column_names:
                flags.update(name for v in table.column("quality_flags").to_pylist() if v
                             for name in str(v).split(";") if name)
        rows = writer.rows
    return {"rows": rows, "status": dict(status), "quality_flags": dict(flags)}
