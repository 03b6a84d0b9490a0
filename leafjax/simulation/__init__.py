"""Simulation of training sets: priors, noise models, forward runs streamed to parquet; multi-temporal
Sentinel-1/2 scenes on chips (parcels, phenology, soil moisture, clouds, PROSAIL optics, water-cloud radar)."""

from ._atbd import (
    ATBD_CODISTRIBUTION as ATBD_CODISTRIBUTION,
    ATBD_MARGINALS as ATBD_MARGINALS,
    AtbdNoise as AtbdNoise,
    AtbdPrior as AtbdPrior,
    atbd_prior as atbd_prior,
)
from ._noise import (
    AbstractNoise as AbstractNoise,
    AdditiveGaussian as AdditiveGaussian,
    ComposedNoise as ComposedNoise,
    MultiplicativeGaussian as MultiplicativeGaussian,
    make_noise as make_noise,
)
from ._priors import (
    AbstractMarginal as AbstractMarginal,
    Fixed as Fixed,
    Prior as Prior,
    TruncatedNormal as TruncatedNormal,
    Uniform as Uniform,
    check_within_bounds as check_within_bounds,
    default_prior as default_prior,
    prior_from_mapping as prior_from_mapping,
    prior_from_preset as prior_from_preset,
)
from ._prosail import (
    CANOPY_BOUNDS as CANOPY_BOUNDS,
    CANOPY_DEFAULTS as CANOPY_DEFAULTS,
    CANOPY_NAMES as CANOPY_NAMES,
    default_prosail_prior as default_prosail_prior,
    canopy_products as canopy_products,
    iter_prosail as iter_prosail,
    observed_reflectance as observed_reflectance,
    prosail_products as prosail_products,
    prosail_state as prosail_state,
    sample_prosail_table as sample_prosail_table,
    validate_prosail_table as validate_prosail_table,
    write_prosail_parquet as write_prosail_parquet,
)
from ._crop import CROP_STAGE_LAI as CROP_STAGE_LAI, crop_prior as crop_prior
from ._simulate import (
    iter_forward as iter_forward,
    params_from_columns as params_from_columns,
    simulate as simulate,
    validate_parameter_table as validate_parameter_table,
    write_spectra_parquet as write_spectra_parquet,
)
from ._lst import (
    LstPrior as LstPrior,
    iter_simulate_lst as iter_simulate_lst,
    lst_columns as lst_columns,
    simulate_lst as simulate_lst,
)
from ._lst_pool import (
    SURFACE_AIR_T_RANGE_K as SURFACE_AIR_T_RANGE_K,
    emissivity_library as emissivity_library,
    pretraining_pool as pretraining_pool,
    split_emissivities as split_emissivities,
)
from ._scenes_classes import CROP_CLASSES as CROP_CLASSES, NEVER as NEVER, CropClass as CropClass
from ._scenes_classes import class_arrays as class_arrays
from ._scenes_config import (
    CloudSettings as CloudSettings,
    RadarSettings as RadarSettings,
    SceneConfig as SceneConfig,
    SoilMoistureSettings as SoilMoistureSettings,
    StaticScene as StaticScene,
    speckle_for_targets as speckle_for_targets,
    speckle_statistics as speckle_statistics,
    split_config as split_config,
)
from ._scenes_fields import (
    cloud_masks as cloud_masks,
    gaussian_random_field as gaussian_random_field,
    scene_classification as scene_classification,
    smoothed_speckle as smoothed_speckle,
    smoothing_matrix as smoothing_matrix,
    voronoi_mosaic as voronoi_mosaic,
)
from ._scenes_processes import (
    acquisition_dates as acquisition_dates,
    crop_lai as crop_lai,
    senescence as senescence,
    soil_dryness_from_moisture as soil_dryness_from_moisture,
    soil_moisture_series as soil_moisture_series,
    solar_geometry as solar_geometry,
    stationary_soil_moisture as stationary_soil_moisture,
)
from ._scenes_optical import (
    NdviLaiRetrieval as NdviLaiRetrieval,
    SceneOptics as SceneOptics,
    canopy_bands as canopy_bands,
    default_scene_optics as default_scene_optics,
    scene_optics as scene_optics,
)
from ._scenes_radar import (
    incidence_field as incidence_field,
    radar_backscatter as radar_backscatter,
    scene_radar_coefficients as scene_radar_coefficients,
)
from ._scenes import (
    PIXELS_PER_CALL as PIXELS_PER_CALL,
    S1S2Scenes as S1S2Scenes,
    scenes_to_chips as scenes_to_chips,
    simulate_s1s2_scenes as simulate_s1s2_scenes,
    simulate_scene_physics as simulate_scene_physics,
)
from ._scenes_realism import (
    RealismReport as RealismReport,
    RealismRow as RealismRow,
    flatten_realism_stats as flatten_realism_stats,
    realism_report as realism_report,
)
