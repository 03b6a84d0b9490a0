"""Deprecated location (kept for one release): the canopy names now live in their layers —
:mod:`leafjax.physics.canopy` (4SAIL/PROSAIL), :mod:`leafjax.physics.soil`, :mod:`leafjax.spectral` (sensors),
:mod:`leafjax.simulation` (PROSAIL tables), :mod:`leafjax.inversion` (canopy inversion and spectra retrieval) and
:mod:`leafjax.transfer` (hybrid networks).

The names load on first use (module ``__getattr__``), so importing this shim costs nothing until a name is
used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Re-exported names by their module (relative to ``leafjax``); keep in step with the ``TYPE_CHECKING`` block.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "inversion": (
        "CanopyInversionResult", "SpectraRetrieval", "free_to_spectra", "invert_canopy", "retrieve_free_spectra",
        "retrieve_prospect_soil", "second_difference_penalty", "spectra_to_free",
    ),
    "physics.canopy": (
        "ANGLE_CENTRES_DEG", "ANGLE_CLASS_EDGES_DEG", "LIDF_TYPES", "N_ANGLE_CLASSES", "REFLECTANCE_FACTORS",
        "CanopyParams", "CanopyReflectance", "Geometry", "Prosail", "campbell_lidf", "canopy_geometry", "fcover",
        "lidf", "prosail", "sail", "simulate_prosail", "verhoef_lidf",
    ),
    "physics.soil": (
        "AbstractSoilModel", "BasisSoil", "BasisSoilParams", "DryWetSoil", "DryWetSoilParams", "SoilLibrary",
        "default_soil_basis", "load_dry_wet_soils", "load_reference_soils",
    ),
    "simulation": (
        "CANOPY_BOUNDS", "CANOPY_NAMES", "default_prosail_prior", "iter_prosail", "sample_prosail_table",
        "validate_prosail_table", "write_prosail_parquet",
    ),
    "spectral": (
        "SENSORS", "AbstractNoise", "GaussianNoise", "SpectralResponse", "convolve", "convolve_fields", "load_srf",
    ),
    "transfer": ("predict_hybrid", "simulate_band_training_set", "train_hybrid"),
}

_ORIGIN: dict[str, str] = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_ORIGIN)


def __getattr__(name: str) -> Any:
    module = _ORIGIN.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"leafjax.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from ..inversion import (
        CanopyInversionResult as CanopyInversionResult,
        SpectraRetrieval as SpectraRetrieval,
        free_to_spectra as free_to_spectra,
        invert_canopy as invert_canopy,
        retrieve_free_spectra as retrieve_free_spectra,
        retrieve_prospect_soil as retrieve_prospect_soil,
        second_difference_penalty as second_difference_penalty,
        spectra_to_free as spectra_to_free,
    )
    from ..physics.canopy import (
        ANGLE_CENTRES_DEG as ANGLE_CENTRES_DEG,
        ANGLE_CLASS_EDGES_DEG as ANGLE_CLASS_EDGES_DEG,
        LIDF_TYPES as LIDF_TYPES,
        N_ANGLE_CLASSES as N_ANGLE_CLASSES,
        REFLECTANCE_FACTORS as REFLECTANCE_FACTORS,
        CanopyParams as CanopyParams,
        CanopyReflectance as CanopyReflectance,
        Geometry as Geometry,
        Prosail as Prosail,
        campbell_lidf as campbell_lidf,
        canopy_geometry as canopy_geometry,
        fcover as fcover,
        lidf as lidf,
        prosail as prosail,
        sail as sail,
        simulate_prosail as simulate_prosail,
        verhoef_lidf as verhoef_lidf,
    )
    from ..physics.soil import (
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
    from ..simulation import (
        CANOPY_BOUNDS as CANOPY_BOUNDS,
        CANOPY_NAMES as CANOPY_NAMES,
        default_prosail_prior as default_prosail_prior,
        iter_prosail as iter_prosail,
        sample_prosail_table as sample_prosail_table,
        validate_prosail_table as validate_prosail_table,
        write_prosail_parquet as write_prosail_parquet,
    )
    from ..spectral import (
        SENSORS as SENSORS,
        AbstractNoise as AbstractNoise,
        GaussianNoise as GaussianNoise,
        SpectralResponse as SpectralResponse,
        convolve as convolve,
        convolve_fields as convolve_fields,
        load_srf as load_srf,
    )
    from ..transfer import (
        predict_hybrid as predict_hybrid,
        simulate_band_training_set as simulate_band_training_set,
        train_hybrid as train_hybrid,
    )
