"""Inversion of spectral archives too large for memory: chunked reading, incremental writing, resume.

Input formats (documented schema):

* **parquet / CSV**: one spectrum per row; reflectance in columns ``R_<nm>`` and/or transmittance in ``T_<nm>``
  (fractions); every other column (e.g. ``dataset``, ``sample_id``) is carried through to the output unchanged.
* **.npy**: an array ``(n, wl)`` of reflectance (or ``--kind T``), with the wavelengths (nm) in a text file (one
  per line or comma separated) given by ``wavelengths_file``.

Output: a parquet file with one row per input row, in input order: the carried columns, the estimates (canonical
names; PROSPECT-PRO also ``lma``, ``nitrogen``), ``<name>_std``, ``rmse``, ``iterations``, ``status`` and
``flags``; a carried column whose name clashes with an output column (e.g. measured ``chl``) is renamed
``input_<name>``.  While running, finished chunks are written atomically to ``<out>.parts/`` together with a manifest of
the run's settings; an interrupted run started again with the same settings skips the finished chunks, and the
final file is assembled only when every chunk is done.  Memory is bounded by the chunk size (plus one parquet row
group of the input), whatever the archive's length.

Per-row flags (``flags`` column, ``;``-separated; such rows get status ``invalid_input`` and NaN estimates
unless stated): ``out_of_range`` (a value < -0.05 or > 1.05 — e.g. percent in a fraction file), ``no_valid_band``,
``missing_bands`` (some bands NaN: masked, still inverted), ``not_converged`` (inverted, iteration limit hit).
A file whose rows mostly exceed 1.05 is rejected with an error suggesting ``percent=True``.

Canopy archives (``model="prosail"``, with ``sensor``/``leaf_model``/``grid_step``) are opened and solved by
:mod:`leafjax.archive._canopy` (band columns ``R_<band>``, per-row geometry), through the same chunking,
flags and resumption.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._constants import WAVELENGTH_MAX_NM, WAVELENGTH_MIN_NM
from ..io import parse_spectral_columns
from ..inversion._result import Status

#: Accepted value range of a fraction (rows outside are flagged ``out_of_range``).
VALUE_MIN, VALUE_MAX = -0.05, 1.05
_STATUS_NAMES = {int(s): s.name.lower() for s in Status}


@dataclass(frozen=True)
class ArchiveSettings:
    """Everything that determines an archive run's output (stored in the manifest for safe resumption)."""

    model: str
    strategy: str = "full"
    chunk_size: int = 4096
    use_r: bool = True
    use_t: bool = True
    percent: bool = False
    dtype: str = "float32"
    n_starts: int = 1
    max_steps: int = 60
    free: tuple[str, ...] | None = None
    kind: str = "R"  # for .npy inputs
    # model="prosail" (canopy archives, see leafjax.archive._canopy): band columns R_<band> of this sensor
    # (None: R_<nm> columns), the leaf model inside PROSAIL, and the simulation grid step (nm) with a sensor
    sensor: str | None = None
    leaf_model: str = "prospect-d"
    grid_step: int = 1


@dataclass
class Chunk:
    start: int
    carried: pd.DataFrame
    reflectance: np.ndarray | None
    transmittance: np.ndarray | None


@dataclass
class ArchiveInfo:
    path: Path
    n_rows: int
    wavelengths: np.ndarray
    r_columns: list[str] = field(default_factory=list)
    t_columns: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    fmt: str = "parquet"
    npy_kind: str = "R"


def _check_grid(wl: np.ndarray, source: str) -> None:
    bad = wl[(wl < WAVELENGTH_MIN_NM) | (wl > WAVELENGTH_MAX_NM) | (np.abs(wl - np.round(wl)) > 1e-9)]
    if bad.size:
        raise ValueError(f"{source}: wavelength(s) {bad[:5].tolist()} nm are not on the model's 1-nm grid "
                         f"{WAVELENGTH_MIN_NM}-{WAVELENGTH_MAX_NM} nm (resample first, see leafjax.preprocessing)")
    if np.unique(wl).size != wl.size:
        raise ValueError(f"{source}: a wavelength appears twice")


