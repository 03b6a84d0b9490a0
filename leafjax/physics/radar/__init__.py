"""Radar (C-band SAR) physics: the water-cloud model of vegetation backscatter for VV and VH (Attema & Ulaby
1978) with LAI or canopy-water descriptors and a soil term linear in soil moisture (dB), dB ↔ linear helpers,
multiplicative Gamma speckle of L looks and the equivalent-number-of-looks estimator.  Pure JAX, batched by
broadcasting, differentiable, float32 and float64.

Example:
    >>> import jax.numpy as jnp
    >>> from leafjax.physics.radar import backscatter_db, default_radar_coefficients
    >>> s = backscatter_db(jnp.array([0.0, 3.0]), 0.25, 39.0, default_radar_coefficients(dtype=jnp.float64))
    >>> s.stack().shape                      # [vh, vv] × pixels, dB
    (2, 2)
"""

from ._units import DB_FLOOR_LINEAR as DB_FLOOR_LINEAR, db_to_linear as db_to_linear, linear_to_db as linear_to_db
from ._water_cloud import (
    CHANNELS as CHANNELS,
    DEFAULT_COEFFICIENTS as DEFAULT_COEFFICIENTS,
    DESCRIPTORS as DESCRIPTORS,
    DualPol as DualPol,
    RadarCoefficients as RadarCoefficients,
    WaterCloudCoefficients as WaterCloudCoefficients,
    WaterCloudTerms as WaterCloudTerms,
    backscatter_db as backscatter_db,
    default_coefficients as default_coefficients,
    default_radar_coefficients as default_radar_coefficients,
    validate_inputs as validate_inputs,
    vegetation_descriptors as vegetation_descriptors,
    water_cloud as water_cloud,
    water_cloud_db as water_cloud_db,
    water_cloud_terms as water_cloud_terms,
)
from ._speckle import (
    apply_speckle as apply_speckle,
    block_enl as block_enl,
    equivalent_number_of_looks as equivalent_number_of_looks,
    gamma_speckle as gamma_speckle,
    speckle_std_db as speckle_std_db,
)
