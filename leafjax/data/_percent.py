"""Percent-versus-fraction detection of reflectance/transmittance, per spectrum.

Leaf reflectance and transmittance are fractions in [0, 1] (a white-backed NIR plateau reaches ~0.95; see
``sexton2021_tobacco_chl``).  A spectrum whose largest finite value exceeds :data:`PERCENT_THRESHOLD` is taken as
percent; one above :data:`MAX_PERCENT` is neither (e.g. raw digital numbers) and raises an error.

The readers of this package use it to bring spectra to fractions; :mod:`leafjax.preprocessing` re-exports it
(and builds :func:`~leafjax.preprocessing.to_fraction` on it).
"""

from __future__ import annotations

import numpy as np

#: Largest plausible maximum of a spectrum given as a fraction (dimensionless).  Leaf R+T ≤ 1, a white
#: backing gives R ≈ 0.95 and noise adds a few percent; a percent spectrum's maximum is ≳ 5 for any leaf.
PERCENT_THRESHOLD: float = 1.5
#: Largest plausible maximum of a spectrum given in percent (100 % plus noise/calibration overshoot).
MAX_PERCENT: float = 110.0


def detect_percent(spectra: np.ndarray, *, source: str = "spectra") -> np.ndarray:
    """Which rows of ``spectra`` ``(n, wl)`` are in percent.

    **Returns:** boolean ``(n,)``.  Raises ``ValueError`` (naming ``source`` and the row) when a row's maximum
    exceeds :data:`MAX_PERCENT` (neither fraction nor percent) or a row has no finite value.

    Example:
        >>> import numpy as np
        >>> detect_percent(np.array([[5.0, 45.0], [0.05, 0.45]])).tolist()
        [True, False]
    """
    x = np.atleast_2d(np.asarray(spectra, dtype=np.float64))
    finite = np.isfinite(x)
    empty = ~finite.any(axis=1)
    if empty.any():
        raise ValueError(f"{source}: row {int(np.flatnonzero(empty)[0])} has no finite value")
    peak = np.max(np.where(finite, x, -np.inf), axis=1)
    bad = peak > MAX_PERCENT
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{source}: row {i} reaches {peak[i]:.4g}, above {MAX_PERCENT} — neither a fraction "
                         "nor percent (raw counts or digital numbers?)")
    return peak > PERCENT_THRESHOLD
