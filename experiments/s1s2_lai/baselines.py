"""Baselines of the study, each a map of LAI(t)/5 ``(n, y, x)`` for a batch of :mod:`.data`:

* :func:`persistence`: the last valid S2 product (t−1, else t−2, else the chip's median valid product, else
  the training median) — the challenge's reference;
* :func:`linear_extrapolation`: the line through the valid products at t−2 and t−1 extended to t's date
  (persistence where one is missing), clipped to [0, 8] LAI;
* :class:`PixelGBM`: per-pixel LightGBM on the same inputs the networks get (S1 at three dates in dB, the
  products at t−2 and t−1 with their validity and SCL class, the season, the gaps between the dates);
* :func:`water_cloud_inversion`: LAI from S1 VH/VV at t alone by the water-cloud model (physics only;
  :func:`~leafjax.inversion.invert_water_cloud`), on a seeded subset of pixels per chip.
"""

from __future__ import annotations

import numpy as np

from leafjax.baselines import fit_tree
from leafjax.inversion import invert_water_cloud
from leafjax.preprocessing import LAI_SCALE

LAI_MAX: float = 8.0


def _last_valid(product: np.ndarray, fallback: float) -> np.ndarray:
    """LAI (m² m⁻²) ``(n, y, x)``: the product at t−1, else t−2, else the chip median, else ``fallback``."""
    p1, p0 = product[:, 1], product[:, 0]
    out = np.where(np.isfinite(p1), p1, p0)
    med = np.array([np.nanmedian(c) if np.isfinite(c).any() else fallback for c in product[:, :2]])
    return np.where(np.isfinite(out), out, med[:, None, None])


def persistence(batch, fallback: float = 1.0) -> np.ndarray:
    """LAI(t)/5 by persistence of the last valid product (module docstring)."""
    return _last_valid(batch["product"], fallback) / LAI_SCALE


def linear_extrapolation(batch, fallback: float = 1.0) -> np.ndarray:
    """LAI(t)/5 by linear extrapolation of the products at t−2 and t−1 in time (module docstring)."""
    p = batch["product"]
    d = batch["s2_doy"]
    slope = (p[:, 1] - p[:, 0]) / np.maximum(d[:, 1] - d[:, 0], 1.0)[:, None, None]
    line = p[:, 1] + slope * (d[:, 2] - d[:, 1])[:, None, None]
    out = np.where(np.isfinite(line), np.clip(line, 0.0, LAI_MAX), _last_valid(p, fallback))
    return out / LAI_SCALE


def pixel_features(batch) -> np.ndarray:
    """Per-pixel features ``(n·y·x, 19)``: S1 dB at three dates × 2 polarisations (6), products at t−2, t−1
    (−1 where not valid) and their validity (4), the SCL class indicators of the two dates (classes 3, 4, 5,
    i.e. shadow, vegetation, bare: 6), the season (2), the gap t − t−1 in days (1)."""
    n, _, _, h, w = batch["s1_db"].shape
    s1 = batch["s1_db"].reshape(n, 6, h, w)
    p = batch["product"][:, :2]
    valid = np.isfinite(p)
    mask = batch["lai_mask"]  # (n, 2, 6, h, w): validity, SCL 2..6
    scl = mask[:, :, 2:5].reshape(n, 6, h, w)
    season = np.broadcast_to(batch["season"][:, :, None, None], (n, 2, h, w))
    gap = np.broadcast_to((batch["s2_doy"][:, 2] - batch["s2_doy"][:, 1])[:, None, None, None], (n, 1, h, w))
    feats = np.concatenate([s1, np.where(valid, p, -1.0), valid, scl, season, gap], axis=1)
    return np.moveaxis(feats, 1, -1).reshape(-1, feats.shape[1]).astype(np.float64)


class PixelGBM:
    """Per-pixel LightGBM of LAI(t)/5 (module docstring), fitted on ``n_pixels`` seeded valid training pixels."""

    def __init__(self, train_batch, *, n_pixels: int, seed: int = 0):
        x = pixel_features(train_batch)
        y = train_batch["target"].reshape(-1).astype(np.float64)
        ok = np.flatnonzero(train_batch["target_mask"].reshape(-1))
        rows = np.random.default_rng(seed).choice(ok, size=min(n_pixels, len(ok)), replace=False)
        self.model = fit_tree("lightgbm", x[rows], y[rows], seed=seed)
        self.n_pixels = len(rows)

    def __call__(self, batch) -> np.ndarray:
        shape = batch["target"].shape
        return self.model.predict(pixel_features(batch)).reshape(shape)


def water_cloud_inversion(batch, coefficients, *, pixels_per_chip: int, seed: int = 0, sigma_db=None
                          ) -> tuple[np.ndarray, dict]:
    """LAI(t)/5 from S1 at t alone on ``pixels_per_chip`` seeded target-valid pixels of each chip (NaN
    elsewhere), and a summary (pixels inverted, share converged, share with LAI at a bound)."""
    s1 = batch["s1_db"][:, 2]  # (n, 2, y, x) at t: [vh, vv]
    n, _, h, w = s1.shape
    rng = np.random.default_rng(seed)
    chosen = np.zeros((n, h, w), bool)
    for i in range(n):
        ok = np.flatnonzero(batch["target_mask"][i].reshape(-1))
        pick = rng.choice(ok, size=min(pixels_per_chip, len(ok)), replace=False)
        chosen[i].reshape(-1)[pick] = True
    obs = np.moveaxis(s1, 1, -1)[chosen].astype(np.float64)
    theta = np.asarray(batch["incidence_deg"])[chosen]
    kw = {} if sigma_db is None else {"sigma_db": sigma_db}
    res = invert_water_cloud(obs, theta, coefficients, **kw)
    lai = np.asarray(res.estimates["lai"], np.float64)
    out = np.full((n, h, w), np.nan)
    out[chosen] = lai / LAI_SCALE
    at_bound = np.asarray(res.at_bound["lai"])
    return out, {"pixels": int(chosen.sum()), "converged": float(np.mean(np.asarray(res.status) == 0)),
                 "lai_at_bound": float(np.mean(at_bound))}
