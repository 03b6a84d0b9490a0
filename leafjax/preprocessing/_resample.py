"""Resampling to a target wavelength grid and Savitzky–Golay smoothing, both NaN-aware."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.signal

from ._report import StepReport

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: Default Savitzky–Golay window (bands) and polynomial order for 1-nm leaf spectra, as used by the
#: reference study's preprocessing ("Savitzky–Golay smoothed") and common spectroscopy practice.
SAVGOL_WINDOW: int = 11
SAVGOL_POLYORDER: int = 3


def _interp_rows(src_wl: np.ndarray, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    out = np.empty((x.shape[0], target.size))
    for i, row in enumerate(x):
        # NaN in either neighbour propagates (slope·0 + NaN = NaN), so missing bands stay missing.
        out[i] = np.interp(target, src_wl, row, left=np.nan, right=np.nan)
    return out


def resample(ds: SpectralDataset, target_wavelengths) -> tuple[SpectralDataset, StepReport]:
    """Linearly interpolate every spectrum onto ``target_wavelengths`` (nm, increasing).

    Target bands outside the source grid, or between a NaN source band and its neighbour, are NaN.  For a
    coarser target grid (e.g. 1 nm → 10 nm) smooth first (:func:`savgol`) to limit aliasing.

    **Returns:** the resampled dataset and a report with the source/target steps and the number of target
    bands outside the source range.
    """
    target = np.asarray(target_wavelengths, dtype=np.float64).reshape(-1)
    if target.size == 0 or np.any(np.diff(target) <= 0):
        raise ValueError("target_wavelengths must be non-empty and strictly increasing")
    src = ds.wavelengths
    outside = int(np.sum((target < src[0]) | (target > src[-1])))
    refl = _interp_rows(src, ds.reflectance, target)
    trans = None if ds.transmittance is None else _interp_rows(src, ds.transmittance, target)
    new = ds.replace(wavelengths=target, reflectance=refl, transmittance=trans)
    step_src = float(np.median(np.diff(src))) if src.size > 1 else float("nan")
    step_tgt = float(np.median(np.diff(target))) if target.size > 1 else float("nan")
    msg = (f"{src.size} bands ({src[0]:g}–{src[-1]:g} nm, step {step_src:g}) → {target.size} bands "
           f"({target[0]:g}–{target[-1]:g} nm, step {step_tgt:g}); {outside} target bands outside the source range")
    return new, StepReport("resample", msg, len(ds), target.size,
                           {"source_step_nm": step_src, "target_step_nm": step_tgt, "n_outside": outside})


def _savgol_rows(x: np.ndarray, window: int, polyorder: int, deriv: int, delta: float) -> tuple[np.ndarray, int]:
    out = x.copy()
    skipped = 0
    full = np.isfinite(x).all(axis=1)
    if full.any():
        out[full] = scipy.signal.savgol_filter(x[full], window, polyorder, deriv=deriv, delta=delta, axis=1)
    for i in np.flatnonzero(~full):
        row = x[i]
        finite = np.isfinite(row)
        # Filter each contiguous finite run separately; runs shorter than the window are left as they are.
        edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            if b - a >= window:
                out[i, a:b] = scipy.signal.savgol_filter(row[a:b], window, polyorder, deriv=deriv, delta=delta)
            else:
                skipped += 1
    return out, skipped


def savgol(ds: SpectralDataset, window: int = SAVGOL_WINDOW, polyorder: int = SAVGOL_POLYORDER, *,
           deriv: int = 0) -> tuple[SpectralDataset, StepReport]:
    """Savitzky–Golay smoothing (or derivative, ``deriv`` > 0, per nm) along wavelength.

    ``window`` is in bands (odd) on a uniform grid; NaN bands are kept and each finite run is filtered on its
    own (``mode='interp'`` at the run ends).  The report gives the largest and median absolute change.
    """
    if window % 2 != 1 or window <= polyorder:
        raise ValueError(f"window must be odd and > polyorder, got window={window}, polyorder={polyorder}")
    steps = np.diff(ds.wavelengths)
    if steps.size and not np.allclose(steps, steps[0], rtol=1e-6):
        raise ValueError("savgol needs a uniform wavelength grid; resample first")
    delta = float(steps[0]) if steps.size else 1.0
    refl, skipped = _savgol_rows(ds.reflectance, window, polyorder, deriv, delta)
    trans = None
    if ds.transmittance is not None:
        trans, s2 = _savgol_rows(ds.transmittance, window, polyorder, deriv, delta)
        skipped += s2
    change = np.abs(refl - ds.reflectance) if deriv == 0 else np.full(1, np.nan)
    mx = float(np.nanmax(change)) if np.isfinite(change).any() else 0.0
    med = float(np.nanmedian(change)) if np.isfinite(change).any() else 0.0
    msg = (f"window {window} bands ({window * delta:g} nm), order {polyorder}, deriv {deriv}: "
           f"max |change| {mx:.3g}, median {med:.3g}; {skipped} finite runs shorter than the window left as is")
    return ds.replace(reflectance=refl, transmittance=trans), StepReport(
        "savgol", msg, len(ds), ds.wavelengths.size,
        {"max_abs_change": mx, "median_abs_change": med, "short_runs_skipped": skipped})
