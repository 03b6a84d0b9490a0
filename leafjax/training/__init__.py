"""One training loop for every network and every kind of data: ``fit``/``fit_many`` over pytree batches
(compiled end to end, batched over models), losses ``loss(model, batch, mask)``, optimisers and schedules,
evaluation, prediction and checkpoints; masked per-pixel map losses (:class:`MapMSE`, and :class:`FusedMapMSE`
with the auxiliary branch terms of a fused model)."""

from ._batching import is_tabular as is_tabular, n_rows as n_rows, tabular_batch as tabular_batch
from ._checkpoint import load_checkpoint as load_checkpoint, save_checkpoint as save_checkpoint
from ._fit import fit as fit, fit_many as fit_many
from ._history import FitHistory as FitHistory
from ._losses import (
    Loss as Loss,
    PointwiseLoss as PointwiseLoss,
    TabularLoss as TabularLoss,
    TabularRegulariser as TabularRegulariser,
    masked_mse as masked_mse,
    rows_mask as rows_mask,
    tabular_outputs as tabular_outputs,
)
from ._loop import make_batch_step as make_batch_step, make_train_step as make_train_step
from ._map_losses import (
    FusedMapMSE as FusedMapMSE,
    MapMSE as MapMSE,
    masked_map_mse as masked_map_mse,
    pixel_mask as pixel_mask,
)
from ._predict import evaluate as evaluate, predict as predict
from ._schedules import AdamWCosine as AdamWCosine, Optimiser as Optimiser, default_optimiser as default_optimiser
