"""Tables of spectra in rows (parquet / CSV / .npy): schema checks and chunked reading with bounded memory.

Input formats (documented schema):

* **parquet / CSV**: one spectrum per row; reflectance in columns ``R_<nm>`` and/or transmittance in ``T_<nm>``
  (fractions); every other column (e.g. ``dataset``, ``sample_id``) is carried through to the output unchanged.
* **.npy**: an array ``(n, wl)`` of reflectance (or ``kind="T"``), with the wavelengths (nm) in a text file (one
  per line or comma separated) given by ``wavelengths_file``.

Only one chunk (plus one parquet row group) is in memory at a time, whatever the archive's length.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._constants import WAVELENGTH_MAX_NM, WAVELENGTH_MIN_NM
from ..io import parse_spectral_columns


@dataclass
class ArchiveInfo:
    """What a task's ``open`` learnt about an archive without loading it.

    The engine reads ``path`` and ``n_rows`` (records: rows of a table, pixels of an image) and fingerprints
    ``wavelengths`` (nm, or band centres) into the manifest; the other fields describe a table of spectra in
    rows: its ``R_``/``T_`` columns, the ``carried`` (non-spectral) columns, its format (``"parquet"``,
    ``"csv"``, ``"npy"``) and, for ``.npy``, whether it holds reflectance or transmittance (``npy_kind``).
    """

    path: Path
    n_rows: int
    wavelengths: np.ndarray
    r_columns: list[str] = field(default_factory=list)
    t_columns: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    fmt: str = "parquet"
    npy_kind: str = "R"


@dataclass
class Chunk:
    """A slice of rows: ``start`` (index of its first row in the archive), the ``carried`` columns
    (a DataFrame, index reset) and the spectra ``(rows, wl)`` (float64 fractions or percent as stored; ``None``
    when the archive has none).  Chunks are plain picklable data (they travel to Dask workers)."""

    start: int
    carried: pd.DataFrame
    reflectance: np.ndarray | None
    transmittance: np.ndarray | None


def check_grid(wl: np.ndarray, source: str) -> None:
    """Reject wavelengths (nm) off the models' 1-nm grid within its range, or listed twice."""
    bad = wl[(wl < WAVELENGTH_MIN_NM) | (wl > WAVELENGTH_MAX_NM) | (np.abs(wl - np.round(wl)) > 1e-9)]
    if bad.size:
        raise ValueError(f"{source}: wavelength(s) {bad[:5].tolist()} nm are not on the model's 1-nm grid "
                         f"{WAVELENGTH_MIN_NM}-{WAVELENGTH_MAX_NM} nm (resample first, see leafjax.preprocessing)")
    if np.unique(wl).size != wl.size:
        raise ValueError(f"{source}: a wavelength appears twice")


def check_file(p: Path) -> None:
    """``OSError`` if ``p`` is missing, ``ValueError`` if it is empty."""
    if not p.is_file():
        raise OSError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise ValueError(f"{p}: the file is empty")


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
    """Inspect a table of leaf spectra (without loading it) and validate its schema (see the module docstring).

    **Arguments:** ``path`` (.parquet, .csv or .npy); for .npy, ``wavelengths_file`` (nm, one per band) and
    ``kind`` (``"R"`` or ``"T"``).  **Returns:** :class:`ArchiveInfo`.  Raises ``ValueError`` naming the problem.
    """
    p = Path(path)
    check_file(p)
    if p.suffix.lower() == ".npy":
        if wavelengths_file is None:
            raise ValueError(f"{p}: a .npy archive needs a wavelengths file (one wavelength in nm per band)")
        wl = np.loadtxt(wavelengths_file, delimiter="," if "," in Path(wavelengths_file).read_text() else None,
                        dtype=np.float64).reshape(-1)
        arr = np.load(p, mmap_mode="r")
        if arr.ndim != 2 or arr.shape[1] != wl.size:
            raise ValueError(f"{p}: expected an array (n, {wl.size}) matching {wavelengths_file}, got {arr.shape}")
        check_grid(wl, str(wavelengths_file))
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
    check_grid(wl, str(p))
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
