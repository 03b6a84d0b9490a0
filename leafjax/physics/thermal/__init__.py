"""Thermal infrared: Planck radiance and brightness temperature, parametric band responses, the atmosphere
pytree, a layered band-transmittance model of the atmosphere and top-of-atmosphere radiance (land-surface
temperature)."""

from ._atmosphere import PA_PER_HPA as PA_PER_HPA, Atmosphere as Atmosphere, Layers as Layers, atmosphere as atmosphere
from ._planck import (C1_WAVELENGTH as C1_WAVELENGTH, C1_WAVENUMBER as C1_WAVENUMBER, C2_WAVELENGTH as C2_WAVELENGTH,
                      C2_WAVENUMBER as C2_WAVENUMBER,
                      brightness_temperature_wavelength as brightness_temperature_wavelength,
                      brightness_temperature_wavenumber as brightness_temperature_wavenumber,
                      planck_wavelength as planck_wavelength, planck_wavenumber as planck_wavenumber,
                      planck_wavenumber_derivatives as planck_wavenumber_derivatives)
from ._bands import (DEFAULT_EDGE_UM as DEFAULT_EDGE_UM, NEWTON_ITERATIONS as NEWTON_ITERATIONS,
                     VIMI_BANDS as VIMI_BANDS, VIMI_CENTRES_UM as VIMI_CENTRES_UM, VIMI_WIDTHS_UM as VIMI_WIDTHS_UM,
                     ShiftSensitivity as ShiftSensitivity, band_brightness_temperature as band_brightness_temperature,
                     band_planck as band_planck, band_radiance as band_radiance,
                     band_shift_sensitivity as band_shift_sensitivity, thermal_response as thermal_response,
                     vimi_response as vimi_response)
from ._toa import (AtmosphericTerms as AtmosphericTerms, toa_brightness_temperature as toa_brightness_temperature,
                   toa_radiance as toa_radiance)
from ._continuum import (Continuum as Continuum, continuum_components as continuum_components,
                         continuum_optical_depth as continuum_optical_depth)
from ._bandmodel import (BAND_MODEL_VERSION as BAND_MODEL_VERSION, DEFAULT_CHANNEL_WIDTH as DEFAULT_CHANNEL_WIDTH,
                         BandCoefficients as BandCoefficients, BandModel as BandModel, band_model as band_model,
                         channel_grid as channel_grid, channel_means as channel_means)
