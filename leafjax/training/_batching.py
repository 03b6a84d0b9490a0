"""Pytree batches of the training loop: checking, pooling, row selection, padding and validation splits.

A *batch* is a pytree (dict, dataclass, named tuple, …) of arrays that share a leading sample axis ``n``, e.g.
``{"x": (n, wl), "y": (n, k)}`` or ``{"image": (n, c, h, w), "target": (n, h, w), "mask": (n, h, w)}``.
The tabular form ``(X (n, wl), Y (n, k))`` (a plain 2-tuple or list, NaN in ``Y`` = missing target) becomes the
batch ``{"x", "y", "mask"}`` of :func:`tabular_batch`.  Models train on rows of one *pool* (every model's
rows, then the explicit validation sets), gathered per step by index: nothing is copied per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def is_tabular(data: Any) -> bool:
    """Whether ``data`` is the tabular form: a plain ``tuple`` or ``list`` of two arrays ``(X, Y)``.  (A batch
    that is itself a 2-tuple must be put in a dict or another container.)"""
    return type(data) in (tuple, list) and len(data) == 2


def tabular_batch(x, y) -> dict[str, np.ndarray]:
    """The batch of the tabular form: ``{"x": X float32 (n, wl), "y": Y float32 (n, k) with NaN set to 0,
    "mask": (n, k) bool, True where Y is finite}``.  Raises ``ValueError`` unless ``X (n, wl)`` and
    ``Y (n, k)`` share ``n >= 1``."""
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need X (n, wl) and Y (n, k) with the same n, got {x.shape} and {y.shape}")
    if len(x) == 0:
        raise ValueError("no rows to train or evaluate on")
    mask = np.isfinite(y)
    return {"x": x, "y": np.where(mask, y, 0.0).astype(np.float32), "mask": mask}


def n_rows(batch: Any) -> int:
    """The length of the leading sample axis shared by every leaf of ``batch`` (``ValueError`` if the leaves
    disagree, if a leaf is a scalar, or if there is no leaf)."""
    leaves = jax.tree.leaves(batch)
    if not leaves:
        raise ValueError("a batch needs at least one array")
    sizes = {np.shape(a)[0] if np.ndim(a) else None for a in leaves}
    if None in sizes or len(sizes) != 1:
        raise ValueError(f"every leaf of a batch needs the same leading sample axis, got shapes "
                         f"{[np.shape(a) for a in leaves]}")
    return sizes.pop()


def as_batch(data: Any) -> Any:
    """``data`` (tabular form or a pytree batch) as a batch of host arrays with at least one row."""
    if is_tabular(data):
        return tabular_batch(*data)
    batch = jax.tree.map(np.asarray, data)
    if n_rows(batch) == 0:
        raise ValueError("no rows to train or evaluate on")
    return batch


def concat(batches: Sequence[Any]) -> Any:
    """The batches stacked along the sample axis; they need one tree structure and equal trailing shapes
    and dtypes (``ValueError`` otherwise)."""
    first = jax.tree.structure(batches[0])
    for b in batches[1:]:
        if jax.tree.structure(b) != first:
            raise ValueError(f"batches of one fit need one structure, got {first} and {jax.tree.structure(b)}")
    ref = jax.tree.leaves(batches[0])
    for b in batches[1:]:
        for a, r in zip(jax.tree.leaves(b), ref):
            if a.shape[1:] != r.shape[1:] or a.dtype != r.dtype:
                raise ValueError(f"batch leaves differ beyond the sample axis: {a.shape} {a.dtype} vs "
                                 f"{r.shape} {r.dtype}")
    return jax.tree.map(lambda *a: np.concatenate(a), *batches)


def take_rows(pool: Any, idx: jax.Array) -> Any:
    """Rows ``idx (batch,)`` of every leaf of ``pool`` (a gather; works under ``jit`` and ``vmap``)."""
    return jax.tree.map(lambda a: a[idx], pool)


def bucket(n: int | np.integer, minimum: int = 8) -> int:
    """Next power of two ≥ ``n`` (≥ ``minimum``): padded sizes that let similar calls share a compilation."""
    return max(minimum, 1 << max(0, int(n) - 1).bit_length())


def stack(trees: Sequence[Any]) -> Any:
    """Pytrees of one structure stacked leaf-wise along a new leading (model) axis."""
    return jax.tree.map(lambda *a: jnp.stack(a), *trees)


def tree_select(pred, on_true, on_false):
    """Leaf-wise ``where(pred, a, b)`` with ``pred`` of shape ``(M,)`` (or scalar) broadcast on leading axes."""
    def sel(a, b):
        p = jnp.reshape(pred, jnp.shape(pred) + (1,) * (jnp.ndim(a) - jnp.ndim(pred)))
        return jnp.where(p, a, b)
    return jax.tree.map(sel, on_true, on_false)


def split_rows(row_sets: Sequence[np.ndarray], keys: Sequence[jax.Array], val_fraction: float,
               explicit_val_starts: Sequence[int | np.integer] | None,
               explicit_val_sizes: Sequence[int | np.integer] | None):
    """Each model's training and validation rows.

    With explicit validation sets (``explicit_val_starts[i]``: where model ``i``'s set begins in the pool,
    ``explicit_val_sizes[i]`` rows) every row of ``row_sets[i]`` trains.  Otherwise a seeded permutation (from
    the first half of ``jax.random.split(keys[i])``) holds out ``round(val_fraction · n)`` rows (at least one,
    at most ``n - 1``; none if ``n < 2`` or ``val_fraction == 0``).

    **Returns:** ``(train_pool, val_pool, train_sets, val_sets, shuffle_keys)``: pool indices per model, the
    same as positions in the model's own data (``val_sets[i]`` is ``None`` for an explicit set), and each
    model's shuffling key (the second half of the split).
    """
    train_pool, val_pool, train_sets, val_sets, shuffle_keys = [], [], [], [], []
    for i, (rset, key) in enumerate(zip(row_sets, keys)):
        split_key, shuffle_key = jax.random.split(key)
        shuffle_keys.append(shuffle_key)
        n = len(rset)
        if n == 0:
            raise ValueError(f"model {i}: no rows to train on")
        if explicit_val_starts is not None:
            start = explicit_val_starts[i]
            train = np.arange(n)
            train_pool.append(rset[train])
            val_pool.append(np.arange(start, start + explicit_val_sizes[i]))
            train_sets.append(train)
            val_sets.append(None)
        else:
            n_val = min(max(int(round(val_fraction * n)), 1), n - 1) if n >= 2 and val_fraction > 0 else 0
            perm = np.asarray(jax.random.permutation(split_key, n))
            train, val = np.sort(perm[n_val:]), np.sort(perm[:n_val])
            train_pool.append(rset[train])
            val_pool.append(rset[val])
            train_sets.append(train)
            val_sets.append(val)
    return train_pool, val_pool, train_sets, val_sets, shuffle_keys


def row_table(rows: Sequence[np.ndarray], width: int) -> np.ndarray:
    """``(M, width)`` int32 table with model ``i``'s rows first and zeros (padding, masked) after."""
    table = np.zeros((len(rows), width), np.int32)
    for i, r in enumerate(rows):
        table[i, :len(r)] = r
    return table
