"""Networks by name, and a regressor (network + standardisation) built from training data."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from flax import nnx

from ._base import AbstractNetwork
from ._cnn import CNN
from ._glm import GLM
from ._mlp import MLP
from ._resnet import ResNet
from ._standardise import TraitRegressor, standardisation_stats
from ._tabnet import TabNet
from ._transformer import Transformer
from .wrappers._wrappers import apply_wrapper

#: Network classes by registry name.
NETWORKS: dict[str, type[AbstractNetwork]] = {
    "glm": GLM, "resnet": ResNet, "tabnet": TabNet, "transformer": Transformer, "cnn": CNN,
    "dnn": MLP,
}


def make_network(name: str, n_inputs: int, n_outputs: int, *, rngs: nnx.Rngs, **size_kwargs) -> AbstractNetwork:
    """Build network ``name`` (one of :data:`NETWORKS`) mapping ``(batch, n_inputs) -> (batch, n_outputs)``.

    ``size_kwargs`` go to the class (e.g. ``d``, ``n_blocks``, ``channels``, ``patch_size``, ``n_steps``).
    """
    try:
        cls = NETWORKS[name]
    except KeyError:
        raise ValueError(f"unknown network {name!r}; known: {', '.join(NETWORKS)}") from None
    return cls(n_inputs, n_outputs, rngs=rngs, **size_kwargs)


def make_regressor(name: str, x_train, y_train, *, rngs: nnx.Rngs, trait_names: Sequence[str] | None = None,
                   **size_kwargs: Any) -> TraitRegressor:
    """Network ``name`` wrapped with input/target standardisation computed from ``x_train (n, wl)`` and
    ``y_train (n, k)`` (NaN = missing, ignored).  For ``name="glm", projection="pca"`` the principal axes are
    computed from the standardised ``x_train``.

    Example:
        >>> import numpy as np
        >>> from flax import nnx
        >>> x, y = np.random.default_rng(0).random((20, 30)), np.random.default_rng(1).random((20, 2))
        >>> m = make_regressor("glm", x, y, rngs=nnx.Rngs(0))
        >>> m(x).shape
        (20, 2)
    """
    x_train, y_train = np.asarray(x_train, dtype=np.float64), np.asarray(y_train, dtype=np.float64)
    if x_train.ndim != 2 or y_train.ndim != 2 or len(x_train) != len(y_train):
        raise ValueError(f"need x (n, wl) and y (n, k) with the same n, got {x_train.shape} and {y_train.shape}")
    x_mean, x_scale = standardisation_stats(x_train)
    y_mean, y_scale = standardisation_stats(y_train)
    kwargs = dict(size_kwargs)
    if name == "glm" and kwargs.get("projection") == "pca":
        kwargs["pca_data"] = (x_train - x_mean[None, :]) / x_scale[None, :]
    net = make_network(name, x_train.shape[1], y_train.shape[1], rngs=rngs, **kwargs)
    config = {"network": name, "n_inputs": int(x_train.shape[1]), "n_outputs": int(y_train.shape[1]),
              "size_kwargs": _jsonable(size_kwargs),
              "trait_names": list(trait_names) if trait_names is not None else None, "wrappers": []}
    return TraitRegressor(net, x_mean, x_scale, y_mean, y_scale, config=config)


def regressor_from_config(config: dict[str, Any]) -> TraitRegressor:
    """An untrained regressor with the structure described by ``config`` (statistics 0/1, PCA basis zero):
    the template into which a checkpoint's state is loaded.  Wrappers (LoRA, adapters) are re-applied."""
    kwargs = dict(config["size_kwargs"])
    if "channels" in kwargs:
        kwargs["channels"] = tuple(kwargs["channels"])
    n_in, n_out = config["n_inputs"], config["n_outputs"]
    net = make_network(config["network"], n_in, n_out, rngs=nnx.Rngs(0), **kwargs)
    model = TraitRegressor(net, np.zeros(n_in), np.ones(n_in), np.zeros(n_out), np.ones(n_out),
                           config={**config, "wrappers": []})
    for wrapper in config.get("wrappers", []):
        model = apply_wrapper(model, wrapper, rngs=nnx.Rngs(0))
    return model


def _jsonable(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, tuple):
            v = list(v)
        if not isinstance(v, (int, float, str, bool, list, type(None))):
            raise ValueError(f"size argument {k}={v!r} is not JSON-serialisable (needed for checkpoints)")
        out[k] = v
    return out
