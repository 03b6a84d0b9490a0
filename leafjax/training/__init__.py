"""One training loop for every network: ``fit``/``fit_many`` (compiled end to end, batched over models),
optimisers and schedules, evaluation, prediction and checkpoints."""

from ._checkpoint import load_checkpoint as load_checkpoint, save_checkpoint as save_checkpoint
from ._fit import (
    AdamWCosine as AdamWCosine,
    FitHistory as FitHistory,
    default_optimiser as default_optimiser,
    evaluate as evaluate,
    fit as fit,
    fit_many as fit_many,
    make_train_step as make_train_step,
    masked_mse as masked_mse,
    predict as predict,
)
