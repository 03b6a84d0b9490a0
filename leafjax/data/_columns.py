"""Parsing of spectral column names and numeric columns, with errors that name the file and the column.

Two naming conventions are understood:

- **leafjax/GSTI style**: ``R_<nm>`` for reflectance and ``T_<nm>`` for transmittance, e.g. ``R_400``,
  ``T_2400.5`` (the format of ``shared/data/leaf_spectra/*.parquet``).
- **EcoSIS style**: the column name *is* the wavelength in nm, e.g. ``400`` or ``400.0``.

A column that *looks* spectral (a known spectral prefix followed by a number, e.g. ``Wave_400``, ``R400nm``,
``refl_400``) but follows neither convention raises :class:`ColumnError` rather than being silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

#: Plausible wavelength range of a leaf spectrometer column (nm); outside it a numeric name is not a band.
WAVELENGTH_PLAUSIBLE_NM: tuple[float, float] = (300.0, 2600.0)

_GSTI_RE = re.compile(r"^(?P<kind>[RT])_(?P<wl>\d+(?:\.\d+)?)$")
_ECOSIS_RE = re.compile(r"^(?P<wl>\d+(?:\.\d+)?)$")
# Names that look like a band but are in no supported convention (checked case-insensitively).
_SUSPECT_RE = re.compile(
    r"^(?:r|t|refl|reflectance|trans|transmittance|wave|wavelength|wl|band|b|nm|x)[ _\-.]?"
    r"(?P<wl>\d+(?:\.\d+)?)\s*(?:nm)?$|^(?P<wl2>\d+(?:\.\d+)?)\s*nm$",
    re.IGNORECASE,
)


class ColumnError(ValueError):
    """A column of an input file is missing, misnamed or not numeric; the message names file and column."""


def _plausible(wl: float) -> bool:
    return WAVELENGTH_PLAUSIBLE_NM[0] <= wl <= WAVELENGTH_PLAUSIBLE_NM[1]


def _check_suspects(columns: Iterable[str], accepted: set[str], source: str, convention: str) -> None:
    for c in columns:
        if c in accepted:
            continue
        m = _SUSPECT_RE.match(str(c).strip())
        if m is not None and _plausible(float(m.group("wl") or m.group("wl2"))):
            raise ColumnError(
                f"{source}: column {c!r} looks like a spectral band but does not follow the {convention} "
                f"naming; rename it or pass a column mapping"
            )


def _sorted_unique(wls: list[float], names: list[str], source: str, kind: str) -> tuple[np.ndarray, list[str]]:
    order = np.argsort(wls, kind="stable")
    w = np.asarray(wls, dtype=np.float64)[order]
    n = [names[i] for i in order]
    dup = np.nonzero(np.diff(w) == 0)[0]
    if dup.size:
        raise ColumnError(f"{source}: duplicate {kind} wavelength {w[dup[0]]} nm (columns {n[dup[0]]!r}, "
                          f"{n[dup[0] + 1]!r})")
    return w, n


def gsti_spectral_columns(columns: Sequence[str], source: str = "<table>") -> dict[str, tuple[np.ndarray, list[str]]]:
    """Find ``R_<nm>`` / ``T_<nm>`` columns.

    **Arguments:** ``columns``: column names; ``source``: file name used in error messages.

    **Returns:** ``{"R": (wavelengths_nm, names), "T": (...)}`` with the wavelengths sorted ascending (float64,
    nm); ``"T"`` is absent when there is no transmittance.  Raises :class:`ColumnError` when there is no
    reflectance column, when a spectral-looking column is misnamed, or when R and T grids differ.
    """
    found: dict[str, tuple[list[float], list[str]]] = {"R": ([], []), "T": ([], [])}
    accepted = set()
    for c in columns:
        m = _GSTI_RE.match(str(c))
        if m is None:
            continue
        wl = float(m.group("wl"))
        if not _plausible(wl):
            raise ColumnError(f"{source}: column {c!r}: wavelength {wl} nm outside {WAVELENGTH_PLAUSIBLE_NM} nm")
        found[m.group("kind")][0].append(wl)
        found[m.group("kind")][1].append(str(c))
        accepted.add(c)
    _check_suspects(columns, accepted, source, "R_<nm>/T_<nm>")
    if not found["R"][0]:
        raise ColumnError(f"{source}: no reflectance column named R_<nm> (e.g. 'R_400') found; "
                          f"first columns: {list(columns)[:8]}")
    out = {k: _sorted_unique(*v, source, k) for k, v in found.items() if v[0]}
    if "T" in out and not np.array_equal(out["T"][0], out["R"][0]):
        raise ColumnError(f"{source}: the T_<nm> columns are not on the same wavelengths as the R_<nm> columns")
    return out


def ecosis_spectral_columns(columns: Sequence[str], source: str = "<table>") -> tuple[np.ndarray, list[str]]:
    """Find EcoSIS wavelength-named columns (the name is the wavelength in nm, e.g. ``"400"``).

    **Returns:** ``(wavelengths_nm, names)`` sorted ascending.  Raises :class:`ColumnError` when none is found
    or a spectral-looking column uses another naming (e.g. ``Wave_400``).
    """
    wls: list[float] = []
    names: list[str] = []
    for c in columns:
        m = _ECOSIS_RE.match(str(c).strip())
        if m is not None and _plausible(float(m.group("wl"))):
            wls.append(float(m.group("wl")))
            names.append(c)
    _check_suspects(columns, set(names), source, "EcoSIS (column name = wavelength in nm)")
    if not wls:
        raise ColumnError(f"{source}: no wavelength-named column (e.g. '400' or '400.0') found; "
                          f"first columns: {list(columns)[:8]}")
    return _sorted_unique(wls, names, source, "reflectance")


def numeric_column(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """Return ``frame[column]`` as float64; missing cells (empty, NA) become NaN.

    Raises :class:`ColumnError` naming ``source`` and ``column`` when the column is absent or holds a
    non-numeric cell (the first offending row and value are quoted).
    """
    if column not in frame.columns:
        raise ColumnError(f"{source}: column {column!r} not found; available: {list(frame.columns)[:12]}"
                          f"{' ...' if frame.shape[1] > 12 else ''}")
    s = frame[column]
    if pd.api.types.is_bool_dtype(s):
        raise ColumnError(f"{source}: column {column!r} is boolean, expected numbers")
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    conv = pd.to_numeric(s, errors="coerce")
    bad = conv.isna() & s.notna() & (s.astype("string").str.strip().fillna("") != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ColumnError(f"{source}: column {column!r} has a non-numeric cell at row {i}: {s.iloc[i]!r}")
    return conv.to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_block(frame: pd.DataFrame, columns: Sequence[str], source: str) -> np.ndarray:
    """Return ``frame[columns]`` as a float64 array ``(n, len(columns))``, with :func:`numeric_column`'s errors."""
    block = frame.loc[:, list(columns)]
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in block.dtypes):
        return block.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.stack([numeric_column(frame, c, source) for c in columns], axis=1)
