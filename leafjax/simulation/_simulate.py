"""Simulation of leaf-spectra training sets: sample a prior, run a leaf model, add noise, stream to a table.

Tables are written by :class:`leafjax.io.TableStreamWriter`: Parquet or CSV, the format the file's extension
names (``.parquet``/``.pq``/``.csv``); the file appears only when complete.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

# io submodules, not the package: the package also exports the pandas-based readers, which this layer must not
# import (see pyproject's import-linter contracts)
from ..io._columns import spectral_columns
from ..io._outputs import TableStreamWriter
from ..physics import AbstractLeafModel, ProspectProParams, nitrogen_from_protein
from ..core import AbstractNoise
from ._priors import Prior, check_within_bounds

#: Parameters that default to zero when a table omits them (pigments absent from most green leaves).
OPTIONAL_ZERO = ("ant", "brown")


def params_from_columns(model: AbstractLeafModel, columns: Mapping[str, np.ndarray], dtype=None):
    """Build the model's parameter pytree from ``{name: array}`` (canonical names, canonical units).

    ``ant`` and ``brown`` default to 0 when absent; every other parameter of the model is required.

    Raises:
        ValueError: for a missing required parameter, or ``lma`` given to PROSPECT-PRO.
    """
    names = model.params_type.names
    if model.params_type is ProspectProParams and "lma" in columns and ("prot" in columns or "cbc" in columns):
        raise ValueError("PROSPECT-PRO takes prot and cbc (lma = prot + cbc); the table has lma as well as "
                         "prot/cbc — drop the lma column or use prospect-d")
    missing = [n for n in names if n not in columns and n not in OPTIONAL_ZERO]
    if missing:
        raise ValueError(f"{model.name} needs parameter column(s) {', '.join(missing)} "
                         f"(all parameters: {', '.join(names)})")
    dtype = model.constants.nr.dtype if dtype is None else dtype
    first = next(iter(columns.values()))
    n = np.shape(first)[0] if np.ndim(first) else 1
    kwargs = {k: jnp.asarray(columns[k], dtype=dtype) if k in columns else jnp.zeros((n,), dtype)
              for k in names}
    return model.params_type(**kwargs)


@eqx.filter_jit
def _forward(model: AbstractLeafModel, params, key, noise: AbstractNoise | None):
    out = model(params)
    r, t = out.reflectance, out.transmittance
    if noise is not None:
        kr, kt = jax.random.split(key)
        r, t = noise(kr, r), noise(kt, t)
    return r, t


def derived_columns(model: AbstractLeafModel, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Traits derived from the parameters: for PROSPECT-PRO ``lma = prot + cbc`` (g/cm²) and ``nitrogen``
    (% dry mass; 0 where ``prot + cbc = 0``: a leaf without dry matter holds no nitrogen)."""
    if model.params_type is ProspectProParams:
        prot, cbc = np.asarray(params["prot"]), np.asarray(params["cbc"])
        lma = prot + cbc
        nitrogen = np.asarray(nitrogen_from_protein(prot, np.where(lma > 0, cbc, 1.0)))
        return {"lma": lma, "nitrogen": np.where(lma > 0, nitrogen, 0.0).astype(lma.dtype)}
    return {}


def check_chunk_size(chunk_size) -> int:
    """``chunk_size`` as a positive ``int`` (ValueError otherwise)."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return int(chunk_size)


def iter_forward(model: AbstractLeafModel, columns: Mapping[str, np.ndarray], *, chunk_size: int = 8192,
                 key: PRNGKeyArray | None = None, noise: AbstractNoise | None = None
                 ) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """Run ``model`` over parameter columns in fixed-size chunks (one compilation); yields ``(rows, R, T)``.

    The last chunk is padded to ``chunk_size`` so that the jitted function is compiled once.

    Raises:
        ValueError: for a ``chunk_size`` that is not a positive integer, or no columns.
    """
    chunk_size = check_chunk_size(chunk_size)
    if not columns:
        raise ValueError("no parameter columns to run the model on")
    n = len(next(iter(columns.values())))
    if key is None:
        key = jax.random.key(0)
    for i, start in enumerate(range(0, n, chunk_size)):
        stop = min(start + chunk_size, n)
        block = {k: np.asarray(v[start:stop]) for k, v in columns.items()}
        pad = chunk_size - (stop - start) if n > chunk_size else 0
        if pad:
            block = {k: np.concatenate([v, np.repeat(v[-1:], pad)]) for k, v in block.items()}
        params = params_from_columns(model, block)
        r, t = _forward(model, params, jax.random.fold_in(key, i), noise)
        r, t = np.asarray(r)[: stop - start], np.asarray(t)[: stop - start]
        yield slice(start, stop), r, t


def simulate(model: AbstractLeafModel, prior: Prior, n: int, key: PRNGKeyArray, *,
             noise: AbstractNoise | None = None, chunk_size: int = 8192):
    """Sample ``n`` parameter sets from ``prior`` and simulate leaf R and T.

    **Arguments:**
    - ``model``: a leaf model (its wavelength grid is the output grid).
    - ``prior``: :class:`Prior` over (a subset of) the model's parameters; unlisted ``ant``/``brown`` are 0.
    - ``n``: number of spectra (> 0). ``key``: JAX PRNG key (explicit; same key → same result).
    - ``noise``: optional noise model applied to R and T independently.

    **Returns:** ``(params, R, T)``: ``{name: (n,) numpy array}`` including derived traits, and numpy arrays of
    shape ``(n, wl)``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of spectra must be a positive integer, got {n!r}")
    check_within_bounds(prior, model.params_type.names)
    k_prior, k_noise = jax.random.split(key)
    dtype = model.constants.nr.dtype
    params = {k: np.asarray(v) for k, v in prior.sample(k_prior, n, dtype=dtype).items()}
    rs, ts = [], []
    for _, r, t in iter_forward(model, params, chunk_size=chunk_size, key=k_noise, noise=noise):
        rs.append(r)
        ts.append(t)
    full = {k: params[k] if k in params else np.zeros(n, dtype) for k in model.params_type.names}
    full.update(derived_columns(model, full))
    return full, np.concatenate(rs), np.concatenate(ts)


