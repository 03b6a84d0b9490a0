"""Shared timing helpers for the benchmarks: interleaved contenders, per-repeat ratios, wall and CPU time, load.

Rules every benchmark here follows (issue 13, "fair benchmarks"):

* each contender is a zero-argument callable doing one unit of work (a batch, a loop of calls) *after* its
  imports, set-up and warm-up (compilation, numba JIT) have been done by the caller, outside any timed region;
* within each repeat every contender runs once, in an order rotated by one position per repeat, so slow drifts of
  the shared machine's load hit all contenders alike;
* wall time is ``time.perf_counter``; CPU time is ``time.process_time`` (the *process's* CPU time, summed over
  all its threads, so on this 2-core machine a contender using both cores shows CPU ≈ 2 × wall);
* a ratio of two contenders is computed per repeat (throughput A / throughput B of the same repeat) and
  reported as median [min-max] over repeats, never as a ratio of medians; beside the wall ratio (the target
  metric) the ratio of items per CPU second is printed: it is insensitive to descheduling on a loaded machine
  but counts a contender that uses both cores at twice its wall time;
* ``os.getloadavg()`` is recorded before and after, and a header names the CPU, cores and library versions.

Only the standard library and NumPy are imported here; JAX's version is read only if JAX is already imported.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Contender:
    """One timed unit of work: ``fn()`` processes ``items`` items (spectra, inversions) per call."""

    name: str
    fn: Callable[[], object]
    items: int
    wall: list[float] = field(default_factory=list)  # seconds, one entry per repeat
    cpu: list[float] = field(default_factory=list)  # process CPU seconds (all threads), one entry per repeat
    result: object = None  # return value of the first timed call

    def rates(self) -> np.ndarray:
        """Items per wall second, one per repeat."""
        return self.items / np.asarray(self.wall)


def cpu_model() -> str:
    """CPU model name from ``/proc/cpuinfo`` (falls back to :func:`platform.processor`)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> tuple[float, float, float]:
    """``os.getloadavg()`` (1, 5, 15 min), or NaNs where unavailable."""
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def fmt_load(lo: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in lo)


def header(extra: str = "") -> str:
    """One line: CPU model, cores, Python, NumPy, JAX (if imported) and its backend, load average."""
    parts = [f"CPU {cpu_model()}", f"{os.cpu_count()} cores", f"python {platform.python_version()}",
             f"numpy {np.__version__}"]
    jax = sys.modules.get("jax")
    if jax is not None:
        dev = jax.devices()[0]
        parts.append(f"jax {jax.__version__} ({dev.platform}: {dev.device_kind}, {jax.device_count()} device(s))")
    parts.append(f"load {fmt_load(load())}")
    return "; ".join(parts) + (f"; {extra}" if extra else "")


def run_interleaved(contenders: list[Contender], repeats: int, *, verbose: bool = False) -> tuple[tuple, tuple]:
    """Run every contender once per repeat, order rotated per repeat; fill ``wall``/``cpu``/``result``.

    **Returns:** ``(load_before, load_after)`` as from :func:`load`.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    before = load()
    n = len(contenders)
    for r in range(repeats):
        order = [contenders[(r + i) % n] for i in range(n)]
        for c in order:
            c0, t0 = time.process_time(), time.perf_counter()
            out = c.fn()
            t1, c1 = time.perf_counter(), time.process_time()
            c.wall.append(t1 - t0)
            c.cpu.append(c1 - c0)
            if r == 0:
                c.result = out
            if verbose:
                print(f"  repeat {r}: {c.name}: {t1 - t0:.3f} s wall", flush=True)
    return before, load()


def spread(values) -> str:
    """``median [min-max]`` of a sequence, 3 significant digits."""
    v = np.asarray(values, float)
    return f"{np.median(v):.3g} [{v.min():.3g}-{v.max():.3g}]"


def ratios(a: Contender, b: Contender, cpu: bool = False) -> np.ndarray:
    """Per-repeat throughput ratio ``rate(a) / rate(b)`` (same repeat index on both sides); with ``cpu``, of
    items per process-CPU second instead (insensitive to descheduling by other processes' load)."""
    if cpu:
        return (a.items / np.asarray(a.cpu)) / (b.items / np.asarray(b.cpu))
    return a.rates() / b.rates()


def table(contenders: list[Contender], unit: str = "spectra/s") -> str:
    """One line per contender: throughput median [min-max], wall and CPU seconds per call, CPU/wall."""
    width = max(len(c.name) for c in contenders)
    lines = [f"{'contender':<{width}}  {unit + ' median [min-max]':<34}  {'wall s':>8}  {'CPU s':>8}  CPU/wall"]
    for c in contenders:
        w, cp = np.median(c.wall), np.median(c.cpu)
        lines.append(f"{c.name:<{width}}  {spread(c.rates()):<34}  {w:8.4f}  {cp:8.4f}  {cp / w:8.2f}")
    return "\n".join(lines)


def ratio_line(label: str, a: Contender, b: Contender, target: float | None = None) -> str:
    """``label: median [min-max]x`` per repeat, with ``target met/missed`` and the margin (median / target)."""
    r = ratios(a, b)
    line = f"{label}: {spread(r)}x wall"
    if target is not None:
        med = float(np.median(r))
        verdict = "met" if med >= target else "MISSED"
        line += f"; target >= {target:g}x {verdict} (median is {med / target:.2f}x the target)"
    return line + f"; per CPU second {spread(ratios(a, b, cpu=True))}x"


def median_latency(fn: Callable[[], object], calls: int, warmup: int = 3) -> tuple[float, float, float]:
    """(median, min, max) seconds of ``calls`` single calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    a = np.asarray(ts)
    return float(np.median(a)), float(a.min()), float(a.max())
