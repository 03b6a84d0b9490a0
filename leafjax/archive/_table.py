"""Tables of spectra in rows (parquet / CSV / .npy): schema checks and chunked reading with bounded memory.

Input formats (documented schema):

* **parquet / CSV**: one spectrum per row; reflectance in columns ``R_<nm>`` and/or transmittance in ``T_<nm>``
  (fractions; any column order, read in increasing wavelength); every other column (e.g. ``dataset``,
  ``sample_id``) is carried through to the output unchanged.  Read by :mod:`leafjax.io` (stored pandas indexes,
  CSV records with quoted newlines, blank lines, CRLF/CR, a BOM, ``;``/tab separators and decimal commas
  detected or given by ``sep``/``decimal``); the whole file is validated before any compute: a spectral cell
  that is not a number is an error naming the file, the column and the row; empty cells are NaN (masked).
* **.npy**: an array ``(n, wl)`` of numbers, reflectance (or ``kind="T"``), with the wavelengths (nm) in a text
  file (one per line or comma separated) given by ``wavelengths_file``.

Only one chunk (plus one parquet row group) is in memory at a time, whatever the archive's length.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from .._constants import WAVELENGTH_MAX_NM, WAVELENGTH_MIN_NM
from ..io import parse_spectral_columns
from ..io._readers import check_file
from ..io._readers import (CSV_SUFFIXES, PARQUET_SUFFIXES, TableInfo, inspect_table, iter_table, short,
                           table_columns)


@dataclass
class ArchiveInfo:
    """What a task's ``open`` learnt about an archive without loading it.

    The engine reads ``path`` and ``n_rows`` (records: rows of a table, pixels of an image) and fingerprints
    ``wavelengths`` (nm, or band centres) into the manifest; the other fields describe a table of spectra in
    rows: its ``R_``/``T_`` columns (in increasing wavelength), the ``carried`` (non-spectral) columns, its
    format (``"parquet"``, ``"csv"``, ``"npy"``), for ``.npy`` whether it holds reflectance or transmittance
    (``npy_kind``), and for tables the validated :class:`~leafjax.io.TableInfo` (``table``: dialect, dtypes).
    """

    path: Path
    n_rows: int
    wavelengths: np.ndarray
    r_columns: list[str] = field(default_factory=list)
    t_columns: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    fmt: str = "parquet"
    npy_kind: str = "R"
    table: TableInfo | None = None


@dataclass
class Chunk:
    """A slice of rows: ``start`` (index of its first row in the archive), the ``carried`` columns
    (a DataFrame, index reset, dtypes fixed for the whole file) and the spectra ``(rows, wl)`` (float64 fractions
    or percent as stored; ``None`` when the archive has none).  Chunks are plain picklable data (they travel to
    Dask workers)."""

    start: int
    carried: pd.DataFrame
    reflectance: np.ndarray | None
    transmittance: np.ndarray | None


def _listed(values: np.ndarray) -> str:
    """``"2600, 2700"`` (at most 5 listed, then "…")."""
    v = [f"{x:g}" for x in np.asarray(values, np.float64)[:5]] + (["…"] if len(values) > 5 else [])
    return ", ".join(v)


def _nm(values: np.ndarray, verb: tuple[str, str]) -> str:
    """``"wavelength 2600 nm is"`` / ``"wavelengths 2600, 2700 nm are"``."""
    return f"wavelength{'' if len(values) == 1 else 's'} {_listed(values)} nm {verb[len(values) != 1]}"


def check_grid(wl: np.ndarray, source: str) -> None:
    """Reject wavelengths (nm) that are not finite, outside the models' range, off its 1-nm grid or listed twice
    (one-line ``ValueError`` starting with ``source``)."""
    wl = np.asarray(wl, np.float64).reshape(-1)
    if wl.size == 0:
        raise ValueError(f"{source}: no wavelengths")
    bad = wl[~np.isfinite(wl)]
    if bad.size:
        raise ValueError(f"{source}: {_nm(bad, ('is', 'are'))} not finite")
    bad = wl[(wl < WAVELENGTH_MIN_NM) | (wl > WAVELENGTH_MAX_NM)]
    if bad.size:
        raise ValueError(f"{source}: {_nm(bad, ('is', 'are'))} outside the model's {WAVELENGTH_MIN_NM:g}-"
                         f"{WAVELENGTH_MAX_NM:g} nm range")
    bad = wl[np.abs(wl - np.round(wl)) > 1e-9]
    if bad.size:
        raise ValueError(f"{source}: {_nm(bad, ('is', 'are'))} not on the model's 1-nm grid "
                         f"{WAVELENGTH_MIN_NM:g}-{WAVELENGTH_MAX_NM:g} nm (resample first, see leafjax.preprocessing)")
    values, counts = np.unique(wl, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"{source}: {_nm(values[counts > 1], ('appears', 'appear'))} twice")




def spectral_grid(columns: Sequence[str], prefix: str, source) -> tuple[list[str], np.ndarray]:
    """The ``<prefix>_<nm>`` columns (checked by :func:`check_grid`) and wavelengths, in increasing order."""
    names, wl = parse_spectral_columns(list(columns), prefix)
    if not names:
        return [], wl
    check_grid(wl, f"{source}: {prefix}_ columns")
    order = np.argsort(wl, kind="stable")
    return [names[i] for i in order], wl[order]


def _no_spectra(p: Path, columns: Sequence[str], what: str) -> ValueError:
    hint = ""
    if len(columns) == 1 and any(s in columns[0] for s in (";", "\t")):
        hint = "; the file looks " + ("';'" if ";" in columns[0] else "tab") + "-separated: pass --sep (sep=)"
    return ValueError(f"{p}: no {what} columns found (columns: {short(list(columns[:5]), 100)}){hint}")


def open_archive(path: str | os.PathLike, *, wavelengths_file: str | None = None, kind: str = "R",
                 sep: str | None = None, decimal: str | None = None) -> ArchiveInfo:
    """Inspect a table of leaf spectra and validate all of it, before any compute (see the module docstring).

    **Arguments:** ``path`` (.parquet/.pq, .csv/.tsv/.txt or .npy); for CSV, ``sep`` and ``decimal``
    (``None``: detected); for .npy, ``wavelengths_file`` (nm, one per band) and ``kind`` (``"R"`` or ``"T"``).
    **Returns:** :class:`ArchiveInfo`.  Raises a one-line ``ValueError`` (:class:`~leafjax.io.TableError`) or
    ``OSError`` naming the problem (and for a bad cell the column and the row).
    """
    p = Path(path)
    check_file(p)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        return _open_npy(p, wavelengths_file, kind)
    if suffix not in PARQUET_SUFFIXES + CSV_SUFFIXES:
        raise ValueError(f"{p}: unknown archive format {short(suffix, 20)!r} (use .parquet, .csv or .npy)")
    columns = table_columns(p, sep=sep, decimal=decimal)
    rcols, rwl = spectral_grid(columns, "R", p)
    tcols, twl = spectral_grid(columns, "T", p)
    if not rcols and not tcols:
        raise _no_spectra(p, columns, "R_<nm> or T_<nm>")
    if rcols and tcols and not np.array_equal(rwl, twl):
        r_only, t_only = np.setdiff1d(rwl, twl), np.setdiff1d(twl, rwl)
        parts = [f"R_ only at {_listed(r_only)} nm" if r_only.size else "",
                 f"T_ only at {_listed(t_only)} nm" if t_only.size else ""]
        raise ValueError(f"{p}: R_ and T_ columns are on different wavelength grids "
                         f"({'; '.join(x for x in parts if x)})")
    table = inspect_table(p, sep=sep, decimal=decimal, numeric=rcols + tcols)
    if table.n_rows == 0:
        raise ValueError(f"{p}: the archive has no rows")
    spectral = set(rcols) | set(tcols)
    return ArchiveInfo(p, table.n_rows, rwl if rcols else twl, rcols, tcols,
                       [c for c in table.columns if c not in spectral], table.fmt, table=table)


def read_wavelengths(path) -> np.ndarray:
    """Wavelengths (nm, float64) from a text file: one per line, or separated by commas, semicolons or spaces."""
    w = Path(path)
    if not w.is_file():
        raise OSError(f"{w}: no such wavelengths file")
    try:
        text = w.read_text(encoding="utf-8-sig").strip()
    except UnicodeDecodeError:
        raise ValueError(f"{w}: the wavelengths file is not text") from None
    if not text:
        raise ValueError(f"{w}: the wavelengths file is empty")
    values = []
    for token in re.split(r"[\s,;]+", text):
        try:
            values.append(float(token))
        except ValueError:
            raise ValueError(f"{w}: {short(repr(token), 40)} is not a wavelength in nm (write one number per band, "
                             f"one per line or comma separated)") from None
    return np.asarray(values, np.float64)


def _open_npy(p: Path, wavelengths_file, kind: str) -> ArchiveInfo:
    if kind not in ("R", "T"):
        raise ValueError(f"kind must be 'R' or 'T', got {short(repr(kind), 20)}")
    if wavelengths_file is None:
        raise ValueError(f"{p}: a .npy archive needs a wavelengths file (one wavelength in nm per band)")
    wl = read_wavelengths(wavelengths_file)
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e).lower() or "object" in str(e).lower():
            raise ValueError(f"{p}: the array holds Python objects, not numbers") from None
        raise ValueError(f"{p}: cannot read .npy ({short(str(e), 100)})") from None
    except Exception as e:  # noqa: BLE001 - a truncated or foreign file
        raise ValueError(f"{p}: cannot read .npy ({type(e).__name__}: {short(str(e), 100)})") from None
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{p}: not a .npy array (an .npz archive?)")
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{p}: the array holds {short(str(arr.dtype), 30)} values, not numbers")
    if arr.ndim != 2:
        raise ValueError(f"{p}: expected a 2-D array (rows, bands), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{p}: the array has no rows")
    if arr.shape[1] != wl.size:
        raise ValueError(f"{p}: the array has {arr.shape[1]} bands but {wavelengths_file} lists {wl.size} "
                         f"wavelengths")
    check_grid(wl, str(wavelengths_file))
    return ArchiveInfo(p, int(arr.shape[0]), wl, fmt="npy", npy_kind=kind)


def iter_chunks(info: ArchiveInfo, chunk_size: int, start_chunk: int = 0) -> Iterator[tuple[int, Chunk]]:
    """Yield ``(chunk_index, Chunk)`` from ``start_chunk`` on; only one chunk is in memory at a time.

    Always yields at least one chunk from index 0 (an archive without rows is a ``ValueError``, never a bare
    ``StopIteration``); ``chunk_size`` < 1 is a ``ValueError``.
    """
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    yielded = False
    for i, chunk in _chunks(info, chunk_size):
        if i >= start_chunk:
            yielded = True
            yield i, chunk
    if not yielded and start_chunk == 0:
        raise ValueError(f"{info.path}: the archive has no rows")


def _chunks(info: ArchiveInfo, chunk_size: int) -> Iterator[tuple[int, Chunk]]:
    if info.fmt == "npy":
        arr = np.load(info.path, mmap_mode="r", allow_pickle=False)
        for i, s in enumerate(range(0, info.n_rows, chunk_size)):
            block = np.asarray(arr[s:s + chunk_size], dtype=np.float64)
            carried = pd.DataFrame(index=pd.RangeIndex(block.shape[0]))
            yield i, Chunk(s, carried, block if info.npy_kind == "R" else None,
                           block if info.npy_kind == "T" else None)
        return
    table = info.table
    if table is None:  # an ArchiveInfo made by hand: validate now
        table = inspect_table(info.path, numeric=list(info.r_columns) + list(info.t_columns))
    columns = list(info.carried) + list(info.r_columns) + list(info.t_columns)
    for i, (start, df) in enumerate(iter_table(table, chunk_size, columns)):
        r = df[info.r_columns].to_numpy(dtype=np.float64) if info.r_columns else None
        t = df[info.t_columns].to_numpy(dtype=np.float64) if info.t_columns else None
        yield i, Chunk(start, df[list(info.carried)].reset_index(drop=True), r, t)
