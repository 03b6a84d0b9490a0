"""Readers of the tables users write (parquet, CSV): validated once, then read chunk by chunk with fixed dtypes.

:func:`inspect_table` reads the whole file once (bounded memory) and fixes, for every column, one dtype for the
whole file (:class:`TableInfo`); :func:`iter_table` then yields chunks with exactly those dtypes, so that the
chunks of one file always concatenate.  Every input error is a one-line :class:`TableError` naming the file (and
where it applies the column and the 1-based data row).

* **parquet**: stored pandas indexes (``df[mask].to_parquet()`` stores ``__index_level_0__``; a RangeIndex is
  only metadata) are not data columns; a *named* index (``df.set_index("sample_id")``) is an ordinary column.
  Row groups are read with explicit columns and without the pandas metadata.  Arrow types map to
  ``"float64"`` (floats, decimals, all-null columns, integers with nulls or beyond int64), ``"int64"``,
  ``"bool"`` (yielded as pandas' nullable ``"boolean"``) and ``"string"`` (strings, categoricals, dates and
  anything else, as text).
* **CSV** (see :mod:`leafjax.io._csv`): records, not lines (quoted fields may hold newlines; blank lines are
  skipped and not counted); LF, CRLF or CR line ends; a UTF-8 BOM; ``,``, ``;`` or tab separators and ``.`` or
  ``,`` decimals, detected from the first lines or given.  A carried column is ``"string"`` if any non-empty
  cell of the whole file is not a number, else ``"int64"`` if all are integers and none is missing, else
  ``"float64"``.

Columns named in ``numeric`` (e.g. the spectral columns) are ``"float64"``; a cell that is not a number is an
error.  Empty cells (and pandas' usual missing-value words: ``NA``, ``nan``, ``null`` …) are missing (NaN).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: File suffixes read as parquet and as CSV.
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt")
#: The dtype names of :attr:`TableInfo.dtypes`.
DTYPES: tuple[str, ...] = ("float64", "int64", "bool", "string")
#: Cells read as missing (pandas' default missing-value words, and the empty cell).
MISSING_TEXT: tuple[str, ...] = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                                 "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
_INDEX_LEVEL = re.compile(r"^__index_level_\d+__$")


class TableError(ValueError):
    """One-line input error naming file, column and row (message ≤ ~200 chars)."""


def short(text, limit: int = 80) -> str:
    """``text`` (a ``str``, else its ``repr``) on one line and at most ``limit`` characters (cut with "…").

    Example:
        >>> short("a" * 100, 10)
        'aaaaaaaaa…'
    """
    s = text if isinstance(text, str) else repr(text)
    s = s.replace("\r", "\\r").replace("\n", "\\n")
    return s if len(s) <= limit else s[:max(limit - 1, 0)] + "…"


@dataclass(frozen=True)
class TableInfo:
    """What :func:`inspect_table` learnt from a whole file: its data ``columns`` (file order, stored pandas index
    columns excluded), ``n_rows`` (records), ``dtypes`` (one of :data:`DTYPES` per column, for the whole file)
    and, for CSV, the dialect used (``sep``, ``decimal``, ``encoding``; ``None`` for parquet); ``numeric``: the
    columns validated as numbers (read the same way by :func:`iter_table`)."""

    path: Path
    fmt: str
    columns: tuple[str, ...]
    n_rows: int
    dtypes: Mapping[str, str]
    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    numeric: tuple[str, ...] = ()


def table_format(path) -> str:
    """``"parquet"`` or ``"csv"`` from the suffix of ``path`` (``TableError`` otherwise)."""
    suffix = Path(path).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise TableError(f"{path}: unknown table format {short(suffix, 20)!r} (use .parquet, .pq, .csv, .tsv or .txt)")


def check_file(p: Path) -> None:
    """``OSError`` if ``p`` is missing or a folder, :class:`TableError` (a ``ValueError``) if it is empty."""
    if not p.is_file():
        raise OSError(f"{p}: no such file" if not p.exists() else f"{p}: not a file")
    if p.stat().st_size == 0:
        raise TableError(f"{p}: the file is empty")


def duplicates(names: Sequence[str]) -> list[str]:
    """Names listed more than once, in order of first repetition."""
    seen, dup = set(), []
    for n in names:
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    return dup


def check_unique(names: Sequence[str], source) -> None:
    """``TableError`` "<source>: duplicate column R_500" if a column name appears twice."""
    dup = duplicates(names)
    if dup:
        more = f" (and {len(dup) - 1} more)" if len(dup) > 1 else ""
        raise TableError(f"{source}: duplicate column {short(dup[0], 60)}{more}")


def table_columns(path, *, sep: str | None = None, decimal: str | None = None) -> tuple[str, ...]:
    """The data columns of a parquet or CSV table from its schema or header alone (cheap; duplicates rejected)."""
    p = Path(path)
    fmt = table_format(p)
    check_file(p)
    if fmt == "parquet":
        return _parquet_columns(_open_parquet(p), p)[0]
    from ._csv import read_header

    return read_header(p, sep=sep, decimal=decimal)[0]


def inspect_table(path, *, sep: str | None = None, decimal: str | None = None,
                  numeric: Sequence[str] = ()) -> TableInfo:
    """Validate a whole parquet or CSV table (read once, chunk by chunk) and fix its dtypes (module docstring).

    **Arguments:** ``path``; for CSV, ``sep`` (``None``: detected among ``,``, ``;``, tab) and ``decimal``
    (``"."`` or ``","``; ``None``: detected); ``numeric``: columns whose every non-empty cell must be a number
    (``"float64"``).  **Raises** ``OSError`` (missing file) or :class:`TableError` (unknown suffix, empty or
    undecodable file, duplicate columns, ragged CSV rows, a non-number in a ``numeric`` column:
    ``"<file>: column 'R_500', row 17: 'abc' is not a number"``, a ``numeric`` column that is not in the file).
    """
    p = Path(path)
    fmt = table_format(p)
    check_file(p)
    numeric = tuple(numeric)
    if fmt == "csv":
        from ._csv import inspect_csv

        info = inspect_csv(p, sep=sep, decimal=decimal, numeric=numeric)
    else:
        info = _inspect_parquet(p, numeric)
    missing = [c for c in numeric if c not in info.columns]
    if missing:
        raise TableError(f"{p}: no column {short(missing[0], 60)}")
    return info


def iter_table(info: TableInfo, chunk_size: int, columns: Sequence[str] | None = None
               ) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield ``(start_row, frame)`` for consecutive chunks of ``chunk_size`` records (the last may be shorter),
    with ``columns`` (default: all) in the order given, dtypes exactly ``info.dtypes`` (``"string"`` as pandas
    ``str`` with NaN for missing, ``"bool"`` as nullable ``"boolean"``) and the index reset; one chunk (plus one
    parquet row group) in memory at a time."""
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    columns = list(info.columns if columns is None else columns)
    unknown = [c for c in columns if c not in info.dtypes]
    if unknown:
        raise TableError(f"{info.path}: no column {short(unknown[0], 60)}")
    if info.fmt == "csv":
        from ._csv import iter_csv

        yield from iter_csv(info, int(chunk_size), columns)
        return
    pf = _open_parquet(info.path)
    start = 0
    for table in _parquet_batches(pf, int(chunk_size), columns):
        yield start, _arrow_frame(table, info.dtypes)
        start += table.num_rows


