"""The networks of the study and their training, all through the shared loop (:func:`leafjax.training.fit_many`)
and the shared fine-tuning methods (:func:`leafjax.transfer.finetune_many`).

Stage 1 pre-trains the radar branch (:class:`~leafjax.networks.Sodium`) and the optical branch
(:class:`~leafjax.networks.Aluminium`) on LAI(t); stage 2 trains the fused
:class:`~leafjax.networks.Strontium` (both pre-trained branches inside) end to end with the auxiliary losses
(:class:`~leafjax.training.FusedMapMSE`, 0.1 radar, 0.15 optical).  Every fit keeps the parameters of its best
validation epoch (the validation chips are a separate simulated set).
"""

from __future__ import annotations

import time

import numpy as np
from flax import nnx

from leafjax.networks import Aluminium, S1S2UNet, Sodium, Strontium
from leafjax.training import AdamWCosine, FusedMapMSE, MapMSE, fit_many, predict
from leafjax.transfer import finetune_many

from .data import INPUT_KEYS

TRAIN_KEYS: tuple[str, ...] = INPUT_KEYS + ("target", "target_mask")


def train_part(batch) -> dict[str, np.ndarray]:
    """The keys of ``batch`` the loop needs (inputs, target, mask)."""
    return {k: batch[k] for k in TRAIN_KEYS}


def build(kind: str, cfg, *, seed: int = 0, use_season: bool = True, radar=None, optical=None):
    """``(model, loss)``: ``"sodium"``, ``"sodium_no_masks"`` (radar and season only: no optical information at
    all), ``"aluminium"``, ``"unet"`` (the single network on every input), ``"strontium"`` (with the given
    branches, else new ones)."""
    rngs = nnx.Rngs(seed)
    kw = {"base_channels": cfg.branch_base, "depth": cfg.depth, "use_season": use_season}
    if kind == "sodium":
        return Sodium(rngs=rngs, **kw), MapMSE()
    if kind == "sodium_no_masks":
        return Sodium(use_masks=False, rngs=rngs, **kw), MapMSE()
    if kind == "aluminium":
        return Aluminium(rngs=rngs, **kw), MapMSE()
    if kind == "unet":
        return S1S2UNet(rngs=rngs, **kw), MapMSE()
    if kind == "strontium":
        return (Strontium(radar, optical, base_channels=cfg.fused_base, depth=cfg.depth, branch_kwargs=kw,
                          rngs=rngs), FusedMapMSE())
    raise ValueError(f"unknown network kind {kind!r}")


def train(model, loss, train_batch, val_batch, cfg, epochs: int, *, seed: int = 0, learning_rate=None):
    """Train ``model`` (a copy) with ``loss``; returns ``(model, summary)`` (epochs run, best epoch, seconds,
    validation loss)."""
    t0 = time.time()
    (fitted,), (hist,) = fit_many(
        [model], [train_part(train_batch)], validation=[train_part(val_batch)], seeds=[seed], loss=loss,
        optimiser=AdamWCosine(learning_rate=learning_rate or cfg.learning_rate), epochs=epochs,
        batch_size=cfg.batch_size, patience=cfg.patience)
    return fitted, _summary(hist, time.time() - t0)


def _summary(hist, seconds: float) -> dict:
    val = np.asarray(hist.val_loss, float) if getattr(hist, "val_loss", None) is not None else np.array([])
    return {"epochs_run": int(hist.epochs_run), "best_epoch": int(hist.best_epoch), "seconds": round(seconds, 1),
            "best_val_loss": float(np.nanmin(val)) if val.size else None}


def finetune(model, train_batch, val_batch, cfg, method: str, *, seed: int = 0):
    """Fine-tune the fused ``model`` on a new region with one of the shared methods (``"full"``, ``"head"``,
    ``"gradual"``, ``"lora"``, ``"adapters"``): ``cfg.epochs_finetune`` epochs per stage at a third of the
    learning rate.  Returns ``(model, summary)``."""
    t0 = time.time()
    (fitted,), (hists,) = finetune_many(
        [model], [train_part(train_batch)], method, seeds=[seed], validation=[train_part(val_batch)],
        loss=FusedMapMSE(), optimiser=AdamWCosine(learning_rate=cfg.learning_rate / 3.0),
        epochs=cfg.epochs_finetune, batch_size=cfg.batch_size, patience=cfg.patience)
    s = _summary(hists[-1], time.time() - t0)
    s["stages"] = len(hists)
    s["epochs_run"] = int(sum(h.epochs_run for h in hists))
    return fitted, s


def predict_map(model, batch, cfg) -> np.ndarray:
    """LAI(t)/5 ``(n, y, x)`` float64 of ``model`` on ``batch``."""
    return np.asarray(predict(model, {k: batch[k] for k in INPUT_KEYS}, batch_size=4 * cfg.batch_size))


def n_params(model) -> int:
    import jax

    return int(sum(np.prod(a.shape) for a in jax.tree.leaves(nnx.state(model, nnx.Param))))
