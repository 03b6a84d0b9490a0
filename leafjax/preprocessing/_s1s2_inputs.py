"""Inputs and targets of the multi-temporal Sentinel-1/2 LAI networks, as in Wang et al. (LeafNothingBehind).

Arrays in, a dict batch out (the keys the networks of :mod:`leafjax.networks.image` read, and that
:class:`~leafjax.training.MapMSE` / :class:`~leafjax.training.FusedMapMSE` score):

* ``"s1"``: ``(n, 3, 2, h, w)`` float32: backscatter at t−2, t−1, t, two polarisations, ``σ⁰[dB] / 30 + 1``
  (about [0, 1]);
* ``"lai"``: ``(n, 2, h, w)`` float32: the S2 LAI product at t−2, t−1 divided by :data:`LAI_SCALE` (non-finite
  values set to 0; the masks say which pixels to trust);
* ``"lai_mask"``: ``(n, 2, 6, h, w)`` float32: per date, the validity (SCL classes 2–6) and the one-hot SCL
  classes 2, 3, 4, 5, 6 (:func:`scl_mask_channels`);
* ``"season"``: ``(n, 2)`` float32: :func:`~leafjax.preprocessing.seasonality` of the triplet's date;
* ``"target"`` / ``"target_mask"``: ``(n, h, w)``: LAI(t) / 5 (0 where not valid) and its validity (bool).
"""

from __future__ import annotations

import numpy as np

from ..data._s1s2 import VALID_SCL
from ._seasonality import seasonality

#: LAI is divided by this for the networks and the loss (LAI/5 is in [0, 2] for crops; the challenge's scale).
LAI_SCALE: float = 5.0
#: Backscatter normalisation ``σ⁰[dB] / BACKSCATTER_SCALE_DB + 1`` (dB; −30 dB -> 0).
BACKSCATTER_SCALE_DB: float = 30.0


def normalise_backscatter(sigma0_db):
    """``σ⁰[dB] / 30 + 1``: backscatter in dB (any shape) to the networks' scale (−30 dB -> 0, 0 dB -> 1)."""
    return np.asarray(sigma0_db, dtype=np.float64) / BACKSCATTER_SCALE_DB + 1.0


def scl_valid(scl) -> np.ndarray:
    """True where the scene classification ``scl`` (integer classes, any shape; −1 or NaN = unknown) is one the
    challenge scores (:data:`~leafjax.data.VALID_SCL`: shadows, vegetation, not vegetated, water)."""
    scl = np.asarray(scl)
    return np.isin(scl, VALID_SCL)


def scl_mask_channels(scl) -> np.ndarray:
    """The 6 mask channels of the reference code from ``scl (..., h, w)``: ``(..., 6, h, w)`` float32 with
    channel 0 the validity (:func:`scl_valid`) and channels 1–5 the indicators of classes 2, 3, 4, 5, 6."""
    scl = np.asarray(scl)
    chans = [scl_valid(scl)] + [scl == c for c in VALID_SCL]
    return np.stack(chans, axis=-3).astype(np.float32)


def s1s2_inputs(s1_db, lai, scl, day_of_year) -> dict[str, np.ndarray]:
    """The networks' input batch (module docstring) from raw arrays.

    **Arguments:** ``s1_db (n, 3, 2, h, w)``: σ⁰ in dB at t−2, t−1, t (polarisations in a fixed order, e.g.
    the sample's [VH, VV]); ``lai (n, 2, h, w)``: the S2 LAI product (m² m⁻²) at t−2, t−1; ``scl (n, 2, h, w)``:
    their scene classes; ``day_of_year (n,)`` (the reference code uses the first date of the triplet's window).

    **Returns:** ``{"s1", "lai", "lai_mask", "season"}`` as float32 arrays.
    """
    s1_db, lai, scl = np.asarray(s1_db), np.asarray(lai, dtype=np.float64), np.asarray(scl)
    n = s1_db.shape[0] if s1_db.ndim == 5 else -1
    if s1_db.ndim != 5 or s1_db.shape[1:3] != (3, 2):
        raise ValueError(f"need s1_db (n, 3, 2, h, w), got {s1_db.shape}")
    hw = s1_db.shape[3:]
    if lai.shape != (n, 2, *hw) or scl.shape != (n, 2, *hw):
        raise ValueError(f"need lai and scl (n, 2, h, w) = {(n, 2, *hw)}, got {lai.shape} and {scl.shape}")
    doy = np.asarray(day_of_year, dtype=np.float64)
    if doy.shape != (n,):
        raise ValueError(f"need day_of_year (n,) = ({n},), got {doy.shape}")
    return {"s1": normalise_backscatter(s1_db).astype(np.float32),
            "lai": np.where(np.isfinite(lai), lai / LAI_SCALE, 0.0).astype(np.float32),
            "lai_mask": scl_mask_channels(scl),
            "season": seasonality(doy).astype(np.float32)}


def s1s2_targets(lai_t, scl_t) -> dict[str, np.ndarray]:
    """``{"target": LAI(t) / 5 (float32, 0 where not valid), "target_mask": bool}`` from ``lai_t (n, h, w)``
    (m² m⁻²) and its scene classes ``scl_t (n, h, w)``; a pixel is valid where :func:`scl_valid` and the LAI is
    finite."""
    lai_t = np.asarray(lai_t, dtype=np.float64)
    valid = scl_valid(scl_t) & np.isfinite(lai_t)
    return {"target": np.where(valid, lai_t / LAI_SCALE, 0.0).astype(np.float32), "target_mask": valid}
