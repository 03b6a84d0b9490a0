"""Traced programs kept on disk (``jax.export``): a warm process skips tracing and lowering, not only compiling.

The persistent compilation cache (:mod:`leafjax.core._cache`) saves XLA's compile, but every process still traces
the Python function and lowers it to StableHLO before it can look the program up; for the archive solver (the
whole Levenberg-Marquardt inversion of a chunk, with its look-up-table start, Jacobians and finaliser) that is
~1-2 s of a short run's fixed CPU.  :func:`exported_call` serialises the traced program (``jax.export``) into
``<cache>/leafjax-exported/`` the first time, and later processes deserialise it (milliseconds) and call it; its
compile is then found in the persistent compilation cache.

The key of a program covers everything it depends on: the function's name, the hash of leafjax's sources (so an
edited install never calls a stale program), the versions of JAX, jaxlib, equinox, optimistix and NumPy, the
backend, the JAX flags that change tracing (x64, dtype and rank promotion), the static parts of the arguments
(their ``repr``) and the arrays' tree, shapes and dtypes.  Without an enabled compilation cache, without the
``flatbuffers`` package (which ``jax.export`` serialisation needs), or on any error while exporting, serialising or
reading, the call is an ordinary compiled call (``equinox.filter_jit``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ._cache import compilation_cache_dir

#: Sub-folder of the cache folder holding the exported programs.
EXPORT_SUBDIR = "leafjax-exported"
_exported: dict[str, Any] = {}  # key -> deserialised jax.export.Exported, per process


@functools.lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """SHA-1 of leafjax's Python sources and the versions of the libraries a traced program depends on."""
    import importlib.metadata as md

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha1()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    for dist in ("jax", "jaxlib", "equinox", "optimistix", "numpy"):
        try:
            h.update(f"{dist}={md.version(dist)}".encode())
        except md.PackageNotFoundError:
            h.update(f"{dist}=-".encode())
    return h.hexdigest()


def _key(name: str, static: Any, treedef: Any, leaves: list) -> str:
    flags = (jax.default_backend(), jax.config.jax_enable_x64, jax.config.jax_numpy_dtype_promotion,
             jax.config.jax_numpy_rank_promotion, jax.config.jax_default_matmul_precision)
    avals = [(tuple(x.shape), str(x.dtype), bool(getattr(x, "weak_type", False))) for x in leaves]
    text = repr((name, source_fingerprint(), flags, repr(static), str(treedef), avals))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _load_or_export(path: Path, fn: Callable, static: Any, treedef: Any, leaves: list):
    if path.is_file():
        try:
            return jax.export.deserialize(bytearray(path.read_bytes()))
        except Exception:  # noqa: BLE001 - a truncated or foreign file: export again
            path.unlink(missing_ok=True)

    def flat_fn(*flat):
        args, kwargs = eqx.combine(jax.tree_util.tree_unflatten(treedef, list(flat)), static)
        return fn(*args, **kwargs)

    specs = [jax.ShapeDtypeStruct(x.shape, x.dtype, weak_type=bool(getattr(x, "weak_type", False)))
             for x in leaves]
    exp = jax.export.export(jax.jit(flat_fn))(*specs)
    blob = exp.serialize()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full cache: the program is still used in this process
    return exp


def exported_call(fn: Callable, *args: Any, _name: str | None = None, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` compiled, through a program exported to the cache folder (see the module
    docstring).  Array leaves are traced, the other leaves static; ``fn`` must return a pytree of arrays made of
    tuples, lists and dicts (what ``jax.export`` can serialise).  Inside a trace, or without a compilation cache,
    it is ``equinox.filter_jit(fn)(*args, **kwargs)``.
    """
    folder = compilation_cache_dir() if _can_serialise() else None
    dynamic, static = eqx.partition((args, kwargs), eqx.is_array)
    leaves, treedef = jax.tree_util.tree_flatten(dynamic)
    if folder is None or any(isinstance(x, jax.core.Tracer) for x in leaves):
        return _filter_jit(fn)(*args, **kwargs)
    # canonical dtypes (float64 -> float32 without x64), converted on the host: no device program
    leaves = [np.asarray(x, jax.dtypes.canonicalize_dtype(x.dtype)) if isinstance(x, np.ndarray) else x
              for x in leaves]
    name = _name or f"{fn.__module__}.{fn.__qualname__}"
    try:
        key = _key(name, static, treedef, leaves)
        exp = _exported.get(key)
        if exp is None:
            exp = _exported[key] = _load_or_export(folder / EXPORT_SUBDIR / f"{key}.bin", fn, static, treedef,
                                                   leaves)
    except Exception:  # noqa: BLE001 - an unexportable function or an unreadable file: the ordinary call
        return _filter_jit(fn)(*args, **kwargs)
    return exp.call(*leaves)


@functools.lru_cache(maxsize=1)
def _can_serialise() -> bool:
    """``jax.export`` serialisation needs the ``flatbuffers`` package (a leafjax dependency)."""
    import importlib.util

    return importlib.util.find_spec("flatbuffers") is not None


@functools.lru_cache(maxsize=None)
def _filter_jit(fn: Callable) -> Callable:
    return eqx.filter_jit(fn)
