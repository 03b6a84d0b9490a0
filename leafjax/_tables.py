"""Reading packaged CSV tables (soil spectra, sensor response functions) and wavelength selection."""

from __future__ import annotations

import io
from importlib import resources

import numpy as np


def read_packaged_csv(package: str, filename: str) -> tuple[list[str], np.ndarray]:
    """Header and float64 data of ``<package>/data/<filename>`` (``package`` a dotted name, e.g.
    ``"leafjax.spectral"``)."""
    raw = resources.files(package).joinpath("data", filename).read_bytes()
    return read_csv_bytes(raw)


def read_csv_bytes(raw: bytes) -> tuple[list[str], np.ndarray]:
    """Parse a comma-separated table with one header line into ``(header, data[rows, cols])``."""
    text = raw.decode("utf-8")
    header = [h.strip() for h in text.splitlines()[0].split(",")]
    data = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    if data.shape[1] != len(header):
        raise ValueError(f"table has {len(header)} header fields but {data.shape[1]} data columns")
    return header, data


def select_rows(grid: np.ndarray, wavelengths) -> np.ndarray:
    """Indices of ``wavelengths`` (nm) in ``grid``; each must lie on the grid (to 1e-6 nm).

    Raises:
        ValueError: if a wavelength is not on the grid.
    """
    wl = np.asarray(wavelengths, dtype=np.float64).reshape(-1)
    pos = np.clip(np.searchsorted(grid, wl), 0, grid.size - 1)
    bad = np.abs(grid[pos] - wl) > 1e-6
    if bad.any():
        raise ValueError(f"wavelengths not on the table grid ({grid[0]:g}–{grid[-1]:g} nm, 1 nm): "
                         f"{wl[bad][:5].tolist()}{' ...' if bad.sum() > 5 else ''}")
    return pos
