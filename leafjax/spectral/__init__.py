"""Spectral axes and sensors: units (nm, µm, cm⁻¹), spectral response functions from tables or from band centres
and widths, band names and aliases, band convolution and band noise."""

from ._axes import (
    UNITS as UNITS,
    SpectralAxis as SpectralAxis,
    canonical_unit as canonical_unit,
    convert as convert,
    from_nm as from_nm,
    to_nm as to_nm,
)
from ._bands import (
    OLI_BANDS as OLI_BANDS,
    S2_BANDS as S2_BANDS,
    SENSOR_BANDS as SENSOR_BANDS,
    canonical_band as canonical_band,
    sensor_key as sensor_key,
)
from ._noise import AbstractNoise as AbstractNoise, GaussianNoise as GaussianNoise
from ..core import AbstractGaussianNoise as AbstractGaussianNoise
from ._response import (
    FWHM_PER_SIGMA as FWHM_PER_SIGMA,
    SENSORS as SENSORS,
    SpectralResponse as SpectralResponse,
    convolve as convolve,
    convolve_fields as convolve_fields,
    load_srf as load_srf,
)
