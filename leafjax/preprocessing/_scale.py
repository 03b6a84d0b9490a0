"""Percent-to-fraction conversion of reflectance/transmittance, per spectrum.

Leaf reflectance and transmittance are fractions in [0, 1] (a white-backed NIR plateau reaches ~0.95; see
``sexton2021_tobacco_chl``).  A spectrum whose largest finite value exceeds :data:`PERCENT_THRESHOLD` is taken as
percent; one above :data:`MAX_PERCENT` is neither (e.g. raw digital numbers) and raises an error.  The
detection itself (:func:`detect_percent` and its thresholds) lives in :mod:`leafjax.data`, whose readers use it;
it is re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data._percent import MAX_PERCENT, PERCENT_THRESHOLD, detect_percent
from ._report import StepReport

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

__all__ = ["MAX_PERCENT", "PERCENT_THRESHOLD", "detect_percent", "to_fraction"]


def to_fraction(ds: SpectralDataset, *, source: str | None = None) -> tuple[SpectralDataset, StepReport]:
    """Convert every spectrum detected as percent (:func:`detect_percent`) to a fraction (÷100).

    Reflectance and transmittance are checked separately.  The report lists the converted rows.
    """
    src = source or ",".join(ds.dataset_names())
    changes = {}
    details = {}
    for name in ("reflectance", "transmittance"):
        x = getattr(ds, name)
        if x is None:
            continue
        pct = detect_percent(x, source=f"{src} ({name})")
        details[f"{name}_rows_percent"] = np.flatnonzero(pct)
        if pct.any():
            changes[name] = np.where(pct[:, None], x / 100.0, x)
    n = int(max((len(v) for v in details.values()), default=0))
    msg = (f"{n} spectra converted from percent to fraction" if n else "all spectra already fractions")
    return (ds.replace(**changes) if changes else ds), StepReport("to_fraction", msg, n, 0, details)
