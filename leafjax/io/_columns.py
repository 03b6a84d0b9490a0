"""Spectral column names: ``R_<nm>`` (reflectance) and ``T_<nm>`` (transmittance)."""

from __future__ import annotations

import re
from numbers import Real
from typing import Iterable, Sequence

import numpy as np

_SPECTRAL = re.compile(r"^([RT])_(\d+(?:\.\d+)?)$")


def format_wavelength(wl: Real) -> str:
    """``550.0 -> "550"``, ``442.5 -> "442.5"`` (nm)."""
    w = float(wl)
    return str(int(round(w))) if abs(w - round(w)) < 1e-9 else f"{w:g}"


def spectral_columns(prefix: str, wavelengths: Iterable[Real]) -> list[str]:
    """Column names ``<prefix>_<nm>`` for ``prefix`` in ``{"R", "T"}``."""
    if prefix not in ("R", "T"):
        raise ValueError(f"spectral prefix must be 'R' or 'T', got {prefix!r}")
    return [f"{prefix}_{format_wavelength(w)}" for w in wavelengths]


def parse_spectral_columns(columns: Sequence[str], prefix: str) -> tuple[list[str], np.ndarray]:
    """Return the ``<prefix>_<nm>`` columns among ``columns`` and their wavelengths (nm, float64), in order."""
    names, wls = [], []
    for c in columns:
        m = _SPECTRAL.match(str(c))
        if m and m.group(1) == prefix:
            names.append(c)
            wls.append(float(m.group(2)))
    return names, np.asarray(wls, dtype=np.float64)
