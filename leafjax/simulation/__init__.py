"""Simulation of training sets: priors, noise models, forward runs streamed to parquet."""

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
