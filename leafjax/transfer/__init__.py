"""leafjax.transfer: one training loop, fine-tuning methods as parameter filters or wrappers, and the transfer
strategies of the reference study (SST, SOT, STFT, CSTT, hybrid, hybrid + fine-tuning)."""

from . import _filters as filters
from ._adapters import (
    AdaptedBlock as AdaptedBlock,
    AdapterParam as AdapterParam,
    BottleneckAdapter as BottleneckAdapter,
    add_adapters as add_adapters,
)
from ._checkpoint import load_checkpoint as load_checkpoint, save_checkpoint as save_checkpoint
from ._filters import group_of as group_of, unfreezing_order as unfreezing_order
from ._finetune import (
    FINETUNE_METHODS as FINETUNE_METHODS,
    finetune as finetune,
    finetune_many as finetune_many,
    prepare_finetuning as prepare_finetuning,
)
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
from ._methods import (
    NetworkMethod as NetworkMethod,
    SimulatedSource as SimulatedSource,
    network_methods as network_methods,
)
from ._lora import LoRAConv as LoRAConv, LoRALinear as LoRALinear, add_lora as add_lora
from ._simulate import (
    PRIOR_RANGES as PRIOR_RANGES,
    SIMULATED_TRAITS as SIMULATED_TRAITS,
    simulate_training_set as simulate_training_set,
)
from ._strategies import (
    STRATEGIES as STRATEGIES,
    Phase as Phase,
    StrategyResult as StrategyResult,
    TrainingRecord as TrainingRecord,
    cstt as cstt,
    hybrid as hybrid,
    hybrid_ft as hybrid_ft,
    run_strategy as run_strategy,
    sot as sot,
    sst as sst,
    stft as stft,
)
from ._wrappers import apply_wrapper as apply_wrapper

__all__ = ["filters"]
