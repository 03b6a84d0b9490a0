"""Table readers (``leafjax.io``): parquet with stored indexes, CSV as records, dtypes fixed from the whole file,
validation with one-line errors naming file, column and row."""

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leafjax.io import TableError, inspect_table, iter_table, read_table, short, table_columns

SPECTRAL = ["R_500", "R_600"]


def _chunks(info, size, columns=None):
    return [(s, f) for s, f in iter_table(info, size, columns)]


def _write(path, text: str | bytes):
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _frame():
    return pd.DataFrame({"sample": list("abcdef"), "R_500": np.linspace(0.1, 0.6, 6),
                         "R_600": np.linspace(0.2, 0.7, 6), "n": np.arange(6)})


# --- parquet -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("write", [
    lambda df, p: df[df["R_500"] > 0.15].to_parquet(p),         # stored __index_level_0__
    lambda df, p: df.set_index("sample").to_parquet(p),          # named index: an ordinary column
    lambda df, p: df.to_parquet(p),                              # RangeIndex: metadata only
    lambda df, p: df.to_parquet(p, index=False),
    lambda df, p: pq.write_table(pa.Table.from_pandas(df[df["R_500"] > 0.15]).replace_schema_metadata(
        {"pandas": "{not json"}), p),                            # broken pandas metadata
], ids=["stored-index", "named-index", "range-index", "no-index", "bad-metadata"])
def test_parquet_with_any_pandas_index(tmp_path, write):
    df = _frame()
    p = tmp_path / "t.parquet"
    write(df, p)
    info = inspect_table(p, numeric=SPECTRAL)
    assert "__index_level_0__" not in info.columns and set(df.columns) <= set(info.columns) | {"__index_level_0__"}
    out = pd.concat([f for _, f in _chunks(info, 2)], ignore_index=True)
    expect = df[df["R_500"] > 0.15] if len(out) == 5 else df
    assert out["sample"].tolist() == expect["sample"].tolist()
    np.testing.assert_array_equal(out["R_500"].to_numpy(), expect["R_500"].to_numpy())
    assert list(out.columns) == list(info.columns) and out.index.equals(pd.RangeIndex(len(out)))


def test_parquet_dtypes_fixed_for_the_whole_file(tmp_path):
    """An int column with a null in a later row group is float64 in every chunk; row groups re-cut."""
    p = tmp_path / "g.parquet"
    t1 = pa.table({"id": pa.array([1, 2, 3], pa.int32()), "ok": [True, False, True], "R_500": ["0.1", "0.2", "0.3"],
                   "cat": pa.array(["x", "y", "x"]).dictionary_encode()})
    t2 = pa.table({"id": pa.array([4, None, 6], pa.int32()), "ok": [None, True, False], "R_500": ["0.4", None, "1"],
                   "cat": pa.array(["y", None, "x"]).dictionary_encode()})
    with pq.ParquetWriter(p, t1.schema) as w:
        w.write_table(t1)
        w.write_table(t2)
    info = inspect_table(p, numeric=["R_500"])
    assert dict(info.dtypes) == {"id": "float64", "ok": "bool", "R_500": "float64", "cat": "string"}
    chunks = _chunks(info, 4)
    assert [s for s, _ in chunks] == [0, 4] and [len(f) for _, f in chunks] == [4, 2]
    assert len({tuple(map(str, f.dtypes)) for _, f in chunks}) == 1
    parts = [pa.Table.from_pandas(f, preserve_index=False) for _, f in chunks]
    assert pa.concat_tables(parts).num_rows == 6  # the schemas agree
    assert np.isnan(chunks[1][1]["id"].iloc[0]) and chunks[1][1]["R_500"].tolist() == [pytest.approx(np.nan,
                                                                                                     nan_ok=True), 1.0]


def test_parquet_text_spectral_cell_and_duplicates(tmp_path):
    df = _frame()
    df["R_600"] = [str(v) for v in df["R_600"]]
    df.loc[3, "R_600"] = "abc"
    df.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(TableError, match=r"t.parquet: column 'R_600', row 4: 'abc' is not a number"):
        inspect_table(tmp_path / "t.parquet", numeric=SPECTRAL)
    pq.write_table(pa.table([pa.array([0.1]), pa.array([0.2])], names=["R_500", "R_500"]), tmp_path / "d.parquet")
    with pytest.raises(TableError, match="duplicate column R_500"):
        inspect_table(tmp_path / "d.parquet")
    _write(tmp_path / "x.parquet", "not parquet")
    with pytest.raises(TableError, match="cannot read parquet"):
        inspect_table(tmp_path / "x.parquet")


