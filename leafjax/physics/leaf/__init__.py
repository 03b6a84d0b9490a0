"""Leaf radiative transfer: the generalised plate model, E1, optical constants, PROSPECT-D and PROSPECT-PRO."""

from ._base import AbstractLeafModel as AbstractLeafModel, LeafOptics as LeafOptics
from ._coefficients import (
    CONSTANT_TABLES as CONSTANT_TABLES,
    OpticalConstants as OpticalConstants,
    load_optical_constants as load_optical_constants,
    table_provenance as table_provenance,
    wavelength_grid as wavelength_grid,
)
from ._expint import exp1 as exp1, layer_transmissivity as layer_transmissivity
from ._params import (
    AbstractLeafParams as AbstractLeafParams,
    ProspectDParams as ProspectDParams,
    ProspectProParams as ProspectProParams,
    nitrogen_area_from_protein as nitrogen_area_from_protein,
    nitrogen_from_protein as nitrogen_from_protein,
)
from ._plate import (
    Interfaces as Interfaces,
    interfaces as interfaces,
    plate_model as plate_model,
    plate_model_from_interfaces as plate_model_from_interfaces,
    tav as tav,
)
from ._prospect import (
    LEAF_MODELS as LEAF_MODELS,
    ProspectD as ProspectD,
    ProspectPro as ProspectPro,
    get_leaf_model as get_leaf_model,
    prospect_d as prospect_d,
    prospect_pro as prospect_pro,
)
