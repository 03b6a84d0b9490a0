"""Soil reflectance models: dry/wet mixture, the seven ATBD reference soils, an SVD soil basis."""

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
