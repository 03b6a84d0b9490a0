"""Networks on images ``(batch, channels, height, width)``: per-pixel (or per-image) regression.

:class:`ConvNet2D` (a fully convolutional stack), :class:`UNet` (encoder-decoder with skip connections), and the
multi-temporal Sentinel-1/2 LAI models on a dict batch (:class:`S1S2UNet`, :class:`Sodium`, :class:`Aluminium`,
:class:`Strontium`).  They are classes, not entries of :data:`~leafjax.networks.NETWORKS`: that registry and
:func:`~leafjax.networks.make_regressor` build tabular networks ``(batch, wl) -> (batch, n_outputs)`` with the
standardisation of :class:`~leafjax.networks.TraitRegressor`, which does not apply to image chips.
"""

from ._convnet import ConvBlock2D as ConvBlock2D, ConvNet2D as ConvNet2D
from ._s1s2 import (
    Aluminium as Aluminium,
    FusionStem as FusionStem,
    S1S2Stem as S1S2Stem,
    S1S2UNet as S1S2UNet,
    Sodium as Sodium,
    Strontium as Strontium,
)
from ._unet import (
    AbstractUNet as AbstractUNet,
    DownBlock2D as DownBlock2D,
    ResBlock2D as ResBlock2D,
    UNet as UNet,
    UpBlock2D as UpBlock2D,
    unet_blocks as unet_blocks,
)
