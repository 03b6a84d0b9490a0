r"""Realism report of simulated Sentinel-1/2 chips against the real sample.

:func:`realism_report` computes the *same* statistics on simulated chips (:func:`~leafjax.simulation.
scenes_to_chips`) and on the real ones (:func:`leafjax.data.load_s1s2_sample`) with one injected function,
``stats_fn`` — :func:`leafjax.inversion.sample_realism_stats` (the simulation layer sits below the inversion
layer, so it takes the function as an argument) — and sets them side by side.

**The real range** of a statistic is the interval between its smallest and largest value over the real
scene-dates, each measured on its own (``stats_fn([chip], times=(t,))``; the sample has five with an intact LAI:
Kaliningrad 2018-04 t−2 and t−1, Latvia/Lithuania 2019-06 t−1, Moldova/Romania 2019-08 t−2 and t−1; the
date-to-date changes use all three S1 dates of the chip, so they vary by scene); a per-LAI-class median counts
for a scene-date only where it has at least ``min_pixels`` valid pixels in the class.  A simulated statistic is *within* when it lies in that range; it is not
judged (``None``) when the simulated chips have fewer than ``min_pixels`` pixels in the class.  The statistics
(:data:`STATISTICS`): median ENL and median lag-1 correlation of the homogeneous windows, LAI–VH and LAI–VV
Pearson r, the median absolute and the standard deviation of the date-to-date change, the median backscatter per
LAI class, and the LAI quantiles of the valid pixels — for VH and VV where both apply.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import numpy as np

#: Minimum valid pixels of an LAI class for its median to count (per real scene, and for the simulation).
MIN_PIXELS: int = 500
#: Channel names of the statistics.
_POLS = ("vh", "vv")


def flatten_realism_stats(stats: dict, *, min_pixels: int = MIN_PIXELS) -> dict[str, float]:
    """The scalar statistics of a ``sample_realism_stats`` dict, keyed ``"enl median vh"``, ``"lag-1 r median
    vv"``, ``"LAI-VH r"``, ``"date change median |d| vh"`` (dB), ``"date change std vh"`` (dB), ``"median vh
    LAI 1-2"`` (dB), ``"LAI q50"`` (m² m⁻²), ...  A class median with fewer than ``min_pixels`` pixels is NaN."""
    out: dict[str, float] = {}
    for p in _POLS:
        out[f"ENL median {p}"] = stats["enl"][p]["median"]
    for p in _POLS:
        out[f"lag-1 r median {p}"] = stats["lag1_correlation"][p]["median"]
    out["LAI-VH r"] = stats["lai_vh_correlation"]
    out["LAI-VV r"] = stats["lai_vv_correlation"]
    for p in _POLS:
        out[f"date change median |d| {p} (dB)"] = stats["date_change_db"][p]["median_abs"]
    for p in _POLS:
        out[f"date change std {p} (dB)"] = stats["date_change_db"][p]["std"]
    for p in _POLS:
        for label, b in stats["backscatter_median_db"].items():
            out[f"median {p} LAI {label} (dB)"] = b[p] if b["n"] >= min_pixels else math.nan
    for q, v in stats["lai_quantiles"].items():
        out[f"LAI {q}"] = v
    return {k: float(v) for k, v in out.items()}


class RealismRow(NamedTuple):
    """One statistic: ``simulated``, ``real`` (pooled over the real chips), ``low``/``high`` (the real range over
    scene-dates), ``within`` (``None``: not judged)."""

    statistic: str
    simulated: float
    real: float
    low: float
    high: float
    within: bool | None


class RealismReport(NamedTuple):
    """:func:`realism_report`'s result: ``rows`` (:class:`RealismRow`), the number of valid pixels of both,
    and the real scene-dates used for the ranges."""

    rows: tuple[RealismRow, ...]
    n_simulated_pixels: int
    n_real_pixels: int
    scenes: tuple[str, ...]

    @property
    def n_within(self) -> int:
        return sum(r.within is True for r in self.rows)

    @property
    def n_judged(self) -> int:
        return sum(r.within is not None for r in self.rows)

    def table(self) -> str:
        """A Markdown table: statistic | simulated | real (pooled) | real range | within."""
        def f(x):
            return "–" if not np.isfinite(x) else f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"
        lines = ["| statistic | simulated | real (pooled) | real range over scene-dates | within |",
                 "|---|---|---|---|---|"]
        for r in self.rows:
            mark = "–" if r.within is None else ("yes" if r.within else "**no**")
            lines.append(f"| {r.statistic} | {f(r.simulated)} | {f(r.real)} | [{f(r.low)}, {f(r.high)}] | {mark} |")
        lines.append(f"\n{self.n_within} of {self.n_judged} judged statistics within the real range "
                     f"({self.n_simulated_pixels} simulated and {self.n_real_pixels} real valid pixels).")
        return "\n".join(lines)


def realism_report(simulated: Sequence, real: Sequence, stats_fn: Callable[..., dict], *,
                   min_pixels: int = MIN_PIXELS, **stats_kwargs) -> RealismReport:
    """Side-by-side realism statistics of ``simulated`` and ``real`` chips (:class:`~leafjax.data.S1S2Chip`
    lists; module docstring).

    **Arguments:** ``stats_fn``: :func:`leafjax.inversion.sample_realism_stats` (or any function of a chip list
    with its output); ``min_pixels``: see the module docstring; ``stats_kwargs``: passed to ``stats_fn`` for both
    (e.g. ``window``, ``lai_std_max``).

    Example (needs the shared data)::

        from leafjax.inversion import sample_realism_stats
        report = realism_report(scenes_to_chips(scenes), load_s1s2_sample("../shared/data"), sample_realism_stats)
        print(report.table())
    """
    if not simulated or not real:
        raise ValueError("realism_report needs simulated and real chips")
    sim_stats = stats_fn(list(simulated), **stats_kwargs)
    real_stats = stats_fn(list(real), **stats_kwargs)
    sim, pooled = (flatten_realism_stats(s, min_pixels=min_pixels) for s in (sim_stats, real_stats))
    times = stats_kwargs.pop("times", (0, 1))
    scenes, per_scene = [], []
    for chip in real:
        for t in times:
            if chip.valid[t].any():
                scenes.append(f"{chip.scene} t-{2 - t}")
                one = stats_fn([chip], times=(t,), **stats_kwargs)
                per_scene.append(flatten_realism_stats(one, min_pixels=min_pixels))
    rows = []
    for key, value in sim.items():
        vals = np.array([s[key] for s in per_scene], np.float64)
        vals = vals[np.isfinite(vals)]
        lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (math.nan, math.nan)
        within = None if not (np.isfinite(value) and vals.size) else bool(lo <= value <= hi)
        rows.append(RealismRow(key, value, pooled[key], lo, hi, within))
    return RealismReport(tuple(rows), int(sim_stats["n_valid_pixels"]), int(real_stats["n_valid_pixels"]),
                         tuple(scenes))
