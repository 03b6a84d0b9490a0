"""The second chunk of an archive run compiles nothing: state is built once (``setup``) and every chunk is padded
to one shape, whatever the number of valid rows in it (compilations counted with ``tests/_compile_count.py``); and
a new process (in-memory caches dropped) traces no solver and finds every program in the persistent cache."""

import jax
import numpy as np
import pandas as pd
import pytest

from _compile_count import count_compiles
from leafjax.archive import ArchiveSettings, get_task
from leafjax.canopy import Prosail, load_srf, write_prosail_parquet
from leafjax.cli import main
from leafjax.core import _export, compilation_cache_dir

CHUNK = 8


def _two_chunks(settings, path):
    """Open ``path`` as a run of ``settings`` would, set up once, and return ``(task, state, [chunk0, chunk1])``."""
    task = get_task(settings.model)
    info = task.open(path, settings)
    settings = task.resolve(settings, info)
    chunks = [c for _, c in task.chunks(info, settings.chunk_size)]
    assert len(chunks) == 2 and len(chunks[0].carried) == len(chunks[1].carried) == CHUNK
    return task, task.setup(settings, info), chunks


def _second_chunk_compiles(task, state, chunks) -> list[str]:
    first = task.run(state, chunks[0])  # warm-up: compiles the solver
    with count_compiles() as counter:
        second = task.run(state, chunks[1])
    assert list(first.columns) == list(second.columns)
    return counter.names


@pytest.fixture(scope="module")
def leaf_table(tmp_path_factory):
    d = tmp_path_factory.mktemp("leaf")
    sims = d / "sims.parquet"
    assert main(["simulate", "--model", "prospect-d", "--n", str(2 * CHUNK), "--seed", "5", "--out", str(sims),
                 "--wavelengths", "400:2400:50"]) == 0
    df = pd.read_parquet(sims)
    rcols = [c for c in df.columns if c.startswith("R_")]
    df.loc[CHUNK + 1, rcols] = df.loc[CHUNK + 1, rcols] * 100  # the second chunk has one valid row fewer
    df.to_parquet(d / "leaf.parquet")
    return d / "leaf.parquet"


@pytest.mark.parametrize("strategy,use_t", [("full", True), pytest.param("optimal", False, marks=pytest.mark.slow)])
def test_second_leaf_chunk_does_not_recompile(leaf_table, strategy, use_t):
    settings = ArchiveSettings(model="prospect-d", chunk_size=CHUNK, strategy=strategy, use_t=use_t,
                               max_steps=10, dtype="float64")
    task, state, chunks = _two_chunks(settings, leaf_table)
    assert (state.n_prior is None) == use_t and (len(state.runs) > 1) == (strategy == "optimal")
    assert _second_chunk_compiles(task, state, chunks) == []


def test_second_canopy_chunk_does_not_recompile(tmp_path):
    grid = np.arange(400, 2401, 20)
    rng = np.random.default_rng(1)
    n = 2 * CHUNK
    truth = {"n_struct": np.full(n, 1.5), "chl": rng.uniform(20, 60, n), "car": np.full(n, 8.0),
             "ewt": rng.uniform(0.008, 0.02, n), "lma": rng.uniform(0.004, 0.009, n), "lai": rng.uniform(1, 4, n),
             "lidf_a": np.full(n, 55.0), "lidf_b": np.zeros(n), "hotspot": np.full(n, 0.1),
             "soil_brightness": np.ones(n), "soil_dryness": np.full(n, 0.5), "sza": rng.uniform(20, 50, n),
             "vza": np.zeros(n), "raa": np.zeros(n)}
    path = tmp_path / "pixels.parquet"
    write_prosail_parquet(path, Prosail(wavelengths=grid, dtype=np.float64), truth,
                          srf=load_srf("sentinel-2a", grid, dtype=np.float64))
    df = pd.read_parquet(path)
    df.loc[CHUNK + 2, "sza"] = np.nan  # the second chunk has one valid pixel fewer
    df.to_parquet(path)
    settings = ArchiveSettings(model="prosail", sensor="sentinel-2a", grid_step=20, chunk_size=CHUNK,
                               dtype="float64", max_steps=5)
    task, state, chunks = _two_chunks(settings, path)
    assert _second_chunk_compiles(task, state, chunks) == []


def test_a_new_process_traces_no_solver_and_compiles_nothing(leaf_table):
    if compilation_cache_dir() is None or not _export._can_serialise():
        pytest.skip("needs the persistent compilation cache and jax.export serialisation (flatbuffers)")
    settings = ArchiveSettings(model="prospect-d", chunk_size=CHUNK, max_steps=10, dtype="float64")
    task, state, chunks = _two_chunks(settings, leaf_table)
    task.run(state, chunks[0])  # compiles (or finds) and exports the chunk's solver
    jax.clear_caches()  # what a new process starts with: no compiled program, no exported program in memory
    _export._exported.clear()
    hits = []

    def listener(event, duration, **kwargs):
        if event == "/jax/compilation_cache/cache_retrieval_time_sec":
            hits.append(kwargs)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        with count_compiles() as counter:
            task.run(state, chunks[1])
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert counter.compiles >= 1
    assert len(hits) == counter.compiles, counter.names  # every program came from the persistent cache
    assert not any("_solve" in name or "flat_fn" in name for name in counter.traced), counter.traced
