"""Canopy radiative transfer: 4SAIL/PROSAIL, soil reflectance models and sensor spectral responses.

All physics is pure, jit/vmap/grad-able and batched over leading dimensions; see the module docstrings for the
equations and references.
"""

from ._geometry import Geometry as Geometry, canopy_geometry as canopy_geometry
from ._lidf import (
    ANGLE_CENTRES_DEG as ANGLE_CENTRES_DEG,
    ANGLE_CLASS_EDGES_DEG as ANGLE_CLASS_EDGES_DEG,
    LIDF_TYPES as LIDF_TYPES,
    N_ANGLE_CLASSES as N_ANGLE_CLASSES,
    campbell_lidf as campbell_lidf,
    lidf as lidf,
    verhoef_lidf as verhoef_lidf,
)
from ._prosail import (
    REFLECTANCE_FACTORS as REFLECTANCE_FACTORS,
    Prosail as Prosail,
    prosail as prosail,
    simulate_prosail as simulate_prosail,
)
from ._sail import CanopyParams as CanopyParams, CanopyReflectance as CanopyReflectance, sail as sail
from ._sensors import (
    SENSORS as SENSORS,
    AbstractNoise as AbstractNoise,
    GaussianNoise as GaussianNoise,
    SpectralResponse as SpectralResponse,
    convolve as convolve,
    convolve_fields as convolve_fields,
    load_srf as load_srf,
)
from ._simulate import (
    CANOPY_BOUNDS as CANOPY_BOUNDS,
    CANOPY_NAMES as CANOPY_NAMES,
    default_prosail_prior as default_prosail_prior,
    iter_prosail as iter_prosail,
    sample_prosail_table as sample_prosail_table,
    validate_prosail_table as validate_prosail_table,
    write_prosail_parquet as write_prosail_parquet,
)
from ._soil import (
    AbstractSoilModel as AbstractSoilModel,
    BasisSoil as BasisSoil,
    BasisSoilParams as BasisSoilParams,
    DryWetSoil as DryWetSoil,
    DryWetSoilParams as DryWetSoilParams,
    SoilLibrary as SoilLibrary,
    default_soil_basis as default_soil_basis,
    load_dry_wet_soils as load_dry_wet_soils,
    load_reference_soils as load_reference_soils,
)
from ._inversion import (
    CanopyInversionResult as CanopyInversionResult,
    fcover as fcover,
    invert_canopy as invert_canopy,
    predict_hybrid as predict_hybrid,
    simulate_band_training_set as simulate_band_training_set,
    train_hybrid as train_hybrid,
)
from ._retrieval import (
    SpectraRetrieval as SpectraRetrieval,
    free_to_spectra as free_to_spectra,
    retrieve_free_spectra as retrieve_free_spectra,
    retrieve_prospect_soil as retrieve_prospect_soil,
    second_difference_penalty as second_difference_penalty,
    spectra_to_free as spectra_to_free,
)