# --- CSV as records ----------------------------------------------------------------------------------------------

ROWS = [("a", "0.1", "0.2"), ("b", "0.3", "0.4"), ("c", "0.5", "0.6")]


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("bom", [False, True], ids=["", "bom"])
def test_csv_line_ends_and_bom(tmp_path, eol, bom):
    text = eol.join(["sample,R_500,R_600", *(",".join(r) for r in ROWS)]) + eol
    p = _write(tmp_path / "t.csv", ("\ufeff" if bom else "") + text)
    info = inspect_table(p, numeric=SPECTRAL)
    assert info.columns == ("sample", "R_500", "R_600") and info.n_rows == 3
    df = read_table(p)
    assert df["sample"].tolist() == ["a", "b", "c"] and df["R_600"].tolist() == [0.2, 0.4, 0.6]


def test_csv_blank_lines_and_quoted_newlines_are_records(tmp_path):
    """Blank lines are skipped and not counted; a quoted field may hold newlines; a trailing blank line at a chunk
    boundary gives no extra chunk."""
    text = ('sample,R_500,R_600\n\n"multi\nline, with comma",0.1,0.2\n   \nb,0.3,0.4\n\n'
            'c,0.5,0.6\n"d ""q""",0.7,0.8\n\n\n')
    p = _write(tmp_path / "t.csv", text)
    info = inspect_table(p, numeric=SPECTRAL)
    assert info.n_rows == 4
    chunks = _chunks(info, 2)
    assert [(s, len(f)) for s, f in chunks] == [(0, 2), (2, 2)]
    assert chunks[0][1]["sample"].tolist() == ["multi\nline, with comma", "b"]
    assert chunks[1][1]["sample"].tolist() == ["c", 'd "q"']


@pytest.mark.parametrize("text,sep,decimal", [
    ("sample;R_500;R_600\na;0,1;0,2\nb;0,3;\n", ";", ","),
    ("sample;R_500;R_600\na;0.1;0.2\nb;0.3;\n", ";", "."),
    ("sample\tR_500\tR_600\na\t0,1\t0,2\nb\t0,3\t\n", "\t", ","),
    ("sample,R_500,R_600\na,0.1,0.2\nb,0.3,\n", ",", "."),
], ids=["semicolon-comma", "semicolon-dot", "tab-comma", "comma"])
def test_csv_dialect_detected(tmp_path, text, sep, decimal):
    info = inspect_table(_write(tmp_path / "t.csv", text), numeric=SPECTRAL)
    assert (info.sep, info.decimal) == (sep, decimal)
    df = pd.concat([f for _, f in _chunks(info, 5)])
    np.testing.assert_array_equal(df["R_500"].to_numpy(), [0.1, 0.3])
    assert np.isnan(df["R_600"].iloc[1])  # an empty cell is missing


def test_csv_sep_and_decimal_options(tmp_path):
    p = _write(tmp_path / "t.txt", "sample|R_500\na|0,25\n")
    info = inspect_table(p, sep="|", decimal=",", numeric=["R_500"])
    assert read_table(p, sep="|", decimal=",")["R_500"].tolist() == [0.25] and info.sep == "|"
    assert inspect_table(_write(tmp_path / "s.csv", "a;b\n1;2\n"), sep="semicolon").columns == ("a", "b")
    with pytest.raises(TableError, match="decimal must be"):
        inspect_table(p, decimal="x")
    with pytest.raises(TableError, match="cannot both be"):
        inspect_table(p, sep=",", decimal=",")


