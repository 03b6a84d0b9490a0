"""Archive tasks and the model-agnostic engine: registry, setup once per run (and per Dask worker), the task's
configuration in the manifest, the N prior fitted once, and the float64 precondition (locally and on workers)."""

import json

import jax
import numpy as np
import pandas as pd
import pytest

from helpers import interrupting_task
from leafjax.archive import (ARCHIVE_TASKS, ArchiveSettings, CanopyArchiveTask, LeafArchiveTask, NStructPrior,
                             get_task, invert_archive)
from leafjax.archive._dask import solve_chunk
from leafjax.cli import main
from leafjax.inversion import n_struct_prior

SETTINGS = ArchiveSettings(model="prospect-d", chunk_size=8, max_steps=10,
                           free=("n_struct", "chl", "car", "ewt", "lma"))


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("tasks")
    path = d / "leaf.parquet"
    assert main(["simulate", "--model", "prospect-d", "--n", "20", "--seed", "7", "--out", str(path),
                 "--wavelengths", "400:2400:50"]) == 0
    return path


def test_registry_maps_every_model_to_one_task():
    assert list(ARCHIVE_TASKS) == ["prospect-d", "prospect-pro", "prosail", "scene"]
    assert get_task("PROSPECT_PRO") == LeafArchiveTask("prospect-pro")
    assert isinstance(get_task("prosail"), CanopyArchiveTask)
    with pytest.raises(ValueError, match="unknown model 'prospect-7'; choose one of: prospect-d, prospect-pro"):
        get_task("prospect-7")


@pytest.mark.slow
def test_setup_once_per_run_locally_and_per_worker_on_dask(table, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = invert_archive(table, tmp_path / "local.parquet", SETTINGS, progress=False)
    assert local["chunks_computed"] == 3 and local["setups"] == 1
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        on_dask = invert_archive(table, tmp_path / "dask.parquet", SETTINGS, progress=False, client=client)
    assert on_dask["chunks_computed"] == 3 and on_dask["setups"] == 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask.parquet"), pd.read_parquet(tmp_path /
                                                                                              "local.parquet"))


def test_manifest_records_the_task_and_refuses_another(table, tmp_path):
    out = tmp_path / "o.parquet"
    with pytest.raises(KeyboardInterrupt):
        invert_archive(table, out, SETTINGS, progress=False, task=interrupting_task(SETTINGS, 1))
    manifest = json.loads((tmp_path / "o.parquet.parts" / "manifest.json").read_text())
    assert manifest["task"] == {"task": "LeafArchiveTask", "model_name": "prospect-d"}
    assert manifest["settings"]["use_t"] is True and manifest["settings"]["chunk_size"] == 8
    with pytest.raises(ValueError, match="other settings"):
        invert_archive(table, out, SETTINGS, progress=False, task=LeafArchiveTask("prospect-pro"))
    summary = invert_archive(table, out, SETTINGS, progress=False)
    assert summary["chunks_reused"] == 1 and summary["chunks_computed"] == 2 and summary["setups"] == 1


@pytest.mark.parametrize("kind", ["R", "T"])
def test_n_prior_fitted_once_matches_n_struct_prior(kind):
    wl = np.arange(400, 2401, 1.0)
    rng = np.random.default_rng(0)
    spectra = rng.uniform(0.2, 0.7, (50, wl.size))
    spectra[3, :] = np.nan
    prior = NStructPrior.fit(wl, kind)
    expected = n_struct_prior(wl, **{"reflectance" if kind == "R" else "transmittance": spectra})
    assert np.any(expected == 1.0) and np.any((expected > 1.0) & (expected < 4.0))  # clipped and not
    np.testing.assert_allclose(prior(spectra), expected, rtol=1e-12, atol=0)
    assert np.isnan(prior(spectra)[3]) and wl[prior.index] == (1131 if kind == "R" else 1121)


def test_float64_without_x64_is_a_one_line_error(table, tmp_path):
    settings = ArchiveSettings(**{**SETTINGS.__dict__, "dtype": "float64"})
    task = get_task("prospect-d")
    info = task.open(table, settings)
    chunk = next(iter(task.chunks(info, 8)))[1]
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match=r"jax_enable_x64") as err:
            invert_archive(table, tmp_path / "o.parquet", settings, progress=False)
        assert "\n" not in str(err.value)
        with pytest.raises(ValueError, match=r"JAX_ENABLE_X64=1 in the environment of every process"):
            solve_chunk(task, settings, info, "key", chunk)  # what every Dask task runs first
    assert not (tmp_path / "o.parquet.parts").exists()


def test_float64_on_a_worker_without_x64_fails_clearly(table, tmp_path, monkeypatch):
    """A worker *process* starts with JAX's default (32-bit) configuration, whatever the client enabled."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.delenv("JAX_ENABLE_X64", raising=False)
    settings = ArchiveSettings(**{**SETTINGS.__dict__, "dtype": "float64"})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        with pytest.raises(ValueError, match="needs JAX's 64-bit mode"):
            invert_archive(table, tmp_path / "o.parquet", settings, progress=False, client=client)
    assert not (tmp_path / "o.parquet").exists() and not (tmp_path / "o.parquet.parts").exists()
