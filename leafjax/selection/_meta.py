"""Meta-features of a dataset computed from its spectra and metadata only — never from its trait values.

:func:`meta_features` drops the traits of the dataset it describes before computing anything, so a
recommendation built on these features cannot depend on the held-out dataset's labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: Spectral regions (nm) whose mean reflectance is a feature.
REGIONS: dict[str, tuple[float, float]] = {
    "vis": (500.0, 680.0), "red_edge": (700.0, 750.0), "nir": (800.0, 1100.0),
    "swir1": (1500.0, 1800.0), "swir2": (2000.0, 2400.0),
}

#: Instrument families recognised in ``meta['instrument']`` (case-insensitive substrings).
INSTRUMENT_FAMILIES: dict[str, tuple[str, ...]] = {
    "asd": ("asd",), "svc": ("svc",), "spectral_evolution": ("psr", "spectral evolution", "se "),
    "imager": ("imag", "camera"),
}


def _without_labels(ds: SpectralDataset) -> SpectralDataset:
    return ds.replace(traits=pd.DataFrame(index=range(len(ds))))


def _region_mean(ds: SpectralDataset, lo: float, hi: float) -> float:
    keep = (ds.wavelengths >= lo) & (ds.wavelengths <= hi)
    if not keep.any():
        return float("nan")
    with np.errstate(all="ignore"):
        v = np.nanmean(ds.reflectance[:, keep]) if np.isfinite(ds.reflectance[:, keep]).any() else np.nan
    return float(v)


def _instrument(ds: SpectralDataset) -> dict[str, float]:
    names = " ".join(sorted(set(map(str, ds.meta["instrument"])))).lower()
    out = {f"instrument_{k}": float(any(s in names for s in subs)) for k, subs in INSTRUMENT_FAMILIES.items()}
    out["instrument_unknown"] = float(not any(out.values()))
    return out


def source_distance(target: SpectralDataset, source: SpectralDataset, n_components: int = 10) -> float:
    """Median distance from each target spectrum to its nearest source spectrum, in the space of the first
    ``n_components`` principal components of the standardised source spectra (bands finite in both), divided
    by the same statistic within the source (so 1 ≈ "as close as source spectra are to each other")."""
    both = np.isfinite(target.reflectance).all(0) & np.isfinite(source.reflectance).all(0)
    if both.sum() < 2 or len(source) < 3:
        return float("nan")
    xs, xt = source.reflectance[:, both], target.reflectance[:, both]
    mu, sd = xs.mean(0), xs.std(0) + 1e-12
    zs, zt = (xs - mu) / sd, (xt - mu) / sd
    _, _, vt = np.linalg.svd(zs, full_matrices=False)
    basis = vt[: min(n_components, vt.shape[0])].T
    ps, pt = zs @ basis, zt @ basis

    def nearest(a, b, exclude_self=False):
        d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
        if exclude_self:
            np.fill_diagonal(d, np.inf)
        return d.min(1)

    within = np.median(nearest(ps, ps, exclude_self=True))
    return float(np.median(nearest(pt, ps)) / max(within, 1e-12))


def meta_features(target: SpectralDataset, source: SpectralDataset | None = None, *,
                  residual_fn: Callable[[SpectralDataset], np.ndarray] | None = None) -> dict[str, float]:
    """Meta-features of ``target`` (one dataset) from its spectra and metadata only (its traits are dropped
    first): ``log_n``; first finite wavelength (nm); mean reflectance per :data:`REGIONS`; NIR/visible ratio;
    mean across-sample standard deviation; instrument family indicators; the distance to ``source`` spectra
    (:func:`source_distance`, if ``source`` is given); the mean of ``residual_fn(target)`` (e.g. the per-
    spectrum RMSE of a PROSPECT inversion), if given."""
    target = _without_labels(target)
    finite = np.isfinite(target.reflectance).all(0)
    out: dict[str, float] = {
        "log_n": float(np.log(len(target))),
        "first_nm": float(target.wavelengths[finite][0]) if finite.any() else float("nan"),
    }
    for name, (lo, hi) in REGIONS.items():
        out[f"r_{name}"] = _region_mean(target, lo, hi)
    out["nir_vis_ratio"] = out["r_nir"] / max(out["r_vis"], 1e-6) if np.isfinite(out["r_vis"]) else float("nan")
    with np.errstate(all="ignore"):
        out["spectral_sd"] = float(np.nanmean(np.nanstd(target.reflectance[:, finite], axis=0))) if finite.any() \
            else float("nan")
    out.update(_instrument(target))
    if source is not None:
        out["source_distance"] = source_distance(target, _without_labels(source))
    if residual_fn is not None:
        res = np.asarray(residual_fn(target), float)
        out["model_residual"] = float(np.nanmean(res)) if np.isfinite(res).any() else float("nan")
    return out


def dataset_meta_features(ds: SpectralDataset, datasets=None, *, unit: str = "dataset", **kwargs) -> pd.DataFrame:
    """:func:`meta_features` of each group of ``ds`` (the other groups as its source), one row per group.

    ``unit``: the grouping column (``ds.groups(unit)``; ``"dataset"`` by default, or e.g. ``"site"``);
    ``datasets``: the groups to describe (default: all, in order of first appearance).  The index is named
    after ``unit``; ``kwargs`` go to :func:`meta_features`."""
    groups = np.asarray(ds.groups(unit))
    names = list(datasets) if datasets is not None else list(pd.unique(groups))
    rows = {}
    for name in names:
        others = groups != name
        rows[name] = meta_features(ds.subset(groups == name), ds.subset(others) if others.any() else None, **kwargs)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(unit)
