"""leafjax: differentiable leaf and canopy radiative-transfer models in JAX, and trait retrieval at scale.

The public API is re-exported here; submodules whose name starts with ``_`` are private.

``import leafjax`` is cheap: the subpackages (and with them JAX, Flax, optax, pandas, pyarrow, ...) are imported
on first use of a name (:pep:`562` module ``__getattr__``), so ``leafjax --help`` starts without JAX and
``leafjax.physics`` does not pay for the networks.  ``dir(leafjax)`` lists every public name.  The first import of
a JAX layer turns on the persistent compilation cache (``~/.cache/leafjax/jax``; opt out with
``LEAFJAX_COMPILATION_CACHE=0``; see :func:`enable_compilation_cache` and ``docs/performance.md``).

Example:
    >>> import jax, jax.numpy as jnp
    >>> import leafjax as lj
    >>> model = lj.ProspectD(wavelengths=range(400, 2401))
    >>> params = lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0, ewt=0.012, lma=0.005)
    >>> model(params).reflectance.shape
    (2001,)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

#: Subpackages reachable as attributes (``leafjax.physics``, ...), imported on first access.
_SUBPACKAGES: tuple[str, ...] = (
    "archive", "baselines", "canopy", "core", "data", "evaluation", "fusion", "inversion", "io", "methods", "networks",
    "physics", "preprocessing", "products", "selection", "simulation", "spectral", "training", "transfer",
)

#: Re-exported names, by the module (relative to ``leafjax``) that defines them publicly.  Keep in step with the
#: ``TYPE_CHECKING`` block below (``tests/test_architecture.py`` checks that the two agree).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "_constants": ("TRAITS", "TraitInfo", "bounds"),
    "_parameters": ("ParameterSpec", "preset"),
    "core": ("AbstractForwardModel", "enable_compilation_cache"),
    "physics": (
        "AbstractLeafModel", "AbstractLeafParams", "LeafOptics", "OpticalConstants", "ProspectD", "ProspectDParams",
        "ProspectPro", "ProspectProParams", "exp1", "get_leaf_model", "layer_transmissivity",
        "load_optical_constants", "nitrogen_area_from_protein", "nitrogen_from_protein", "prospect_d",
        "prospect_pro", "wavelength_grid",
    ),
    "archive": ("ArchiveSettings", "invert_archive"),
    "inversion": (
        "InversionProblem", "InversionResult", "Status", "invert", "invert_spectra", "make_problem",
        "n_struct_prior",
    ),
    "physics.canopy": ("CanopyParams", "Prosail", "prosail", "sail"),
    "spectral": ("load_srf",),
    "simulation": ("Prior", "default_prior", "simulate"),
    "data": ("SpectralDataset", "load_demo"),
}

_ORIGIN: dict[str, str] = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted({"__version__", *_SUBPACKAGES, *_ORIGIN})


def __getattr__(name: str) -> Any:
    """Import a subpackage, or the module defining a re-exported name, on first access (:pep:`562`)."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")  # the import also binds it as an attribute
    module = _ORIGIN.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups bypass __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static re-exports for type checkers and IDEs; at run time the names load lazily
    from . import (
        archive as archive,
        baselines as baselines,
        canopy as canopy,
        core as core,
        data as data,
        evaluation as evaluation,
        fusion as fusion,
        inversion as inversion,
        io as io,
        methods as methods,
        networks as networks,
        physics as physics,
        preprocessing as preprocessing,
        products as products,
        selection as selection,
        simulation as simulation,
        spectral as spectral,
        training as training,
        transfer as transfer,
    )
    from ._constants import TRAITS as TRAITS, TraitInfo as TraitInfo, bounds as bounds
    from ._parameters import ParameterSpec as ParameterSpec, preset as preset
    from .core import AbstractForwardModel as AbstractForwardModel, enable_compilation_cache as enable_compilation_cache
    from .archive import ArchiveSettings as ArchiveSettings, invert_archive as invert_archive
    from .data import SpectralDataset as SpectralDataset, load_demo as load_demo
    from .inversion import (
        InversionProblem as InversionProblem,
        InversionResult as InversionResult,
        Status as Status,
        invert as invert,
        invert_spectra as invert_spectra,
        make_problem as make_problem,
        n_struct_prior as n_struct_prior,
    )
    from .physics import (
        AbstractLeafModel as AbstractLeafModel,
        AbstractLeafParams as AbstractLeafParams,
        LeafOptics as LeafOptics,
        OpticalConstants as OpticalConstants,
        ProspectD as ProspectD,
        ProspectDParams as ProspectDParams,
        ProspectPro as ProspectPro,
        ProspectProParams as ProspectProParams,
        exp1 as exp1,
        get_leaf_model as get_leaf_model,
        layer_transmissivity as layer_transmissivity,
        load_optical_constants as load_optical_constants,
        nitrogen_area_from_protein as nitrogen_area_from_protein,
        nitrogen_from_protein as nitrogen_from_protein,
        prospect_d as prospect_d,
        prospect_pro as prospect_pro,
        wavelength_grid as wavelength_grid,
    )
    from .physics.canopy import CanopyParams as CanopyParams, Prosail as Prosail, prosail as prosail, sail as sail
    from .simulation import Prior as Prior, default_prior as default_prior, simulate as simulate
    from .spectral import load_srf as load_srf
