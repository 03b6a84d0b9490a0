"""The deterministic fast path: exact single scattering against the 4SAIL turbid-medium solution and against the
Monte Carlo first order in a heterogeneous scene; the fast tallies against the full Monte Carlo image."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.canopy import canopy_geometry, lidf
from leafjax.physics.voxel import ComponentSpectra, VoxelScene, monte_carlo_tallies, render
from leafjax.physics.voxel._fast import fast_tallies, single_scattering

F = lidf("campbell", 57.2958, dtype=jnp.float64)
N = 4096  # the batch of tests/physics/voxel/test_engine.py (the tracer compiles once per process)


def _homogeneous(lai):
    return VoxelScene(lad=jnp.full((1, 4, 4, 5), lai / 1.0), lidf=F[None], voxel_size=(0.25, 0.25, 0.2),
                      components=("leaves",))


def _two_species():
    rng = np.random.default_rng(0)
    lad = rng.uniform(0.0, 4.0, (2, 4, 4, 5)) * (rng.uniform(size=(2, 4, 4, 5)) < 0.6)
    return VoxelScene(lad=jnp.asarray(lad), lidf=jnp.broadcast_to(F, (2, F.size)), voxel_size=(0.25, 0.25, 0.2),
                      components=("c0", "c1"))


def _split(poly, sp):
    expo = np.asarray(poly.exponents)[np.asarray(poly.monomial)]
    return poly.select(expo[:, -1] == 0)(sp), poly.select(expo[:, -1] == 1)(sp)


@pytest.mark.parametrize("lai", [1.0, 3.0, 5.0])
def test_single_scattering_equals_the_4sail_turbid_solution(lai):
    scene = _homogeneous(lai)
    sp = ComponentSpectra(jnp.array([[0.05, 0.45]]), jnp.array([[0.03, 0.45]]), jnp.array([0.1, 0.2]))
    for vza, vaa in ((0.0, 0.0), (30.0, 0.0), (60.0, 180.0), (40.0, 90.0)):
        canopy, soil = _split(single_scattering(scene, sza=30.0, vza=vza, vaa=vaa, samples=1), sp)
        g = canopy_geometry(F, jnp.asarray(30.0), jnp.asarray(vza), jnp.asarray(0.0 - vaa))
        k = g.ks + g.ko
        ref = (g.sob * sp.rho[0] + g.sof * sp.tau[0]) * -jnp.expm1(-k * lai) / k
        np.testing.assert_allclose(np.asarray(canopy[0]), np.asarray(ref), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(soil[0]), np.asarray(sp.soil * jnp.exp(-k * lai)), rtol=1e-9)


SP = ComponentSpectra(jnp.array([[0.1, 0.45], [0.2, 0.4]]), jnp.array([[0.05, 0.45], [0.1, 0.4]]),
                      jnp.array([0.15, 0.25]))


@pytest.fixture(scope="module")
def mc():
    return monte_carlo_tallies(_two_species(), jax.random.key(21), n_photons=8 * N, sza=35.0, saa=20.0,
                               views=((30.0, 0.0),), pixel_size=0.5, max_order=12, batch_size=N)


@pytest.mark.slow
def test_single_scattering_matches_the_monte_carlo_first_order_in_a_heterogeneous_scene(mc):
    scene = _two_species()
    first = render(mc, SP, 0, max_order=1).mean(axis=(0, 1))
    exact = {s: single_scattering(scene, sza=35.0, saa=20.0, vza=30.0, vaa=0.0, pixel_size=0.5, samples=s)(SP)
             for s in (2, 4, 8)}
    # the quadrature converges (lateral heterogeneity inside a voxel is resolved by finer sub-cells) ...
    d24 = np.max(np.abs(np.asarray(exact[4] - exact[2])))
    d48 = np.max(np.abs(np.asarray(exact[8] - exact[4])))
    assert d48 < 0.5 * d24
    # ... to the Monte Carlo first order (32k photons: ≈ 1 % noise on the scene mean)
    np.testing.assert_allclose(np.asarray(first), np.asarray(exact[8].mean(axis=0)), rtol=0.04)


def test_fast_tallies_reproduce_the_monte_carlo_image_mean(mc):
    scene = _two_species()
    fast = fast_tallies(scene, jax.random.key(23), sza=35.0, saa=20.0, views=((30.0, 0.0),), pixel_size=0.5,
                        n_photons=2 * N, max_order=12, batch_size=N, samples=4)
    full, quick = render(mc, SP, 0, tail=True), render(fast, SP, 0, tail=True)
    assert quick.shape == full.shape == (2, 2, 2)
    np.testing.assert_allclose(np.asarray(quick.mean(axis=(0, 1))), np.asarray(full.mean(axis=(0, 1))), rtol=0.04)
    # the first order of the fast image is the deterministic single scattering
    exact = single_scattering(scene, sza=35.0, saa=20.0, vza=30.0, vaa=0.0, pixel_size=0.5, samples=4)(SP)
    np.testing.assert_allclose(np.asarray(render(fast, SP, 0, max_order=1)).reshape(4, 2), np.asarray(exact),
                               rtol=1e-12)


def test_fast_path_bad_inputs():
    scene = _homogeneous(2.0)
    with pytest.raises(ValueError, match="samples"):
        single_scattering(scene, sza=30.0, samples=0)
    with pytest.raises(ValueError, match="sza and vza"):
        single_scattering(scene, sza=95.0)
    with pytest.raises(ValueError, match="max_order"):
        fast_tallies(scene, jax.random.key(0), sza=30.0, max_order=1)
