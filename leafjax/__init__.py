"""leafjax: differentiable leaf and canopy radiative-transfer models in JAX, and trait retrieval at scale.

The public API is re-exported here; submodules whose name starts with ``_`` are private.

Example:
    >>> import jax, jax.numpy as jnp
    >>> import leafjax as lj
    >>> model = lj.ProspectD(wavelengths=range(400, 2401))
    >>> params = lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0, ewt=0.012, lma=0.005)
    >>> model(params).reflectance.shape
    (2001,)
"""

from ._constants import TRAITS as TRAITS, TraitInfo as TraitInfo, bounds as bounds
from ._version import __version__ as __version__
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
from .archive import ArchiveSettings as ArchiveSettings, invert_archive as invert_archive
from .inversion import (
    InversionProblem as InversionProblem,
    InversionResult as InversionResult,
    Status as Status,
    invert as invert,
    invert_spectra as invert_spectra,
    make_problem as make_problem,
    n_struct_prior as n_struct_prior,
)
from .physics.canopy import CanopyParams as CanopyParams, Prosail as Prosail, prosail as prosail, sail as sail
from .spectral import load_srf as load_srf
from .simulation import Prior as Prior, default_prior as default_prior, simulate as simulate
from .data import SpectralDataset as SpectralDataset, load_demo as load_demo
from . import archive as archive, baselines as baselines, canopy as canopy, data as data, evaluation as evaluation
from . import fusion as fusion, inversion as inversion, networks as networks, selection as selection
from . import transfer as transfer
from . import io as io, physics as physics, preprocessing as preprocessing, simulation as simulation
from . import spectral as spectral, training as training
