"""Component spectra retrieved through the voxel tallies by the shared inversion core.

Truth and model are the same tallies here (an inverse crime, on purpose: it checks the retrieval machinery, not
the model); the experiment in ``experiments/canopy3d`` reports the independent-truth figures."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax._flags import Quality
from leafjax.inversion import BatchedLevenbergMarquardt
from leafjax.inversion import (ImageObservation, make_voxel_spectra_problem, retrieve_voxel_prospect,
                                      retrieve_voxel_spectra)
from leafjax.physics.canopy import lidf
from leafjax.physics.voxel import ComponentSpectra, VoxelScene, monte_carlo_tallies, render

F = lidf("campbell", 57.2958, dtype=jnp.float64)
N = 4096
WL = 6


@pytest.fixture(scope="module")
def tallies():
    rng = np.random.default_rng(0)
    lad = rng.uniform(0.0, 4.0, (2, 4, 4, 5)) * (rng.uniform(size=(2, 4, 4, 5)) < 0.6)
    scene = VoxelScene(lad=jnp.asarray(lad), lidf=jnp.stack([F, lidf("campbell", 30.0, dtype=jnp.float64)]),
                       voxel_size=(0.25, 0.25, 0.2), components=("birch", "spruce"))
    return monte_carlo_tallies(scene, jax.random.key(31), n_photons=N, sza=35.0, saa=20.0,
                               views=((30.0, 0.0), (0.0, 0.0)), pixel_size=0.5, max_order=12, batch_size=N)


def _truth():
    x = np.linspace(0.0, 1.0, WL)
    rho = np.stack([0.05 + 0.4 * x, 0.04 + 0.3 * x**2])
    tau = np.stack([0.03 + 0.42 * x, 0.02 + 0.35 * x])
    return ComponentSpectra(jnp.asarray(rho), jnp.asarray(tau), jnp.asarray(0.1 + 0.15 * x))


def _observations(tallies, sp):
    return [ImageObservation(tallies, v, render(tallies, sp, v, tail=True)) for v in (0, 1)]


def test_free_spectra_are_recovered_exactly_from_noise_free_images(tallies):
    sp = _truth()
    res = retrieve_voxel_spectra(_observations(tallies, sp), ("birch", "spruce"), n_starts=2,
                                 solver=BatchedLevenbergMarquardt(rtol=1e-12))
    np.testing.assert_allclose(np.asarray(res.rho), np.asarray(sp.rho), atol=1e-4)
    np.testing.assert_allclose(np.asarray(res.tau), np.asarray(sp.tau), atol=1e-4)
    np.testing.assert_allclose(np.asarray(res.soil), np.asarray(sp.soil), atol=1e-4)
    assert res.per_band.estimates["birch_rho"].shape == (WL,)
    assert np.all(np.asarray(res.per_band.status) == 0)
    assert np.all(np.asarray(res.rho + res.tau) < 1.0)
    assert float(jnp.max(jnp.abs(res.fitted.reshape(-1) - jnp.concatenate(
        [o.image.reshape(-1, WL) for o in _observations(tallies, sp)]).reshape(-1)))) < 1e-6


def test_pixels_above_one_are_inverted_and_percent_images_flagged(tallies):
    obs = _observations(tallies, _truth())
    bright = [ImageObservation(o.tallies, o.view, o.image.at[0, 0, :].set(1.3)) for o in obs]  # e.g. hotspot
    res = retrieve_voxel_spectra(bright, ("birch", "spruce"), n_starts=1)
    assert np.all(np.asarray(res.per_band.status) != 2) and np.all(np.isfinite(np.asarray(res.rho)))
    percent = [ImageObservation(o.tallies, o.view, 100.0 * o.image) for o in obs]
    res = retrieve_voxel_spectra(percent, ("birch", "spruce"), n_starts=1)
    gross = np.max(np.concatenate([np.asarray(o.image).reshape(-1, WL) for o in percent]), axis=0) > 10.0
    assert gross.any() and not gross.all()
    # wavelengths with a pixel above 10 are invalid_input (out_of_range, not inverted), the others are inverted
    np.testing.assert_array_equal(np.asarray(res.per_band.status) == 2, gross)
    np.testing.assert_array_equal(np.asarray(res.per_band.quality) & int(Quality.OUT_OF_RANGE) > 0, gross)


def test_smoothness_prior_reduces_the_noise_of_retrieved_spectra(tallies):
    sp = _truth()
    key = jax.random.key(3)
    noisy = [ImageObservation(o.tallies, o.view, o.image * (1 + 0.02 * jax.random.normal(
        jax.random.fold_in(key, i), o.image.shape, o.image.dtype))) for i, o in enumerate(_observations(tallies, sp))]
    rough = retrieve_voxel_spectra(noisy, ("birch", "spruce"), n_starts=2)
    smooth = retrieve_voxel_spectra(noisy, ("birch", "spruce"), n_starts=2, smoothness=0.01)

    def err(r):
        return float(jnp.sqrt(jnp.mean((jnp.concatenate([r.rho, r.tau, r.soil[None]]) -
                                        jnp.concatenate([sp.rho, sp.tau, sp.soil[None]])) ** 2)))
    assert np.isfinite(err(rough)) and err(smooth) < err(rough)
    assert np.all(np.isfinite(np.asarray(rough.per_band.std["birch_rho"])))


def test_prospect_per_component_and_soil_basis(tallies):
    import leafjax as lj
    from leafjax.physics.soil import BasisSoil

    wl = np.linspace(500.0, 2200.0, WL)
    model = lj.ProspectD(wavelengths=wl)
    rng = np.random.default_rng(1)
    soils = 0.1 + 0.2 * rng.uniform(size=(12, 1)) * (1 + 0.5 * np.linspace(0, 1, WL))[None] \
        + 0.01 * rng.normal(size=(12, WL))
    soil_model = BasisSoil.fit(soils, wl, n_components=2, dtype=jnp.float64)
    leaves = [model(lj.ProspectDParams(1.6, 45.0, 9.0, 0.5, 0.0, 0.012, 0.006)),
              model(lj.ProspectDParams(2.1, 25.0, 6.0, 0.2, 0.0, 0.02, 0.01))]
    from leafjax.physics.soil._soil import BasisSoilParams
    soil = soil_model(BasisSoilParams(jnp.asarray([0.5, -0.3])))
    sp = ComponentSpectra(jnp.stack([x.reflectance for x in leaves]), jnp.stack([x.transmittance for x in leaves]),
                          soil)
    result, fitted = retrieve_voxel_prospect(_observations(tallies, sp), model, soil_model, ("birch", "spruce"))
    assert float(result.rmse[0]) < 1e-4
    np.testing.assert_allclose(np.asarray(fitted.rho), np.asarray(sp.rho), atol=2e-3)
    np.testing.assert_allclose(np.asarray(fitted.soil), np.asarray(sp.soil), atol=2e-3)


def test_bad_observations_are_refused(tallies):
    with pytest.raises(ValueError, match="at least one"):
        retrieve_voxel_spectra([])
    with pytest.raises(ValueError, match="image must be"):
        make_voxel_spectra_problem([ImageObservation(tallies, 0, np.zeros((3, 2, WL)))])
    with pytest.raises(ValueError, match="view 5"):
        make_voxel_spectra_problem([ImageObservation(tallies, 5, np.zeros((2, 2, WL)))])
    with pytest.raises(ValueError, match="component names"):
        make_voxel_spectra_problem([ImageObservation(tallies, 0, np.zeros((2, 2, WL)))], ("a",))
    with pytest.raises(ValueError, match="n_starts"):
        retrieve_voxel_spectra([ImageObservation(tallies, 0, np.zeros((2, 2, WL)))], n_starts=9)
