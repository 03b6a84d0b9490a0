"""Masked losses on per-pixel maps, for the training loop's pytree batches (``loss(model, batch, mask)``).

A map batch holds the model's inputs and ``"target" (batch, h, w)`` with ``"target_mask" (batch, h, w)`` (True, or
non-zero, where the target is valid; e.g. Sentinel-2 SCL classes 2–6, :func:`~leafjax.preprocessing.s1s2_targets`).
The mean squared error runs over the valid pixels of the real rows only (``mask (batch,)`` False on padding), so
invalid pixels and padding rows contribute neither value nor gradient, whatever their target (NaN included).
For the Sentinel-1/2 LAI models the maps are LAI / 5 (Wang et al., LeafNothingBehind: "masked MSE on LAI/5").
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Bool, Float

from ._losses import masked_mse, rows_mask


def pixel_mask(valid: Array, rows: Bool[Array, " batch"]) -> Bool[Array, "batch *s"]:
    """``valid (batch, *s)`` (bool, or numbers: non-zero = valid) restricted to the real rows ``rows (batch,)``."""
    valid = valid if valid.dtype == jnp.bool_ else valid != 0
    return valid & rows_mask(rows, valid)


def masked_map_mse(pred: Float[Array, "batch *s"], target: Float[Array, "batch *s"], valid: Array,
                   rows: Bool[Array, " batch"]) -> Float[Array, ""]:
    r"""Mean squared error over the valid pixels of the real rows:
    :math:`\sum_{bij} m_{bij} (\hat y_{bij} - y_{bij})^2 / \max(1, \sum_{bij} m_{bij})`, ``m`` =
    :func:`pixel_mask` ``(valid, rows)``.  ``pred``, ``target``, ``valid``: one shape ``(batch, h, w)``.

    Example:
        >>> import jax.numpy as jnp
        >>> pred, target = jnp.zeros((2, 1, 2)), jnp.array([[[1.0, jnp.nan]], [[3.0, 3.0]]])
        >>> valid = jnp.array([[[True, False]], [[True, True]]])
        >>> float(masked_map_mse(pred, target, valid, jnp.array([True, False])))
        1.0
    """
    if pred.shape != target.shape or valid.shape != target.shape:
        raise ValueError(f"pred {pred.shape}, target {target.shape} and mask {valid.shape} need one shape")
    return masked_mse(pred, target, pixel_mask(valid, rows))


@dataclasses.dataclass(frozen=True)
class MapMSE:
    """``loss(model, batch, mask)``: :func:`masked_map_mse` of ``model(batch)`` (a map ``(batch, h, w)``)
    against ``batch[target]`` over ``batch[valid]``.  Frozen and hashable (a static argument of the compiled
    loop).  With ``inputs`` set, the model gets ``batch[inputs]`` instead of the whole batch (e.g. ``"image"`` for
    a network on arrays)."""

    target: str = "target"
    valid: str = "target_mask"
    inputs: str | None = None

    def __call__(self, model: nnx.Module, batch: dict[str, Any], mask: Bool[Array, " batch"]) -> Float[Array, ""]:
        pred = model(batch if self.inputs is None else batch[self.inputs])
        return masked_map_mse(pred, batch[self.target], batch[self.valid], mask)


@dataclasses.dataclass(frozen=True)
class FusedMapMSE:
    r"""The loss of a fused model with branch outputs (:class:`~leafjax.networks.Strontium`):

    .. math:: L = \mathrm{MSE}(\hat y) + \sum_k w_k\, \mathrm{MSE}(\hat y_k)

    with every term :func:`masked_map_mse` against ``batch[target]`` over ``batch[valid]``, ``ŷ =
    model.outputs(batch)["lai"]`` and ``ŷ_k = model.outputs(batch)[k]`` for each ``(k, w_k)`` of ``aux_weights``.
    The default weights are those of the reference configuration (``config/exps/strontium.yaml``: ``weight_2 =
    0.1`` on the radar branch, ``weight_3 = 0.15`` on the optical branch; Wang et al., LeafNothingBehind).  Frozen
    and hashable.  :meth:`terms` gives each term.
    """

    aux_weights: tuple[tuple[str, float], ...] = (("radar", 0.1), ("optical", 0.15))
    target: str = "target"
    valid: str = "target_mask"
    output: str = "lai"

    def terms(self, model: nnx.Module, batch: dict[str, Any], mask: Bool[Array, " batch"]
              ) -> dict[str, Float[Array, ""]]:
        """The unweighted masked MSE of the main output and of each auxiliary output, by output name."""
        outs = model.outputs(batch)
        names = (self.output, *(k for k, _ in self.aux_weights))
        missing = [k for k in names if k not in outs]
        if missing:
            raise ValueError(f"the model's outputs have no {missing} (it has {', '.join(outs)})")
        return {k: masked_map_mse(outs[k], batch[self.target], batch[self.valid], mask) for k in names}

    def __call__(self, model: nnx.Module, batch: dict[str, Any], mask: Bool[Array, " batch"]) -> Float[Array, ""]:
        t = self.terms(model, batch, mask)
        total = t[self.output]
        for k, w in self.aux_weights:
            total = total + jnp.asarray(w, total.dtype) * t[k]
        return total
