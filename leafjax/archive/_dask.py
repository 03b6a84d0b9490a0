"""Dask distribution of an archive run: chunks solved on the workers, task state built once per worker.

Each Dask task runs :func:`solve_chunk`, which checks the precision in the worker's own process, builds the
task's state (``task.setup``) the first time a chunk of the run reaches that worker process, and keeps it in a
small per-process cache keyed by the run's digest (:func:`leafjax.archive._engine.digest_key`), so that the
model, look-up tables and priors are built once per worker rather than once per chunk.  When the run ends the
engine drops the cached state on every worker (:func:`forget`); the cache also never holds more than
:data:`MAX_CACHED_RUNS` runs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from ._settings import ArchiveSettings, check_dtype
from ._table import ArchiveInfo
from ._task import AbstractArchiveTask

#: Runs whose state a worker process keeps at most (older ones are dropped first).
MAX_CACHED_RUNS: int = 2

# Per-process cache of task states {digest key: state}: the worker-side counterpart of ``setup`` once per run.
_STATES: OrderedDict[str, Any] = OrderedDict()
_LOCK = threading.Lock()


def solve_chunk(task: AbstractArchiveTask, settings: ArchiveSettings, info: ArchiveInfo, key: str,
                chunk: Any) -> tuple[pd.DataFrame, bool]:
    """Worker side: solve ``chunk`` with the state of run ``key`` (built here if this process has none yet).

    **Returns:** ``(output records, whether this call ran setup)``.  Raises ``ValueError`` if the settings ask
    for float64 and this worker's JAX is not in 64-bit mode.
    """
    check_dtype(settings.dtype)
    with _LOCK:  # threads of one worker share one setup
        fresh = key not in _STATES
        if fresh:
            _STATES[key] = task.setup(settings, info)
            while len(_STATES) > MAX_CACHED_RUNS:
                _STATES.popitem(last=False)
        state = _STATES[key]
    return task.run(state, chunk), fresh


def forget(key: str) -> None:
    """Worker side: drop the cached state of run ``key``."""
    with _LOCK:
        _STATES.pop(key, None)


def run_on_dask(client, task: AbstractArchiveTask, settings: ArchiveSettings, info: ArchiveInfo, key: str,
                todo: Iterable[tuple[int, Any]], finish: Callable[[int, pd.DataFrame], None],
                max_in_flight: int | None) -> int:
    """Submit ``todo`` to ``client``'s workers, at most ``max_in_flight`` chunks at a time (default: 2 per
    worker), and ``finish`` each chunk as it completes.  Returns the number of setups the workers ran."""
    from distributed import as_completed

    if max_in_flight is None:
        max_in_flight = max(2, 2 * len(client.scheduler_info().get("workers", {})))
    pending: dict = {}
    setups = 0
    stream = as_completed()

    def collect(fut) -> None:
        nonlocal setups
        df, fresh = fut.result()
        setups += int(fresh)
        finish(pending.pop(fut), df)

    try:
        for i, chunk in todo:
            fut = client.submit(solve_chunk, task, settings, info, key, chunk, pure=False)
            pending[fut] = i
            stream.add(fut)
            while len(pending) >= max_in_flight:
                collect(next(stream))
        for fut in stream:
            collect(fut)
    finally:
        for fut in pending:
            fut.cancel()
        try:
            client.run(forget, key)
        except Exception:  # a worker that is gone has nothing to forget
            pass
    return setups
