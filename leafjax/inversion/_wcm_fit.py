r"""Calibrate the water-cloud model (:mod:`leafjax.physics.radar`) on real co-located Sentinel-1 backscatter and
Sentinel-2 LAI, and measure the realism statistics of a radar sample.

**The fit.**  For each polarisation (VH, VV: independent problems, solved together as two rows of the batched
Levenberg–Marquardt solver :func:`~leafjax.inversion.levenberg_marquardt`, float64) the coefficients minimise the
squared dB residuals over the valid pixels :math:`i` of every scene-date :math:`g`:

.. math:: \min_{A, B, E, C_g} \sum_i \left(10\log_{10}\sigma^0(\mathrm{LAI}_i; A, B, E, C_{g(i)}, D) -
          \sigma^0_{\mathrm{obs},i}[\mathrm{dB}]\right)^2

with :math:`A, B` (and :math:`E` with ``fit_exponent=True``) positive through a log parametrisation.  What the data
cannot tell apart is fixed and stated:

* **soil moisture** is not in the sample: every scene-date has its own soil term :math:`C_g`, with :math:`D` fixed
  at :data:`~leafjax.physics.radar.DEFAULT_COEFFICIENTS` (an assumed value) and a nominal :math:`m_v` =
  :data:`NOMINAL_SOIL_MOISTURE`; only :math:`C_g + D\,m_v` (the bare-soil σ⁰ of that scene-date) is identified;
* **the incidence angle** is not in the sample either: :data:`ASSUMED_INCIDENCE_DEG` = 39°, the middle of the
  Sentinel-1 IW swath (about 29–46°), is assumed for every pixel.

Nothing fitted here is stored: the sample's licence is unclear, so the fit runs at run time
(:func:`fit_water_cloud`).  The data: :func:`wcm_fit_data` pairs the S1 of t−2 with the LAI of t−2 and S1 t−1
with LAI t−1 on valid pixels (SCL 2–6, intact LAI files); negative LAI values of the product are set to 0.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ..data._s1s2 import S1_CHANNELS, TIME_STEPS, S1S2Chip
from ..physics.radar import (DEFAULT_COEFFICIENTS, RadarCoefficients, WaterCloudCoefficients, block_enl,
                             db_to_linear, water_cloud_db)
from ._lm import levenberg_marquardt

#: Incidence angle assumed for every pixel of the sample (degrees): mid-swath of Sentinel-1 IW (≈ 29–46°).
ASSUMED_INCIDENCE_DEG: float = 39.0
#: Nominal soil moisture (m³ m⁻³) of the fit: unknown in the sample, absorbed into the per-scene-date C.
NOMINAL_SOIL_MOISTURE: float = 0.25
#: Time steps whose LAI and S1 are paired (t−2, t−1: the sample has no LAI at t).
FIT_TIMES: tuple[int, ...] = (0, 1)


@dataclasses.dataclass(frozen=True)
class WcmFitData:
    """Valid pixels of co-located S1 and LAI: ``lai`` ``(n,)`` m² m⁻² (≥ 0), ``s1_db`` ``(n, 2)`` dB in
    :data:`~leafjax.data.S1_CHANNELS` order ``[vh, vv]``, ``group`` ``(n,)`` int (index into ``groups``, the
    scene-dates, e.g. ``"MOLDOVA_ROMANIA t-1"``)."""

    lai: np.ndarray
    s1_db: np.ndarray
    group: np.ndarray
    groups: tuple[str, ...]


def wcm_fit_data(chips: list[S1S2Chip], *, times=FIT_TIMES, max_pixels_per_group: int | None = None,
                 seed: int = 0) -> WcmFitData:
    """Pair S1 and LAI of the same time step on valid pixels of ``chips`` (:func:`leafjax.data.load_s1s2_sample`).

    **Arguments:** ``times`` (time steps to pair, default t−2 and t−1); ``max_pixels_per_group`` (a random subset
    of at most this many pixels per scene-date, reproducible by ``seed``; ``None``: all).  Scene-dates without a
    valid pixel (e.g. a corrupt LAI file) are left out.

    Raises:
        ValueError: if no scene-date has a valid pixel.
    """
    rng = np.random.default_rng(seed)
    lai, s1, group, names = [], [], [], []
    for chip in chips:
        for t in times:
            idx = np.flatnonzero(chip.valid[t].ravel())
            if idx.size == 0:
                continue
            if max_pixels_per_group is not None and idx.size > max_pixels_per_group:
                idx = np.sort(rng.choice(idx, max_pixels_per_group, replace=False))
            lai.append(np.maximum(chip.lai[t].ravel()[idx], 0.0))
            s1.append(chip.s1[t].reshape(len(S1_CHANNELS), -1)[:, idx].T.astype(np.float64))
            group.append(np.full(idx.size, len(names)))
            names.append(f"{chip.scene} {TIME_STEPS[t]}")
    if not names:
        raise ValueError("no valid pixel to fit the water-cloud model on (every LAI missing, corrupt or masked)")
    return WcmFitData(np.concatenate(lai), np.concatenate(s1), np.concatenate(group), tuple(names))


@dataclasses.dataclass(frozen=True)
class WcmFit:
    """A water-cloud calibration (:func:`fit_water_cloud`).

    **Fields:** ``coefficients`` (:class:`~leafjax.physics.radar.RadarCoefficients`, float64; ``c`` has one value
    per scene-date, shape ``(groups,)``); ``groups``; ``rmse_db`` / ``rmse_default_db`` / ``rmse_offsets_db``
    (``{"vh", "vv"}``: dB RMSE over the fitted pixels of the fitted model, of the default coefficients, and of a
    per-scene-date constant — the model with no vegetation term, the baseline the LAI dependence must beat);
    ``n_pixels``; ``incidence_deg``, ``soil_moisture`` (the assumed values); ``status`` and ``iterations`` per
    polarisation (of the LM solver; status 0 = converged, :class:`~leafjax.inversion.Status`); ``linear_limit``
    per polarisation: ``True`` when the canopy stays optically thin over the data (two-way transmissivity γ² >
    0.95 at the largest LAI): the saturation, and so A and B separately, are then not identified.
    """

    coefficients: RadarCoefficients
    groups: tuple[str, ...]
    rmse_db: dict[str, float]
    rmse_default_db: dict[str, float]
    rmse_offsets_db: dict[str, float]
    n_pixels: int
    incidence_deg: float
    soil_moisture: float
    status: dict[str, int]
    iterations: dict[str, int]
    linear_limit: dict[str, bool]

    def summary(self) -> str:
        """A few lines: per polarisation A, B, E, the C range and the three RMSEs."""
        lines = [f"water-cloud fit on {self.n_pixels} pixels, {len(self.groups)} scene-dates, incidence "
                 f"{self.incidence_deg:g} deg (assumed), mv {self.soil_moisture:g} (nominal)"]
        for pol in S1_CHANNELS:
            c = getattr(self.coefficients, pol)
            cs = np.asarray(c.c)
            lines.append(f"  {pol}: A {float(c.a):.4g}  B {float(c.b):.4g}  E {float(c.e):.4g}  C "
                         f"{cs.min():.2f}..{cs.max():.2f} dB  D {float(c.d):g} (fixed)  RMSE "
                         f"{self.rmse_default_db[pol]:.3f} (default) -> {self.rmse_db[pol]:.3f} dB (fitted); "
                         f"per-scene-date constant {self.rmse_offsets_db[pol]:.3f} dB"
                         + ("  [linear limit: A, B not separately identified]" if self.linear_limit[pol] else ""))
        return "\n".join(lines)


def _predict_db(z, lai, group, theta, mv, d, fit_exponent: bool):
    """Model dB ``(2, n)`` from the unknowns ``z`` ``(2, p)`` = [log A, log B, (log E), C_1..C_k] per row."""
    k0 = 3 if fit_exponent else 2
    a, b = jnp.exp(z[:, 0:1]), jnp.exp(z[:, 1:2])
    e = jnp.exp(z[:, 2:3]) if fit_exponent else jnp.ones_like(a)
    c = jnp.take(z[:, k0:], group, axis=1)  # (2, n)
    co = WaterCloudCoefficients(a=a, b=b, c=c, d=d[:, None], e=e)
    return water_cloud_db(lai[None, :], mv, theta, co)


def _rmse(err: np.ndarray) -> dict[str, float]:
    return {pol: float(np.sqrt(np.mean(err[i] ** 2))) for i, pol in enumerate(S1_CHANNELS)}


def fit_water_cloud(data: WcmFitData, *, incidence_deg: float = ASSUMED_INCIDENCE_DEG,
                    soil_moisture: float = NOMINAL_SOIL_MOISTURE, fit_exponent: bool = True,
                    max_steps: int = 200) -> WcmFit:
    """Fit A, B (and E) per polarisation and one soil term C per scene-date and polarisation to ``data``
    (:func:`wcm_fit_data`) by least squares in dB (module docstring); D stays at its default.

    **Arguments:** ``incidence_deg`` (assumed angle, degrees); ``soil_moisture`` (nominal m³ m⁻³); ``fit_exponent``
    (fit E of V1 = LAI^E, the default; ``False``: E = 1, V1 = V2 = LAI — on the real sample that form runs to its
    linear limit, B → 0 and A → ∞ with A·B fixed, flagged by :attr:`WcmFit.linear_limit`); ``max_steps`` (LM
    iterations).

    **Returns:** :class:`WcmFit` (float64).  Starts from :data:`~leafjax.physics.radar.DEFAULT_COEFFICIENTS`
    with each C_g set so that the bare-soil σ⁰ equals the scene-date's median of the pixels with LAI < 0.5
    (or of all its pixels).
    """
    if not (0.0 <= incidence_deg <= 89.0) or not (0.0 <= soil_moisture <= 1.0) or max_steps < 1:
        raise ValueError(f"need incidence_deg in [0, 89], soil_moisture in [0, 1] and max_steps >= 1; got "
                         f"{incidence_deg}, {soil_moisture}, {max_steps}")
    k = len(data.groups)
    obs = data.s1_db.T  # (2, n)
    d = np.array([DEFAULT_COEFFICIENTS[p]["d"] for p in S1_CHANNELS])
    start = []
    for i, pol in enumerate(S1_CHANNELS):
        dflt = DEFAULT_COEFFICIENTS[pol]
        cs = []
        for g in range(k):
            sel = data.group == g
            low = sel & (data.lai < 0.5)
            cs.append(np.median(obs[i, low if low.sum() >= 100 else sel]) - dflt["d"] * soil_moisture)
        head = [np.log(dflt["a"]), np.log(dflt["b"])] + ([np.log(dflt["e"])] if fit_exponent else [])
        start.append(head + cs)
    with jax.enable_x64(True):
        args = (jnp.asarray(data.lai, jnp.float64), jnp.asarray(data.group, jnp.int32),
                jnp.asarray(obs, jnp.float64), jnp.asarray(d, jnp.float64))
        z0 = jnp.asarray(np.array(start), jnp.float64)

        @jax.jit
        def solve(z0, lai, group, obs, d):
            def residuals(z):
                return _predict_db(z, lai, group, incidence_deg, soil_moisture, d, fit_exponent) - obs
            return levenberg_marquardt(residuals, z0, max_steps=max_steps, rtol=1e-10, gtol=1e-8)

        state = solve(z0, *args)
        z = np.asarray(state.z)
        fitted = np.asarray(_predict_db(jnp.asarray(z), *args[:2], incidence_deg, soil_moisture, args[3],
                                        fit_exponent))
        default_pred = np.stack([np.asarray(water_cloud_db(
            args[0], soil_moisture, incidence_deg,
            WaterCloudCoefficients(**{f: jnp.asarray(v, jnp.float64) for f, v in DEFAULT_COEFFICIENTS[p].items()})))
            for p in S1_CHANNELS])
        k0 = 3 if fit_exponent else 2
        coeffs = {pol: WaterCloudCoefficients(a=np.exp(z[i, 0]), b=np.exp(z[i, 1]),
                                              e=np.exp(z[i, 2]) if fit_exponent else 1.0, c=z[i, k0:],
                                              d=float(d[i]))
                  for i, pol in enumerate(S1_CHANNELS)}
    offsets = np.stack([np.array([obs[i, data.group == g].mean() for g in range(k)])[data.group]
                        for i in range(2)])
    return WcmFit(RadarCoefficients(**coeffs), data.groups, _rmse(fitted - obs), _rmse(default_pred - obs),
                  _rmse(offsets - obs), int(obs.shape[1]), float(incidence_deg), float(soil_moisture),
                  {p: int(state.status[i]) for i, p in enumerate(S1_CHANNELS)},
                  {p: int(state.iters[i]) for i, p in enumerate(S1_CHANNELS)},
                  {p: bool(np.exp(-2.0 * float(coeffs[p].b) * float(np.max(data.lai))
                                  / np.cos(np.radians(incidence_deg))) > 0.95) for p in S1_CHANNELS})


# --- realism statistics of a real sample (targets for simulated radar) -------------------------------------------

#: LAI bins (m² m⁻², lower edges inclusive) of the per-class backscatter medians.
DEFAULT_LAI_BINS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, np.inf)


def _quartiles(x: np.ndarray) -> dict[str, float]:
    q = np.percentile(x, [25, 50, 75]) if x.size else [np.nan] * 3
    return {"q25": float(q[0]), "median": float(q[1]), "q75": float(q[2]), "n": int(x.size)}


def sample_realism_stats(chips: list[S1S2Chip], *, window: int = 8, lai_std_max: float = 0.1,
                         lai_bins=DEFAULT_LAI_BINS, times=FIT_TIMES) -> dict:
    """Statistics of real S1/LAI chips that simulated radar should reproduce (measured at run time).

    **Arguments:** ``chips`` (:func:`leafjax.data.load_s1s2_sample`); ``window`` (pixels, side of the square
    non-overlapping ENL windows); ``lai_std_max`` (m² m⁻²: a window is *homogeneous* when all its pixels are valid
    and the standard deviation of their LAI is at most this); ``lai_bins`` (edges of the LAI "classes");
    ``times`` (time steps with LAI used for everything but the date-to-date changes).  Negative LAI values of the
    product count as 0, as in :func:`wcm_fit_data`.

    **Returns:** a dict of plain floats:

    - ``"enl"``: ``{vh, vv: {q25, median, q75, n}}``, the equivalent number of looks (mean²/variance of linear
      σ⁰, :func:`~leafjax.physics.radar.block_enl`) of the homogeneous windows; ``"enl_all_windows"`` the same
      over every fully valid window.  Texture within a window lowers the estimate, so it is a lower bound of the
      product's looks.  ``"lag1_correlation"``: ``{vh, vv: {q25, median, q75, n}}``, the correlation of
      horizontally adjacent linear σ⁰ within the homogeneous windows (0 for independent pixel speckle; a filtered
      or oversampled product is spatially correlated).
    - ``"backscatter_median_db"``: ``{"lo-hi": {vh, vv (dB medians), n}}`` per LAI bin of the valid pixels.
    - ``"lai_vh_correlation"``, ``"lai_vv_correlation"``: Pearson correlation of LAI and dB over every valid pixel
      pooled; ``"lai_vh_correlation_by_scene_date"``: ``{"<scene> <t>": r}``.
    - ``"date_change_db"``: ``{vh, vv: {median_abs, std}}`` of the change of dB between consecutive dates
      (t−2 → t−1, t−1 → t) over all pixels.
    - ``"lai_quantiles"``: ``{q05, q25, q50, q75, q95}`` of the valid LAI; ``"n_valid_pixels"``; ``"settings"``.
    """
    if not chips:
        raise ValueError("sample_realism_stats needs at least one chip")
    with jax.enable_x64(True):  # ENL in float64 whatever the process default
        return _realism_stats(chips, window, lai_std_max, lai_bins, times)


def _realism_stats(chips, window, lai_std_max, lai_bins, times) -> dict:
    enl = {p: [] for p in S1_CHANNELS}
    enl_all = {p: [] for p in S1_CHANNELS}
    lag1 = {p: [] for p in S1_CHANNELS}
    lai_all, s1_all, by_date = [], [], {}
    changes = {p: [] for p in S1_CHANNELS}
    for chip in chips:
        ny, nx = (n // window for n in chip.shape)
        for t in times:
            valid = chip.valid[t]
            if not valid.any():
                continue
            tiles = lambda a: a[:ny * window, :nx * window].reshape(ny, window, nx, window)  # noqa: E731
            full = tiles(valid).all(axis=(1, 3))
            lai_std = np.nanstd(tiles(chip.lai[t]), axis=(1, 3)) if full.any() else np.full(full.shape, np.inf)
            homogeneous = full & (lai_std <= lai_std_max)
            for i, pol in enumerate(S1_CHANNELS):
                linear = np.asarray(db_to_linear(jnp.asarray(chip.s1[t, i], jnp.float64)))
                e = np.asarray(block_enl(linear, window))
                enl[pol].append(e[homogeneous])
                enl_all[pol].append(e[full])
                w = tiles(linear).transpose(0, 2, 1, 3)[homogeneous]  # (windows, window, window)
                w = w - w.mean(axis=(1, 2), keepdims=True)
                lag1[pol].append(np.sum(w[:, :, :-1] * w[:, :, 1:], axis=(1, 2)) * window
                                 / ((window - 1) * np.sum(w * w, axis=(1, 2))))
            lai_t, s1_t = np.maximum(chip.lai[t][valid], 0.0), chip.s1[t][:, valid].astype(np.float64)
            lai_all.append(lai_t)
            s1_all.append(s1_t)
            if lai_t.size > 2:
                by_date[f"{chip.scene} {TIME_STEPS[t]}"] = float(np.corrcoef(lai_t, s1_t[0])[0, 1])
        diff = np.diff(chip.s1.astype(np.float64), axis=0)  # (2 steps, channel, y, x)
        for i, pol in enumerate(S1_CHANNELS):
            changes[pol].append(diff[:, i].ravel())
    lai = np.concatenate(lai_all) if lai_all else np.zeros(0)
    s1 = np.concatenate(s1_all, axis=1) if s1_all else np.zeros((2, 0))
    bins = {}
    edges = list(lai_bins)
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (lai >= lo) & (lai < hi)
        label = f"{lo:g}-{hi:g}"
        bins[label] = {**{p: float(np.median(s1[i, sel])) if sel.any() else float("nan")
                          for i, p in enumerate(S1_CHANNELS)}, "n": int(sel.sum())}
    corr = {p: float(np.corrcoef(lai, s1[i])[0, 1]) if lai.size > 2 else float("nan")
            for i, p in enumerate(S1_CHANNELS)}
    q = np.percentile(lai, [5, 25, 50, 75, 95]) if lai.size else [np.nan] * 5
    return {
        "enl": {p: _quartiles(np.concatenate(enl[p])) for p in S1_CHANNELS},
        "enl_all_windows": {p: _quartiles(np.concatenate(enl_all[p])) for p in S1_CHANNELS},
        "lag1_correlation": {p: _quartiles(np.concatenate(lag1[p])) for p in S1_CHANNELS},
        "backscatter_median_db": bins,
        "lai_vh_correlation": corr["vh"],
        "lai_vv_correlation": corr["vv"],
        "lai_vh_correlation_by_scene_date": by_date,
        "date_change_db": {p: {"median_abs": float(np.median(np.abs(np.concatenate(changes[p])))),
                               "std": float(np.std(np.concatenate(changes[p])))} for p in S1_CHANNELS},
        "lai_quantiles": dict(zip(("q05", "q25", "q50", "q75", "q95"), (float(v) for v in q))),
        "n_valid_pixels": int(lai.size),
        "settings": {"window": int(window), "lai_std_max": float(lai_std_max), "times": [int(t) for t in times]},
    }
