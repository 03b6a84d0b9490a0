"""Water-cloud inversion (LAI and soil moisture from S1 VH/VV at one date): recovery on the model's own
backscatter (an inverse-crime check of the solver, not a validation), the weak prior's role, quality flags,
input errors, implicit gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.inversion import invert_water_cloud, make_water_cloud_problem
from leafjax.physics.radar import RadarCoefficients, WaterCloudCoefficients, backscatter_db

# coefficients of the order fitted on the real sample (linear volume term strong enough to be invertible)
CO = RadarCoefficients(vh=WaterCloudCoefficients(a=0.02, b=0.25, c=-21.0, d=15.0),
                       vv=WaterCloudCoefficients(a=0.12, b=0.3, c=-14.0, d=20.0))


def _obs(lai, mv, theta):
    return np.asarray(backscatter_db(jnp.asarray(lai, jnp.float32), jnp.asarray(mv, jnp.float32),
                                     jnp.asarray(theta, jnp.float32), CO).stack(-1), np.float64)


def test_recovers_lai_and_moisture_on_the_models_own_backscatter():
    lai = np.array([0.3, 1.0, 2.0, 3.0, 4.0])
    mv = np.array([0.15, 0.25, 0.2, 0.3, 0.1])
    theta = np.array([33.0, 36.0, 39.0, 42.0, 45.0])
    res = invert_water_cloud(_obs(lai, mv, theta), theta, CO, sigma_db=0.05, moisture_prior=(0.2, 1.0))
    est_lai, est_mv = np.asarray(res.estimates["lai"]), np.asarray(res.estimates["soil_moisture"])
    np.testing.assert_allclose(est_lai[:3], lai[:3], atol=0.01)  # the soil still shows: both are fixed
    np.testing.assert_allclose(est_mv[:3], mv[:3], atol=0.005)
    np.testing.assert_allclose(est_lai[3:], lai[3:], atol=0.1)  # dense: the soil is attenuated away, the
    assert np.all(np.abs(est_mv[3:] - 0.2) < np.abs(mv[3:] - 0.2))  # moisture leans to its prior
    assert np.all(np.asarray(res.status) == 0)


def test_uncertainty_grows_with_the_model_scatter():
    obs = _obs([1.0, 6.0], [0.2, 0.2], [39.0, 39.0])
    small = invert_water_cloud(obs, 39.0, CO, sigma_db=0.3)
    large = invert_water_cloud(obs, 39.0, CO, sigma_db=3.0)
    s_small, s_large = np.asarray(small.std["lai"]), np.asarray(large.std["lai"])
    assert np.all(s_large > 2 * s_small)
    assert np.all(s_large > 0.5)  # at the real sample's 3 dB scatter one date fixes LAI poorly


def test_saturated_backscatter_pins_lai_at_the_upper_bound_and_is_flagged():
    very_dense = _obs([60.0], [0.2], [39.0]) + 0.5  # above anything the model reaches under 8
    res = invert_water_cloud(very_dense, 39.0, CO, sigma_db=0.3)
    assert bool(np.asarray(res.at_bound["lai"])[0])
    assert float(res.estimates["lai"][0]) > 7.9


def test_bad_inputs_are_refused_before_any_compute():
    obs = _obs([1.0], [0.2], [39.0])
    with pytest.raises(ValueError, match="shape"):
        invert_water_cloud(obs[:, :1], 39.0, CO)
    with pytest.raises(ValueError, match="incidence"):
        invert_water_cloud(obs, np.array([39.0, 40.0]), CO)
    with pytest.raises(ValueError, match="incidence"):
        invert_water_cloud(obs, 95.0, CO)
    per_scene = RadarCoefficients(vh=WaterCloudCoefficients(0.02, 0.25, jnp.array([-21.0, -20.0]), 15.0), vv=CO.vv)
    with pytest.raises(ValueError, match="scalar"):
        make_water_cloud_problem(per_scene)
    with pytest.raises(ValueError, match="sigma_db"):
        make_water_cloud_problem(CO, sigma_db=0.0)


def test_out_of_range_backscatter_is_flagged_not_inverted():
    obs = np.array([[-60.0, -50.0], [-18.0, -11.0]])
    res = invert_water_cloud(obs, 39.0, CO)
    lai = np.asarray(res.estimates["lai"])
    assert np.isnan(lai[0]) and np.isfinite(lai[1])


def test_gradient_of_the_estimate_with_respect_to_the_observation_matches_finite_differences():
    obs = _obs([2.0], [0.2], [39.0])

    def lai_of(o):
        return invert_water_cloud(o, 39.0, CO, sigma_db=0.5, percent_check=False).estimates["lai"][0]

    g = np.asarray(jax.grad(lai_of)(jnp.asarray(obs, jnp.float32)))
    eps = 0.05
    fd = [(float(lai_of(obs + eps * np.eye(2)[i])) - float(lai_of(obs - eps * np.eye(2)[i]))) / (2 * eps)
          for i in range(2)]
    np.testing.assert_allclose(g[0], fd, rtol=0.1, atol=0.01)
