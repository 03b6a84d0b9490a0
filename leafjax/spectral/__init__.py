"""Spectral axes and sensors: spectral response functions, band convolution and band noise."""

from ._response import (
    SENSORS as SENSORS,
    AbstractNoise as AbstractNoise,
    GaussianNoise as GaussianNoise,
    SpectralResponse as SpectralResponse,
    convolve as convolve,
    convolve_fields as convolve_fields,
    load_srf as load_srf,
)