def read_header(p: Path) -> tuple[list[str], int, str]:
    """``(columns, rows, format)`` of a parquet or CSV archive, without reading its data."""
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            schema = pq.read_schema(p)
            n = pq.ParquetFile(p).metadata.num_rows
        except Exception as e:
            raise ValueError(f"{p}: cannot read parquet ({type(e).__name__}: {e})") from None
        return list(schema.names), n, "parquet"
    if suffix in (".csv", ".txt"):
        try:
            columns = list(pd.read_csv(p, nrows=0).columns)
        except Exception as e:
            raise ValueError(f"{p}: cannot read CSV header ({type(e).__name__}: {e})") from None
        with open(p, "rb") as fh:
            n = max(sum(1 for _ in fh) - 1, 0)
        return columns, n, "csv"
    raise ValueError(f"{p}: unknown archive format {suffix!r} (use .parquet, .csv or .npy)")


def open_archive(path: str | os.PathLike, *, wavelengths_file: str | None = None, kind: str = "R") -> ArchiveInfo:
    """Inspect an archive (without loading it) and validate its schema."""
    p = Path(path)
    if not p.is_file():
        raise OSError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise ValueError(f"{p}: the file is empty")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        if wavelengths_file is None:
            raise ValueError(f"{p}: a .npy archive needs a wavelengths file (one wavelength in nm per band)")
        wl = np.loadtxt(wavelengths_file, delimiter="," if "," in Path(wavelengths_file).read_text() else None,
                        dtype=np.float64).reshape(-1)
        arr = np.load(p, mmap_mode="r")
        if arr.ndim != 2 or arr.shape[1] != wl.size:
            raise ValueError(f"{p}: expected an array (n, {wl.size}) matching {wavelengths_file}, got {arr.shape}")
        _check_grid(wl, str(wavelengths_file))
        if kind not in ("R", "T"):
            raise ValueError("kind must be 'R' or 'T'")
        return ArchiveInfo(p, arr.shape[0], wl, fmt="npy", npy_kind=kind)
    columns, n, fmt = read_header(p)
    rcols, rwl = parse_spectral_columns(columns, "R")
    tcols, twl = parse_spectral_columns(columns, "T")
    if not rcols and not tcols:
        raise ValueError(f"{p}: no R_<nm> or T_<nm> columns found (columns start with {columns[:5]})")
    if rcols and tcols and not np.array_equal(rwl, twl):
        raise ValueError(f"{p}: R_ and T_ columns are on different wavelength grids")
    wl = rwl if rcols else twl
    if np.any(np.diff(wl) <= 0):
        raise ValueError(f"{p}: spectral columns must be in increasing wavelength order")
    _check_grid(wl, str(p))
    if n == 0:
        raise ValueError(f"{p}: the archive has no rows")
    spectral = set(rcols) | set(tcols)
    return ArchiveInfo(p, n, wl, rcols, tcols, [c for c in columns if c not in spectral], fmt)


def _to_float(df: pd.DataFrame, cols: list[str], source: Path) -> np.ndarray:
    try:
        return df[cols].to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        for c in cols:
            bad = pd.to_numeric(df[c], errors="coerce").isna() & df[c].notna()
            if bad.any():
                raise ValueError(f"{source}: column {c!r} has non-numeric values (e.g. {df[c][bad].iloc[0]!r})")
        raise


def iter_chunks(info: ArchiveInfo, chunk_size: int, start_chunk: int = 0) -> Iterator[tuple[int, Chunk]]:
    """Yield ``(chunk_index, Chunk)`` from ``start_chunk`` on; only one chunk is in memory at a time."""
    if info.fmt == "npy":
        arr = np.load(info.path, mmap_mode="r")
        for i, s in enumerate(range(0, info.n_rows, chunk_size)):
            if i < start_chunk:
                continue
            block = np.asarray(arr[s:s + chunk_size], dtype=np.float64)
            carried = pd.DataFrame(index=pd.RangeIndex(s, s + block.shape[0]))
            yield i, Chunk(s, carried, block if info.npy_kind == "R" else None,
                           block if info.npy_kind == "T" else None)
        return
    if info.fmt == "parquet":
        batches = _parquet_batches(info.path, chunk_size)
    else:
        batches = pd.read_csv(info.path, chunksize=chunk_size)
    start = 0
    for i, df in enumerate(batches):
        n = len(df)
        if i >= start_chunk:
            r = _to_float(df, info.r_columns, info.path) if info.r_columns else None
            t = _to_float(df, info.t_columns, info.path) if info.t_columns else None
            yield i, Chunk(start, df[info.carried].reset_index(drop=True), r, t)
        start += n


