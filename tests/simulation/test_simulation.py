"""Priors, noise models and simulation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from leafjax.simulation import (AdditiveGaussian, Fixed, MultiplicativeGaussian, Prior, TruncatedNormal, Uniform,
                                default_prior, make_noise, prior_from_mapping, simulate)


def test_uniform_and_truncated_normal_marginals():
    prior = Prior({"chl": Uniform(10.0, 20.0), "car": TruncatedNormal(5.0, 2.0, 4.0, 9.0), "ant": Fixed(1.0)})
    s = prior.sample(jax.random.key(0), 20_000)
    chl, car = np.asarray(s["chl"]), np.asarray(s["car"])
    assert chl.min() >= 10 and chl.max() <= 20 and abs(chl.mean() - 15) < 0.1
    assert car.min() >= 4 and car.max() <= 9
    # truncated normal N(5, 2) on [4, 9]: mean = 5 + 2 (phi(a) - phi(b)) / (Phi(b) - Phi(a))
    from scipy.stats import truncnorm

    assert abs(car.mean() - truncnorm.mean(-0.5, 2.0, loc=5, scale=2)) < 0.03
    assert np.all(np.asarray(s["ant"]) == 1.0)


def test_correlated_prior_keeps_marginals_and_correlation():
    corr = np.array([[1.0, 0.8], [0.8, 1.0]])
    prior = Prior({"chl": Uniform(0.0, 1.0), "car": Uniform(0.0, 1.0)}, corr)
    s = prior.sample(jax.random.key(1), 50_000)
    x, y = np.asarray(s["chl"]), np.asarray(s["car"])
    assert abs(x.mean() - 0.5) < 0.01 and abs(y.std() - np.sqrt(1 / 12)) < 0.01
    # Spearman correlation of a Gaussian copula: 6/pi asin(rho/2)
    from scipy.stats import spearmanr

    assert abs(spearmanr(x, y)[0] - 6 / np.pi * np.arcsin(0.4)) < 0.01
    with pytest.raises(ValueError, match="positive definite"):
        Prior({"chl": Uniform(0, 1), "car": Uniform(0, 1)}, np.array([[1.0, 1.2], [1.2, 1.0]]))


def test_sampling_is_reproducible_from_key():
    prior = default_prior("prospect-pro")
    a = prior.sample(jax.random.key(7), 100)
    b = prior.sample(jax.random.key(7), 100)
    c = prior.sample(jax.random.key(8), 100)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["chl"], c["chl"])


def test_noise_models():
    x = jnp.full((4000, 50), 0.4)
    add = np.asarray(AdditiveGaussian(0.01)(jax.random.key(0), x))
    mul = np.asarray(MultiplicativeGaussian(0.05)(jax.random.key(0), x))
    assert abs(add.std() - 0.01) < 5e-4 and abs(add.mean() - 0.4) < 1e-3
    assert abs(mul.std() - 0.4 * 0.05) < 1e-3
    assert make_noise(0.0, 0.0) is None
    with pytest.raises(ValueError):
        make_noise(-1.0)


def test_simulate_matches_model_and_derives_traits():
    model = lj.ProspectPro(wavelengths=np.arange(400, 2401, 20))
    params, r, t = simulate(model, default_prior("prospect-pro"), 300, jax.random.key(2), chunk_size=128)
    assert r.shape == (300, model.n_bands) and t.shape == r.shape
    np.testing.assert_allclose(params["lma"], params["prot"] + params["cbc"])
    direct = model(lj.ProspectProParams(**{n: jnp.asarray(params[n]) for n in lj.ProspectProParams.names}))
    np.testing.assert_allclose(r, np.asarray(direct.reflectance), rtol=1e-12)
    noisy_params, rn, _ = simulate(model, default_prior("prospect-pro"), 300, jax.random.key(2),
                                   noise=make_noise(additive=0.005), chunk_size=128)
    assert np.array_equal(noisy_params["chl"], params["chl"])
    assert 0.004 < np.std(rn - r) < 0.006


def test_prior_outside_bounds_is_an_error():
    with pytest.raises(ValueError, match="leaves the bounds"):
        simulate(lj.ProspectD(wavelengths=[500.0]), Prior({"chl": Uniform(0.0, 500.0)}), 10, jax.random.key(0))
    with pytest.raises(ValueError, match="not a parameter"):
        simulate(lj.ProspectD(wavelengths=[500.0]), Prior({"prot": Uniform(0.0, 0.001)}), 10, jax.random.key(0))


def test_prior_from_mapping():
    p = prior_from_mapping({"chl": {"uniform": [10, 80]}, "n_struct": {"truncated_normal": [1.5, 0.3, 1, 3]},
                            "ant": {"fixed": 0.0}})
    assert set(p.names) == {"chl", "n_struct", "ant"}
    with pytest.raises(ValueError, match="unknown distribution"):
        prior_from_mapping({"chl": {"gamma": [1, 2]}})
