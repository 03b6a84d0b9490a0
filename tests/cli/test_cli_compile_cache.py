"""The command line's persistent compilation cache, in fresh processes: a second run compiles nothing (it adds no
cache entry: with leafjax's settings JAX writes one for every program it compiles), ``--no-compile-cache`` writes
none."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd


def _simulate(tmp_path, name: str, env: dict, *extra: str) -> subprocess.CompletedProcess:
    out = tmp_path / f"{name}.parquet"
    cmd = [sys.executable, "-m", "leafjax", "simulate", "--model", "prospect-d", "--n", "3", "--seed", "1",
           "--wavelengths", "400:2400:200", "--out", str(out), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(pd.read_parquet(out)) == 3
    return proc


def _entries(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")) \
        if folder.exists() else []


def test_a_second_fresh_process_compiles_nothing(tmp_path):
    cache = tmp_path / "cache"
    _simulate(tmp_path, "a", {"LEAFJAX_CACHE_DIR": str(cache)})
    first = _entries(cache)
    assert first, "the first run wrote no cache entry"
    _simulate(tmp_path, "b", {"LEAFJAX_CACHE_DIR": str(cache)})
    assert _entries(cache) == first  # every program came from the cache


def test_no_compile_cache_writes_nothing(tmp_path):
    cache = tmp_path / "none"
    _simulate(tmp_path, "a", {"LEAFJAX_CACHE_DIR": str(cache)}, "--no-compile-cache")
    assert not cache.exists()
    # (an unusable folder only warns: tests/core/test_compile.py::test_an_unusable_cache_folder_only_warns_once)
