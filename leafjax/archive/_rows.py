"""Per-row validity flags and the layout of a chunk's output rows (shared by every row task).

Per-row flags (``flags`` column, ``;``-separated; such rows get status ``invalid_input`` and NaN estimates
unless stated): ``out_of_range`` (a value < -0.05 or > 1.05 — e.g. percent in a fraction file), ``no_valid_band``,
``missing_bands`` (some bands NaN: masked, still inverted), ``not_converged`` (inverted, iteration limit hit);
tasks may add their own (e.g. ``invalid_geometry``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..inversion import Status
from ._settings import ArchiveSettings
from ._table import ArchiveInfo, iter_chunks

#: Accepted value range of a fraction (rows outside are flagged ``out_of_range``).
VALUE_MIN, VALUE_MAX = -0.05, 1.05
#: Columns every row task writes after its estimates.
DIAGNOSTIC_COLUMNS: tuple[str, ...] = ("rmse", "iterations", "status", "flags")
_STATUS_NAMES = {int(s): s.name.lower() for s in Status}


def row_flags(spectra: list[np.ndarray]) -> tuple[np.ndarray, list[list[str]]]:
    """Per-row validity of spectra ``[(n, wl), ...]`` (fractions): ``(valid (n,) bool, sorted flags per row)``;
    NaN bands are allowed (masked).

    Example:
        >>> valid, flags = row_flags([np.array([[0.1, 0.2], [0.1, np.nan], [10.0, 20.0]])])
        >>> valid.tolist(), flags
        ([True, True, False], [[], ['missing_bands'], ['out_of_range']])
    """
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


def padded_rows(rows: np.ndarray, size: int) -> np.ndarray:
    """Indices ``rows`` padded to ``size`` with copies of the first (solved, then dropped), so that every chunk
    of a run has one shape and reuses one compilation."""
    return np.concatenate([rows, np.repeat(rows[:1], max(size - rows.size, 0))])


def output_rows(carried: pd.DataFrame, cols: dict, extra: dict, status: np.ndarray,
                flags: list[list[str]]) -> pd.DataFrame:
    """A chunk's output: carried columns (clashing names renamed ``input_<name>``), estimates ``cols``, ``extra``
    (``rmse``, ``iterations``), ``status`` names and ``;``-joined ``flags``."""
    carried = carried.reset_index(drop=True)
    taken = set(cols) | set(extra) | {"status", "flags"}
    carried = carried.rename(columns={c: f"input_{c}" for c in carried.columns if c in taken})
    out = pd.concat([carried, pd.DataFrame(cols), pd.DataFrame(extra)], axis=1)
    out["status"] = [_STATUS_NAMES[int(s)] for s in status]
    out["flags"] = [";".join(f) for f in flags]
    return out


def sanity_check_percent(info: ArchiveInfo, settings: ArchiveSettings) -> None:
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
