"""Safe outputs: the format an output's extension names, checks before any compute, a lock, a streaming writer.

* :func:`output_format` / :data:`OUTPUT_FORMATS`: ``.parquet`` and ``.pq`` write Parquet, ``.csv`` writes CSV;
  any other extension is refused (so ``--out x.csv`` never holds Parquet).
* :func:`check_output`: one-line errors, before any compute, for an output that is a folder, whose folder is
  missing or not writable, that is the same file as an input, or that exists (unless ``overwrite``).
* :class:`OutputLock`: ``<out>.lock``, created atomically, so that two runs never write the same output.
* :class:`TableStreamWriter`: appends column blocks to a Parquet or CSV file that appears under its final name
  only when complete (temporary file + atomic :func:`os.replace`).

No JAX here (``leafjax.io`` sits below every numerical layer).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import uuid
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: Output file extension (lower case) -> format written.
OUTPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


#: Outputs of scene (map) tasks: the table formats, rasters, and a folder (``DIR/``: one GeoTIFF per scene).
SCENE_OUTPUT_FORMATS = {**OUTPUT_FORMATS, ".tif": "tif", ".tiff": "tif", ".zarr": "zarr", ".nc": "netcdf",
                        "/": "dir"}
FOLDER_FORMATS = ("zarr", "dir")  # written as folders


def output_format(path: str | os.PathLike, formats: dict[str, str] | None = None) -> str:
    """``"parquet"`` or ``"csv"``, from the extension of ``path`` (case-insensitive); ValueError otherwise.
    ``formats`` (default :data:`OUTPUT_FORMATS`): extension -> format; key ``"/"``: a path ending in ``/``."""
    table = OUTPUT_FORMATS if formats is None else formats
    if "/" in table and str(path).endswith(("/", os.sep)):
        return table["/"]
    suffix = Path(path).suffix.lower()
    if suffix not in table:
        shown = repr(suffix) if suffix else "(no extension)"
        choices = (".parquet, .pq or .csv" if formats is None else
                   ", ".join(k if k != "/" else "DIR/ (a folder)" for k in table))
        raise ValueError(f"{path}: unknown output format {shown} (use {choices})")
    return table[suffix]


def _parent(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_output(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike | None] = (),
                 overwrite: bool = False, formats: dict[str, str] | None = None) -> tuple[Path, str]:
    """Check, before any compute, that ``path`` may be written; return ``(path, format)``.

    Raises a one-line ValueError for an unknown extension or an output that is one of ``inputs`` (same file,
    also through links; ``None`` entries are skipped), and an OSError for a folder, a missing or unwritable
    parent folder, or an existing file when ``overwrite`` is false (``FileExistsError``).  ``formats``: see
    :func:`output_format` (:data:`SCENE_OUTPUT_FORMATS`: a ``.zarr`` folder is a file; ``DIR/`` may exist)."""
    p = Path(path)
    folders = formats is not None and "/" in formats
    if p.is_dir() and not (folders or (formats and p.suffix.lower() in formats)):
        raise IsADirectoryError(f"{p}: is a folder, not an output file")
    fmt = "dir" if folders and p.is_dir() and p.suffix.lower() not in formats else output_format(path, formats)
    if p.is_dir() and fmt not in FOLDER_FORMATS:
        raise IsADirectoryError(f"{p}: is a folder, not an output file")
    parent = _parent(p)
    if fmt == "dir" and p.exists() and not p.is_dir():
        raise NotADirectoryError(f"{p}: exists and is not a folder")
    if not parent.is_dir():
        raise FileNotFoundError(f"cannot write {p}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"cannot write {p}: folder {parent} is not writable")
    if fmt == "dir":
        return p, fmt
    for inp in inputs:
        if inp is not None and _same_file(p, Path(inp)):
            raise ValueError(f"{p} is the input file {inp}; choose another output (an output never replaces "
                             "its input)")
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p} exists; pass --overwrite to replace it")
    return p, fmt


# --------------------------------------------------------------------------------------------------- lock


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


class OutputLock:
    """Context manager holding ``<out>.lock`` while ``out`` is written; a second holder gets an OSError.

    The lock file is created atomically (``O_CREAT | O_EXCL``) and holds JSON ``{"pid", "host", "started",
    "token"}``.  A lock left by a process that is no longer alive on this host is stale and taken over; a lock
    from another host is never taken over (its process cannot be checked).  The lock is deleted on exit, also
    on an exception, and only if it is still this holder's.  Not re-entrant: a second ``OutputLock`` on the same
    output in the same process is refused like any other.

    Example::

        with OutputLock("out.parquet"):
            ...  # write out.parquet
    """

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        self.path = self.out.with_name(self.out.name + ".lock")
        self._token: str | None = None

    # -- helpers
    def _read(self) -> dict | None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                info = json.load(fh)
            return info if isinstance(info, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}

    def _is_stale(self, info: dict) -> bool:
        if not info:  # unreadable / half-written: stale only if old (a creator writes it at once)
            try:
                age = _dt.datetime.now().timestamp() - self.path.stat().st_mtime
            except OSError:
                return False
            return age > 60.0
        if info.get("host") != socket.gethostname():
            return False
        try:
            pid = int(info.get("pid"))
        except (TypeError, ValueError):
            return True
        return not _pid_alive(pid)

    def _held_message(self, info: dict) -> str:
        pid = info.get("pid", "?") if info else "?"
        host = info.get("host", "?") if info else "?"
        started = info.get("started", "?") if info else "?"
        return (f"{self.out} is being written by another leafjax run (pid {pid} on {host} since {started}); "
                f"wait for it, or delete {self.path} if that run is gone")

    # -- protocol
    def acquire(self) -> "OutputLock":
        token = uuid.uuid4().hex
        payload = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                              "started": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                              "token": token})
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                info = self._read()
                if info is None:  # released meanwhile: try again
                    continue
                if not self._is_stale(info):
                    raise OSError(self._held_message(info)) from None
                if self._read() == info:  # take over a stale lock (still the same one)
                    self.path.unlink(missing_ok=True)
                continue
            except OSError as e:
                raise OSError(f"cannot create lock {self.path}: {e.strerror or e}") from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
            self._token = token
            return self
        raise OSError(self._held_message(self._read() or {}))

    def release(self) -> None:
        if self._token is None:
            return
        info = self._read()
        if info and info.get("token") == self._token:
            self.path.unlink(missing_ok=True)
        self._token = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._token is not None

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.release()
        return False


# ------------------------------------------------------------------------------------------------- writer


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or type(v).__name__ in ("NAType", "NaTType")


def _to_arrow(name: str, values) -> pa.Array:
    """One column as an Arrow array; object/str columns with None/NaN become nullable strings.

    Accepts Arrow arrays, numpy arrays, sequences and pandas Series (through Arrow's own pandas support: this
    module imports no pandas, so that the numerical layers importing :mod:`leafjax.io` stay pandas-free).
    """
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    if hasattr(values, "__arrow_array__") or (hasattr(values, "dtype") and hasattr(values, "iloc")):
        if str(getattr(values, "dtype", "")) != "object":  # pandas Series / extension array, not object
            try:
                return pa.array(values, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
        values = np.asarray(values, dtype=object)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"column {name!r}: expected a 1-D array, got shape {arr.shape}")
    if arr.dtype != object:
        return pa.array(arr)
    try:
        out = pa.array(arr, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        out = None
    if out is None or not (pa.types.is_string(out.type) or pa.types.is_large_string(out.type)
                           or pa.types.is_null(out.type) or pa.types.is_integer(out.type)
                           or pa.types.is_floating(out.type) or pa.types.is_boolean(out.type)):
        # mixed objects (e.g. 3 and "P0"): text, with None for missing
        out = pa.array([None if _is_missing(v) else str(v) for v in arr.tolist()], type=pa.string())
    return out


def _widen_null(schema: pa.Schema) -> pa.Schema:
    """All-missing columns of the first block (Arrow type null) are stored as nullable strings."""
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema],
                     metadata=None)


class TableStreamWriter:
    """Append column blocks to a Parquet or CSV file; the file appears under its final name only when closed.

    ``fmt`` is ``"parquet"`` or ``"csv"`` (default: from the extension, see :func:`output_format`).  The schema
    (column names, order and types) is fixed by the first block; later blocks are cast to it (a block with other
    columns, or a value that cannot be cast, is a one-line ValueError).  Object/str columns with None/NaN become
    nullable strings.  CSV: a header once, floats written in their shortest exact (round-trip) form, NaN and
    missing values as empty cells.  Rows go to a hidden temporary file next to ``path`` as they arrive (memory
    bounded by one block); :meth:`close` moves it into place atomically, :meth:`abort` (or an exception inside a
    ``with`` block) deletes it, so a half-written file never masquerades as a result.

    Example::

        with TableStreamWriter("out.csv") as w:
            w.write({"chl": chl_chunk, "R_400": r400_chunk})
    """

    def __init__(self, path: str | os.PathLike, fmt: str | None = None):
        self.path = Path(path)
        if fmt is None:
            fmt = output_format(self.path)
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"{self.path}: unknown output format {fmt!r} (use 'parquet' or 'csv')")
        self.fmt = fmt
        parent = _parent(self.path)
        if self.path.is_dir():
            raise OSError(f"cannot write {self.path}: it is a folder")
        if not parent.is_dir():
            raise OSError(f"cannot write {self.path}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise OSError(f"cannot write {self.path}: folder {parent} is not writable")
        self._tmp = self.path.with_name(f".{self.path.name}.partial")
        self._fh = None
        self._writer = None
        self.schema: pa.Schema | None = None
        self.rows = 0

    def _table(self, columns) -> pa.Table:
        items = [(str(k), v) for k, v in columns.items()]  # a mapping, or a DataFrame (its index is dropped)
        names = [k for k, _ in items]
        if len(set(names)) != len(names):
            dup = next(k for k in names if names.count(k) > 1)
            raise ValueError(f"{self.path}: duplicate output column {dup!r}")
        arrays = {k: _to_arrow(k, v) for k, v in items}
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) > 1:
            raise ValueError(f"{self.path}: output columns have different lengths {sorted(lengths)}")
        table = pa.table(arrays)
        if self.schema is None:
            return table.cast(_widen_null(table.schema))
        if table.schema.names != self.schema.names:
            missing = [n for n in self.schema.names if n not in table.schema.names]
            extra = [n for n in table.schema.names if n not in self.schema.names]
            if missing or extra:
                raise ValueError(f"{self.path}: block columns differ from the first block's "
                                 f"(missing {missing[:3]}, extra {extra[:3]})")
            table = table.select(self.schema.names)
        cols = []
        for field, col in zip(self.schema, table.columns):
            if col.type == field.type:
                cols.append(col)
                continue
            try:
                if pa.types.is_string(field.type) and not pa.types.is_string(col.type):
                    col = pc.cast(col, pa.string())
                cols.append(pc.cast(col, field.type, safe=True))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
                first = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
                raise ValueError(f"{self.path}: column {field.name!r} changed type from {field.type} to "
                                 f"{col.type} between blocks ({first})") from None
        return pa.Table.from_arrays(cols, schema=self.schema)

    @staticmethod
    def _csv_ready(table: pa.Table) -> pa.Table:
        cols = []
        for col in table.columns:
            if pa.types.is_floating(col.type):
                col = pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
            cols.append(col)
        return pa.Table.from_arrays(cols, names=table.schema.names)

    def write(self, columns: Any) -> None:
        """Append one block: a mapping name -> 1-D array/Series, or a pandas DataFrame (index not written)."""
        table = self._table(columns)
        if self._writer is None:
            self.schema = table.schema
            self._fh = open(self._tmp, "wb")
            if self.fmt == "parquet":
                self._writer = pq.ParquetWriter(self._fh, self.schema, compression="zstd")
            else:
                self._writer = pacsv.CSVWriter(self._fh, self.schema)
        if self.fmt == "parquet":
            self._writer.write_table(table)
        else:
            self._writer.write_table(self._csv_ready(table))
        self.rows += table.num_rows

    def close(self) -> None:
        """Finish the file and move it to ``path`` atomically (ValueError if nothing was written)."""
        if self._writer is None:
            raise ValueError(f"nothing was written to {self.path}")
        self._writer.close()
        self._writer = None
        self._fh.flush()
        try:
            os.fsync(self._fh.fileno())
        except OSError:
            pass
        self._fh.close()
        self._fh = None
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Delete the temporary file; ``path`` is left untouched."""
        try:
            if self._writer is not None:
                self._writer.close()
        except Exception:  # noqa: BLE001 - best effort on the error path
            pass
        finally:
            self._writer = None
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "TableStreamWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False
