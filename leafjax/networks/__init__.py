"""leafjax.networks: Flax (``nnx``) regression networks sharing one declared interface.

Every network (:class:`AbstractNetwork`) names its ``stem``, ordered ``blocks`` (:class:`AbstractBlock`) and
``head`` (see :mod:`leafjax.networks._base`).  The tabular networks (GLM, ResNet, TabNet, Transformer, CNN; the
:data:`NETWORKS` registry) map standardised spectra ``(batch, wl)`` to ``(batch, n_traits)``, and
:class:`TraitRegressor` adds the standardisation learned from the training data; :class:`ConvNet2D` and
:class:`UNet` map images ``(batch, c, h, w)`` to per-pixel maps, and :class:`Sodium`, :class:`Aluminium`,
:class:`Strontium` (:mod:`leafjax.networks.image`) map multi-temporal Sentinel-1/2 chips to LAI maps.
Fine-tuning wrappers (LoRA, adapters) for any of them are in :mod:`leafjax.networks.wrappers`; training is
:mod:`leafjax.training`, fine-tuning :mod:`leafjax.transfer`.
"""

from ._base import (
    AbstractBlock as AbstractBlock,
    AbstractNetwork as AbstractNetwork,
    AbstractRegressor as AbstractRegressor,
    MLPHead as MLPHead,
    output_width as output_width,
)
from ._cnn import CNN as CNN, ConvBlock as ConvBlock
from ._glm import FixedProjection as FixedProjection, GLM as GLM, pca_basis as pca_basis
from ._mlp import ACTIVATIONS as ACTIVATIONS, DenseBlock as DenseBlock, MLP as MLP
from ._registry import (
    NETWORKS as NETWORKS,
    make_network as make_network,
    make_regressor as make_regressor,
    regressor_from_config as regressor_from_config,
)
from ._resnet import ResNet as ResNet, ResidualBlock as ResidualBlock
from ._standardise import (
    Statistic as Statistic,
    TraitRegressor as TraitRegressor,
    standardisation_stats as standardisation_stats,
    standardise as standardise,
)
from ._tabnet import TabNet as TabNet, TabNetStep as TabNetStep, sparsemax as sparsemax
from ._transformer import (
    EncoderBlock as EncoderBlock,
    MultiHeadSelfAttention as MultiHeadSelfAttention,
    PatchEmbedding as PatchEmbedding,
    Transformer as Transformer,
)
from .image import (
    AbstractUNet as AbstractUNet,
    Aluminium as Aluminium,
    ConvBlock2D as ConvBlock2D,
    ConvNet2D as ConvNet2D,
    S1S2UNet as S1S2UNet,
    Sodium as Sodium,
    Strontium as Strontium,
    UNet as UNet,
)
