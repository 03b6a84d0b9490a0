"""Monte Carlo voxel engine: exact ray marching, the tally identity, energy conservation, exact polynomial
gradients, the homogeneous single-scattering limit and bad-input errors.

Shapes are shared (one homogeneous scene, one batch size) so the tracer compiles once per module."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.canopy import canopy_geometry, lidf
from leafjax.physics.voxel._engine import energy_budget, monte_carlo_tallies, render
from leafjax.physics.voxel._raymarch import direction, optical_depth_to_top
from leafjax.physics.voxel._scene import VoxelScene
from leafjax.physics.voxel._tally import ComponentSpectra, direct_image
from leafjax.physics.voxel._trace import ESCAPE, LEAF, RESIDUAL, SOIL, trace_paths

N = 4096
LAI = 3.0
F = lidf("campbell", 57.2958, dtype=jnp.float64)


def _scene(lad=None, shape=(4, 4, 5)):
    if lad is None:
        lad = np.full((1,) + shape, LAI / 1.0)
    lad = np.asarray(lad, float)
    return VoxelScene(lad=jnp.asarray(lad), lidf=jnp.broadcast_to(F, (lad.shape[0], F.size)),
                      voxel_size=(0.25, 0.25, 1.0 / shape[2]), components=tuple(f"c{i}" for i in range(lad.shape[0])))


def _two_species():
    rng = np.random.default_rng(0)
    lad = rng.uniform(0.0, 4.0, (2, 4, 4, 5)) * (rng.uniform(size=(2, 4, 4, 5)) < 0.6)
    return _scene(lad)


def _spectra(c, wl=3, seed=1):
    rng = np.random.default_rng(seed)
    rho = rng.uniform(0.03, 0.5, (c, wl))
    tau = rng.uniform(0.02, 0.4, (c, wl))
    return ComponentSpectra(jnp.asarray(rho), jnp.asarray(tau), jnp.asarray(rng.uniform(0.05, 0.3, wl)))


def test_optical_depth_is_exact_through_a_periodic_grid():
    rng = np.random.default_rng(3)
    sigma = jnp.asarray(rng.uniform(0.0, 2.0, (3, 4, 5)))
    size = (0.5, 0.25, 0.2)
    v = direction(50.0, 33.0)
    pts = jnp.asarray(rng.uniform(0.0, 1.0, (20, 3)) * np.array([1.5, 1.0, 1.0]))
    got = optical_depth_to_top(sigma, size, pts, v)
    # Reference: fine midpoint quadrature along each ray with periodic voxel lookup.
    s = np.linspace(0.0, 1.0, 200001)[:-1] + 0.5 / 200000
    sig = np.asarray(sigma)
    for p, g in zip(np.asarray(pts), np.asarray(got)):
        length = (1.0 - p[2]) / v[2]
        x = p[None] + (s * length)[:, None] * np.asarray(v)[None]
        i = np.floor(x / np.asarray(size)).astype(int)
        ref = sig[i[:, 0] % 3, i[:, 1] % 4, np.clip(i[:, 2], 0, 4)].mean() * length
        assert g == pytest.approx(ref, rel=2e-4, abs=1e-9)


def test_polynomial_equals_direct_spectral_monte_carlo():
    scene = _two_species()
    sp = _spectra(2, wl=4)
    key = jax.random.key(7)
    tal = monte_carlo_tallies(scene, key, n_photons=N, sza=35.0, saa=20.0, views=((30.0, 0.0),), pixel_size=0.5,
                              max_order=12, batch_size=N)
    # monte_carlo_tallies traces batch 0 with fold_in(key, 0): compare with the same random numbers.
    ev0 = trace_paths(scene, jax.random.fold_in(key, 0), n_photons=N, sza=35.0, saa=20.0, max_order=12,
                      carry=sp.bases())
    direct = direct_image(scene, ev0, sp.bases(), vza=30.0, vaa=0.0, pixel_size=0.5)
    poly = render(tal, sp, 0).reshape(direct.shape)
    assert poly.shape == (4, 4)  # 2 × 2 pixels × 4 wavelengths
    np.testing.assert_allclose(np.asarray(poly), np.asarray(direct), rtol=1e-6)
    assert float(jnp.min(direct)) > 0.0


def test_energy_is_conserved():
    """Per path, reflected + absorbed (canopy, soil) + residual is 1 in expectation (the reflect/transmit choice
    is sampled); the mean over paths is within 4 standard errors of 1, and the polynomial budget is that mean."""
    scene = _two_species()
    sp = _spectra(2, seed=1)
    key = jax.random.key(2)
    tal = monte_carlo_tallies(scene, key, n_photons=N, sza=40.0, max_order=40, batch_size=N)
    ev = trace_paths(scene, jax.random.fold_in(key, 0), n_photons=N, sza=40.0, max_order=40, carry=sp.bases())
    kind, comp = np.asarray(ev.kind), np.asarray(ev.component).astype(int)
    spec = np.asarray(ev.spectral)
    omega = np.asarray(sp.rho + sp.tau)[comp]  # (n, s, wl)
    share = np.where((kind == ESCAPE) | (kind == RESIDUAL), 1.0, 0.0)[..., None]
    share = share + np.where(kind == LEAF, 1.0, 0.0)[..., None] * (1.0 - omega)
    share = share + np.where(kind == SOIL, 1.0, 0.0)[..., None] * (1.0 - np.asarray(sp.soil))[None, None]
    per_path = np.sum(spec * share, axis=1)
    mean, se = per_path.mean(axis=0), per_path.std(axis=0) / np.sqrt(N)
    assert np.all(np.abs(mean - 1.0) < 4 * se) and np.all(se < 1e-2)  # 1e-3 needs ~10⁵ paths: the experiment
    budget = energy_budget(tal, sp)
    np.testing.assert_allclose(np.asarray(sum(budget.values())), mean, rtol=1e-9)
    assert float(jnp.max(budget["residual"])) < 1e-3
    assert all(float(jnp.min(v)) >= 0.0 for v in budget.values())
    assert tal.unfinished == 0


def test_gradients_with_respect_to_every_spectrum_match_finite_differences():
    scene = _two_species()
    tal = monte_carlo_tallies(scene, jax.random.key(4), n_photons=N, sza=30.0, views=((20.0, 90.0),),
                              pixel_size=0.5, max_order=20, batch_size=N)
    sp = _spectra(2, wl=2)
    w = jnp.asarray(np.random.default_rng(0).normal(size=(2, 2, 2)))

    bases = sp.bases()

    def loss_b(b):
        return jnp.sum(w * render(tal, ComponentSpectra(b[:2], b[2:4], b[4]), 0))

    g = jax.grad(loss_b)(bases)
    h = 1e-6
    for idx in [(0, 0), (1, 1), (2, 0), (3, 1), (4, 0), (4, 1)]:
        e = jnp.zeros_like(bases).at[idx].set(h)
        fd = (loss_b(bases + e) - loss_b(bases - e)) / (2 * h)
        assert float(g[idx]) == pytest.approx(float(fd), rel=1e-6, abs=1e-10)
    assert float(jnp.min(jnp.abs(g))) > 0.0


def test_homogeneous_single_scattering_matches_the_turbid_medium_solution():
    scene = _scene()
    tal = monte_carlo_tallies(scene, jax.random.key(11), n_photons=8 * N, sza=30.0, views=((0.0, 0.0), (40.0, 180.0)),
                              max_order=20, batch_size=N)
    rho, tau, soil = jnp.array([[0.05, 0.45]]), jnp.array([[0.03, 0.45]]), jnp.array([0.1, 0.2])
    sp = ComponentSpectra(rho, tau, soil)
    for i, (vza, vaa) in enumerate(tal.views):
        poly = tal.images[i]
        expo = np.asarray(poly.exponents)[np.asarray(poly.monomial)]
        order = expo.sum(axis=1)
        canopy1 = poly.select((order == 1) & (expo[:, 2] == 0))(sp)[0]
        soil1 = poly.select((order == 1) & (expo[:, 2] == 1))(sp)[0]
        g = canopy_geometry(F, jnp.asarray(30.0), jnp.asarray(vza), jnp.asarray(0.0 - vaa))
        k = g.ks + g.ko
        ref = (g.sob * rho[0] + g.sof * tau[0]) * -jnp.expm1(-k * LAI) / k
        np.testing.assert_allclose(np.asarray(canopy1), np.asarray(ref), rtol=0.02)  # ≈ 5σ at 32k photons
        np.testing.assert_allclose(np.asarray(soil1), np.asarray(soil * jnp.exp(-k * LAI)), rtol=0.02)


def test_truncation_keeps_the_energy_as_residual_and_the_tail_restores_it():
    scene = _scene()
    short = monte_carlo_tallies(scene, jax.random.key(5), n_photons=2 * N, sza=30.0, max_order=3, batch_size=N)
    long = monte_carlo_tallies(scene, jax.random.key(5), n_photons=2 * N, sza=30.0, max_order=40, batch_size=N)
    sp = ComponentSpectra(jnp.array([[0.49]]), jnp.array([[0.49]]), jnp.array([0.2]))
    assert float(energy_budget(short, sp)["residual"][0]) > 0.05
    full = float(render(long, sp)[0, 0, 0])
    cut = float(render(short, sp)[0, 0, 0])
    tailed = float(render(short, sp, tail=True)[0, 0, 0])
    assert cut < 0.9 * full
    assert abs(tailed - full) < 0.5 * abs(cut - full)


def test_residual_slot_and_compile_once():
    scene = _scene()
    ev = trace_paths(scene, jax.random.key(0), n_photons=N, sza=30.0, max_order=3)
    kinds = np.asarray(ev.kind)
    assert np.all((kinds[:, -1] == RESIDUAL) | (kinds[:, -1] == 0))
    n_before = trace_paths._cache_size()
    trace_paths(scene, jax.random.key(1), n_photons=N, sza=30.0, max_order=3)
    assert trace_paths._cache_size() == n_before


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_photons=0), "n_photons"), (dict(sza=95.0), "sza"), (dict(views=((90.0, 0.0),)), "view zenith"),
    (dict(pixel_size=0.3), "pixel_size"), (dict(max_order=0), "max_order")])
def test_bad_inputs_raise_one_line_errors(kwargs, match):
    args = dict(n_photons=N, sza=30.0, batch_size=N) | kwargs
    with pytest.raises(ValueError, match=match):
        monte_carlo_tallies(_scene(), jax.random.key(0), **args)


def test_scene_validation():
    with pytest.raises(ValueError, match="non-negative"):
        _scene(np.full((1, 2, 2, 2), -1.0), shape=(2, 2, 2))
    with pytest.raises(ValueError, match="lidf"):
        VoxelScene(lad=jnp.ones((1, 2, 2, 2)), lidf=jnp.ones((1, 5)) / 5, voxel_size=(1.0, 1.0, 1.0),
                   components=("a",))
