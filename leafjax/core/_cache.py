"""The persistent compilation cache: compiled XLA programs kept on disk, so a new process does not recompile.

:func:`enable_compilation_cache` points JAX's persistent cache (``jax_compilation_cache_dir``) at a per-user
folder (:func:`default_cache_dir`: ``$LEAFJAX_CACHE_DIR``, else ``$XDG_CACHE_HOME/leafjax/jax``, else
``~/.cache/leafjax/jax``) and lets every program in (``jax_persistent_cache_min_compile_time_secs = 0``: JAX's
default of 1 s would keep out the many small programs whose lowering and compiling make up most of a short run's
fixed cost).  It is called by the command line (``leafjax invert``/``forward``/``simulate``, unless
``--no-compile-cache``) and, once, when leafjax's JAX layers are first imported (:mod:`leafjax.core`), so a fresh
Python process computing one spectrum also finds its program compiled.  It does nothing when

* the user opted out: ``LEAFJAX_COMPILATION_CACHE=0`` (also ``false``/``no``/``off``);
* the user configured a JAX cache already (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config.update(
  "jax_compilation_cache_dir", ...)``): theirs is used, with their settings;
* JAX's cache is switched off (``jax_enable_compilation_cache = False``);
* the folder cannot be created or written, or its file system has under :data:`MIN_FREE_BYTES` free: one
  warning, and the run goes on without a cache (a cache problem never fails a run; later read/write errors
  reported by JAX are shown once, see :func:`_warn_once_about_cache_errors`).

The cache is trusted code (JAX's caveat): keep it in a folder only you can write.  Size: about 1 MB per leaf
archive configuration (see ``docs/performance.md``); it is never evicted; delete the folder to clear it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

#: Environment variable naming the cache folder (highest precedence).
CACHE_DIR_ENV = "LEAFJAX_CACHE_DIR"
#: Environment variable of the opt-out (``0``, ``false``, ``no`` or ``off`` disable the cache).
OPT_OUT_ENV = "LEAFJAX_COMPILATION_CACHE"
#: Below this much free space in the cache's file system the cache is not enabled (bytes).
MIN_FREE_BYTES = 64 * 2**20
#: Start of JAX's warnings about a failed read or write of a cache entry.
_JAX_CACHE_WARNINGS = ("Error writing persistent compilation cache entry",
                       "Error reading persistent compilation cache entry")

_lock = threading.Lock()
_state: dict[str, object] = {"dir": None, "warned": False, "hooked": False}


def default_cache_dir() -> Path:
    """The per-user cache folder: ``$LEAFJAX_CACHE_DIR``, else ``$XDG_CACHE_HOME/leafjax/jax``, else
    ``~/.cache/leafjax/jax`` (``~`` expanded)."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "leafjax" / "jax"


def opted_out() -> bool:
    """``True`` if ``LEAFJAX_COMPILATION_CACHE`` is ``0``, ``false``, ``no`` or ``off`` (any case)."""
    return os.environ.get(OPT_OUT_ENV, "").strip().lower() in ("0", "false", "no", "off")


def _unusable(path: Path) -> str | None:
    """Why ``path`` cannot hold the cache (``None`` if it can): created if missing, written to, enough space."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
        free = shutil.disk_usage(path).free
    except OSError as e:
        return f"{type(e).__name__}: {e.strerror or e}"
    if free < MIN_FREE_BYTES:
        return f"only {free // 2**20} MiB free"
    return None


def _warn(message: str) -> None:
    if not _state["warned"]:
        _state["warned"] = True
        warnings.warn(f"leafjax: {message}; running without a compilation cache (this warning is shown once)",
                      RuntimeWarning, stacklevel=3)


def _warn_once_about_cache_errors() -> None:
    """Show JAX's per-entry cache read/write warnings (e.g. a disk that fills up during a run) once per process:
    the first as a one-line leafjax warning, the rest not at all."""
    if _state["hooked"]:
        return
    _state["hooked"] = True
    show = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if text.startswith(_JAX_CACHE_WARNINGS):
            if _state["warned"]:
                return
            _state["warned"] = True
            message = f"leafjax: compilation cache at {_state['dir']} failed ({text[:160]}); the run goes on " \
                      f"(this warning is shown once)"
        show(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Use a persistent compilation cache in ``path`` (default :func:`default_cache_dir`); see the module
    docstring for when it does nothing.

    **Returns:** the cache folder in use (the user's own, if they configured one), or ``None`` when no cache is
    used (opt-out, JAX's cache switched off, unusable folder).  Idempotent and cheap after the first call.
    """
    import jax

    with _lock:
        configured = jax.config.jax_compilation_cache_dir
        if configured:
            return Path(configured)
        if opted_out() or not jax.config.jax_enable_compilation_cache:
            return None
        target = Path(path).expanduser() if path is not None else default_cache_dir()
        problem = _unusable(target)
        if problem is not None:
            _warn(f"cannot use the compilation cache at {target} ({problem}; set {CACHE_DIR_ENV} to another "
                  f"folder, or {OPT_OUT_ENV}=0)")
            return None
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_compilation_cache_dir", str(target))
        _state["dir"] = target
        _warn_once_about_cache_errors()
        return target


def compilation_cache_dir() -> Path | None:
    """The folder of the persistent compilation cache JAX uses in this process, or ``None``."""
    import jax

    configured = jax.config.jax_compilation_cache_dir
    return Path(configured) if configured and jax.config.jax_enable_compilation_cache else None