def test_carried_dtypes_fixed_from_the_whole_file(tmp_path):
    """ids 0..N then P0.. (across a chunk boundary) are a string column in every chunk; the parts concatenate."""
    ids = [str(i) for i in range(5)] + ["P0", "P1"]
    lines = ["id,plot,height,note,R_500"] + [f"{i},{k},{k}.5,{'' if k % 2 else 'x'},0.{k}" for k, i in
                                             enumerate(ids)]
    lines[3] = lines[3].replace(",2,2.5,", ",2,,")  # a missing height: still float64
    p = _write(tmp_path / "t.csv", "\n".join(lines) + "\n")
    info = inspect_table(p, numeric=["R_500"])
    assert dict(info.dtypes) == {"id": "string", "plot": "int64", "height": "float64", "note": "string",
                                 "R_500": "float64"}
    chunks = _chunks(info, 4)
    assert chunks[0][1]["id"].tolist() == ["0", "1", "2", "3"] and chunks[1][1]["id"].tolist() == ["4", "P0", "P1"]
    assert len({tuple(map(str, f.dtypes)) for _, f in chunks}) == 1
    assert chunks[0][1]["plot"].dtype == np.int64 and chunks[0][1]["note"].isna().tolist() == [False, True] * 2
    schemas = {pa.Table.from_pandas(f, preserve_index=False).schema for _, f in chunks}
    assert len(schemas) == 1
    sub = _chunks(info, 3, ["R_500", "id"])
    assert list(sub[0][1].columns) == ["R_500", "id"]


@pytest.mark.parametrize("text,needle", [
    ("s,R_500,R_600\na,0.1,0.2\n\n\"x\ny\",0.1,0.2\nc,abc,0.3\n", "column 'R_500', row 3: 'abc' is not a number"),
    ("s;R_500;R_600\na;0,1;0,2\nb;0,1;1.5\n", "column 'R_600', row 2: '1.5' is not a number"),
    ("s,R_500,R_600\na,0.1,0.2\nb,0.1\n", "row 2 has 2 field(s), the header has 3"),
    ("s,R_500,R_600\na,0.1,0.2,9\n", "row 1 has 4 field(s), the header has 3"),
    ('s,R_500,R_600\n"a,0.1,0.2\nb,"0.3",0.4\n', "has"),
    ("s,R_500,R_500\na,0.1,0.2\n", "duplicate column R_500"),
    ("\n  \n\n", "no header"),
    (b"s,R_500\n\xe4,0.1\n", "not UTF-8"),
    (b"s,R_500\x00\x01\n", "binary"),
], ids=["bad-cell", "decimal-mix", "short-row", "long-row", "open-quote", "duplicate", "blank", "latin1", "binary"])
def test_csv_errors_name_file_column_row(tmp_path, text, needle):
    p = _write(tmp_path / "t.csv", text)
    with pytest.raises(TableError, match=re.escape(needle)) as e:
        inspect_table(p, numeric=SPECTRAL)
    msg = str(e.value)
    assert msg.startswith(str(p)) and "\n" not in msg and len(msg) < 200 + len(str(p))


def test_duplicate_header_read_by_name_and_long_header_short_message(tmp_path):
    with pytest.raises(TableError, match="duplicate column R_500$"):
        table_columns(_write(tmp_path / "d.csv", "R_500,R_600,R_500\n1,2,3\n"))
    header = ";".join(f"R_{w}" for w in range(400, 2501))
    p = _write(tmp_path / "s.csv", header + "\n" + ";".join(["0,1"] * 2101) + "\n")
    with pytest.raises(TableError) as e:
        inspect_table(p, sep=",", numeric=[header])
    assert len(str(e.value)) < 300 and "sep=';'" in str(e.value)
    assert inspect_table(p).sep == ";"  # detected


def test_empty_unknown_and_missing_files(tmp_path):
    with pytest.raises(TableError, match="the file is empty"):
        inspect_table(_write(tmp_path / "e.csv", ""))
    with pytest.raises(TableError, match="unknown table format '.xlsx'"):
        inspect_table(_write(tmp_path / "e.xlsx", "a"))
    with pytest.raises(OSError, match="no such file"):
        inspect_table(tmp_path / "missing.csv")
    assert inspect_table(_write(tmp_path / "h.csv", "a,b\n")).n_rows == 0
    with pytest.raises(TableError, match="no rows"):
        read_table(tmp_path / "h.csv")
    with pytest.raises(ValueError, match="chunk_size"):
        next(iter_table(inspect_table(tmp_path / "h.csv"), 0))


def test_short_is_one_bounded_line():
    assert short("a\nb") == "a\\nb" and short("x" * 500, 50) == "x" * 49 + "…" and short(["ab"]) == "['ab']"
