"""Input/target standardisation learned from training data and stored with the model."""

from __future__ import annotations

import json
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, Float

from ._base import AbstractNetwork

#: Floor on a standard deviation (in the data's units) to avoid dividing by ~0 for constant columns.
_MIN_SCALE = 1e-8


class Statistic(nnx.Variable):
    """A statistic of the training data (mean or scale): stored with the model, never trained."""


def standardisation_stats(x: Float[np.ndarray, "n k"]) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations of ``x``, ignoring NaN; columns with no finite value get mean 0
    and scale 1, constant columns scale 1.  Returns two ``(k,)`` float64 arrays."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    count = finite.sum(axis=0)
    filled = np.where(finite, x, 0.0)
    mean = np.where(count > 0, filled.sum(axis=0) / np.maximum(count, 1), 0.0)
    var = np.where(finite, (filled - mean[None, :]) ** 2, 0.0).sum(axis=0) / np.maximum(count, 1)
    scale = np.sqrt(var)
    scale = np.where((count > 0) & (scale > _MIN_SCALE), scale, 1.0)
    return mean, scale


class TraitRegressor(nnx.Module):
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

    def standardise_inputs(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch wl"]:
        x = jnp.asarray(x, dtype=self.x_mean.dtype)
        return (x - self.x_mean[...][None, :]) / self.x_scale[...][None, :]

    def standardise_targets(self, y: Float[Array, "batch k"]) -> Float[Array, "batch k"]:
        y = jnp.asarray(y, dtype=self.y_mean.dtype)
        return (y - self.y_mean[...][None, :]) / self.y_scale[...][None, :]

    def predict_standardised(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch k"]:
        return self.net(self.standardise_inputs(x))

    def __call__(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch k"]:
        z = self.predict_standardised(x)
        return z * self.y_scale[...][None, :] + self.y_mean[...][None, :]
