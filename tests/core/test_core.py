"""Core interfaces: the abstract forward model (leaf models and PROSAIL) and the one noise interface."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from leafjax.core import AbstractForwardModel, AbstractGaussianNoise, AbstractNoise
from leafjax.physics.canopy import CanopyParams, Prosail, ProsailParams, SunViewGeometry
from leafjax.physics.soil import DryWetSoilParams

WL = [450.0, 550.0, 680.0, 800.0, 1600.0]


def test_abstract_forward_model_cannot_be_instantiated():
    with pytest.raises(TypeError):
        AbstractForwardModel()
    with pytest.raises(TypeError):
        lj.AbstractLeafModel()


def test_models_are_forward_models_with_specs():
    for model in (lj.ProspectD(wavelengths=WL), lj.ProspectPro(wavelengths=WL), Prosail(wavelengths=WL)):
        assert isinstance(model, AbstractForwardModel)
        assert all(isinstance(s, lj.ParameterSpec) for s in model.specs)
    assert lj.ProspectD(wavelengths=WL).parameter_names == lj.ProspectDParams.names
    assert lj.AbstractForwardModel is AbstractForwardModel


def _observe(model: AbstractForwardModel, params, conditions=None):
    """A generic consumer of the interface: the first spectral array of the observation."""
    out = model(params, conditions)
    return out.reflectance if hasattr(out, "reflectance") else out.rsot


def test_leaf_model_through_the_interface():
    model = lj.ProspectD(wavelengths=WL)
    p = lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0)
    np.testing.assert_array_equal(_observe(model, p), model(p).reflectance)
    with pytest.raises(TypeError, match="no observation conditions"):
        model(p, SunViewGeometry(30.0, 0.0, 0.0))


def test_prosail_call_forms_and_geometry_conditions():
    model = Prosail("prospect-d", wavelengths=WL)
    leaf = lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0)
    canopy = CanopyParams(lai=3.0, lidf_a=57.0, hotspot=0.1)
    soil = DryWetSoilParams(soil_brightness=1.0, soil_dryness=0.5)
    old = model(leaf, canopy, soil).rsot
    np.testing.assert_array_equal(_observe(model, ProsailParams(leaf, canopy, soil)), old)
    geometry = SunViewGeometry(sza=jnp.asarray([20.0, 45.0]), vza=5.0, raa=90.0)
    new = _observe(model, ProsailParams(leaf, canopy, soil), geometry)
    ref = model(leaf, CanopyParams(lai=3.0, lidf_a=57.0, hotspot=0.1, sza=jnp.asarray([20.0, 45.0]), vza=5.0,
                                   raa=90.0), soil).rsot
    assert new.shape == (2, len(WL))
    np.testing.assert_array_equal(new, ref)
    assert not np.allclose(new[0], old)
    with pytest.raises(TypeError):
        model(leaf, canopy)  # soil parameters missing
    with pytest.raises(TypeError):
        model(ProsailParams(leaf, canopy, soil), canopy)


@pytest.mark.slow
def test_prosail_params_are_a_differentiable_pytree():
    model = Prosail("prospect-d", wavelengths=WL)
    params = ProsailParams(lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0),
                           CanopyParams(lai=3.0, lidf_a=57.0), DryWetSoilParams(1.0, 0.5))
    grads = eqx.filter_grad(lambda p: jnp.sum(model(p).rsot))(params)
    assert float(grads.canopy.lai) != 0.0 and float(grads.leaf.chl) < 0.0  # more chlorophyll absorbs more


def test_one_noise_interface():
    from leafjax.simulation import AdditiveGaussian, ComposedNoise, MultiplicativeGaussian
    from leafjax.simulation import AbstractNoise as SimulationNoise
    from leafjax.spectral import AbstractNoise as SpectralNoise
    from leafjax.spectral import GaussianNoise

    assert SimulationNoise is AbstractNoise and issubclass(SpectralNoise, AbstractNoise)
    assert SpectralNoise is AbstractGaussianNoise
    for cls in (AdditiveGaussian, MultiplicativeGaussian, ComposedNoise, GaussianNoise):
        assert issubclass(cls, AbstractNoise)
    with pytest.raises(TypeError):
        AbstractNoise()


def test_band_noise_and_spectrum_noise_are_interchangeable_in_simulate():
    from leafjax.simulation import AdditiveGaussian, default_prior, simulate
    from leafjax.spectral import GaussianNoise

    model = lj.ProspectD(wavelengths=WL)
    key = jax.random.key(5)
    _, r_band, _ = simulate(model, default_prior("prospect-d"), 20, key, noise=GaussianNoise(additive=0.01))
    _, r_spec, _ = simulate(model, default_prior("prospect-d"), 20, key, noise=AdditiveGaussian(0.01))
    _, r_clean, _ = simulate(model, default_prior("prospect-d"), 20, key)
    np.testing.assert_allclose(r_band, r_spec, rtol=1e-12, atol=1e-15)
    assert 0.005 < np.std(r_band - r_clean) < 0.015
