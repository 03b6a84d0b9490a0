"""Inputs of the CLI fuzzer (:mod:`tests.cli.test_fuzz_cli`): valid small tables, their serialisation in many
dialects/formats, byte-level damage, and a reference reading of what a file holds.

A generated input is a :class:`TableInput`: the bytes written to disk plus what a correct reader must find in them
(``records``: one dict per data record, column -> raw cell text or value; ``columns`` in file order), computed
independently of leafjax (Python's ``csv`` module for CSV, pyarrow for Parquet), so the fuzzer can tell a
successful run with the right rows from a silent wrong output.  ``valid`` is ``False`` when the input must be
refused (a non-numeric spectral cell, a duplicate column, no record, garbage...); ``None`` when either outcome is
acceptable (the contract then only checks that a success writes the reference records).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from hypothesis import strategies as st

#: Leaf wavelength grids (nm) of the generated tables (few, so successful runs compile few shapes).
LEAF_GRIDS: tuple[tuple[int, ...], ...] = (tuple(sorted(set(range(400, 2401, 100)) | {753, 800, 1121, 1131})),
                                           (400, 550, 700, 753, 800, 1121, 1131, 1600, 2200))  # N-prior bands
#: Sentinel-2 band columns of canopy tables (``--sensor sentinel-2a``).
S2_BANDS: tuple[str, ...] = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")
#: Row counts of generated tables.
ROW_COUNTS: tuple[int, ...] = (1, 2, 3, 5)
#: Values of a valid leaf parameter row, and of the PROSAIL canopy/geometry columns.
LEAF_PARAMS = {"n_struct": 1.5, "chl": 40.0, "car": 8.0, "ewt": 0.01, "lma": 0.005}
CANOPY_PARAMS = {"lai": 3.0, "lidf_a": 57.0, "hotspot": 0.1, "sza": 30.0, "vza": 5.0, "raa": 90.0,
                 "soil_brightness": 0.8, "soil_dryness": 0.5}
#: Non-numeric cells and special numbers put into numeric columns.
BAD_CELLS = ("abc", "1.2.3", "--", "0x1F", "1e", "☃", "TRUE")
SPECIAL_CELLS = ("nan", "NaN", "inf", "-inf", "", "1e400")


@dataclass(frozen=True)
class Dialect:
    """How a table is written as CSV."""

    sep: str = ","
    decimal: str = "."
    newline: str = "\n"
    bom: bool = False
    quote_all: bool = False
    blank_lines: tuple[int, ...] = ()   # blank lines inserted before these record indices (len = trailing)


@dataclass
class TableInput:
    """A file to write and what a correct reader finds in it (see the module docstring)."""

    name: str
    data: bytes
    columns: list[str]
    records: list[dict]
    valid: bool | None = True
    note: list[str] = field(default_factory=list)
    dialect: Dialect | None = None


def text_cells(draw, n: int, *, empty: bool) -> list[str | None]:
    """Strings that no reader could take for a number or a missing value (an ``s`` prefix), possibly holding
    separators, quotes, newlines and non-ASCII text; ``None`` (empty cell) where ``empty``."""
    body = st.text(alphabet="abcXYZ019 _-,;\"'\né/", min_size=0, max_size=6)
    out = [("s" + draw(body)).rstrip() or "s" for _ in range(n)]
    if empty and n:
        out[draw(st.integers(0, n - 1))] = None
    return out


@st.composite
def carried_columns(draw, n: int) -> dict[str, list]:
    """Non-spectral columns carried to the output: ints, floats, text, a column whose type changes at its last
    row (ids then ``P0``), names that clash with output columns."""
    cols: dict[str, list] = {}
    kinds = draw(st.lists(st.sampled_from(["id", "value", "text", "mixed", "status", "empty_text"]),
                          max_size=3, unique=True))
    for k in kinds:
        if k == "id":
            cols["sample_id"] = list(range(n))
        elif k == "value":
            cols["value"] = [draw(st.floats(-1e6, 1e6, allow_nan=False, width=64)) for _ in range(n)]
        elif k == "text":
            cols["site"] = text_cells(draw, n, empty=False)
        elif k == "mixed":
            cols["plot"] = [str(i) for i in range(n - 1)] + [f"P{n}"]
        elif k == "status":
            cols["status"] = text_cells(draw, n, empty=False)
        else:
            cols["note"] = text_cells(draw, n, empty=True)
    return cols


def fmt_cell(v, decimal: str) -> str:
    """CSV text of a value (``None`` -> empty; floats by ``repr``, so they round-trip exactly)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        s = repr(float(v))
        return s.replace(".", decimal) if decimal != "." else s
    return str(v)


