"""Shared argument parsing helpers for the command-line interface."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._constants import DEFAULT_GRID_MAX_NM, DEFAULT_GRID_MIN_NM, WAVELENGTH_MAX_NM, WAVELENGTH_MIN_NM

if TYPE_CHECKING:
    import numpy as np

# The parser modules import no JAX, numpy or pandas at module level (``leafjax --help`` stays fast); the command
# functions import what they need.


class CLIError(Exception):
    """An error reported to the user as one line, with exit status 2."""


def parse_wavelengths(spec: str | None) -> np.ndarray:
    """Parse ``START:STOP[:STEP]`` or a comma-separated list of wavelengths (nm); default 400:2400.

    Every band must lie on the model's 1-nm grid inside 400–2500 nm (``STEP`` a whole number of nm); each error
    is one :class:`CLIError` line naming the option.
    """
    import math

    import numpy as np

    if spec is None:
        return np.arange(DEFAULT_GRID_MIN_NM, DEFAULT_GRID_MAX_NM + 1, dtype=np.float64)
    shown = spec if len(spec) <= 40 else spec[:39] + "…"
    try:
        if ":" in spec:
            parts = [float(p) for p in spec.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1.0
            if not all(math.isfinite(v) for v in (start, stop, step)):
                raise CLIError(f"--wavelengths {shown!r}: START, STOP and STEP must be finite numbers")
            if step <= 0 or stop < start:
                raise CLIError(f"--wavelengths {shown!r}: need START <= STOP and STEP > 0")
            for v in (start, stop):
                if v < WAVELENGTH_MIN_NM or v > WAVELENGTH_MAX_NM:
                    raise CLIError(f"--wavelengths {v:g} nm is outside the model range "
                                   f"{WAVELENGTH_MIN_NM}-{WAVELENGTH_MAX_NM} nm")
            if step < 1 or abs(step - round(step)) > 1e-9:
                raise CLIError(f"--wavelengths {shown!r}: STEP must be a whole number of nm (the model's 1-nm "
                               "grid)")
            wl = np.arange(start, stop + step / 2, step)
        else:
            items = [p for p in spec.split(",") if p.strip()]
            if len(items) > WAVELENGTH_MAX_NM - WAVELENGTH_MIN_NM + 1:
                raise CLIError("--wavelengths lists a band twice")
            wl = np.asarray([float(p) for p in items], dtype=np.float64)
    except ValueError:
        raise CLIError(f"--wavelengths {shown!r}: expected START:STOP[:STEP] or a comma-separated list of "
                       "numbers (nm)") from None
    if wl.size == 0:
        raise CLIError("--wavelengths selects no band")
    bad = wl[~np.isfinite(wl)]
    if bad.size:
        raise CLIError(f"--wavelengths {shown!r}: wavelengths must be finite numbers")
    out = wl[(wl < WAVELENGTH_MIN_NM) | (wl > WAVELENGTH_MAX_NM)]
    if out.size:
        raise CLIError(f"--wavelengths {out[0]:g} nm is outside the model range "
                       f"{WAVELENGTH_MIN_NM}-{WAVELENGTH_MAX_NM} nm")
    off = wl[np.abs(wl - np.round(wl)) > 1e-9]
    if off.size:
        raise CLIError(f"--wavelengths {off[0]:g} nm is not on the model's 1-nm grid")
    if np.unique(wl).size != wl.size:
        raise CLIError("--wavelengths lists a band twice")
    return wl


def check_output_path(path: str) -> Path:
    """Fail early (before any computation) if ``path`` cannot be written (no format or overwrite check)."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise CLIError(f"--out {path}: is a folder")
    if not parent.is_dir():
        raise CLIError(f"--out {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise CLIError(f"--out {path}: folder {parent} is not writable")
    return p


def prepare_output(path: str, *, inputs=(), overwrite: bool = False, formats=None) -> tuple[Path, str]:
    """:func:`leafjax.io.check_output` for ``--out``: ``(path, format)`` or a one-line error, before any compute.

    The format is the one the extension names (``.parquet``/``.pq`` Parquet, ``.csv`` CSV); an output equal to
    one of ``inputs`` is refused, and so is an existing file unless ``overwrite`` (``--overwrite``); ``formats``:
    another extension -> format table (e.g. ``{".npz": "npz"}``).
    """
    from ..io import check_output

    try:
        return check_output(path, inputs=[i for i in inputs if i], overwrite=overwrite, formats=formats)
    except ValueError as e:
        raise CLIError(f"--out: {e}") from None


def positive_int(text, name: str = "value") -> int:
    """Parse a positive integer option (``--n``, ``--chunk-size``); one-line :class:`CLIError` otherwise."""
    try:
        v = int(str(text).strip())
    except ValueError:
        raise CLIError(f"{name}: expected a positive integer, got {_short(text)}") from None
    if v <= 0:
        raise CLIError(f"{name}: expected a positive integer, got {v}")
    return v


def int_option(text, name: str = "--seed") -> int:
    """Parse an integer option in the 64-bit signed range (``--seed``)."""
    try:
        v = int(str(text).strip())
    except ValueError:
        raise CLIError(f"{name}: expected an integer, got {_short(text)}") from None
    if not -(2 ** 63) <= v < 2 ** 63:
        raise CLIError(f"{name}: {v} is outside the 64-bit integer range")
    return v


def nonnegative_float(text, name: str) -> float:
    """Parse a finite number >= 0 (``--noise-additive``, ``--noise-multiplicative``)."""
    import math

    try:
        v = float(str(text).strip())
    except ValueError:
        raise CLIError(f"{name}: expected a number >= 0, got {_short(text)}") from None
    if not math.isfinite(v) or v < 0:
        raise CLIError(f"{name}: expected a finite number >= 0, got {_short(text)}")
    return v


def _short(text, limit: int = 40) -> str:
    r = repr(str(text))
    return r if len(r) <= limit else r[: limit - 1] + "…"


def set_precision(dtype: str):
    """Enable float64 in JAX if asked (entry points only) and the persistent compilation cache (unless
    ``--no-compile-cache``, see :func:`compile_cache_option`); return the jnp dtype."""
    import jax

    from ..core import enable_compilation_cache

    enable_compilation_cache()  # a no-op under --no-compile-cache, LEAFJAX_COMPILATION_CACHE=0 or a user's cache

    if dtype not in ("float32", "float64"):
        raise CLIError(f"--dtype must be float32 or float64, got {dtype!r}")
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jnp.float64 if dtype == "float64" else jnp.float32


def add_compile_cache_option(parser) -> None:
    """``--no-compile-cache`` on a verb that computes (``invert``, ``forward``, ``simulate``)."""
    parser.add_argument("--no-compile-cache", action="store_true",
                        help="do not use the persistent compilation cache (default: on, in $LEAFJAX_CACHE_DIR or "
                             "~/.cache/leafjax/jax; also LEAFJAX_COMPILATION_CACHE=0); see docs/performance.md")


@contextlib.contextmanager
def compile_cache_option(args):
    """Around a verb's run: with ``--no-compile-cache``, JAX's compilation cache is switched off
    (``jax_enable_compilation_cache``) before anything is compiled, and the setting restored afterwards (a
    process whose cache is already in use, e.g. an in-process second call, keeps using it: JAX decides once per
    process).  Without the flag nothing is imported here (flag errors stay free of JAX)."""
    if not getattr(args, "no_compile_cache", False):
        yield
        return
    import jax

    before = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", before)


def read_table(path: str, *, sep: str | None = None, decimal: str | None = None):
    """Read a small CSV or parquet table (``forward --params``) into pandas, with one-line errors.

    Uses :func:`leafjax.io.read_table` (CSV dialects: ``;`` separators, decimal commas, quoted fields, blank
    lines, CRLF/CR, a BOM; Parquet with or without a stored pandas index).
    """
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{path}: no such file" if not p.exists() else f"{path}: not a file")
    try:
        from ..io import read_table as _read
    except ImportError:  # pragma: no cover - the io readers are part of leafjax
        _read = None
    if _read is not None:
        try:
            df = _read(p, sep=sep, decimal=decimal)
        except (ValueError, OSError) as e:
            raise CLIError(_first_line(e)) from None
        except Exception as e:  # noqa: BLE001 - pandas/pyarrow raise many types for corrupt files
            raise CLIError(f"{path}: cannot read table ({type(e).__name__}: {_first_line(e)})") from None
    else:  # pragma: no cover
        import pandas as pd

        suffix = p.suffix.lower()
        try:
            if suffix in (".parquet", ".pq"):
                df = pd.read_parquet(p)
            elif suffix in (".csv", ".txt"):
                df = pd.read_csv(p)
            else:
                raise CLIError(f"{path}: unknown table format {suffix!r} (use .csv or .parquet)")
        except CLIError:
            raise
        except Exception as e:  # noqa: BLE001
            raise CLIError(f"{path}: cannot read table ({type(e).__name__}: {_first_line(e)})") from None
    if len(df) == 0:
        raise CLIError(f"{path}: the table has no rows")
    if df.columns.duplicated().any():
        raise CLIError(f"{path}: duplicate column {str(df.columns[df.columns.duplicated()][0])!r}")
    return df.reset_index(drop=True)


def _first_line(e: BaseException, limit: int = 240) -> str:
    text = " ".join(str(e).strip().split()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def numeric_column(df, name: str, source: str) -> np.ndarray:
    """Column ``name`` of ``df`` as float64; a cell that is not a number is a one-line error naming ``source``,
    the column and the (1-based) row.  Empty cells become NaN (rejected later, by row, by the validators)."""
    import numpy as np
    import pandas as pd

    col = df[name]
    if pd.api.types.is_bool_dtype(col):
        raise CLIError(f"{source}: column {name!r}, row 1: {_short(col.iloc[0])} is not a number")
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    text = col.astype(object)
    missing = text.isna() | text.map(lambda v: isinstance(v, str) and not v.strip())
    values = pd.to_numeric(text.where(~missing, None), errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & ~missing.to_numpy())
    if bad.size:
        i = int(bad[0])
        raise CLIError(f"{source}: column {name!r}, row {i + 1}: {_short(text.iloc[i])} is not a number")
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def text_column(df, name: str) -> np.ndarray:
    """Column ``name`` as an object array of stripped lower-case strings, ``None`` for empty cells."""
    import numpy as np
    import pandas as pd

    def norm(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        t = str(v).strip().lower()
        return t or None

    return np.asarray([norm(v) for v in df[name].tolist()], dtype=object)


def load_prior_file(path: str):
    """Read a prior specification (JSON, see :func:`leafjax.simulation.prior_from_mapping`) with one-line errors
    that name the file and the parameter."""
    import json

    from ..simulation import prior_from_mapping

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        dup = next((k for k in keys if keys.count(k) > 1), None)
        if dup is not None:
            raise ValueError(f"key {dup!r} appears twice")
        return dict(pairs)

    try:
        with open(path, encoding="utf-8-sig") as fh:
            spec = json.load(fh, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        raise CLIError(f"--prior {path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except UnicodeDecodeError:
        raise CLIError(f"--prior {path}: not a UTF-8 text file") from None
    except OSError as e:
        raise CLIError(f"--prior {path}: {e.strerror or _first_line(e)}") from None
    except ValueError as e:
        raise CLIError(f"--prior {path}: {_first_line(e)}") from None
    try:
        return prior_from_mapping(spec)
    except (ValueError, TypeError) as e:
        raise CLIError(f"--prior {path}: {_first_line(e)}") from None
