"""A per-dataset summary table (counts, instruments, spectral coverage and known quirks)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._dataset import SpectralDataset


def describe(ds: SpectralDataset) -> pd.DataFrame:
    """One row per dataset: ``dataset, n``, the number of measured values of each trait present, the first and
    last wavelength (nm) finite in every row, the instrument(s), and the quirk columns ``ewt_source`` and
    ``background`` when :func:`~leafjax.data.load_shared_datasets` added them."""
    rows = []
    names = ds.meta["dataset"].to_numpy()
    for name in ds.dataset_names():
        sel = names == name
        sub = ds.subset(sel)
        ok = sub.valid_bands()
        row = {"dataset": name, "n": int(sel.sum())}
        for t in ds.traits.columns:
            row[t] = int(np.isfinite(sub.trait(t)).sum())
        row["from_nm"] = float(sub.wavelengths[ok][0]) if ok.any() else np.nan
        row["to_nm"] = float(sub.wavelengths[ok][-1]) if ok.any() else np.nan
        row["instrument"] = "; ".join(sorted(set(map(str, sub.meta["instrument"]))))[:40]
        for q in ("ewt_source", "background"):
            if q in sub.meta.columns:
                vals = sorted(set(map(str, sub.meta[q])) - {"none"})
                row[q] = ",".join(vals) or "none"
        rows.append(row)
    return pd.DataFrame(rows)
