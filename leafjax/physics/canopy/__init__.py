"""Canopy radiative transfer: 4SAIL with the Kuusk hotspot, leaf-angle distributions, sun/view geometry, the
PROSAIL coupling of a leaf model, 4SAIL and a soil model, fCover, and the reflectance observed and the fAPAR under
direct + diffuse sky light (all pure, jit/vmap/grad-able, batched)."""

from ._fcover import fcover as fcover
from ._inputs import ProsailParams as ProsailParams, SunViewGeometry as SunViewGeometry
from ._geometry import Geometry as Geometry, canopy_geometry as canopy_geometry, leaf_projection as leaf_projection
from ._lidf import (
    ANGLE_CENTRES_DEG as ANGLE_CENTRES_DEG,
    ANGLE_CLASS_EDGES_DEG as ANGLE_CLASS_EDGES_DEG,
    LIDF_TYPES as LIDF_TYPES,
    N_ANGLE_CLASSES as N_ANGLE_CLASSES,
    campbell_lidf as campbell_lidf,
    lidf as lidf,
    verhoef_lidf as verhoef_lidf,
)
from ._observed import (
    CCC_SCALE as CCC_SCALE,
    CWC_SCALE as CWC_SCALE,
    PAR_BAND_NM as PAR_BAND_NM,
    absorbed_fraction as absorbed_fraction,
    canopy_chlorophyll as canopy_chlorophyll,
    canopy_water as canopy_water,
    fapar as fapar,
    sky_reflectance as sky_reflectance,
)
from ._prosail import (
    REFLECTANCE_FACTORS as REFLECTANCE_FACTORS,
    Prosail as Prosail,
    prosail as prosail,
    simulate_prosail as simulate_prosail,
)
from ._sail import CanopyParams as CanopyParams, CanopyReflectance as CanopyReflectance, sail as sail
