r"""Inputs of the land-surface-temperature simulator: the pre-training profile pool and the emissivity library.

* :func:`pretraining_pool`: the TIGR profiles that may be used for pre-training: all rows minus the rows of the
  line-by-line *truth* atmospheres (``lwir_rows``; the truth and site atmospheres must stay unseen: no inverse
  crime), minus profiles that are not physical (:meth:`~leafjax.physics.thermal.Atmosphere.validate` rules, row by
  row) or whose surface air temperature lies outside :data:`SURFACE_AIR_T_RANGE_K`.
* :func:`split_emissivities`: a fixed split of the land emissivity spectra into pre-training and site spectra.
* :func:`emissivity_library`: spectra resampled from the 1-cm⁻¹ reference grid to a band model's channel grid.

Everything here is NumPy on concrete inputs (run once, before any compiled simulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Surface air temperatures (K) accepted in the pre-training pool: 200–330 K brackets every climate the TIGR set
#: samples (polar winter to hot desert, Chédin et al. 1985; Chevallier et al. 1998) and keeps LST = T_air + offset
#: inside the 180–360 K range of the ``lst`` parameter (:mod:`leafjax._parameters`) for the default offsets.
SURFACE_AIR_T_RANGE_K: tuple[float, float] = (200.0, 330.0)
#: Wavelength window (µm) whose mean emissivity orders the spectra in :func:`split_emissivities`: the split-window
#: region 10–12 µm that dominates LST retrieval (bands at 10.80 and 11.95 µm).
SPLIT_WINDOW_UM: tuple[float, float] = (10.0, 12.0)
#: Every ``SITE_STRIDE``-th spectrum (in order of split-window emissivity, from the second) is a site spectrum.
SITE_STRIDE: int = 3


def _row_valid(atm) -> np.ndarray:
    """Per-profile version of :meth:`Atmosphere.validate` (``(batch,)`` booleans) for a 1-D batch."""
    t = np.asarray(atm.temperature, dtype=np.float64)
    p = np.broadcast_to(np.asarray(atm.pressure, dtype=np.float64), t.shape)
    ok = np.all(np.diff(p, axis=-1) < 0, axis=-1)
    ok &= np.all(np.isfinite(t) & (t > 100.0) & (t < 400.0), axis=-1)
    for v in (atm.h2o, atm.o3, *atm.trace.values()):
        v = np.asarray(v, dtype=np.float64)
        ok &= np.all(np.isfinite(v) & (v >= 0.0), axis=-1)
    return ok


def pretraining_pool(tigr, truth=None, *, exclude_rows: Sequence[int] | np.ndarray | None = None,
                     t_air_range_k: tuple[float, float] = SURFACE_AIR_T_RANGE_K, return_report: bool = False):
    """Indices of the TIGR profiles usable for pre-training (sorted, ``int64``).

    **Arguments:**
    - ``tigr``: the TIGR set (:func:`leafjax.data.load_tigr`): ``.atmospheres`` a batched ``Atmosphere``
      ``(2311, level)`` and ``.lwir_rows`` (80,) the rows of the truth atmospheres.
    - ``truth``: optionally the truth (:func:`leafjax.data.load_lwir_truth`); its ``.tigr_rows`` are removed too.
    - ``exclude_rows``: further TIGR rows to remove.
    - ``t_air_range_k``: closed range (K) of accepted surface air temperatures.
    - ``return_report``: also return ``{"total", "truth_rows", "invalid", "t_air_out_of_range", "kept"}`` (counts
      of profiles; each profile is counted under the first rule that drops it, in that order).

    Raises a one-line ``ValueError`` if an excluded row is outside the set or nothing is left.
    """
    atm = tigr.atmospheres
    total = int(np.shape(atm.temperature)[0])
    drop = [np.asarray(tigr.lwir_rows, dtype=np.int64).ravel()]
    if truth is not None:
        drop.append(np.asarray(truth.tigr_rows, dtype=np.int64).ravel())
    if exclude_rows is not None:
        drop.append(np.asarray(exclude_rows, dtype=np.int64).ravel())
    drop_rows = np.unique(np.concatenate(drop))
    if drop_rows.size and (drop_rows.min() < 0 or drop_rows.max() >= total):
        raise ValueError(f"excluded TIGR rows must lie in 0..{total - 1}, got {int(drop_rows.min())}.."
                         f"{int(drop_rows.max())}")
    lo, hi = t_air_range_k
    if not lo < hi:
        raise ValueError(f"t_air_range_k must be (low, high) with low < high, got {t_air_range_k}")
    keep = np.ones(total, dtype=bool)
    keep[drop_rows] = False
    valid = _row_valid(atm)
    invalid = keep & ~valid
    keep &= valid
    t_air = np.asarray(atm.temperature, dtype=np.float64)[:, 0]
    cold_hot = keep & ~((t_air >= lo) & (t_air <= hi))
    keep &= ~cold_hot
    idx = np.flatnonzero(keep).astype(np.int64)
    if idx.size == 0:
        raise ValueError("the pre-training pool is empty (every TIGR profile was excluded)")
    atm[idx].validate()  # the pool as a batch passes the batch rules too
    if not return_report:
        return idx
    report = {"total": total, "truth_rows": int(drop_rows.size), "invalid": int(invalid.sum()),
              "t_air_out_of_range": int(cold_hot.sum()), "kept": int(idx.size)}
    return idx, report


def _land_columns(columns):
    if columns is None:
        from ..data._thermal import LAND_EMISSIVITY_COLUMNS

        columns = LAND_EMISSIVITY_COLUMNS
    return tuple(int(c) for c in columns)


def split_emissivities(truth, columns: Sequence[int] | np.ndarray | None = None, *, stride: int = SITE_STRIDE,
                       window_um: tuple[float, float] = SPLIT_WINDOW_UM) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Split the land emissivity spectra into ``(pretraining, site)`` column tuples (disjoint, fixed rule).

    Rule: order the ``columns`` of ``truth.emissivity`` (``(spectrum, nu)`` on ``truth.wavenumber``, cm⁻¹) by their
    mean emissivity over ``window_um`` (10–12 µm); the spectra at sorted positions 1, 1 + stride, 1 + 2·stride, …
    are *site* spectra, the rest *pre-training* spectra.  With the 21 land columns and ``stride = 3`` that is 7 site
    and 14 pre-training spectra; both span the range, and the lowest and highest emissivities are pre-training
    spectra, so that the site surfaces lie inside what the network saw.  Ties are broken by column number, so the
    split is deterministic.

    **Arguments:** ``truth`` (``.emissivity`` ``(spectrum, nu)`` and ``.wavenumber`` ``(nu,)`` cm⁻¹); ``columns``
    (default :data:`leafjax.data.LAND_EMISSIVITY_COLUMNS`, 1..21; column 0 is metal-like); ``stride`` ≥ 2.

    **Returns:** ``(pretraining, site)``: tuples of column indices (into ``truth.emissivity``), each ascending.
    """
    cols = _land_columns(columns)
    if stride < 2:
        raise ValueError(f"stride must be >= 2 (site and pre-training spectra both non-empty), got {stride}")
    if len(set(cols)) != len(cols) or len(cols) < 2:
        raise ValueError(f"columns must be at least 2 distinct spectrum indices, got {cols}")
    emis = np.asarray(truth.emissivity, dtype=np.float64)
    if min(cols) < 0 or max(cols) >= emis.shape[0]:
        raise ValueError(f"emissivity columns must lie in 0..{emis.shape[0] - 1}, got {cols}")
    lam = 1e4 / np.asarray(truth.wavenumber, dtype=np.float64)
    window = (lam >= window_um[0]) & (lam <= window_um[1])
    if not window.any():
        raise ValueError(f"the emissivity grid has no sample in {window_um[0]}-{window_um[1]} µm")
    mean = emis[list(cols)][:, window].mean(axis=1)
    order = [cols[i] for i in np.lexsort((np.asarray(cols), mean))]
    site = tuple(sorted(order[1::stride]))
    pre = tuple(sorted(c for c in cols if c not in site))
    return pre, site


