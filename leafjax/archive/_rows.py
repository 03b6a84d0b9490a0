"""Per-row quality of a chunk, the padding of its valid rows, and the layout of its output rows (shared by
every row task).

Per-row quality is the bit mask of :class:`leafjax._flags.Quality`: the input checks of
:func:`leafjax.inversion.spectrum_quality` (one implementation, for the archive and the Python API alike) made on
every spectrum of the row (R and T each), the task's own checks (e.g. ``invalid_geometry``), then the fit checks of
:func:`leafjax.inversion.invert`.  Rows with a bit of :data:`leafjax._flags.NOT_INVERTED` are not inverted (status
``invalid_input``, NaN estimates).  The ``quality_flags`` column holds the flag names, sorted and ``;``-joined,
with ``at_bound`` written once per parameter as ``at_bound:<name>`` (meanings: ``leafjax._flags``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._flags import NOT_INVERTED, VALUE_RANGE, quality_names
from ..inversion import Status
from ._settings import ArchiveSettings
from ._table import ArchiveInfo, iter_chunks

#: Accepted value range of a fraction (rows outside are flagged ``out_of_range``).
VALUE_MIN, VALUE_MAX = VALUE_RANGE
#: Columns every row task writes after its estimates.
DIAGNOSTIC_COLUMNS: tuple[str, ...] = ("rmse", "iterations", "status", "quality_flags")
_STATUS_NAMES = {int(s): s.name.lower() for s in Status}


def row_quality(spectra: list[np.ndarray]) -> np.ndarray:
    """Input quality bits ``(n,)`` (``int32``) of spectra ``[(n, wl), ...]`` (fractions; R and T of the same
    rows): :func:`leafjax.inversion.spectrum_quality` of each, OR-ed."""
    from ..inversion import spectrum_quality

    q = np.zeros(spectra[0].shape[0], np.int32)
    for x in spectra:
        q |= np.asarray(spectrum_quality(np.asarray(x)), np.int32)
    return q


def row_flags(spectra: list[np.ndarray]) -> tuple[np.ndarray, list[list[str]]]:
    """Per-row validity of spectra ``[(n, wl), ...]`` (fractions): ``(inverted (n,) bool, sorted flag names per
    row)``; a thin wrapper of :func:`row_quality`.  NaN bands are allowed (masked).

    Example:
        >>> valid, flags = row_flags([np.array([[0.1, 0.2, 0.3], [0.1, np.nan, 0.3], [10.0, 20.0, 30.0]])])
        >>> valid.tolist(), flags
        ([True, True, False], [[], ['missing_bands'], ['out_of_range', 'suspected_percent']])
    """
    q = row_quality(spectra)
    return (q & int(NOT_INVERTED)) == 0, [quality_names(int(b)) for b in q]


#: Smallest padded size of a chunk's valid rows (see :func:`pad_size`).
MIN_BUCKET = 64


def pad_size(n_valid: int, chunk_size: int, min_bucket: int = MIN_BUCKET) -> int:
    """Rows a chunk with ``n_valid`` valid rows is solved at: the smallest bucket holding them, where the buckets
    are the powers of two from ``min_bucket`` (64) up to ``chunk_size``, and ``chunk_size`` itself.

    So a small input or the last chunk is solved at 64, 128, ... rows, never at the full chunk, and a run (and
    every later run with the same settings: the programs are in the persistent compilation cache) compiles at
    most ``ceil(log2(chunk_size / 64)) + 1`` shapes (7 for the default 4,096), whatever its inputs' sizes.

    Example:
        >>> [pad_size(n, 4096) for n in (1, 64, 65, 1000, 4000, 4096)]
        [64, 64, 128, 1024, 4096, 4096]
        >>> [pad_size(n, 16) for n in (1, 16)], pad_size(90, 100)
        ([16, 16], 100)
    """
    if n_valid < 1:
        return 0
    return int(min(chunk_size, max(min_bucket, 1 << (int(n_valid) - 1).bit_length())))


def padded_rows(rows: np.ndarray, size: int) -> np.ndarray:
    """Indices ``rows`` padded to ``size`` (see :func:`pad_size`) with copies of the first (solved, then
    dropped), so that chunks with similar numbers of valid rows share one compilation."""
    return np.concatenate([rows, np.repeat(rows[:1], max(size - rows.size, 0))])


def quality_flag_names(bits: int, at_bound: Mapping[str, bool] | None = None) -> str:
    """The ``quality_flags`` cell of a row: flag names of ``bits`` (``at_bound`` replaced by ``at_bound:<name>``
    for every parameter true in ``at_bound``), sorted and ``;``-joined.

    Example:
        >>> from leafjax._flags import Quality
        >>> quality_flag_names(int(Quality.AT_BOUND | Quality.POOR_FIT), {"chl": True, "car": False})
        'at_bound:chl;poor_fit'
    """
    names = [n for n in quality_names(bits) if n != "at_bound"]
    names += [f"at_bound:{k}" for k, v in (at_bound or {}).items() if v]
    return ";".join(sorted(set(names)))


def output_rows(carried: pd.DataFrame, cols: dict, extra: dict, status: np.ndarray, quality: np.ndarray,
                at_bound: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """A chunk's output: carried columns (clashing names renamed ``input_<name>``), estimates ``cols``, ``extra``
    (``rmse``, ``iterations``), ``status`` names and ``quality_flags`` from the bit mask ``quality`` ``(n,)`` and
    the per-parameter ``at_bound`` masks ``{name: (n,) bool}``."""
    carried = carried.reset_index(drop=True)
    taken = set(cols) | set(extra) | {"status", "quality_flags"}
    carried = carried.rename(columns={c: f"input_{c}" for c in carried.columns if c in taken})
    out = pd.concat([carried, pd.DataFrame(cols), pd.DataFrame(extra)], axis=1)
    out["status"] = [_STATUS_NAMES[int(s)] for s in status]
    at_bound = {k: np.asarray(v, bool) for k, v in (at_bound or {}).items()}
    out["quality_flags"] = [quality_flag_names(int(q), {k: bool(v[i]) for k, v in at_bound.items()})
                            for i, q in enumerate(np.asarray(quality))]
    return out


def sanity_check_percent(info: ArchiveInfo, settings: ArchiveSettings) -> None:
    """From the first rows: reject a file that is evidently in percent (most rows > 1.05) unless ``percent`` is
    set, and one that evidently holds fractions (most rows <= 1.05) when ``percent`` is set."""
    _, first = next(iter_chunks(info, min(settings.chunk_size, 1000)))
    x = first.reflectance if first.reflectance is not None else first.transmittance
    with np.errstate(invalid="ignore"):
        share = np.mean(np.nanmax(np.where(np.isfinite(x), x, -np.inf), axis=1) > VALUE_MAX)
    if not settings.percent and share > 0.5:
        raise ValueError(f"{info.path}: {share:.0%} of the first rows exceed {VALUE_MAX}: the spectra look like "
                         f"percentages; pass --percent (percent=True) to divide by 100")
    if settings.percent and share <= 0.5:
        raise ValueError(f"{info.path}: --percent given but the spectra look like fractions ({1 - share:.0%} of the "
                         f"first rows are at most {VALUE_MAX}); drop --percent (percent=False)")
