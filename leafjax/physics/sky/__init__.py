"""Sky and sun: solar position from time and place (NumPy, host-level), the sun–sensor relative azimuth, and the
clear-sky diffuse fraction of the spectral irradiance (Bird & Riordan 1986; JAX, differentiable)."""

from ._diffuse import (
    SkyIllumination as SkyIllumination,
    air_mass as air_mass,
    diffuse_fraction as diffuse_fraction,
    rayleigh_optical_depth as rayleigh_optical_depth,
)
from ._solar import (
    ACCURACY_DEG as ACCURACY_DEG,
    relative_azimuth as relative_azimuth,
    solar_position as solar_position,
    utc_datetime64 as utc_datetime64,
)
