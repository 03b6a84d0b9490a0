"""Shared test helpers."""

from __future__ import annotations

import numpy as np

import leafjax as lj

D_NAMES = lj.ProspectDParams.names
PRO_NAMES = lj.ProspectProParams.names


def random_params(rng: np.random.Generator, names, n: int, margin: float = 0.0) -> dict[str, np.ndarray]:
    """Uniform random parameters strictly inside the documented bounds (``margin`` = fraction trimmed)."""
    out = {}
    for name in names:
        lo, hi = lj.bounds(name)
        span = hi - lo
        out[name] = rng.uniform(lo + margin * span, hi - margin * span, size=n)
    return out


def model_and_params(version: str, columns: dict, dtype=np.float64, wavelengths=None):
    import jax.numpy as jnp

    cls, pcls = (lj.ProspectD, lj.ProspectDParams) if version == "D" else (lj.ProspectPro, lj.ProspectProParams)
    model = cls(wavelengths=wavelengths, dtype=dtype)
    params = pcls(**{k: jnp.asarray(v, dtype=dtype) for k, v in columns.items()})
    return model, params
