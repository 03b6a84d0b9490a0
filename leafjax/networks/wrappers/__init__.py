"""Fine-tuning wrappers that apply to any network: LoRA (dense and convolution kernels) and bottleneck adapters."""

from ._adapters import (
    AdaptedBlock as AdaptedBlock,
    AdapterParam as AdapterParam,
    BottleneckAdapter as BottleneckAdapter,
    add_adapters as add_adapters,
)
from ._lora import LoRAConv as LoRAConv, LoRALinear as LoRALinear, add_lora as add_lora
from ._wrappers import apply_wrapper as apply_wrapper