def channel_edges(wavenumber: np.ndarray) -> np.ndarray:
    """Edges (cm⁻¹, ``(nu + 1,)``) of the channels centred at ``wavenumber`` (midpoints; the outer edges half a
    spacing beyond the first and last centre).  ``wavenumber`` must increase strictly."""
    c = np.asarray(wavenumber, dtype=np.float64)
    if c.ndim != 1 or c.size < 2 or not np.all(np.diff(c) > 0):
        raise ValueError("the channel grid must be a strictly increasing 1-D wavenumber array of >= 2 channels")
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def emissivity_library(truth, columns: Sequence[int] | np.ndarray | None = None, wavenumber: Any = None, *,
                       dtype=np.float64) -> np.ndarray:
    """Emissivity spectra resampled to a channel grid: ``(len(columns), nu)``.

    Each channel gets the mean of the reference samples (``truth.wavenumber``, 1 cm⁻¹) inside its edges
    (:func:`channel_edges`: half-open ``[low, high)`` intervals, the last closed).  With ``wavenumber`` equal to the
    reference grid (or ``None``) the spectra are returned unchanged.

    **Arguments:** ``truth`` (``.emissivity`` ``(spectrum, nu_ref)``, ``.wavenumber`` ``(nu_ref,)`` cm⁻¹);
    ``columns`` (default :data:`leafjax.data.LAND_EMISSIVITY_COLUMNS`); ``wavenumber``: the band model's channel
    centres (cm⁻¹, ``(nu,)``, e.g. ``band_model.wavenumber``), each channel holding at least one reference sample.
    """
    cols = _land_columns(columns)
    emis = np.asarray(truth.emissivity, dtype=np.float64)
    ref = np.asarray(truth.wavenumber, dtype=np.float64)
    if min(cols) < 0 or max(cols) >= emis.shape[0]:
        raise ValueError(f"emissivity columns must lie in 0..{emis.shape[0] - 1}, got {cols}")
    spectra = emis[list(cols)]
    if wavenumber is None or (np.shape(wavenumber) == ref.shape and np.allclose(wavenumber, ref)):
        return spectra.astype(dtype)
    edges = channel_edges(np.asarray(wavenumber))
    if edges[0] < ref[0] - 0.5 * (ref[1] - ref[0]) or edges[-1] > ref[-1] + 0.5 * (ref[-1] - ref[-2]):
        raise ValueError(f"the channel grid {edges[0]:.1f}-{edges[-1]:.1f} cm-1 extends beyond the emissivity "
                         f"grid {ref[0]:.1f}-{ref[-1]:.1f} cm-1")
    which = np.clip(np.searchsorted(edges, ref, side="right") - 1, -1, edges.size - 1)
    which[ref == edges[-1]] = edges.size - 2
    n = edges.size - 1
    inside = (which >= 0) & (which < n)
    counts = np.bincount(which[inside], minlength=n)
    if np.any(counts == 0):
        raise ValueError(f"channel {int(np.flatnonzero(counts == 0)[0])} holds no emissivity sample (channels "
                         "narrower than the 1-cm-1 reference grid)")
    sums = np.stack([np.bincount(which[inside], weights=s[inside], minlength=n) for s in spectra])
    return (sums / counts).astype(dtype)
