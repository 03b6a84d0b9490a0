"""Shared argument parsing helpers for the command-line interface."""

from __future__ import annotations

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
    """Parse ``START:STOP[:STEP]`` or a comma-separated list of wavelengths (nm); default 400:2400."""
    import numpy as np

    if spec is None:
        return np.arange(DEFAULT_GRID_MIN_NM, DEFAULT_GRID_MAX_NM + 1, dtype=np.float64)
    try:
        if ":" in spec:
            parts = [float(p) for p in spec.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1.0
            if step <= 0 or stop < start:
                raise CLIError(f"--wavelengths {spec!r}: need START <= STOP and STEP > 0")
            wl = np.arange(start, stop + step / 2, step)
        else:
            wl = np.asarray([float(p) for p in spec.split(",") if p.strip()], dtype=np.float64)
    except ValueError:
        raise CLIError(f"--wavelengths {spec!r}: expected START:STOP[:STEP] or a comma-separated list") from None
    if wl.size == 0:
        raise CLIError("--wavelengths selects no band")
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
    """Fail early (before any computation) if ``path`` cannot be written."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise CLIError(f"--out {path}: is a folder")
    if not parent.is_dir():
        raise CLIError(f"--out {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise CLIError(f"--out {path}: folder {parent} is not writable")
    return p


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise CLIError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise CLIError(f"expected a positive integer, got {v}")
    return v


def set_precision(dtype: str):
    """Enable float64 in JAX if asked (entry points only); return the jnp dtype."""
    import jax

    if dtype not in ("float32", "float64"):
        raise CLIError(f"--dtype must be float32 or float64, got {dtype!r}")
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jnp.float64 if dtype == "float64" else jnp.float32


def read_table(path: str):
    """Read a CSV or parquet table into pandas, with one-line errors."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{path}: no such file")
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
    except Exception as e:  # pandas/pyarrow raise many types for corrupt files
        raise CLIError(f"{path}: cannot read table ({type(e).__name__}: {e})") from None
    if len(df) == 0:
        raise CLIError(f"{path}: the table has no rows")
    return df


def load_prior_file(path: str):
    """Read a prior specification (JSON, see :func:`leafjax.simulation.prior_from_mapping`) with one-line errors."""
    import json

    from ..simulation import prior_from_mapping

    try:
        with open(path) as fh:
            return prior_from_mapping(json.load(fh))
    except (OSError, json.JSONDecodeError) as e:
        raise CLIError(f"--prior {path}: {e}") from None
