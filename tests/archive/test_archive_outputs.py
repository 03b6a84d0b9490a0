"""Safe outputs of the archive engine: format from the extension, output == input refused, existing outputs
kept without ``overwrite``, the lock, assembly that cannot fail after compute, and resumption after a crash.

Most tests use :class:`StubTask`, a task without JAX whose ``run`` is a cheap deterministic function of its
chunk, so that they test the engine alone (and run in milliseconds)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leafjax.archive import AbstractArchiveTask, ArchiveInfo, ArchiveSettings, invert_archive
from leafjax.archive._engine import PART_NAME, _assemble, unified_schema

SETTINGS = ArchiveSettings(model="stub", chunk_size=2)
#: ``setup`` calls of every StubTask in this process (so a test can assert that nothing was computed).
SETUPS: list[str] = []


class StubTask(AbstractArchiveTask):
    """Reads a table with a numeric column ``x``; writes ``value = x / 3``, a ``status`` and ``quality_flags``.
    Raises ``KeyboardInterrupt`` (a simulated crash) after ``fail_after`` chunks when ``fail_after >= 0``."""

    fail_after: int = -1

    def open(self, path, settings, *, wavelengths_file=None):
        df = self._read(Path(path))
        return ArchiveInfo(Path(path), len(df), np.array([500.0]), carried=[c for c in df.columns if c != "x"])

    @staticmethod
    def _read(path: Path) -> pd.DataFrame:
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)

    def output_columns(self, settings, info):
        return ("value", "status", "quality_flags")

    def n_chunks(self, info, chunk_size):
        return -(-info.n_rows // chunk_size)

    def chunks(self, info, chunk_size, skip=frozenset()):
        df = self._read(info.path)
        for i, s in enumerate(range(0, info.n_rows, chunk_size)):
            if i not in skip:
                yield i, df.iloc[s:s + chunk_size].reset_index(drop=True)

    def config(self):
        return {"task": "StubTask"}  # fail_after does not change the output: interrupted runs resume

    def setup(self, settings, info):
        SETUPS.append(str(info.path))
        return {"done": 0, "carried": info.carried}

    def run(self, state, chunk):
        if state["done"] == self.fail_after:
            raise KeyboardInterrupt("simulated crash")
        state["done"] += 1
        out = chunk[state["carried"]].copy()
        out["value"] = chunk["x"].to_numpy(np.float64) / 3
        out.loc[chunk["x"] < 0, "value"] = np.nan
        out["status"] = np.where(chunk["x"] > 2, "max_steps", "converged")
        out["quality_flags"] = np.where(chunk["x"] > 2, "at_bound:chl;not_converged", "")
        return out


@pytest.fixture
def table(tmp_path) -> Path:
    df = pd.DataFrame({"sample_id": [f"s{i}" for i in range(7)], "x": [0.1, 1.0, 2.5, -1.0, 3.0, 1e-7, 7.0]})
    path = tmp_path / "in.parquet"
    df.to_parquet(path)
    return path


def _expected(table: Path) -> pd.DataFrame:
    df = pd.read_parquet(table)
    return pd.concat([StubTask().run({"done": 0, "carried": ["sample_id"]}, df)], ignore_index=True)


def _run(table, out, **kw):
    return invert_archive(table, out, SETTINGS, task=kw.pop("task", StubTask()), progress=False, **kw)


def test_parquet_and_csv_outputs_hold_the_same_rows(table, tmp_path):
    a = _run(table, tmp_path / "o.parquet")
    b = _run(table, tmp_path / "o.csv")
    assert a["format"] == "parquet" and b["format"] == "csv" and a["rows"] == b["rows"] == 7
    assert a["status"] == {"converged": 4, "max_steps": 3}
    assert a["quality_flags"] == {"at_bound:chl": 3, "not_converged": 3}
    assert pq.read_schema(tmp_path / "o.parquet").names == ["sample_id", "value", "status", "quality_flags"]
    text = (tmp_path / "o.csv").read_text()
    assert text.splitlines()[0].replace('"', "") == "sample_id,value,status,quality_flags"
    with pytest.raises(Exception):
        pq.read_schema(tmp_path / "o.csv")  # CSV, not Parquet under a .csv name
    expected = _expected(table)
    csv = pd.read_csv(tmp_path / "o.csv", keep_default_na=False,
                      na_values={"value": [""]})
    np.testing.assert_array_equal(csv["value"].to_numpy(), expected["value"].to_numpy())  # exact, NaN as NaN
    assert csv["sample_id"].tolist() == expected["sample_id"].tolist()
    assert csv["quality_flags"].tolist() == expected["quality_flags"].tolist()
    assert text.splitlines()[4].split(",")[1] == "" and "nan" not in text.lower()  # row 3's NaN: empty cell
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), expected, check_dtype=False)


@pytest.mark.parametrize("name", ["o.txt", "o", "o.parquet.bak"])
def test_unknown_output_extension_is_refused_before_anything_runs(table, tmp_path, name):
    SETUPS.clear()
    with pytest.raises(ValueError, match=r"unknown output format") as err:
        _run(table, tmp_path / name)
    assert "\n" not in str(err.value) and not SETUPS and not (tmp_path / name).exists()


def test_output_equal_to_the_input_is_refused_and_the_input_unchanged(table, tmp_path, monkeypatch):
    before = table.read_bytes()
    link = tmp_path / "link.parquet"
    link.symlink_to(table)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    for out in (table, Path("in.parquet"), Path("sub/../in.parquet"), link):
        for overwrite in (False, True):
            with pytest.raises(ValueError, match="is the input"):
                _run(table, out, overwrite=overwrite)
    with pytest.raises(ValueError, match="is the input"):
        _run(link, table, overwrite=True)  # input through a link, output the file itself
    wl = tmp_path / "wl.csv"
    wl.write_text("500\n")
    with pytest.raises(ValueError, match="is the input"):
        _run(table, wl, wavelengths_file=str(wl), overwrite=True)
    assert table.read_bytes() == before
    assert not list(tmp_path.glob("*.parts")) and not list(tmp_path.glob("*.lock"))


def test_nothing_is_computed_when_the_output_is_refused(table, tmp_path):
    SETUPS.clear()
    with pytest.raises(ValueError):
        _run(table, table, overwrite=True)
    (tmp_path / "o.parquet").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        _run(table, tmp_path / "o.parquet")
    assert SETUPS == []


def test_existing_output_is_kept_without_overwrite_and_replaced_with_it(table, tmp_path):
    out = tmp_path / "o.parquet"
    out.write_bytes(b"an earlier result")
    with pytest.raises(FileExistsError, match="exists; pass --overwrite") as err:
        _run(table, out)
    assert "\n" not in str(err.value) and out.read_bytes() == b"an earlier result"
    # an overwriting run that crashes leaves the earlier output in place
    with pytest.raises(KeyboardInterrupt):
        _run(table, out, overwrite=True, task=StubTask(fail_after=2))
    assert out.read_bytes() == b"an earlier result"
    assert len(list((tmp_path / "o.parquet.parts").glob("chunk-*"))) == 2
    summary = _run(table, out, overwrite=True)  # discards the unfinished parts: all 4 chunks again
    assert summary["chunks_computed"] == 4 and summary["chunks_reused"] == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out), _expected(table), check_dtype=False)
    assert not (tmp_path / "o.parquet.parts").exists() and not (tmp_path / "o.parquet.lock").exists()


def test_interrupted_run_keeps_finished_chunks_and_resumes_to_identical_output(table, tmp_path):
    full = tmp_path / "full.csv"
    _run(table, full)
    out = tmp_path / "o.csv"
    with pytest.raises(KeyboardInterrupt):
        _run(table, out, task=StubTask(fail_after=2))
    parts = tmp_path / "o.csv.parts"
    assert sorted(p.name for p in parts.glob("chunk-*")) == [PART_NAME.format(0), PART_NAME.format(1)]
    assert not out.exists() and not (tmp_path / "o.csv.lock").exists()
    assert json.loads((parts / "manifest.json").read_text())["output_format"] == "csv"
    summary = _run(table, out)
    assert summary["chunks_reused"] == 2 and summary["chunks_computed"] == 2 and summary["rows"] == 7
    assert out.read_bytes() == full.read_bytes()


def test_run_killed_by_sigkill_resumes(table, tmp_path):
    """A real crash (SIGKILL after 2 of 4 chunks): the parts stay, the lock is stale and taken over."""
    out = tmp_path / "o.parquet"
    code = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import test_archive_outputs as t\n"
        "class Kill(t.StubTask):\n"
        "    def run(self, state, chunk):\n"
        "        if state['done'] == 2:\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n"
        "        return t.StubTask.run(self, state, chunk)\n"
        f"t.invert_archive({str(table)!r}, {str(out)!r}, t.SETTINGS, task=Kill(), progress=False)\n"
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert len(list((tmp_path / "o.parquet.parts").glob("chunk-*"))) == 2
    assert (tmp_path / "o.parquet.lock").exists() and not out.exists()
    summary = _run(table, out)
    assert summary["chunks_reused"] == 2 and summary["chunks_computed"] == 2
    pd.testing.assert_frame_equal(pd.read_parquet(out), _expected(table), check_dtype=False)
    assert not (tmp_path / "o.parquet.lock").exists()


def _lock(out: Path, pid: int) -> Path:
    lock = out.with_name(out.name + ".lock")
    lock.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "2024-01-01T00:00:00"}))
    return lock


def test_a_live_lock_refuses_a_second_run_and_a_stale_one_is_taken_over(table, tmp_path):
    out = tmp_path / "o.parquet"
    lock = _lock(out, os.getpid())  # "another run": this live process
    SETUPS.clear()
    with pytest.raises(OSError, match=rf"being written by another leafjax run \(pid {os.getpid()}") as err:
        _run(table, out)
    assert "\n" not in str(err.value) and lock.exists() and not out.exists() and SETUPS == []
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _lock(out, dead.pid)
    assert _run(table, out)["rows"] == 7
    assert out.exists() and not lock.exists()


def test_the_lock_is_held_during_the_run(table, tmp_path):
    seen = []

    class Probe(StubTask):
        def run(self, state, chunk):
            seen.append((tmp_path / "o.parquet.lock").exists())
            return StubTask.run(self, state, chunk)

    _run(table, tmp_path / "o.parquet", task=Probe())
    assert seen == [True] * 4 and not (tmp_path / "o.parquet.lock").exists()


def _parts(tmp_path: Path, frames: list[pd.DataFrame]) -> Path:
    parts = tmp_path / "o.parts"
    parts.mkdir()
    for i, df in enumerate(frames):
        df.to_parquet(parts / PART_NAME.format(i), index=False)
    return parts


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_assembly_unifies_part_schemas_instead_of_failing(tmp_path, fmt):
    """Hand-made parts whose columns change type between chunks: int then text ids, int then float, an
    all-missing column, bool then int, and a column missing from one part."""
    a = pd.DataFrame({"id": [0, 1], "v": [1, 2], "empty": [None, None], "ok": [True, False],
                      "status": ["converged", "max_steps"], "quality_flags": ["", "at_bound:chl"]})
    b = pd.DataFrame({"id": ["P0", None], "v": [0.5, np.nan], "empty": ["x", None], "ok": [3, 4],
                      "status": ["converged", "nonfinite"], "quality_flags": ["poor_fit;at_bound:chl", ""],
                      "late": [1.5, 2.5]})
    parts = _parts(tmp_path, [a, b])
    assert pq.read_schema(parts / PART_NAME.format(0)).field("id").type == pa.int64()
    out = tmp_path / f"o.{fmt}"
    counts = _assemble(parts, 2, out, fmt)
    assert counts == {"rows": 4, "status": {"converged": 2, "max_steps": 1, "nonfinite": 1},
                      "quality_flags": {"at_bound:chl": 2, "poor_fit": 1}}
    res = pd.read_parquet(out) if fmt == "parquet" else pd.read_csv(out, dtype={"id": str, "ok": str})
    assert list(res.columns) == ["id", "v", "empty", "ok", "status", "quality_flags", "late"]
    assert res["id"].tolist()[:3] == ["0", "1", "P0"] and pd.isna(res["id"].iloc[3])
    np.testing.assert_array_equal(res["v"].to_numpy(np.float64), [1.0, 2.0, 0.5, np.nan])
    assert res["empty"].tolist()[2] == "x" and res["ok"].tolist() == ["true", "false", "3", "4"]
    np.testing.assert_array_equal(res["late"].to_numpy(np.float64), [np.nan, np.nan, 1.5, 2.5])
    schema = unified_schema([pq.read_schema(parts / PART_NAME.format(i)) for i in range(2)])
    assert schema.field("id").type == pa.string() and schema.field("v").type == pa.float64()
    assert schema.metadata is None  # pandas metadata of the first part no longer describes the columns


def test_assembly_of_one_schema_keeps_it(tmp_path):
    a = pd.DataFrame({"id": [0, 1], "v": [1 / 3, 2.0], "status": ["converged"] * 2})
    parts = _parts(tmp_path, [a, a.assign(id=[2, 3])])
    _assemble(parts, 2, tmp_path / "o.parquet")
    res = pd.read_parquet(tmp_path / "o.parquet")
    assert res["id"].dtype == np.int64 and res["v"].tolist() == [1 / 3, 2.0] * 2
    with pytest.raises(RuntimeError, match="missing"):
        _assemble(parts, 3, tmp_path / "x.parquet")
