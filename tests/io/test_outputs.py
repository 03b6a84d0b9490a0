"""Safe outputs (leafjax.io._outputs): format from the extension, checks before compute, the lock, the writer."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from leafjax.io import (
    OUTPUT_FORMATS,
    OutputLock,
    ParquetStreamWriter,
    TableStreamWriter,
    check_output,
    output_format,
)


@pytest.mark.parametrize("name, fmt", [("a.parquet", "parquet"), ("a.PQ", "parquet"), ("a.csv", "csv"),
                                       ("dir.v1/a.Csv", "csv")])
def test_output_format_from_extension(name, fmt):
    assert output_format(name) == fmt
    assert set(OUTPUT_FORMATS.values()) == {"parquet", "csv"}


@pytest.mark.parametrize("name", ["a.txt", "a", "a.parquet.bak"])
def test_output_format_refuses_unknown_extension(name):
    with pytest.raises(ValueError, match="unknown output format") as e:
        output_format(name)
    assert "\n" not in str(e.value) and ".parquet, .pq or .csv" in str(e.value)


def test_check_output_refusals_are_one_line(tmp_path):
    src = tmp_path / "in.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(src)
    link = tmp_path / "link.parquet"
    link.symlink_to(src)
    cases = [
        (tmp_path, {}, OSError, "folder"),
        (tmp_path / "missing" / "o.csv", {}, OSError, "does not exist"),
        (src, {"inputs": [src], "overwrite": True}, ValueError, "input"),
        (link, {"inputs": [str(src)], "overwrite": True}, ValueError, "input"),  # same file through a link
        (tmp_path / "sub" / ".." / "in.parquet", {"inputs": [src], "overwrite": True}, ValueError, "input"),
        (src, {}, FileExistsError, "pass --overwrite"),
    ]
    (tmp_path / "sub").mkdir()
    for path, kw, exc, text in cases:
        with pytest.raises(exc, match=text) as e:
            check_output(path, **kw)
        assert "\n" not in str(e.value)
    assert src.read_bytes()  # untouched


def test_check_output_accepts_new_and_overwritten_files(tmp_path):
    out = tmp_path / "o.csv"
    assert check_output(out, inputs=[tmp_path / "in.csv", None]) == (out, "csv")
    out.write_text("x\n1\n")
    assert check_output(out, overwrite=True) == (out, "csv")


def test_lock_refuses_second_holder_and_is_released(tmp_path):
    out = tmp_path / "o.parquet"
    lock_path = tmp_path / "o.parquet.lock"
    with OutputLock(out) as lock:
        assert lock.held and lock_path.exists()
        info = json.loads(lock_path.read_text())
        assert info["pid"] == os.getpid() and info["host"] == socket.gethostname() and info["started"]
        with pytest.raises(OSError, match="being written by another leafjax run") as e:
            OutputLock(out).acquire()
        msg = str(e.value)
        assert "\n" not in msg and f"pid {os.getpid()}" in msg and str(lock_path) in msg
    assert not lock_path.exists()
    with pytest.raises(RuntimeError):  # released on an exception too
        with OutputLock(out):
            raise RuntimeError("boom")
    assert not lock_path.exists()


def test_lock_takes_over_a_stale_lock_but_not_a_remote_one(tmp_path):
    out = tmp_path / "o.csv"
    lock_path = tmp_path / "o.csv.lock"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "then"}))
    with OutputLock(out):
        assert json.loads(lock_path.read_text())["pid"] == os.getpid()
    assert not lock_path.exists()
    lock_path.write_text(json.dumps({"pid": dead.pid, "host": "elsewhere.example", "started": "then"}))
    with pytest.raises(OSError, match="elsewhere.example"):
        OutputLock(out).acquire()
    assert lock_path.exists()  # someone else's lock is never removed


def test_csv_writer_header_once_exact_floats_and_empty_missing(tmp_path):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.random(5) / 3, [1e-300, 5e-324, 123456789.123456789, np.nan]])
    out = tmp_path / "o.csv"
    with TableStreamWriter(out) as w:
        assert w.fmt == "csv"
        w.write({"id": np.array(["a", None, "c", "d", "e"], dtype=object), "x": x[:5], "k": np.arange(5)})
        w.write({"id": np.array(["f", np.nan, "h", "i"], dtype=object), "x": x[5:], "k": np.arange(5, 9)})
    text = out.read_text()
    assert text.count('"id"') == 1 and not text.startswith("PAR1")
    assert text.splitlines()[2].startswith(",")  # None -> empty cell
    assert text.splitlines()[-1].split(",")[1] == ""  # NaN -> empty cell
    back = pd.read_csv(out)
    assert len(back) == 9 and back["k"].tolist() == list(range(9))
    np.testing.assert_array_equal(back["x"].to_numpy(), x)  # bit-exact, NaN where NaN
    assert back["id"].isna().tolist() == [False, True, False, False, False, False, True, False, False]


@pytest.mark.parametrize("name", ["o.parquet", "o.csv"])
def test_writer_text_column_with_missing_cells_and_schema_from_first_block(tmp_path, name):
    """Object columns with None/NaN become nullable strings (the old writer raised ArrowTypeError); later
    blocks are cast to the first block's schema (ints into a float column, text into an all-missing column)."""
    out = tmp_path / name
    with TableStreamWriter(out) as w:
        w.write({"id": np.array(["a", None], dtype=object), "note": np.array([None, None], dtype=object),
                 "v": np.array([0.5, 1.5])})
        w.write(pd.DataFrame({"id": ["c", np.nan], "note": ["P0", None], "v": [2, 3]}, index=[10, 11]))
        w.write({"id": pd.Series(["e"], dtype="string"), "note": np.array([7], dtype=object),
                 "v": np.array([4.0], np.float32)})
    back = pd.read_parquet(out) if name.endswith("parquet") else pd.read_csv(out)
    assert back["id"].isna().tolist() == [False, True, False, True, False]
    assert back["id"].dropna().tolist() == ["a", "c", "e"]
    assert back["note"].dropna().astype(str).tolist() == ["P0", "7"]
    assert back["v"].tolist() == [0.5, 1.5, 2.0, 3.0, 4.0]
    if name.endswith("parquet"):
        assert str(pq.read_schema(out).field("note").type) == "string"


