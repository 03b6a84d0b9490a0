"""Work-arounds for known miscompilations of the XLA CPU backend, applied before JAX starts its backends.

**jaxlib 0.10.2, CPU: wrong results from the YNN reduction fusion.**  A multiply by a broadcast operand followed by
a reduction over a short trailing axis and an elementwise operation, on a few hundred rows or more, is compiled
into a YNNPACK fusion that reads the wrong rows: e.g. ``jnp.sum(g * jnp.exp(-jnp.sum(od, 1)), -1) * 2`` on
``od`` of shape ``(1024, 42, 105, 2)`` returns, from row 312 on, the values of rows 0, 1, … (no error, no NaN).
In leafjax this pattern is the k-term sum of the thermal band model: compiled together with the TOA radiance,
brightness temperatures were off by up to ~100 K from 512 rows per call, while each part compiled alone and
every call of ≤ 256 rows was right.  The same release has related YNN-fusion faults upstream (jax-ml/jax#39103:
wrong results for a vmapped product followed by a reduction; jax-ml/jax#39257 and #40412: crashes in rank-7/8
broadcast-multiply-reduce fusions), with the fusion disabled by ``--xla_cpu_experimental_ynn_fusion_type=`` (an
empty list) as the upstream work-around.

:func:`apply_xla_workarounds` adds that flag to ``XLA_FLAGS`` when the installed jaxlib is one of
:data:`YNN_FUSION_AFFECTED`, unless the user already set the option (their choice wins) or opted out with
``LEAFJAX_XLA_WORKAROUNDS=0``.  XLA reads ``XLA_FLAGS`` when JAX creates its first backend, so the flag is only
effective if no JAX computation ran before leafjax was imported; otherwise a one-time warning says how to set it.
``tests/core/test_xla.py`` runs the failing pattern in a fresh process, so a jaxlib that still miscompiles it
(without the flag, or with a new fault) fails the test suite rather than the science.
"""

from __future__ import annotations

import importlib.metadata
import os
import warnings

#: jaxlib releases whose CPU YNN fusion miscompiles (see the module docstring).
YNN_FUSION_AFFECTED: frozenset[str] = frozenset({"0.10.2"})
#: The XLA option that switches the YNN fusion off (an empty list of fusion types).
YNN_FUSION_FLAG: str = "--xla_cpu_experimental_ynn_fusion_type="
#: Environment variable to opt out of the work-arounds (``0``).
OPT_OUT_ENV: str = "LEAFJAX_XLA_WORKAROUNDS"

_state: dict[str, bool] = {"done": False}


def _jaxlib_version() -> str | None:
    try:
        return importlib.metadata.version("jaxlib")
    except importlib.metadata.PackageNotFoundError:
        return None


def _backends_started() -> bool:
    try:
        from jax._src import xla_bridge
    except ImportError:  # pragma: no cover - a JAX without that module: assume the worst
        return True
    started = getattr(xla_bridge, "backends_are_initialized", None)
    return bool(started()) if callable(started) else False


def apply_xla_workarounds() -> str | None:
    """Add the XLA flags that avoid known CPU miscompilations of the installed jaxlib (module docstring).

    **Returns:** the flag added, or ``None`` when nothing was needed or allowed (unaffected jaxlib, opt-out, the
    option already set by the user).  Idempotent.  Warns (once) when the flag is needed but JAX's backends had
    already started, so it could not take effect.
    """
    if _state["done"]:
        return None
    _state["done"] = True
    if os.environ.get(OPT_OUT_ENV, "1").strip() == "0" or _jaxlib_version() not in YNN_FUSION_AFFECTED:
        return None
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_experimental_ynn_fusion_type" in flags:
        return None
    if _backends_started():
        warnings.warn(f"jaxlib {_jaxlib_version()} miscompiles some reductions on the CPU and JAX started before "
                      f"leafjax could switch the faulty fusion off: set XLA_FLAGS={YNN_FUSION_FLAG} before the "
                      f"first JAX computation (or import leafjax first)", RuntimeWarning, stacklevel=3)
        return None
    os.environ["XLA_FLAGS"] = f"{flags} {YNN_FUSION_FLAG}".strip()
    return YNN_FUSION_FLAG