def write_spectra_parquet(path, model: AbstractLeafModel, columns: Mapping[str, np.ndarray], *,
                          extra: Mapping[str, np.ndarray | Sequence] | None = None, key: PRNGKeyArray | None = None,
                          noise: AbstractNoise | None = None, chunk_size: int = 8192, fmt: str | None = None) -> int:
    """Run ``model`` for every row of ``columns`` and stream parameters + ``R_<nm>``/``T_<nm>`` to a table.

    Columns, in order: the ``extra`` columns (identifiers, text with empty cells allowed) carried through; the
    model's parameters (canonical names and units, ``ant``/``brown`` 0 when absent); derived traits
    (:func:`derived_columns`); ``R_<nm>`` then ``T_<nm>`` (reflectance, transmittance; fractions).  ``fmt`` is
    ``"parquet"`` or ``"csv"`` (default: from the extension of ``path``; another extension is a ValueError).
    Returns the number of rows written.  The file appears only when complete (see
    :class:`~leafjax.io.TableStreamWriter`).
    """
    wl = np.asarray(model.wavelengths)
    rcols, tcols = spectral_columns("R", wl), spectral_columns("T", wl)
    names = model.params_type.names
    with TableStreamWriter(path, fmt) as writer:
        for rows, r, t in iter_forward(model, columns, chunk_size=chunk_size, key=key, noise=noise):
            block: dict[str, np.ndarray] = {}
            if extra:
                block.update({k: np.asarray(v)[rows] for k, v in extra.items()})
            p = {k: np.asarray(columns[k][rows]) if k in columns else np.zeros(rows.stop - rows.start, r.dtype)
                 for k in names}
            block.update(p)
            block.update(derived_columns(model, p))
            block.update(zip(rcols, r.T))
            block.update(zip(tcols, t.T))
            writer.write(block)
        return writer.rows


def _rows(idx: np.ndarray) -> str:
    """1-based data rows for messages: ``row 3`` or ``rows 3, 7, 9 (and 12 more)``."""
    shown = ", ".join(str(int(i) + 1) for i in idx[:3])
    more = f" (and {idx.size - 3} more)" if idx.size > 3 else ""
    return f"row{'s' if idx.size > 1 else ''} {shown}{more}"


def check_column_values(name: str, values, low: float, high: float, source: str, unit: str = "") -> None:
    """Raise a one-line ``ValueError`` naming ``source``, the column and the first (1-based) data rows if
    ``values`` are non-numeric, NaN/empty, infinite or outside the closed interval ``[low, high]``."""
    v = np.asarray(values)
    if v.dtype == bool or not np.issubdtype(v.dtype, np.number):
        raise ValueError(f"{source}: column {name!r} is not numeric")
    nan = np.flatnonzero(np.isnan(v))
    if nan.size:
        raise ValueError(f"{source}: column {name!r} has NaN or an empty cell in {_rows(nan)} (every row needs a "
                         "value)")
    inf = np.flatnonzero(~np.isfinite(v))
    if inf.size:
        raise ValueError(f"{source}: column {name!r} has Inf in {_rows(inf)} ({float(v[inf[0]])})")
    out = np.flatnonzero((v < low) | (v > high))
    if out.size:
        raise ValueError(f"{source}: column {name!r} outside [{low:g}, {high:g}]{' ' + unit if unit else ''} in "
                         f"{_rows(out)} (e.g. {float(v[out[0]])!r})")


def validate_parameter_table(model: AbstractLeafModel, columns: Mapping[str, np.ndarray], source: str = "table"
                             ) -> None:
    """Check a parameter table before a forward run: numeric, finite and inside the *physical* bounds of the
    model's parameters (:mod:`leafjax._parameters`: what the model accepts, e.g. ``chl = 0``; not the narrower
    inversion bounds of :data:`leafjax.TRAITS`).

    Raises ``ValueError`` naming the column and the first offending rows.
    """
    table = {s.name: s for s in model.specs}
    for name in model.params_type.names:
        if name in columns:
            s = table[name]
            check_column_values(name, columns[name], s.low, s.high, source, unit=s.unit)
