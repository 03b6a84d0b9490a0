"""Count XLA compilations: a context manager and a pytest fixture, shared by the recompilation checks.

A second call of a function with new values of the same shapes and dtypes must compile nothing (optax's
"Optimizer recompiles on second call" check; equinox/diffrax count traces the same way).  The counter listens
to JAX's monitoring events: ``/jax/core/compile/backend_compile_duration`` is recorded once per XLA compilation
(jitted functions and the one-primitive programs of eager ops alike), ``/jax/core/compile/jaxpr_trace_duration``
once per trace; each carries the function name.

Usage::

    from _compile_count import count_compiles

    f(x)                        # warm-up: compiles
    with count_compiles() as c:
        f(x + 1.0)
    assert c.compiles == 0, c.names

or with the fixture (import it into the test module: ``from _compile_count import compile_counter``)::

    def test_no_recompile(compile_counter):
        f(x)
        with compile_counter:
            f(y)
        assert compile_counter.compiles == 0, compile_counter.names
"""

from __future__ import annotations

import dataclasses
import threading

import jax
import pytest

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"


@dataclasses.dataclass
class CompileCounter:
    """Compilations and traces seen while the counter is active (``with counter: ...``; re-entrant counts add).

    **Attributes:** ``names`` — the compiled functions in order (e.g. ``"jit(_forward)"``); ``compiles`` its
    length; ``traced`` — the traced functions; ``traces`` its length.
    """

    names: list[str] = dataclasses.field(default_factory=list)
    traced: list[str] = dataclasses.field(default_factory=list)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)
    _depth: int = dataclasses.field(default=0, repr=False)

    @property
    def compiles(self) -> int:
        return len(self.names)

    @property
    def traces(self) -> int:
        return len(self.traced)

    def reset(self) -> None:
        with self._lock:
            self.names.clear()
            self.traced.clear()

    def _listener(self, event: str, duration: float, **kwargs) -> None:
        if event not in (COMPILE_EVENT, TRACE_EVENT):
            return
        with self._lock:
            (self.names if event == COMPILE_EVENT else self.traced).append(str(kwargs.get("fun_name", "?")))

    def __enter__(self) -> CompileCounter:
        if self._depth == 0:
            jax.monitoring.register_event_duration_secs_listener(self._listener)
        self._depth += 1
        return self

    def __exit__(self, *exc) -> None:
        self._depth -= 1
        if self._depth == 0:
            jax.monitoring.unregister_event_duration_listener(self._listener)


def count_compiles() -> CompileCounter:
    """A fresh :class:`CompileCounter`, to be used as a context manager."""
    return CompileCounter()


@pytest.fixture
def compile_counter():
    """A fresh :class:`CompileCounter` (inactive until entered with ``with compile_counter:``)."""
    counter = CompileCounter()
    yield counter
    if counter._depth:  # a test that failed inside ``with compile_counter:`` still unregisters it
        counter._depth = 1
        counter.__exit__(None, None, None)
