"""Physics per domain, each pure, jit-able and differentiable: :mod:`~leafjax.physics.leaf` (PROSPECT-D/-PRO),
:mod:`~leafjax.physics.canopy` (4SAIL/PROSAIL), :mod:`~leafjax.physics.soil` (soil reflectance),
:mod:`~leafjax.physics.sky` (solar position, clear-sky diffuse fraction), :mod:`~leafjax.physics.thermal`
(Planck, band models, top-of-atmosphere radiance), :mod:`~leafjax.physics.radar` (water-cloud backscatter,
speckle).

The leaf names are re-exported here for backward compatibility.
"""

from .leaf import (
    LEAF_MODELS as LEAF_MODELS,
    AbstractLeafModel as AbstractLeafModel,
    AbstractLeafParams as AbstractLeafParams,
    Interfaces as Interfaces,
    LeafOptics as LeafOptics,
    OpticalConstants as OpticalConstants,
    ProspectD as ProspectD,
    ProspectDParams as ProspectDParams,
    ProspectPro as ProspectPro,
    ProspectProParams as ProspectProParams,
    exp1 as exp1,
    get_leaf_model as get_leaf_model,
    interfaces as interfaces,
    layer_transmissivity as layer_transmissivity,
    load_optical_constants as load_optical_constants,
    table_provenance as table_provenance,
    CONSTANT_TABLES as CONSTANT_TABLES,
    nitrogen_area_from_protein as nitrogen_area_from_protein,
    nitrogen_from_protein as nitrogen_from_protein,
    plate_model as plate_model,
    plate_model_from_interfaces as plate_model_from_interfaces,
    prospect_d as prospect_d,
    prospect_pro as prospect_pro,
    tav as tav,
    wavelength_grid as wavelength_grid,
)
