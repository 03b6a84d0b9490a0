"""Compiled calls: one cached ``jax.jit`` for calls on concrete inputs (the batch-1 path).

A model called eagerly on concrete arrays (``model(params)`` outside ``jit``) would otherwise be dispatched op by
op: each of its ~50 primitives is its own small XLA program, compiled once per process and dispatched one after
the other.  :func:`jit_if_concrete` runs such a
call through one module-level ``jax.jit`` instead: one program per (function, argument structure, shapes,
dtypes), compiled once per process (and found in the persistent cache, :mod:`leafjax.core._cache`, by the next
process), dispatched by JAX's C++ fast path (timings: ``benchmarks/startup.py``).  Inside a trace (``jit``,
``grad``, ``vmap``: some argument leaf is a tracer) the function is called as it is, so nothing is staged twice.

Arguments are split like ``equinox.filter_jit`` does: array leaves (JAX and NumPy arrays) and Python floats are
traced, every other leaf (strings, ``None``, ints, bools, ...) is static (part of the compiled program's key, so it must be
hashable).  The function must return a pytree of arrays (a forward model's observation).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

#: Placeholder of a traced (array) leaf among the static leaves of a call.
_ARRAY = object()


def _is_array(x: Any) -> bool:
    """Traced leaves: arrays and Python floats (as ``jax.jit`` traces them: weakly typed), so a loop over float
    parameter values reuses one program; ints, bools, strings and ``None`` stay static."""
    return isinstance(x, (jax.Array, np.ndarray, np.generic, float, complex))


def is_concrete(*trees: Any) -> bool:
    """``True`` unless some leaf of ``trees`` is a JAX tracer (i.e. the call is being traced by ``jit``,
    ``grad``, ``vmap``, ...).

    Example:
        >>> import jax.numpy as jnp
        >>> seen = []
        >>> _ = jax.jit(lambda x: seen.append(is_concrete(x)) or x)(jnp.ones(3))
        >>> is_concrete(jnp.ones(3)), seen
        (True, [False])
    """
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(trees))


def _apply(fn: Callable, treedef, static: tuple, dynamic: list) -> Any:
    """Rebuild ``(args, kwargs)`` from the traced ``dynamic`` leaves and the ``static`` ones and call ``fn``."""
    it = iter(dynamic)
    leaves = [next(it) if s is _ARRAY else s for s in static]
    args, kwargs = jax.tree_util.tree_unflatten(treedef, leaves)
    return fn(*args, **kwargs)


#: The one compiled-call entry point: keyed (in memory, and through the persistent cache across processes) on
#: the function, the argument structure, the static leaves and the arrays' shapes and dtypes.
_jitted_apply = jax.jit(_apply, static_argnums=(0, 1, 2))


@functools.lru_cache(maxsize=None)
def _jit_with_static_keywords(fn: Callable, names: tuple[str, ...]) -> Callable:
    """``jax.jit(fn)`` with the keyword arguments ``names`` static (one per function and keyword set)."""
    return jax.jit(fn, static_argnames=names)


def jit_call(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` as one compiled program (see the module docstring); inside a trace the plain call.

    Fast path (a forward model's call): every leaf of ``args`` is an array and the keyword values are hashable:
    ``args`` are traced, the keywords static, and JAX's C++ dispatch does the rest.  Otherwise the arguments
    are split as ``equinox.filter_jit`` does (array leaves traced, the others static).

    Example:
        >>> import jax.numpy as jnp
        >>> jit_call(lambda x, *, scale: scale * x, jnp.arange(3.0), scale=2.0).tolist()
        [0.0, 2.0, 4.0]
    """
    leaves = jax.tree_util.tree_leaves(args)
    all_arrays = True
    for x in leaves:
        if isinstance(x, jax.core.Tracer):
            return fn(*args, **kwargs)
        if all_arrays and not isinstance(x, (jax.Array, np.ndarray)):
            all_arrays = False
    if all_arrays:
        try:
            jitted = _jit_with_static_keywords(fn, tuple(sorted(kwargs)))
            hash(tuple(kwargs.values()))
        except TypeError:  # an unhashable function or keyword value: the general path
            pass
        else:
            return jitted(*args, **kwargs)
    flat, treedef = jax.tree_util.tree_flatten((args, kwargs))
    if any(isinstance(x, jax.core.Tracer) for x in flat):  # a tracer among the keyword arguments
        return fn(*args, **kwargs)
    dynamic = [x for x in flat if _is_array(x)]
    static = tuple(_ARRAY if _is_array(x) else x for x in flat)
    return _jitted_apply(fn, treedef, static, dynamic)


def jit_if_concrete(fn: F) -> F:
    """Decorator: calls of ``fn`` on concrete inputs go through :func:`jit_call` (one compiled program instead
    of op-by-op dispatch); traced calls are unchanged.  Meant for a forward model's ``__call__``::

        class ProspectD(AbstractLeafModel):
            @jit_if_concrete
            def __call__(self, params, conditions=None, *, block_size="auto"): ...

    Errors raised by ``fn`` from its arguments' types or shapes are raised the same way (while tracing).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return jit_call(fn, *args, **kwargs)

    wrapper.__wrapped__ = fn
    return wrapper  # type: ignore[return-value]
