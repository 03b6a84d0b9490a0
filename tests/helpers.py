"""Shared test helpers."""

from __future__ import annotations

import numpy as np

import leafjax as lj

D_NAMES = lj.ProspectDParams.names
PRO_NAMES = lj.ProspectProParams.names


def random_params(rng: np.random.Generator, names, n: int, margin: float = 0.0) -> dict[str, np.ndarray]:
    """Uniform random parameters strictly inside the documented bounds (``margin`` = fraction trimmed)."""
    out = {}
    for name in names:
        lo, hi = lj.bounds(name)
        span = hi - lo
        out[name] = rng.uniform(lo + margin * span, hi - margin * span, size=n)
    return out


def model_and_params(version: str, columns: dict, dtype=np.float64, wavelengths=None):
    import jax.numpy as jnp

    cls, pcls = (lj.ProspectD, lj.ProspectDParams) if version == "D" else (lj.ProspectPro, lj.ProspectProParams)
    model = cls(wavelengths=wavelengths, dtype=dtype)
    params = pcls(**{k: jnp.asarray(v, dtype=dtype) for k, v in columns.items()})
    return model, params


def interrupting_task(settings, after: int):
    """The archive task of ``settings.model``, wrapped so that it solves ``after`` chunks and then raises
    ``KeyboardInterrupt`` (a simulated crash).  The wrapper reports the inner task's configuration, so its
    finished chunks are resumable by an ordinary run."""
    from leafjax.archive import AbstractArchiveTask, get_task

    class InterruptAfter(AbstractArchiveTask):
        inner: AbstractArchiveTask
        after: int

        def open(self, path, settings, *, wavelengths_file=None):
            return self.inner.open(path, settings, wavelengths_file=wavelengths_file)

        def resolve(self, settings, info):
            return self.inner.resolve(settings, info)

        def output_columns(self, settings, info):
            return self.inner.output_columns(settings, info)

        def n_chunks(self, info, chunk_size):
            return self.inner.n_chunks(info, chunk_size)

        def chunks(self, info, chunk_size, skip=frozenset()):
            return self.inner.chunks(info, chunk_size, skip)

        def config(self):
            return self.inner.config()

        def setup(self, settings, info):
            return self.inner.setup(settings, info), []

        def run(self, state, chunk):
            inner_state, done = state
            if len(done) == self.after:
                raise KeyboardInterrupt("simulated interruption")
            done.append(chunk.start)
            return self.inner.run(inner_state, chunk)

    return InterruptAfter(get_task(settings.model), after)


def check_interrupted_run_resumes(path, settings, other_settings, tmp_path) -> None:
    """Interrupt an archive run after 2 of 3 chunks, restart it, and compare with an uninterrupted run; then check
    that an unfinished run refuses to continue under ``other_settings``."""
    import pandas as pd
    import pytest

    from leafjax.archive import invert_archive

    full = tmp_path / "full.parquet"
    invert_archive(path, full, settings, progress=False)
    out = tmp_path / "resumed.parquet"
    with pytest.raises(KeyboardInterrupt):
        invert_archive(path, out, settings, progress=False, task=interrupting_task(settings, 2))
    parts = sorted(p.name for p in (tmp_path / "resumed.parquet.parts").glob("chunk-*.parquet"))
    assert parts == ["chunk-00000000.parquet", "chunk-00000001.parquet"] and not out.exists()
    summary = invert_archive(path, out, settings, progress=False)
    assert summary["chunks_reused"] == 2 and summary["chunks_computed"] == 1
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(full))
    # an unfinished run (one chunk done) refuses to be continued with other settings
    with pytest.raises(KeyboardInterrupt):
        invert_archive(path, tmp_path / "x.parquet", settings, progress=False, task=interrupting_task(settings, 1))
    with pytest.raises(ValueError, match="other settings"):
        invert_archive(path, tmp_path / "x.parquet", other_settings, progress=False)


def canopy_test_scene(grid, n: int = 4):
    """Sentinel-2A bands of ``n`` PROSAIL pixels (float64, seed 0): ``(srf, model, table, bands)``.

    Shared by the canopy-inversion tests so that they use the same shapes (one compilation)."""
    from leafjax.inversion._canopy import DEFAULT_FIXED
    from leafjax.physics.canopy import Prosail, simulate_prosail
    from leafjax.spectral import convolve, load_srf

    srf = load_srf("sentinel-2a", grid, dtype=np.float64)
    model = Prosail(wavelengths=grid, dtype=np.float64)
    rng = np.random.default_rng(0)
    t = {k: np.full(n, v) for k, v in DEFAULT_FIXED.items()}
    t.update(lai=rng.uniform(0.5, 5, n), chl=rng.uniform(20, 70, n), ewt=rng.uniform(0.006, 0.025, n),
             sza=rng.uniform(20, 50, n), vza=rng.uniform(0, 10, n), raa=rng.uniform(0, 180, n))
    return srf, model, t, np.asarray(convolve(simulate_prosail(t, model).rsot, srf))
