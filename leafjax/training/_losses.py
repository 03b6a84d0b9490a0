"""Losses of the training loop: ``loss(model, batch, mask) -> scalar`` over a pytree batch.

A batch is any pytree whose leaves share a leading sample axis of length ``batch``; ``mask (batch,)`` says which
sample rows are real (``False``: padding of the last step of an epoch, or of a short validation set).  A loss
must give padding rows neither value nor gradient.  :class:`TabularLoss` is the loss of the tabular
``(X (n, wl), Y (n, k))`` form, built from a point-wise loss such as :func:`masked_mse`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Bool, Float

from ..networks._base import AbstractRegressor

#: ``loss(model, batch, mask (batch,)) -> scalar``: the loss that :func:`~leafjax.training.fit` minimises.
Loss = Callable[[nnx.Module, Any, Bool[Array, " batch"]], Float[Array, ""]]
#: ``loss(pred, target, mask) -> scalar`` on arrays of one shape (``mask`` False = not observed).
PointwiseLoss = Callable[[Array, Array, Array], Float[Array, ""]]


def masked_mse(pred: Float[Array, "batch *k"], target: Float[Array, "batch *k"],
               mask: Bool[Array, "batch *k"]) -> Float[Array, ""]:
    r"""Mean squared error over the observed entries only:
    :math:`\sum_{ij} m_{ij} (\hat y_{ij} - y_{ij})^2 / \max(1, \sum_{ij} m_{ij})`.

    Unobserved entries (``mask == False``; NaN targets, padding rows) contribute neither value nor gradient.
    ``pred``, ``target`` and ``mask`` have one shape, e.g. ``(batch, k)`` traits or ``(batch, h, w)`` pixels.

    Example:
        >>> import jax.numpy as jnp
        >>> float(masked_mse(jnp.array([[1.0, 2.0]]), jnp.array([[0.0, 9.0]]), jnp.array([[True, False]])))
        1.0
    """
    err = jnp.where(mask, pred - jnp.where(mask, target, 0.0), 0.0)
    return jnp.sum(err * err) / jnp.maximum(jnp.sum(mask), 1).astype(err.dtype)


def rows_mask(mask: Bool[Array, " batch"], like: Array) -> Bool[Array, "batch *rest"]:
    """The sample mask ``(batch,)`` broadcast explicitly to the shape of ``like (batch, ...)`` (e.g. to combine
    it with a pixel mask ``(batch, h, w)``: ``pixel_mask & rows_mask(mask, pixel_mask)``)."""
    shaped = jnp.reshape(mask, (mask.shape[0],) + (1,) * (like.ndim - 1))
    return jnp.broadcast_to(shaped, like.shape)


def tabular_outputs(model: nnx.Module, x: Float[Array, "batch wl"], y: Float[Array, "batch k"]
                    ) -> tuple[Float[Array, "batch k"], Float[Array, "batch k"]]:
    """Predictions and targets in the loss space: :meth:`AbstractRegressor.loss_space` (standardised for a
    :class:`~leafjax.networks.TraitRegressor`), or ``(model(x), y)`` for any other module."""
    if isinstance(model, AbstractRegressor):
        return model.loss_space(x, y)
    return model(x), y


@dataclasses.dataclass(frozen=True)
class TabularLoss:
    """The loss of the tabular form: ``pointwise(pred, target, batch["mask"] & mask)`` on a batch
    ``{"x": (batch, wl), "y": (batch, k) (NaN filled), "mask": (batch, k)}`` (:func:`tabular_batch`), with
    ``pred, target`` from :func:`tabular_outputs`.  Frozen and hashable (a static argument of the compiled
    loop: equal losses share a compilation)."""

    pointwise: PointwiseLoss = masked_mse

    def __call__(self, model: nnx.Module, batch: dict[str, Array], mask: Bool[Array, " batch"]) -> Float[Array, ""]:
        pred, target = tabular_outputs(model, batch["x"], batch["y"])
        return self.pointwise(pred, target, batch["mask"] & mask[:, None])


@dataclasses.dataclass(frozen=True)
class TabularRegulariser:
    """A tabular-form regulariser ``fn(model, x_batch) -> scalar`` seen as ``(model, batch, mask) -> scalar``
    (``x_batch`` includes the padding rows, as it always has)."""

    fn: Callable[[nnx.Module, Array], Array]

    def __call__(self, model: nnx.Module, batch: dict[str, Array], mask: Bool[Array, " batch"]) -> Float[Array, ""]:
        return self.fn(model, batch["x"])
