"""Band masks: which bands each spectrum lacks, and masking of chosen wavelength ranges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._report import StepReport

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: Atmospheric water-absorption bands often excluded from field spectra (nm); not applied by default.
WATER_BANDS_NM: tuple[tuple[float, float], ...] = ((1350.0, 1460.0), (1790.0, 1960.0))


def _ranges(wl: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """Contiguous wavelength ranges where ``mask`` is true."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(float(wl[a]), float(wl[b - 1])) for a, b in zip(edges[::2], edges[1::2])]


def missing_band_mask(ds: SpectralDataset) -> tuple[np.ndarray, StepReport]:
    """Boolean ``(n, wl)``: true where a spectrum lacks the band (NaN in reflectance or transmittance).

    The report lists, per dataset, the wavelength ranges missing in *every* row of that dataset (e.g.
    ``ely2019_ngee_arctic``: 400–499 nm) and how many rows have any gap.
    """
    miss = ~np.isfinite(ds.reflectance)
    if ds.transmittance is not None:
        miss |= ~np.isfinite(ds.transmittance)
    per_ds = {}
    names = ds.meta["dataset"].to_numpy()
    for name in ds.dataset_names():
        rows = miss[names == name]
        per_ds[name] = _ranges(ds.wavelengths, rows.all(axis=0))
    gaps = {k: v for k, v in per_ds.items() if v}
    n_rows = int(miss.any(axis=1).sum())
    msg = (f"{n_rows} spectra lack some bands; missing in whole datasets: "
           + ("; ".join(f"{k}: " + ", ".join(f"{a:g}–{b:g} nm" for a, b in v) for k, v in gaps.items())
              or "none"))
    return miss, StepReport("missing_band_mask", msg, n_rows, int(miss.any(axis=0).sum()),
                            {"missing_ranges_by_dataset": per_ds})


def band_mask(ds: SpectralDataset, exclude: Sequence[tuple[float, float]] = WATER_BANDS_NM
              ) -> tuple[SpectralDataset, StepReport]:
    """Set the bands inside the inclusive ranges ``exclude`` (nm) to NaN in every spectrum."""
    mask = np.zeros(ds.wavelengths.size, dtype=bool)
    for lo, hi in exclude:
        if hi < lo:
            raise ValueError(f"band range ({lo}, {hi}) has high < low")
        mask |= (ds.wavelengths >= lo) & (ds.wavelengths <= hi)
    refl = np.where(mask, np.nan, ds.reflectance)
    trans = None if ds.transmittance is None else np.where(mask, np.nan, ds.transmittance)
    msg = f"{int(mask.sum())} bands set to NaN in {len(ds)} spectra: " + (
        ", ".join(f"{a:g}–{b:g} nm" for a, b in _ranges(ds.wavelengths, mask)) or "none")
    return ds.replace(reflectance=refl, transmittance=trans), StepReport(
        "band_mask", msg, len(ds) if mask.any() else 0, int(mask.sum()), {"masked": mask})


def drop_missing_bands(ds: SpectralDataset) -> tuple[SpectralDataset, StepReport]:
    """Keep only bands finite in every spectrum (the common support of pooled datasets)."""
    ok = ds.valid_bands()
    if not ok.any():
        raise ValueError("no band is finite in every spectrum")
    dropped = _ranges(ds.wavelengths, ~ok)
    msg = f"kept {int(ok.sum())} of {ok.size} bands; dropped " + (
        ", ".join(f"{a:g}–{b:g} nm" for a, b in dropped) or "none")
    return ds.select_wavelengths(ok), StepReport("drop_missing_bands", msg, 0, int((~ok).sum()),
                                                 {"dropped_ranges": dropped})