def _parquet_batches(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    """Row groups read one at a time and re-cut into ``chunk_size`` rows.

    (``ParquetFile.iter_batches`` was measured to keep ~3 MB per batch allocated in Arrow's memory pool, so a long
    archive grew the process by hundreds of MB; whole row groups are released as soon as they are consumed.)
    """
    pf = pq.ParquetFile(path)
    pending: list[pa.Table] = []
    rows = 0
    for g in range(pf.num_row_groups):
        table = pf.read_row_group(g)
        pending.append(table)
        rows += table.num_rows
        while rows >= chunk_size:
            merged = pa.concat_tables(pending)
            yield merged.slice(0, chunk_size).to_pandas()
            rest = merged.slice(chunk_size)
            pending, rows = ([rest] if rest.num_rows else []), rest.num_rows
            del merged
    if rows:
        yield pa.concat_tables(pending).to_pandas()


def row_flags(spectra: list[np.ndarray]) -> tuple[np.ndarray, list[list[str]]]:
    """Per-row validity: ``(valid (n,) bool, flags per row)``; NaN bands are allowed (masked)."""
    n = spectra[0].shape[0]
    flags: list[list[str]] = [[] for _ in range(n)]
    valid = np.ones(n, bool)
    for x in spectra:
        with np.errstate(invalid="ignore"):
            out = np.any((x < VALUE_MIN) | (x > VALUE_MAX), axis=1)
        nan_rows = np.any(np.isnan(x), axis=1)
        empty = np.all(np.isnan(x), axis=1)
        for i in np.flatnonzero(out):
            flags[i].append("out_of_range")
        for i in np.flatnonzero(empty):
            flags[i].append("no_valid_band")
        for i in np.flatnonzero(nan_rows & ~empty):
            flags[i].append("missing_bands")
        valid &= ~out & ~empty
    return valid, [sorted(set(f)) for f in flags]


def _settings_digest(settings: ArchiveSettings, info: ArchiveInfo) -> dict:
    st = info.path.stat()
    return {"settings": asdict(settings), "input": str(info.path.resolve().name), "input_size": st.st_size,
            "input_mtime_ns": st.st_mtime_ns, "n_rows": info.n_rows,
            "wavelengths_sha1": hashlib.sha1(np.asarray(info.wavelengths).tobytes()).hexdigest()}


def _write_part(path: Path, df: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def invert_archive(input_path, output_path, settings: ArchiveSettings, *, wavelengths_file: str | None = None,
                   resume: bool = True, progress: bool = True, chunk_runner=None, client=None,
                   max_in_flight: int | None = None) -> dict:
    """Invert every spectrum of an archive; see the module docstring for formats, flags and resumption.

    **Arguments:**
    - ``input_path``, ``output_path``: archive and output parquet file.
    - ``settings``: :class:`ArchiveSettings`.
    - ``resume``: reuse finished chunks of an interrupted run with identical settings (default); ``False``
      discards them.
    - ``chunk_runner``: optional callable ``(settings, wavelengths, chunk) -> DataFrame`` used instead of the
      in-process solver.
    - ``client``: optional ``dask.distributed.Client``: chunks are solved on its workers (which need leafjax
      installed), at most ``max_in_flight`` at a time (default: 2 per worker) so that memory stays bounded;
      each finished chunk is written as it arrives, so resumption works as for a local run.

    **Returns:** a summary dict (rows, chunks computed and reused, seconds, spectra/s, status counts).
    """
    if settings.model == "prosail":
        from ._canopy import open_canopy_archive

        info = open_canopy_archive(input_path, settings)
    else:
        info = open_archive(input_path, wavelengths_file=wavelengths_file, kind=settings.kind)
    out = Path(output_path)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OSError(f"{out}: folder {parent} does not exist or is not writable")
    use_r = settings.use_r and (bool(info.r_columns) or (info.fmt == "npy" and info.npy_kind == "R"))
    use_t = settings.use_t and (bool(info.t_columns) or (info.fmt == "npy" and info.npy_kind == "T"))
    if not (use_r or use_t):
        raise ValueError(f"{info.path}: the archive has none of the requested spectra (R: {settings.use_r}, "
                         f"T: {settings.use_t})")
    settings = ArchiveSettings(**{**asdict(settings), "use_r": use_r, "use_t": use_t})
    _sanity_check_percent(info, settings)
    parts = out.with_name(out.name + ".parts")
    manifest_path = parts / "manifest.json"
    digest = _settings_digest(settings, info)
    if parts.exists():
        old = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
        if not resume or old != json.loads(json.dumps(digest)):
            if resume and old is not None:
                raise ValueError(f"{parts} holds an unfinished run with other settings or input; remove it or "
                                 f"pass resume=False (--overwrite) to start again")
            shutil.rmtree(parts)
    parts.mkdir(exist_ok=True)
    manifest_path.write_text(json.dumps(digest, indent=1))
    n_chunks = -(-info.n_rows // settings.chunk_size)
    done = {int(p.stem.split("-")[1]) for p in parts.glob("chunk-*.parquet")}
    runner = chunk_runner or _run_chunk
    t0 = time.perf_counter()
    computed = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=info.n_rows, unit="spectra", desc="invert", smoothing=0.1)
        bar.update(sum(min(settings.chunk_size, info.n_rows - i * settings.chunk_size) for i in done))
    def finish(i: int, df: pd.DataFrame) -> None:
        nonlocal computed
        _write_part(parts / f"chunk-{i:08d}.parquet", df)
        computed += 1
        if bar is not None:
            bar.update(len(df))

    todo = ((i, c) for i, c in iter_chunks(info, settings.chunk_size) if i not in done)
    try:
        if client is None:
            for i, chunk in todo:
                finish(i, runner(settings, info.wavelengths, chunk))
        else:
            _run_on_dask(client, runner, settings, info.wavelengths, todo, finish, max_in_flight)
    except BaseException:
        # finished chunks stay for a resumed run; a run that finished none leaves nothing behind
        if not any(parts.glob("chunk-*.parquet")):
            shutil.rmtree(parts, ignore_errors=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    status_counts = _assemble(parts, n_chunks, out)
    shutil.rmtree(parts)
    rows_computed = min(info.n_rows, computed * settings.chunk_size)
    return {"rows": info.n_rows, "chunks": n_chunks, "chunks_computed": computed,
            "chunks_reused": n_chunks - computed, "seconds": elapsed,
            "spectra_per_second": rows_computed / elapsed if elapsed > 0 and computed else float("nan"),
            "status": status_counts}


def _run_on_dask(client, runner, settings, wavelengths, todo, finish, max_in_flight) -> None:
    from distributed import as_completed

    if max_in_flight is None:
        max_in_flight = max(2, 2 * len(client.scheduler_info().get("workers", {})))
    pending: dict = {}
    stream = as_completed()
    try:
        for i, chunk in todo:
            fut = client.submit(runner, settings, wavelengths, chunk, pure=False)
            pending[fut] = i
            stream.add(fut)
            while len(pending) >= max_in_flight:
                done_fut = next(stream)
                finish(pending.pop(done_fut), done_fut.result())
        for done_fut in stream:
            finish(pending.pop(done_fut), done_fut.result())
    finally:
        for fut in pending:
            fut.cancel()


def _sanity_check_percent(info: ArchiveInfo, settings: ArchiveSettings) -> None:
    """Reject a file that is evidently in percent (most rows > 1.05) unless ``percent`` is set."""
    if settings.percent:
        return
    _, first = next(iter_chunks(info, min(settings.chunk_size, 1000)))
    x = first.reflectance if first.reflectance is not None else first.transmittance
    with np.errstate(invalid="ignore"):
        share = np.mean(np.nanmax(x, axis=1) > VALUE_MAX)
    if share > 0.5:
        raise ValueError(f"{info.path}: {share:.0%} of the first rows exceed {VALUE_MAX}: the spectra look like "
                         f"percentages; pass --percent (percent=True) to divide by 100")


def output_trait_names(model_name: str) -> list[str]:
    """Estimate columns of an archive run: the model's parameters, plus ``lma``/``nitrogen`` for PROSPECT-PRO."""
    from ..physics import ProspectProParams, get_leaf_model

    cls = get_leaf_model(model_name, wavelengths=[800.0]).params_type
    return list(cls.names) + (["lma", "nitrogen"] if cls is ProspectProParams else [])


def _run_chunk(settings: ArchiveSettings, wavelengths: np.ndarray, chunk: Chunk) -> pd.DataFrame:
    """Invert one chunk in this process and return its output rows (``model="prosail"``: canopy runner)."""
    if settings.model == "prosail":
        from ._canopy import run_canopy_chunk

        return run_canopy_chunk(settings, wavelengths, chunk)
    import jax
    import jax.numpy as jnp

    from ..inversion._strategies import invert_spectra

    scale = 0.01 if settings.percent else 1.0
    r = None if chunk.reflectance is None or not settings.use_r else chunk.reflectance * scale
    t = None if chunk.transmittance is None or not settings.use_t else chunk.transmittance * scale
    spectra = [x for x in (r, t) if x is not None]
    valid, flags = row_flags(spectra)
    n = spectra[0].shape[0]
    rows = np.flatnonzero(valid)
    dtype = jnp.float64 if settings.dtype == "float64" else jnp.float32
    status = np.full(n, int(Status.INVALID_INPUT), np.int8)
    est_cols: dict[str, np.ndarray] = {}
    extra = {"rmse": np.full(n, np.nan), "iterations": np.zeros(n, np.int32)}
    if rows.size:
        # pad the valid rows to the chunk size so that every chunk reuses one compilation
        pad = settings.chunk_size - rows.size if rows.size < settings.chunk_size else 0
        sel = np.concatenate([rows, np.repeat(rows[:1], pad)])
        res = invert_spectra(settings.model, wavelengths,
                             reflectance=None if r is None else r[sel],
                             transmittance=None if t is None else t[sel],
                             strategy=settings.strategy, free=settings.free, dtype=dtype,
                             n_starts=settings.n_starts, max_steps=settings.max_steps)
        jax.block_until_ready(res.cost)
        k = rows.size
        for name, v in res.estimates.items():
            est_cols.setdefault(name, np.full(n, np.nan))[rows] = np.asarray(v)[:k]
        for name, v in res.std.items():
            est_cols.setdefault(f"{name}_std", np.full(n, np.nan))[rows] = np.asarray(v)[:k]
        extra["rmse"][rows] = np.asarray(res.rmse)[:k]
        extra["iterations"][rows] = np.asarray(res.iterations)[:k]
        status[rows] = np.asarray(res.status)[:k]
        for i in rows[status[rows] == Status.MAX_STEPS]:
            flags[i].append("not_converged")
    names = output_trait_names(settings.model)
    cols = {}
    for name in names:
        cols[name] = est_cols.get(name, np.full(n, np.nan))
        cols[f"{name}_std"] = est_cols.get(f"{name}_std", np.full(n, np.nan))
    return output_rows(chunk.carried, cols, extra, status, flags)


def output_rows(carried: pd.DataFrame, cols: dict, extra: dict, status: np.ndarray,
                flags: list[list[str]]) -> pd.DataFrame:
    """A chunk's output: carried columns (clashing names renamed ``input_<name>``), estimates, ``extra``
    (``rmse``, ``iterations``), ``status`` names and ``;``-joined ``flags``."""
    carried = carried.reset_index(drop=True)
    taken = set(cols) | set(extra) | {"status", "flags"}
    carried = carried.rename(columns={c: f"input_{c}" for c in carried.columns if c in taken})
    out = pd.concat([carried, pd.DataFrame(cols), pd.DataFrame(extra)], axis=1)
    out["status"] = [_STATUS_NAMES[int(s)] for s in status]
    out["flags"] = [";".join(f) for f in flags]
    return out


def _assemble(parts: Path, n_chunks: int, out: Path) -> dict:
    files = [parts / f"chunk-{i:08d}.parquet" for i in range(n_chunks)]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise RuntimeError(f"cannot assemble {out}: missing {missing[:3]}")
    tmp = out.with_name(f".{out.name}.partial")
    writer = None
    counts: dict[str, int] = {}
    try:
        for f in files:
            table = pq.read_table(f)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            table = table.cast(writer.schema) if table.schema != writer.schema else table
            writer.write_table(table)
            for s, c in pd.Series(table.column("status").to_pylist()).value_counts().items():
                counts[s] = counts.get(s, 0) + int(c)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, out)
    return counts
