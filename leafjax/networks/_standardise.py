"""Input/target standardisation learned from training data and stored with the model."""

from __future__ import annotations

import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractNetwork, AbstractRegressor

#: Floor on a standard deviation (in the data's units) to avoid dividing by ~0 for constant columns.
_MIN_SCALE = 1e-8


class Statistic(nnx.Variable):
    """A statistic of the training data (mean or scale): stored with the model, never trained."""


def _feature_axes(ndim: int, axis: int | tuple[int, ...]) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if not axes or any(not -ndim <= a < ndim for a in axes):
        raise ValueError(f"feature axes {axis!r} out of range for an array of {ndim} dimensions")
    axes = tuple(sorted({a % ndim for a in axes}))
    if 0 in axes:
        raise ValueError("axis 0 is the sample axis; the feature axes are among 1 .. ndim - 1")
    return axes


def standardisation_stats(x: Float[np.ndarray, "n *rest"], axis: int | tuple[int, ...] = -1
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard deviations of ``x`` per feature, ignoring NaN.

    ``axis``: the feature axis (or axes) -- statistics are computed per index along them, pooling the sample
    axis 0 and every other axis.  ``-1`` (default): per column of ``(n, k)`` spectra or traits; ``1``: per
    channel ``c`` of ``(n, c, h, w)`` images (pooling samples and pixels).  Features with no finite value get
    mean 0 and scale 1, constant features scale 1.

    **Returns:** two float64 arrays of the shape of the feature axes (``(k,)``, ``(c,)``, …); apply them with
    :func:`standardise`.

    Example:
        >>> import numpy as np
        >>> images = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 5.0)])[None].repeat(3, axis=0)  # (3, 2, 2, 2)
        >>> mean, scale = standardisation_stats(images, axis=1)
        >>> mean.tolist(), scale.tolist()
        ([1.0, 5.0], [1.0, 1.0])
    """
    x = np.asarray(x, dtype=np.float64)
    axes = _feature_axes(x.ndim, axis)
    pooled = tuple(i for i in range(x.ndim) if i not in axes)
    finite = np.isfinite(x)
    count = finite.sum(axis=pooled)
    filled = np.where(finite, x, 0.0)
    mean = np.where(count > 0, filled.sum(axis=pooled) / np.maximum(count, 1), 0.0)
    centred = filled - np.expand_dims(mean, pooled)
    var = np.where(finite, centred ** 2, 0.0).sum(axis=pooled) / np.maximum(count, 1)
    scale = np.sqrt(var)
    scale = np.where((count > 0) & (scale > _MIN_SCALE), scale, 1.0)
    return mean, scale


def standardise(x: Float[ArrayLike, "n *rest"], mean: Float[ArrayLike, "*features"],
                scale: Float[ArrayLike, "*features"],
                axis: int | tuple[int, ...] = -1) -> Float[Array | np.ndarray, "n *rest"]:
    """``(x - mean) / scale`` with the statistics of :func:`standardisation_stats` (same ``axis``) broadcast
    explicitly over the other axes, e.g. per channel of ``(n, c, h, w)`` images with ``axis=1``.  Works on
    numpy and JAX arrays (under ``jit``); the statistics are cast to the dtype of ``x``."""
    axes = _feature_axes(x.ndim, axis)
    shape = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
    xp = jnp if isinstance(x, jax.Array) else np
    return (x - xp.reshape(xp.asarray(mean, dtype=x.dtype), shape)) / xp.reshape(
        xp.asarray(scale, dtype=x.dtype), shape)


class TraitRegressor(AbstractRegressor):
    r"""A network with the standardisation of its inputs and targets:

    .. math:: \hat y = \sigma_y \odot f\big((x - \mu_x) / \sigma_x\big) + \mu_y

    ``__call__`` maps spectra ``(batch, wl)`` to traits in their units ``(batch, n_traits)``;
    :meth:`predict_standardised` returns ``f(·)`` (the space in which the loss is computed, so that all traits
    weigh alike) and :meth:`standardise_targets` maps targets there.  The statistics are :class:`Statistic`
    variables: saved in checkpoints, excluded from every ``nnx.Param`` filter.

    ``config`` is a JSON-able recipe (network name and sizes, trait names, wrappers applied) from which
    :func:`leafjax.transfer.load_checkpoint` rebuilds the structure.
    """

    def __init__(self, network: AbstractNetwork, x_mean, x_scale, y_mean, y_scale, *,
                 config: dict[str, Any] | None = None, dtype=jnp.float32):
        self.net = network
        self.x_mean = Statistic(jnp.asarray(x_mean, dtype=dtype))
        self.x_scale = Statistic(jnp.asarray(x_scale, dtype=dtype))
        self.y_mean = Statistic(jnp.asarray(y_mean, dtype=dtype))
        self.y_scale = Statistic(jnp.asarray(y_scale, dtype=dtype))
        self.config = dict(config or {})

    # ``config`` is kept as canonical JSON text so that the module's graph definition stays hashable (it is
    # a static argument of the compiled training loop); reading it gives a fresh dict.
    @property
    def config(self) -> dict[str, Any]:
        return json.loads(self._config_json)

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        self._config_json = json.dumps(value, sort_keys=True)

    def standardise_inputs(self, x: Float[ArrayLike, "batch wl"]) -> Float[Array, "batch wl"]:
        x = jnp.asarray(x, dtype=self.x_mean.dtype)
        return (x - self.x_mean[...][None, :]) / self.x_scale[...][None, :]

    def standardise_targets(self, y: Float[Array, "batch k"]) -> Float[Array, "batch k"]:
        y = jnp.asarray(y, dtype=self.y_mean.dtype)
        return (y - self.y_mean[...][None, :]) / self.y_scale[...][None, :]

    def predict_standardised(self, x: Float[ArrayLike, "batch wl"]) -> Float[Array, "batch k"]:
        return self.net(self.standardise_inputs(x))

    def loss_space(self, x: Float[Array, "batch wl"], y: Float[Array, "batch k"]
                   ) -> tuple[Float[Array, "batch k"], Float[Array, "batch k"]]:
        """Standardised predictions and standardised targets (the space in which every trait weighs alike)."""
        return self.predict_standardised(x), self.standardise_targets(y)

    @property
    def network(self) -> AbstractNetwork:
        return self.net

    def __call__(self, x: Float[ArrayLike, "batch wl"]) -> Float[Array, "batch k"]:
        z = self.predict_standardised(x)
        return z * self.y_scale[...][None, :] + self.y_mean[...][None, :]
