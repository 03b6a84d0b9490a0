"""leafjax.networks: Flax (``nnx``) trait-regression networks sharing one interface.

Every network maps standardised spectra ``(batch, wl)`` to ``(batch, n_traits)`` and names its ``stem``,
ordered ``blocks`` and ``head`` (see :mod:`leafjax.networks._base`); :class:`TraitRegressor` adds the
standardisation learned from the training data.  Training and fine-tuning live in :mod:`leafjax.transfer`.
"""

from ._base import AbstractNetwork as AbstractNetwork, MLPHead as MLPHead
from ._cnn import CNN as CNN, ConvBlock as ConvBlock
from ._glm import FixedProjection as FixedProjection, GLM as GLM, pca_basis as pca_basis
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
)
from ._tabnet import TabNet as TabNet, TabNetStep as TabNetStep, sparsemax as sparsemax
from ._transformer import (
    EncoderBlock as EncoderBlock,
    MultiHeadSelfAttention as MultiHeadSelfAttention,
    PatchEmbedding as PatchEmbedding,
    Transformer as Transformer,
)
