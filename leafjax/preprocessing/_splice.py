"""Detector splice-step correction.

Field spectroradiometers join two or three detectors (Si VNIR, InGaAs SWIR1, SWIR2).  Temperature drift and
fibre geometry leave a step at each join.  The correction here follows the "match sensors" idea of
spectrolab (Meireles et al. 2017): anchor on the first detector and shift (or scale) each later segment.  The
step is estimated per spectrum by least squares on ``fit_nm`` each side of the join: a cubic in wavelength plus a
step term, so that smooth curvature is not taken for a step.  Bands within ``gap_nm`` of the join, smeared by
resampling to 1 nm, are excluded from the fit and bridged linearly.

Joins (nm, last band of the left detector): ASD FieldSpec and most others 1000 and 1800; Spectra Vista SVC
HR-1024i 1000 and 1895.  On the shared data this estimator finds median steps of 0.010 (1000 nm) and 0.013
(1895 nm) in ``sexton2021_tobacco_chl`` (the data README quotes ~0.015–0.018), 0.006–0.008 at 1000 nm in
``gsti_serbin2015_wisc_ag`` and ``gsti_ting2023_rice``, 0.002–0.007 at 1895 nm in the SVC GSTI sets (which the
providers already spliced; part of it may be residual curvature of the 1900-nm water band) and < 0.001 elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._report import StepReport

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: Detector joins of ASD FieldSpec instruments (nm).
ASD_JOINS_NM: tuple[float, ...] = (1000.0, 1800.0)
#: Detector joins of Spectra Vista SVC HR-1024i instruments (nm).
SVC_JOINS_NM: tuple[float, ...] = (1000.0, 1895.0)
#: Steps smaller than this (reflectance, fraction) are left uncorrected: they are within detector noise.
MIN_SPLICE_STEP: float = 1e-3


def _joins_for(instrument: str) -> tuple[float, ...]:
    return SVC_JOINS_NM if "svc" in str(instrument).lower() else ASD_JOINS_NM


def _correct_rows(wl, x, join, fit_nm, gap_nm, min_step, mode):
    left = (wl <= join - gap_nm) & (wl > join - gap_nm - fit_nm)
    right = (wl > join + gap_nm) & (wl <= join + gap_nm + fit_nm)
    if left.sum() < 3 or right.sum() < 3:
        raise ValueError(f"splice join {join} nm: too few bands in the fitting windows on this grid")
    win = left | right
    ok = np.isfinite(x[:, win]).all(1)
    # Joint least squares on both windows: a cubic baseline in wavelength plus a step at the join, so that the
    # curvature of the spectrum (e.g. the 1900-nm water-band edge) is not mistaken for a step.
    u = (wl[win] - join) / (gap_nm + fit_nm)
    design = np.stack([np.ones_like(u), u, u**2, u**3, (wl[win] > join).astype(np.float64)], axis=1)
    coef = np.linalg.lstsq(design, np.nan_to_num(x[:, win]).T, rcond=None)[0]
    step = np.where(ok, coef[4], np.nan)
    x0 = join + 0.5 * float(np.median(np.diff(wl)))
    u0 = (x0 - join) / (gap_nm + fit_nm)
    lp = coef[0] + coef[1] * u0 + coef[2] * u0**2 + coef[3] * u0**3  # left-segment curve at the join
    rp = lp + np.nan_to_num(step)
    fix = ok & (np.abs(step) > min_step)
    out = x.copy()
    after = wl > join
    if mode == "additive":
        out[np.ix_(fix, after)] -= step[fix, None]
    else:
        out[np.ix_(fix, after)] *= (lp[fix] / rp[fix])[:, None]
    # Bridge the smeared bands (join-gap, join+gap] linearly between the last left and first right band.
    bridge = (wl > join - gap_nm) & (wl <= join + gap_nm)
    ia, ib = np.flatnonzero(left)[-1], np.flatnonzero(right)[0]
    if bridge.any():
        t = (wl[bridge] - wl[ia]) / (wl[ib] - wl[ia])
        out[np.ix_(fix, bridge)] = out[fix, ia, None] * (1 - t) + out[fix, ib, None] * t
    return out, np.where(ok, step, np.nan), fix


def correct_splice_steps(ds: SpectralDataset, joins: Sequence[float] | str = "auto", *, fit_nm: float = 15.0,
                         gap_nm: float = 3.0, min_step: float = MIN_SPLICE_STEP, mode: str = "additive"
                         ) -> tuple[SpectralDataset, StepReport]:
    """Remove detector splice steps, anchored on the first (VNIR) detector.

    **Arguments:**
    - ``joins``: join wavelengths (nm), or ``"auto"``: :data:`SVC_JOINS_NM` for rows whose
      ``meta['instrument']`` mentions SVC, :data:`ASD_JOINS_NM` otherwise.
    - ``fit_nm``: width of the fitting window each side of the join (nm).
    - ``gap_nm``: bands within this distance of the join are excluded from the fits and bridged (nm).
    - ``min_step``: steps with ``|step| <= min_step`` (fraction) are left alone.
    - ``mode``: ``"additive"`` (shift later segments) or ``"multiplicative"`` (scale them, as spectrolab).

    **Returns:** the corrected dataset and a report with the per-row step at each join (``details['steps']``:
    ``{join_nm: (n,) array}``, NaN where not estimable) and the number of corrected spectra.
    """
    if mode not in ("additive", "multiplicative"):
        raise ValueError(f"mode must be 'additive' or 'multiplicative', got {mode!r}")
    if isinstance(joins, str):
        if joins != "auto":
            raise ValueError(f"joins must be a sequence of wavelengths or 'auto', got {joins!r}")
        per_row = [_joins_for(i) for i in ds.meta["instrument"]]
    else:
        per_row = [tuple(sorted(float(j) for j in joins))] * len(ds)
    refl = ds.reflectance.copy()
    trans = None if ds.transmittance is None else ds.transmittance.copy()
    steps: dict[float, np.ndarray] = {}
    changed = np.zeros(len(ds), dtype=bool)
    for group in sorted(set(per_row)):
        rows = np.array([p == group for p in per_row])
        for join in group:
            if not (ds.wavelengths[0] < join < ds.wavelengths[-1]):
                continue
            refl[rows], s, fix = _correct_rows(ds.wavelengths, refl[rows], join, fit_nm, gap_nm, min_step, mode)
            if trans is not None:
                trans[rows], _, fix_t = _correct_rows(ds.wavelengths, trans[rows], join, fit_nm, gap_nm,
                                                      min_step, mode)
                fix = fix | fix_t
            steps.setdefault(join, np.full(len(ds), np.nan))[rows] = s
            changed[np.flatnonzero(rows)[fix]] = True
    med = {j: float(np.nanmedian(np.abs(v))) if np.isfinite(v).any() else float("nan") for j, v in steps.items()}
    msg = (f"{int(changed.sum())} of {len(ds)} spectra corrected ({mode}); median |step| by join: "
           + ", ".join(f"{j:g} nm: {m:.4f}" for j, m in sorted(med.items())))
    return ds.replace(reflectance=refl, transmittance=trans), StepReport(
        "correct_splice_steps", msg, int(changed.sum()), 0, {"steps": steps, "median_abs_step": med,
                                                              "corrected_rows": np.flatnonzero(changed)})
