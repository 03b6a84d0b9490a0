"""leafjax.transfer: fine-tuning methods as parameter filters or wrappers, and the transfer
strategies of the reference study (SST, SOT, STFT, CSTT, hybrid, hybrid + fine-tuning), and the hybrid
(simulation-trained) canopy-trait retrieval. The training loop itself is :mod:`leafjax.training`."""

from . import _filters as filters
from ..networks.wrappers import (
    AdaptedBlock as AdaptedBlock,
    AdapterParam as AdapterParam,
    BottleneckAdapter as BottleneckAdapter,
    LoRAConv as LoRAConv,
    LoRALinear as LoRALinear,
    add_adapters as add_adapters,
    add_lora as add_lora,
    apply_wrapper as apply_wrapper,
)
from ..training import (
    AdamWCosine as AdamWCosine,
    FitHistory as FitHistory,
    default_optimiser as default_optimiser,
    evaluate as evaluate,
    fit as fit,
    fit_many as fit_many,
    load_checkpoint as load_checkpoint,
    make_train_step as make_train_step,
    masked_mse as masked_mse,
    predict as predict,
    save_checkpoint as save_checkpoint,
)
from ._filters import group_of as group_of, unfreezing_order as unfreezing_order
from ._finetune import (
    FINETUNE_METHODS as FINETUNE_METHODS,
    finetune as finetune,
    finetune_many as finetune_many,
    prepare_finetuning as prepare_finetuning,
)
from ._hybrid import (
    HYBRID_TRAITS as HYBRID_TRAITS,
    hybrid_features as hybrid_features,
    predict_hybrid as predict_hybrid,
    simulate_band_training_set as simulate_band_training_set,
    train_hybrid as train_hybrid,
)
from ._methods import (
    NetworkMethod as NetworkMethod,
    SimulatedSource as SimulatedSource,
    network_methods as network_methods,
)
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

__all__ = ["filters"]
from ._tabular import (
    DIRECT_FIT as DIRECT_FIT,
    FINETUNE_FIT as FINETUNE_FIT,
    LST_NETWORKS as LST_NETWORKS,
    PRETRAIN_FIT as PRETRAIN_FIT,
    direct_many as direct_many,
    finetune_grid as finetune_grid,
    network_kwargs_for as network_kwargs_for,
    predict_many as predict_many,
    pretrain_many as pretrain_many,
)
