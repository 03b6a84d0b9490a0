"""Networks on images ``(batch, channels, height, width)``: per-pixel (or per-image) regression."""

from ._convnet import ConvBlock2D as ConvBlock2D, ConvNet2D as ConvNet2D