def test_writer_refuses_incompatible_blocks_in_one_line(tmp_path):
    out = tmp_path / "o.parquet"
    with pytest.raises(ValueError, match="'v' changed type") as e:
        with TableStreamWriter(out) as w:
            w.write({"v": np.array([1, 2])})
            w.write({"v": np.array([1.5])})
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="block columns differ"):
        with TableStreamWriter(out) as w:
            w.write({"a": np.array([1])})
            w.write({"b": np.array([1])})
    assert not out.exists() and not list(tmp_path.iterdir())  # aborted: no final file, no temporary file


def test_writer_is_atomic(tmp_path):
    out = tmp_path / "o.csv"
    out.write_text("old\n")
    w = TableStreamWriter(out)
    w.write({"a": np.arange(3)})
    assert out.read_text() == "old\n"  # the finished file appears only on close
    w.close()
    assert pd.read_csv(out)["a"].tolist() == [0, 1, 2]
    w = TableStreamWriter(out)
    w.write({"a": np.arange(2)})
    w.abort()
    assert pd.read_csv(out)["a"].tolist() == [0, 1, 2] and sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]
    with pytest.raises(ValueError, match="nothing was written"):
        TableStreamWriter(tmp_path / "e.parquet").close()


def test_format_from_extension_or_given(tmp_path):
    with TableStreamWriter(tmp_path / "o.pq") as w:
        w.write({"a": np.arange(2)})
    assert pq.read_table(tmp_path / "o.pq").num_rows == 2
    with pytest.raises(ValueError, match="unknown output format"):
        TableStreamWriter(tmp_path / "o.txt")
    with ParquetStreamWriter(tmp_path / "legacy.bin") as w:  # the former name: Parquet whatever the name
        w.write({"a": np.arange(2)})
    assert isinstance(w, TableStreamWriter) and pq.read_table(tmp_path / "legacy.bin").num_rows == 2