def write_csv(columns: list[str], rows: list[list], d: Dialect) -> bytes:
    """The CSV bytes of ``rows`` (lists of values or raw strings) under dialect ``d``."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=d.sep, lineterminator=d.newline,
                   quoting=csv.QUOTE_ALL if d.quote_all else csv.QUOTE_MINIMAL)
    w.writerow(columns)
    for i, row in enumerate(rows):
        for _ in range(d.blank_lines.count(i)):
            buf.write(d.newline)
        w.writerow([c if isinstance(c, str) else fmt_cell(c, d.decimal) for c in row])
    for _ in range(d.blank_lines.count(len(rows))):
        buf.write(d.newline)
    return (b"\xef\xbb\xbf" if d.bom else b"") + buf.getvalue().encode("utf-8")


def reference_csv(data: bytes, sep: str) -> tuple[list[str], list[dict]] | None:
    """``(header, records)`` of CSV bytes as Python's ``csv`` module reads them (blank records skipped);
    ``None`` if the bytes are not UTF-8 or a record's field count differs from the header's."""
    try:
        text = data.decode("utf-8-sig")
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True) if r]
    except (UnicodeDecodeError, csv.Error):
        return None
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        return None
    head = rows[0]
    return head, [dict(zip(head, r)) for r in rows[1:]]


def csv_input(name: str, columns: list[str], rows: list[list], d: Dialect, valid: bool | None = True,
              note=()) -> TableInput:
    """A CSV :class:`TableInput` whose reference is read back from its bytes."""
    data = write_csv(columns, rows, d)
    ref = reference_csv(data, d.sep)
    if ref is None:  # e.g. a bare "\n" in a field of a CR-only file: quote every field
        d = replace(d, quote_all=True)
        data = write_csv(columns, rows, d)
        ref = reference_csv(data, d.sep)
    if ref is None:
        return TableInput(name, data, list(columns), [], False, [*note, "unreadable"], d)
    return TableInput(name, data, ref[0], ref[1], valid, list(note), d)


def parquet_input(name: str, df: pd.DataFrame, index: str, valid: bool | None = True, note=()) -> TableInput:
    """A Parquet :class:`TableInput` of ``df``; ``index``: ``"none"``, ``"range"`` (metadata only), ``"stored"``
    (``df[mask]``: an ``__index_level_0__`` column) or ``"named"`` (a named index column)."""
    if index == "stored" and len(df) > 1:
        df = df.iloc[1:]
    elif index == "named":
        df = df.set_axis(pd.Index([f"r{i}" for i in range(len(df))], name="row_name"))
    buf = io.BytesIO()
    df.to_parquet(buf, index=None if index in ("stored", "named") else (index == "range"))
    records = [{c: v for c, v in zip(df.columns, row)} for row in df.itertuples(index=False, name=None)]
    return TableInput(name, buf.getvalue(), list(df.columns), records, valid, [f"parquet-index-{index}", *note])


def dialects() -> st.SearchStrategy[Dialect]:
    """CSV dialects a user writes: `,` or `;` (with `.` or `,` decimals), LF/CRLF/CR, BOM, quoting, blank
    lines (also trailing)."""
    return st.builds(
        lambda semi, comma_dec, nl, bom, qa, blanks: Dialect(";" if semi else ",", "," if semi and comma_dec
                                                             else ".", nl, bom, qa, tuple(blanks)),
        st.booleans(), st.booleans(), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.booleans(),
        st.lists(st.integers(0, 5), max_size=2))


def damage(draw, inp: TableInput) -> TableInput:
    """Byte-level damage: truncation, garbage, emptiness, a wrong extension (never a valid success: either
    the reader refuses it or, for a truncated CSV that still parses, the reference is re-read)."""
    kind = draw(st.sampled_from(["truncate", "garbage", "append-garbage", "empty", "swap-ext", "txt-ext"]))
    data, name = inp.data, inp.name
    stem, ext = name.rsplit(".", 1)
    if kind == "truncate":
        cut = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:cut]
    elif kind == "garbage":
        data = draw(st.binary(min_size=1, max_size=64))
    elif kind == "append-garbage":
        data = data + draw(st.binary(min_size=1, max_size=16).filter(lambda b: b.strip() != b""))
    elif kind == "empty":
        data = b""
    elif kind == "swap-ext":
        name = f"{stem}.{'csv' if ext in ('parquet', 'pq') else 'parquet'}"
    else:
        name = f"{stem}.{draw(st.sampled_from(['txt', 'xlsx', 'json', 'dat']))}"
    out = replace(inp, name=name, data=data, valid=False, note=[*inp.note, kind])
    if ext == "csv" and kind in ("truncate", "append-garbage") and name.endswith(".csv"):
        ref = reference_csv(data, inp.dialect.sep if inp.dialect else ",")
        if ref is not None and ref[0] == inp.columns and ref[1]:
            out.columns, out.records, out.valid = ref[0], ref[1], None  # still a table: either outcome
    if kind == "txt-ext" and name.endswith(".txt"):
        out.valid = None
    return out


# --- tables -----------------------------------------------------------------------------------------------------

@dataclass
class Table:
    """A table before serialisation: ``columns``, ``rows`` (values or raw cell strings), which columns are
    ``numeric`` (spectral, geometry or parameter columns: a non-numeric cell there must be refused), whether it is
    ``valid`` and the mutations applied (``note``)."""

    columns: list[str]
    rows: list[list]
    numeric: list[str]
    valid: bool | None = True
    note: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.columns) if self.rows else pd.DataFrame(columns=self.columns)


def _assemble(carried: dict[str, list], numeric: dict[str, np.ndarray], n: int, carried_first: bool) -> Table:
    names = list(carried) + list(numeric) if carried_first else list(numeric) + list(carried)
    data = {**carried, **{k: [float(x) for x in v] for k, v in numeric.items()}}
    return Table(names, [[data[c][i] for c in names] for i in range(n)], list(numeric))


@st.composite
def leaf_tables(draw, *, n: int | None = None, grid: tuple[int, ...] | None = None, both: bool = False) -> Table:
    """A valid leaf table: ``R_<nm>``/``T_<nm>`` columns (fractions) on one of :data:`LEAF_GRIDS` (or ``grid``),
    ``n`` rows (default: one of :data:`ROW_COUNTS`), carried columns of mixed types."""
    n = draw(st.sampled_from(ROW_COUNTS)) if n is None else n
    grid = draw(st.sampled_from(LEAF_GRIDS)) if grid is None else grid
    kinds = ("R", "T") if both else draw(st.sampled_from([("R", "T"), ("R",), ("T",)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    numeric = {f"{k}_{w}": rng.uniform(0.05, 0.5, n) for k in kinds for w in grid}
    return _assemble(draw(carried_columns(n)), numeric, n, draw(st.booleans()))


@st.composite
def canopy_tables(draw) -> Table:
    """A valid Sentinel-2 canopy table: ``R_B2`` … ``R_B12`` (fractions), ``sza``, ``vza``, ``raa`` (degrees)."""
    n = draw(st.sampled_from(ROW_COUNTS))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    numeric = {f"R_{b}": rng.uniform(0.02, 0.4, n) for b in S2_BANDS}
    numeric |= {"sza": rng.uniform(20, 50, n), "vza": rng.uniform(0, 10, n), "raa": rng.uniform(0, 180, n)}
    return _assemble(draw(carried_columns(n)), numeric, n, draw(st.booleans()))


@st.composite
def params_tables(draw, model: str) -> Table:
    """A valid parameter table for ``forward`` (leaf parameters, plus PROSAIL's canopy/geometry columns); 2 or 3
    rows (each row count is a compiled shape)."""
    n = draw(st.sampled_from((2, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    base = LEAF_PARAMS | (CANOPY_PARAMS if model == "prosail" else {})
    numeric = {k: v * rng.uniform(0.8, 1.2, n) for k, v in base.items()}
    return _assemble(draw(carried_columns(n)), numeric, n, draw(st.booleans()))


def _cell(draw, table: Table, cols: list[str]) -> tuple[int, int]:
    i = draw(st.integers(0, len(table.rows) - 1))
    return i, table.columns.index(draw(st.sampled_from(cols)))


@st.composite
def mutated(draw, base: st.SearchStrategy[Table], extra_kinds: tuple[str, ...] = ()) -> Table:
    """``base`` with 0-2 record-level mutations (see the module docstring); ``valid`` updated."""
    t = draw(base)
    t = Table(list(t.columns), [list(r) for r in t.rows], list(t.numeric))
    kinds = ["none", "shuffle-carried", "shuffle-all", "drop-col", "drop-numeric", "dup-col", "rename",
             "bad-cell", "special-cell", "percent", "negative", "zero-rows", "all-zero", "quoted-newline",
             *extra_kinds]
    for kind in [draw(st.sampled_from(kinds)) for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2])))]:
        if not t.rows and kind not in ("none", "dup-col", "drop-numeric"):
            continue
        present = [c for c in t.numeric if c in t.columns]
        spectral = [c for c in present if c.startswith(("R_", "T_"))] or present
        if not spectral and kind in ("rename", "bad-cell", "special-cell", "percent", "negative", "all-zero",
                                     "geometry-out", "drop-numeric"):
            continue
        t.note.append(kind)
        if kind == "shuffle-carried":
            pos = [i for i, c in enumerate(t.columns) if c not in t.numeric]
            perm = draw(st.permutations(pos))
            order = list(range(len(t.columns)))
            for a, b in zip(pos, perm):
                order[a] = b
            t.columns = [t.columns[i] for i in order]
            t.rows = [[r[i] for i in order] for r in t.rows]
        elif kind == "shuffle-all":
            order = draw(st.permutations(range(len(t.columns))))
            t.columns = [t.columns[i] for i in order]
            t.rows = [[r[i] for i in order] for r in t.rows]
            t.valid = None if t.valid is not False else False
        elif kind in ("drop-col", "drop-numeric"):
            pool = [c for c in (t.numeric if kind == "drop-numeric" else t.columns) if c in t.columns]
            drop = set(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True)))
            if drop >= set(t.columns):  # keep one column: a file without any is "damage", generated elsewhere
                drop.discard(t.columns[0])
            keep = [i for i, c in enumerate(t.columns) if c not in drop]
            had_spectral = any(c.startswith(("R_", "T_")) for c in t.numeric)
            dropped_numeric = drop & set(t.numeric)
            t.columns = [t.columns[i] for i in keep]
            t.rows = [[r[i] for i in keep] for r in t.rows]
            t.numeric = [c for c in t.numeric if c not in drop]
            if dropped_numeric and t.valid is not False:
                spectral_left = any(c.startswith(("R_", "T_")) for c in t.numeric)
                t.valid = False if (had_spectral and not spectral_left) or drop & {"sza", "vza", "raa"} else None
        elif kind == "dup-col":
            j = draw(st.integers(0, len(t.columns) - 1))
            t.columns.append(t.columns[j])
            t.rows = [r + [r[j]] for r in t.rows]
            t.valid = False
        elif kind == "rename":
            j = t.columns.index(draw(st.sampled_from(spectral)))
            old_name = t.columns[j]
            t.columns[j] = draw(st.sampled_from(["R_2600", "R_401.5", "R_abc", "r_500", "R_", "T_399", "R_500nm"]))
            t.numeric = [t.columns[j] if c == old_name else c for c in t.numeric]
            t.valid = False if t.columns.count(t.columns[j]) > 1 else (None if t.valid is not False else False)
        elif kind == "bad-cell":
            i, j = _cell(draw, t, spectral if kind == "special-cell" else present)
            t.rows[i][j] = draw(st.sampled_from(BAD_CELLS))
            t.valid = False
        elif kind == "special-cell":
            i, j = _cell(draw, t, spectral if kind == "special-cell" else present)
            t.rows[i][j] = draw(st.sampled_from(SPECIAL_CELLS))
            t.valid = None if t.valid is not False else False
        elif kind in ("percent", "negative", "all-zero"):
            cols = [t.columns.index(c) for c in spectral]
            rows = range(len(t.rows)) if kind == "percent" else [draw(st.integers(0, len(t.rows) - 1))]
            for i in rows:
                for j in cols if kind != "negative" else cols[:1]:
                    v = t.rows[i][j]
                    if isinstance(v, float):
                        t.rows[i][j] = {"percent": v * 100, "negative": -abs(v), "all-zero": 0.0}[kind]
            t.valid = None if t.valid is not False else False
        elif kind == "zero-rows":
            t.rows = []
            t.valid = False
        elif kind == "quoted-newline":
            t.columns.append("comment")
            t.rows = [r + [f"s line {i}\nnext; \"q\", end"] for i, r in enumerate(t.rows)]
        elif kind == "zero-conc":
            for name in ("car", "chl"):
                if name in t.columns:
                    for r in t.rows:
                        r[t.columns.index(name)] = 0.0
        elif kind == "geometry-out":
            i, j = _cell(draw, t, [c for c in ("sza", "vza", "raa") if c in t.columns] or present)
            t.rows[i][j] = draw(st.sampled_from([95.0, -1.0, 400.0]))
            t.valid = None if t.valid is not False else False
    if len(set(t.columns)) != len(t.columns):
        t.valid = False
    return t


@st.composite
def table_inputs(draw, tables: st.SearchStrategy[Table], stem: str, *, allow_damage: bool = True) -> TableInput:
    """A :class:`Table` written as CSV (any :func:`dialects`) or Parquet (any index kind), possibly damaged."""
    t = draw(tables)
    if draw(st.booleans()) or len(set(t.columns)) != len(t.columns):  # parquet cannot hold duplicate names
        d = draw(dialects())
        if d.decimal == "," or d.sep == ";":
            t.note.append(f"sep{d.sep}dec{d.decimal}")
        inp = csv_input(f"{stem}.csv", t.columns, t.rows, d, t.valid, t.note)
    else:
        df = t.frame()
        for c in df.columns:  # a column holding raw cell text (bad/special cells) stays text in Parquet
            if df[c].map(lambda v: isinstance(v, str)).any() and c in t.numeric:
                df[c] = df[c].map(lambda v: v if isinstance(v, str) else repr(v))
        inp = parquet_input(f"{stem}.{draw(st.sampled_from(['parquet', 'pq']))}", df,
                            draw(st.sampled_from(["none", "range", "stored", "named"])), t.valid, t.note)
    if allow_damage and draw(st.integers(0, 4)) == 0:
        inp = damage(draw, inp)
    return inp
