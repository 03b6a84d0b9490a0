"""CSV tables read as records: dialect detection, the validation pass and chunked reading.

The header is read with the :mod:`csv` module (pandas would rename a duplicate ``R_500`` to ``R_500.1``); a
first pass counts the records and checks that each has as many fields as the header (a plain byte scan when the
file holds no quote character, else the :mod:`csv` module); a second pass, pandas' C reader chunk by chunk,
checks the cells of the numeric columns and fixes the dtypes of the others (rules in :mod:`leafjax.io._readers`).
:func:`iter_csv` reads with the same reader and the same per-column rules, so a file that passed validation reads
without error.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._readers import MISSING_TEXT, TableError, TableInfo, check_unique, short, text_column, text_kind, first_bad

#: Separators detected (in order of preference on a tie).
SEPARATORS: tuple[str, ...] = (",", ";", "\t")
_SAMPLE_CHARS = 1 << 20
_BLOCK_BYTES = 1 << 23
#: Records of the validation pass held at once, in cells.
_CELLS_PER_BLOCK = 2_000_000
_COMMA_NUMBER = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
_DOT_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")
_SEP_NAMES = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";"}


def _codec(encoding: str) -> str:
    return "utf-8-sig" if encoding == "utf-8" else encoding


def _encoding(p: Path) -> str:
    with open(p, "rb") as fh:
        head = fh.read(2)
    return "utf-16" if head in (b"\xff\xfe", b"\xfe\xff") else "utf-8"


def _option(sep: str | None, decimal: str | None) -> tuple[str | None, str | None]:
    if sep is not None:
        sep = _SEP_NAMES.get(sep, sep)
        if len(sep) != 1 or sep in "\"\r\n" or sep.isalnum() or sep == ".":
            raise TableError(f"sep must be one character such as ',', ';' or '\\t', got {short(repr(sep), 20)}")
    if decimal is not None and decimal not in (".", ","):
        raise TableError(f"decimal must be '.' or ',', got {short(repr(decimal), 20)}")
    if sep is not None and sep == decimal:
        raise TableError(f"sep and decimal cannot both be {sep!r}")
    return sep, decimal


def _sample(p: Path, encoding: str) -> str:
    try:
        with open(p, newline="", encoding=_codec(encoding)) as fh:
            text = fh.read(_SAMPLE_CHARS)
    except UnicodeDecodeError as e:
        raise TableError(f"{p}: not UTF-8 text (byte {e.object[e.start:e.start + 1]!r} at {e.start}); "
                         f"save it as UTF-8") from None
    if "\x00" in text:
        raise TableError(f"{p}: binary data, not a CSV text file")
    return text


def _blank(row: list[str]) -> bool:
    """A line pandas skips: empty, or spaces/tabs only (a lone ``""`` is a record with one empty field)."""
    return not row or (len(row) == 1 and row[0] != "" and not row[0].strip(" \t"))


def _records(text: str, sep: str, limit: int) -> list[list[str]]:
    out = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=False):
            if not _blank(row):
                out.append(row)
            if len(out) >= limit:
                break
    except csv.Error as e:
        raise TableError(f"cannot parse the CSV header ({short(str(e), 80)})") from None
    return out


def _detect_sep(text: str) -> str:
    line = next((ln for ln in text.splitlines() if ln.strip(" \t")), "")
    counts = {s: len(next(csv.reader([line], delimiter=s, quotechar='"', strict=False), [""])) for s in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: (counts[s], -SEPARATORS.index(s)))
    return best if counts[best] > 1 else ","


def _detect_decimal(records: list[list[str]], sep: str) -> str:
    if sep == ",":
        return "."
    cells = [c for row in records[1:] for c in row]
    comma = sum(1 for c in cells if _COMMA_NUMBER.match(c))
    dot = sum(1 for c in cells if _DOT_NUMBER.match(c))
    return "," if comma > dot else "."


def read_header(p: Path, *, sep: str | None = None, decimal: str | None = None
                ) -> tuple[tuple[str, ...], str, str, str]:
    """``(columns, sep, decimal, encoding)`` of a CSV file from its first lines (names stripped; an empty name
    is ``unnamed_<k>``, ``k`` 1-based); ``TableError`` on duplicate names or no header."""
    sep, decimal = _option(sep, decimal)
    encoding = _encoding(p)
    text = _sample(p, encoding)
    sep = _detect_sep(text) if sep is None else sep
    if len(text) == _SAMPLE_CHARS:  # the last record may be cut
        text = text[:max(text.rfind("\n"), text.rfind("\r"), 1)]
    try:
        records = _records(text, sep, 51)
    except TableError as e:
        raise TableError(f"{p}: {e}") from None
    if not records:
        raise TableError(f"{p}: no header line (the file holds only blank lines)")
    columns = tuple(h.strip() or f"unnamed_{k + 1}" for k, h in enumerate(records[0]))
    check_unique(columns, p)
    decimal = _detect_decimal(records, sep) if decimal is None else decimal
    if sep == decimal:
        raise TableError(f"{p}: sep and decimal cannot both be {sep!r}")
    return columns, sep, decimal, encoding


def _hint(columns: Sequence[str], sep: str) -> str:
    if len(columns) == 1:
        other = next((s for s in SEPARATORS if s != sep and s in columns[0]), None)
        if other is not None:
            return f" (the header looks {other!r}-separated: pass sep={other!r})"
    return ""


def _ragged(p: Path, row: int, fields: int, columns: Sequence[str], sep: str) -> TableError:
    return TableError(f"{p}: row {row} has {fields} field(s), the header has {len(columns)}{_hint(columns, sep)}")


def _count_bytes(p: Path, sep: str, columns: Sequence[str]) -> int | None:
    """Records of a UTF-8 file without quote characters by a byte scan (``None`` if a quote is found)."""
    sepb, n_fields = sep.encode(), len(columns)
    n, header, tail = 0, False, b""
    with open(p, "rb") as fh:
        while True:
            block = fh.read(_BLOCK_BYTES)
            if b'"' in block:
                return None
            data = tail + block
            cut = max(data.rfind(b"\n"), data.rfind(b"\r")) if block else len(data) - 1
            lines, tail = data[:cut + 1].splitlines(), data[cut + 1:]
            for line in lines:
                if sepb not in line and not line.strip(b" \t"):
                    continue  # blank, as for pandas
                if not header:
                    header = True
                    continue
                n += 1
                k = line.count(sepb) + 1
                if k != n_fields:
                    raise _ragged(p, n, k, columns, sep)
            if not block:
                return n


def _count_csv(p: Path, sep: str, encoding: str, columns: Sequence[str]) -> int:
    n, header = 0, False
    try:
        with open(p, newline="", encoding=_codec(encoding)) as fh:
            for row in csv.reader(fh, delimiter=sep, quotechar='"', strict=False):
                if _blank(row):
                    continue
                if not header:
                    header = True
                    continue
                n += 1
                if len(row) != len(columns):
                    raise _ragged(p, n, len(row), columns, sep)
    except csv.Error as e:
        raise TableError(f"{p}: cannot parse record {n + 1} ({short(str(e), 80)})") from None
    except UnicodeDecodeError as e:
        raise TableError(f"{p}: not UTF-8 text (at byte {e.start} of a block); save it as UTF-8") from None
    return n


def _reader(p: Path, columns: Sequence[str], sep: str, decimal: str, encoding: str, numeric: set[str],
            chunksize: int, usecols: Sequence[str] | None = None, as_text: bool = False):
    cols = list(columns if usecols is None else usecols)
    floats = [] if as_text else [c for c in cols if c in numeric]
    return pd.read_csv(p, sep=sep, decimal=decimal, encoding=_codec(encoding), header=0, names=list(columns),
                       usecols=None if usecols is None else cols, index_col=False, engine="c", quotechar='"',
                       dtype={c: (np.float64 if c in floats else str) for c in cols}, keep_default_na=False,
                       na_values={c: list(MISSING_TEXT) for c in floats}, skip_blank_lines=True,
                       chunksize=chunksize)


def _frames(p: Path, reader) -> Iterator[pd.DataFrame]:
    """The reader's chunks, pandas' errors as one-line ``TableError``."""
    try:
        with reader as chunks:
            yield from chunks
    except UnicodeDecodeError as e:
        raise TableError(f"{p}: not UTF-8 text ({short(str(e), 80)}); save it as UTF-8") from None
    except pd.errors.ParserError as e:
        raise TableError(f"{p}: cannot parse ({short(str(e).replace('Error tokenizing data. ', ''), 100)})") \
            from None


def _locate(p: Path, columns, sep, decimal, encoding, numeric: set[str], rows: int, error: Exception):
    """Find the first non-number of the numeric columns (after pandas' reader failed) and raise it."""
    start = 0
    for df in _frames(p, _reader(p, columns, sep, decimal, encoding, numeric, rows, usecols=
                                 [c for c in columns if c in numeric], as_text=True)):
        for c in df.columns:
            first_bad(p, c, df[c], start, decimal)
        start += len(df)
    raise TableError(f"{p}: a numeric column holds a cell that is not a number ({short(str(error), 80)})")


def inspect_csv(p: Path, *, sep: str | None, decimal: str | None, numeric: Sequence[str]) -> TableInfo:
    """Validate a CSV file and fix its dtypes (see :func:`leafjax.io.inspect_table`)."""
    columns, sep, decimal, encoding = read_header(p, sep=sep, decimal=decimal)
    num = set(numeric) & set(columns)
    counted = _count_bytes(p, sep, columns) if encoding == "utf-8" else None
    if counted is None:
        counted = _count_csv(p, sep, encoding, columns)
    rows = max(1, _CELLS_PER_BLOCK // max(len(columns), 1))
    carried = [c for c in columns if c not in num]
    kinds = {c: [False, False, True] for c in carried}  # any non-number, any missing, all integers
    n = 0
    try:
        for df in _frames(p, _reader(p, columns, sep, decimal, encoding, num, rows)):
            for c in carried:
                bad, missing, integer = text_kind(df[c], decimal)
                k = kinds[c]
                k[0], k[1], k[2] = k[0] or bad, k[1] or missing, k[2] and integer
            n += len(df)
    except TableError:
        raise
    except ValueError as e:
        _locate(p, columns, sep, decimal, encoding, num, rows, e)
    if n != counted:
        raise TableError(f"{p}: {n} records by the CSV reader but {counted} by a line scan; check the quoting "
                         f"(a quote left open?)")
    dtypes = {c: ("float64" if c in num else "string" if kinds[c][0] else
                  "int64" if kinds[c][2] and not kinds[c][1] and n else "float64") for c in columns}
    return TableInfo(p, "csv", columns, n, dtypes, sep, decimal, encoding, tuple(c for c in columns if c in num))


def iter_csv(info: TableInfo, chunk_size: int, columns: Sequence[str]) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(start_row, frame)`` chunks of ``columns`` with the dtypes of ``info`` (see :func:`leafjax.io.iter_table`)."""
    use = list(columns) if columns else [info.columns[0]]
    num = set(info.numeric)
    start = 0
    for df in _frames(info.path, _reader(info.path, info.columns, info.sep, info.decimal, info.encoding, num,
                                         chunk_size, usecols=use)):
        index = pd.RangeIndex(len(df))
        out = {c: (df[c].to_numpy(np.float64) if c in num else text_column(df[c], info.dtypes[c], info.decimal))
               for c in columns}
        yield start, pd.DataFrame(out, index=index)
        start += len(df)