def read_table(path, *, sep: str | None = None, decimal: str | None = None) -> pd.DataFrame:
    """A whole (small) table, with the rules and dtypes of :func:`iter_table`; ``TableError`` if it has no rows."""
    info = inspect_table(path, sep=sep, decimal=decimal)
    if info.n_rows == 0:
        raise TableError(f"{info.path}: the table has no rows")
    return pd.concat([f for _, f in iter_table(info, info.n_rows)], ignore_index=True)


# --- numbers in text -------------------------------------------------------------------------------------------


def _as_text(s) -> pd.Series:
    s = pd.Series(s).reset_index(drop=True)
    return s if s.dtype == object or isinstance(s.dtype, pd.StringDtype) else s.astype(object)


def _parse(s: pd.Series, decimal: str | None) -> tuple[pd.Series, np.ndarray]:
    """``(numbers of the non-missing cells (NaN where not a number), missing mask)`` of a column of text."""
    s = _as_text(s)
    missing = (s.isna() | s.isin(MISSING_TEXT)).to_numpy(bool)
    text = s[~missing]
    if decimal == ",":  # as pandas' reader with decimal=",": "1.5" is not a number
        text = text.where(~text.str.contains(".", regex=False), "x").str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce"), missing


def text_numbers(s: pd.Series, decimal: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values float64, missing, bad)`` of a column of text: missing cells (:data:`MISSING_TEXT`) are NaN, and
    ``bad`` marks non-empty cells that are not numbers (also NaN)."""
    num, missing = _parse(s, decimal)
    values = np.full(missing.shape, np.nan)
    values[~missing] = num.to_numpy(dtype=np.float64, na_value=np.nan)
    return values, missing, np.isnan(values) & ~missing


def text_kind(s: pd.Series, decimal: str | None = None) -> tuple[bool, bool, bool]:
    """``(any non-number, any missing, all integers in int64)`` of a column of text (see :func:`text_numbers`)."""
    num, missing = _parse(s, decimal)
    if num.dtype.kind == "i" or num.size == 0:
        return False, bool(missing.any()), True
    nonnumber = bool(num.isna().any()) or num.dtype.kind not in "fiu"
    return nonnumber or num.dtype.kind == "u", bool(missing.any()), False


def text_column(s: pd.Series, dtype: str, decimal: str | None = None):
    """A column of text as ``dtype`` (validated before: every cell of a number column is a number)."""
    s = _as_text(s)
    if dtype == "string":
        return pd.Series(s.to_numpy(dtype=object), dtype="str").mask(s.isin(MISSING_TEXT).to_numpy(bool))
    if dtype == "int64":
        return _parse(s, decimal)[0].to_numpy(dtype=np.int64)
    return text_numbers(s, decimal)[0]


def first_bad(path, name: str, s: pd.Series, start: int, decimal: str | None = None) -> None:
    """``TableError`` for the first non-number of column ``name`` (text ``s``, first record ``start``, 0-based)."""
    _, _, bad = text_numbers(s, decimal)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TableError(f"{path}: column {short(repr(name), 60)}, row {start + i + 1}: "
                         f"{short(repr(s.iloc[i]), 40)} is not a number")


# --- parquet ---------------------------------------------------------------------------------------------------


def _open_parquet(p: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(p)
    except Exception as e:  # noqa: BLE001 - any reader failure is an input error
        raise TableError(f"{p}: cannot read parquet ({type(e).__name__}: {short(str(e), 100)})") from None


def _parquet_columns(pf: pq.ParquetFile, p: Path) -> tuple[tuple[str, ...], pa.Schema]:
    """Data columns (stored ``__index_level_N__`` pandas index columns excluded) and the arrow schema."""
    schema = pf.schema_arrow
    names = list(schema.names)
    index: list[str] = []
    try:
        meta = schema.pandas_metadata or {}
        index = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    except Exception:  # noqa: BLE001 - unreadable pandas metadata is ignored, like all pandas metadata
        pass
    # an unnamed stored index is not data; a named one (e.g. df.set_index("sample_id")) is
    names = [n for n in names if not (n in index and _INDEX_LEVEL.match(n))]
    check_unique(names, p)
    return tuple(names), schema


def _null_count(pf: pq.ParquetFile, name: str) -> int:
    meta = pf.metadata
    leaf = [j for j in range(meta.num_columns) if meta.schema.column(j).path == name]
    if len(leaf) == 1:
        stats = [meta.row_group(g).column(leaf[0]).statistics for g in range(meta.num_row_groups)]
        if all(s is not None and s.has_null_count for s in stats):
            return sum(s.null_count for s in stats)
    return sum(pf.read_row_group(g, columns=[name]).column(0).null_count for g in range(pf.num_row_groups))


def _arrow_kind(t: pa.DataType) -> str:
    """``"float"``, ``"int"``, ``"uint64"``, ``"bool"``, ``"text"`` or ``"other"`` for an arrow type."""
    if pa.types.is_dictionary(t):
        return _arrow_kind(t.value_type)
    if pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_null(t):
        return "float"
    if pa.types.is_uint64(t):
        return "uint64"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    return "other"


def _inspect_parquet(p: Path, numeric: tuple[str, ...]) -> TableInfo:
    pf = _open_parquet(p)
    columns, schema = _parquet_columns(pf, p)
    dtypes: dict[str, str] = {}
    for name in columns:
        kind = _arrow_kind(schema.field(name).type)
        if name in numeric:
            if kind == "text":
                start = 0
                for g in range(pf.num_row_groups):
                    col = _decoded(pf.read_row_group(g, columns=[name]).column(0))
                    first_bad(p, name, col.to_pandas(), start)
                    start += len(col)
            elif kind not in ("float", "int", "uint64"):
                raise TableError(f"{p}: column {short(repr(name), 60)} holds {short(str(schema.field(name).type), 30)}"
                                 f" values, not numbers")
            dtypes[name] = "float64"
        elif kind in ("float", "uint64"):
            dtypes[name] = "float64"
        elif kind == "int":
            dtypes[name] = "int64" if _null_count(pf, name) == 0 else "float64"
        elif kind == "bool":
            dtypes[name] = "bool"
        else:
            dtypes[name] = "string"
    return TableInfo(p, "parquet", columns, int(pf.metadata.num_rows), dtypes, numeric=numeric)


def _decoded(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(col.type):
        return pa.chunked_array([c.dictionary_decode() for c in col.chunks], type=col.type.value_type)
    return col


def _arrow_frame(table: pa.Table, dtypes: Mapping[str, str]) -> pd.DataFrame:
    """A table's columns as a DataFrame with ``dtypes`` (pandas metadata ignored)."""
    out = {}
    for name, col in zip(table.column_names, table.columns):
        col, dtype = _decoded(col), dtypes[name]
        kind = _arrow_kind(col.type)
        if dtype == "float64":
            if kind == "text":
                out[name] = text_numbers(col.to_pandas())[0]
            else:
                out[name] = pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        elif dtype == "int64":
            out[name] = pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False)
        elif dtype == "bool":
            out[name] = pd.array(col.to_pylist(), dtype="boolean")
        else:
            out[name] = _text(col)
    return pd.DataFrame(out, index=pd.RangeIndex(table.num_rows))


def _text(col: pa.ChunkedArray) -> pd.Series:
    try:
        values = pc.cast(col, pa.large_string()).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        values = [None if v is None else str(v) for v in col.to_pylist()]
    return pd.Series(values, dtype="str")


def _parquet_batches(pf: pq.ParquetFile, chunk_size: int, columns: list[str]) -> Iterator[pa.Table]:
    """Row groups of ``columns`` read one at a time and re-cut into ``chunk_size`` rows.

    (``ParquetFile.iter_batches`` was measured to keep ~3 MB per batch allocated in Arrow's memory pool, so a long
    archive grew the process by hundreds of MB; whole row groups are released as soon as they are consumed.)
    """
    pending: list[pa.Table] = []
    rows = 0
    for g in range(pf.num_row_groups):
        table = pf.read_row_group(g, columns=columns, use_pandas_metadata=False)
        table = table.replace_schema_metadata(None)
        pending.append(table)
        rows += table.num_rows
        while rows >= chunk_size:
            merged = pa.concat_tables(pending)
            yield merged.slice(0, chunk_size)
            rest = merged.slice(chunk_size)
            pending, rows = ([rest] if rest.num_rows else []), rest.num_rows
            del merged
    if rows:
        yield pa.concat_tables(pending)
