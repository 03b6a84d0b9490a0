"""Stage timing shared by the experiments' ``run.py`` scripts (written to their ``runtime.json``)."""

from __future__ import annotations

import time


class Timer:
    """Seconds per stage (accumulated), printed as each stage ends."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.t0 = time.time()

    def add(self, stage: str, dt: float) -> None:
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + dt, 2)
        print(f"[{time.time() - self.t0:7.1f} s] {stage}: {dt:.1f} s", flush=True)

    def run(self, stage: str, fn, *a, **k):
        t = time.time()
        out = fn(*a, **k)
        self.add(stage, time.time() - t)
        return out
