"""Save/load a trained regressor without pickle: ``state.npz`` (``allow_pickle=False``) + ``config.json``."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from ..networks._registry import regressor_from_config
from ..networks._standardise import TraitRegressor

_FORMAT = 1


def _entry(k) -> str:
    """One path entry as text: a dict key, a sequence index or an attribute name."""
    match k:
        case jax.tree_util.DictKey(key=key) | jax.tree_util.FlattenedIndexKey(key=key):
            return str(key)
        case jax.tree_util.SequenceKey(idx=idx):
            return str(idx)
        case jax.tree_util.GetAttrKey(name=name):
            return str(name)
    return str(k)


def _key(path) -> str:
    return "/".join(_entry(k) for k in path)


def save_checkpoint(directory: str | Path, model: TraitRegressor) -> Path:
    """Write ``model`` (a :class:`~leafjax.networks.TraitRegressor`, whose ``config`` is the recipe) to
    ``directory``: every array of ``nnx.state(model)`` (parameters, LoRA/adapter parameters, standardisation
    statistics, fixed projections) in ``state.npz`` keyed by its path, and the recipe in ``config.json``.
    Returns the directory."""
    if not isinstance(model, TraitRegressor):
        raise TypeError(f"save_checkpoint needs a TraitRegressor (with a config), got {type(model).__name__}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    leaves, _ = jax.tree_util.tree_flatten_with_path(nnx.state(model))
    arrays = {_key(p): np.asarray(v) for p, v in leaves}
    np.savez(directory / "state.npz", allow_pickle=False, **arrays)
    config = {"format": _FORMAT, **model.config}
    (directory / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    return directory


def load_checkpoint(directory: str | Path) -> TraitRegressor:
    """Rebuild the model saved by :func:`save_checkpoint` (structure from ``config.json``, values from
    ``state.npz``); raises ``ValueError`` if an array is missing or has the wrong shape or dtype."""
    directory = Path(directory)
    config = json.loads((directory / "config.json").read_text())
    if config.pop("format", None) != _FORMAT:
        raise ValueError(f"unsupported checkpoint format in {directory}")
    model = regressor_from_config(config)
    state = nnx.state(model)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(state)
    with np.load(directory / "state.npz", allow_pickle=False) as stored:
        if set(stored.files) != {_key(p) for p, _ in leaves}:
            raise ValueError("checkpoint arrays do not match the model structure of config.json")
        new = []
        for p, v in leaves:
            a = stored[_key(p)]
            if a.shape != v.shape or a.dtype != v.dtype:
                raise ValueError(f"{_key(p)}: stored {a.shape} {a.dtype}, model expects {v.shape} {v.dtype}")
            new.append(a)
    nnx.update(model, jax.tree_util.tree_unflatten(treedef, [jax.numpy.asarray(a) for a in new]))
    return model
