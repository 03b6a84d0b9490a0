"""Reflectance under direct + diffuse light and fAPAR from the 4SAIL fluxes: limits (bare soil, dense canopy,
non-absorbing leaves), bounds, and energy conservation against an explicit sum over soil–canopy reflections."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.canopy import CanopyParams, absorbed_fraction, fapar, sail, sky_reflectance
from leafjax.physics.sky import diffuse_fraction

WL = np.arange(400.0, 701.0, 5.0)
N = 40


@jax.jit
def _sail(leaf_r, leaf_t, soil, lai, lidf_a, hotspot, sza, vza, raa):
    return sail(leaf_r, leaf_t, soil, CanopyParams(lai=lai, lidf_a=lidf_a, hotspot=hotspot, sza=sza, vza=vza,
                                                   raa=raa))


@pytest.fixture(scope="module")
def case():
    """One batch (one compiled 4SAIL program): row 0 bare soil, 1 a dense green canopy, 2/3 the same canopy seen
    at raa = 0 / 180 (sza = vza), 4 nearly non-absorbing leaves, the rest random."""
    rng = np.random.default_rng(7)
    rho = rng.uniform(0.02, 0.5, (N, WL.size))
    tau = rng.uniform(0.01, 0.45, (N, WL.size)) * (0.95 - rho) / 0.95
    p = {"lai": rng.uniform(0.0, 8.0, N), "lidf_a": rng.uniform(20.0, 80.0, N), "hotspot": rng.uniform(0.01, 0.5, N),
         "sza": rng.uniform(0.0, 70.0, N), "vza": rng.uniform(0.0, 15.0, N), "raa": rng.uniform(0.0, 180.0, N)}
    soil = rng.uniform(0.02, 0.6, (N, WL.size))
    p["lai"][0] = 0.0
    p["lai"][1], rho[1], tau[1] = 10.0, 0.06, 0.04
    for row, raa in ((2, 0.0), (3, 180.0)):
        p["lai"][row], p["lidf_a"][row], p["hotspot"][row], p["sza"][row], p["vza"][row], p["raa"][row] = (
            3.0, 57.0, 0.2, 35.0, 35.0, raa)
        rho[row], tau[row], soil[row] = 0.1, 0.05, 0.1
    p["lai"][4], rho[4], tau[4] = 3.0, 0.6 - 1e-6, 0.4
    out = _sail(jnp.asarray(rho), jnp.asarray(tau), jnp.asarray(soil), *(jnp.asarray(p[k]) for k in p))
    return out, soil, p


def _series(out, soil, diffuse: bool):
    """Leaf absorption, soil absorption and reflection summed bounce by bounce (NumPy; independent of the
    closed forms)."""
    f = {k: np.asarray(getattr(out, k)) for k in ("rdd", "tdd", "rsd", "tsd")}
    tss = np.asarray(out.tss)[:, None]
    if diffuse:
        down, refl, leaf = f["tdd"].copy(), f["rdd"].copy(), 1.0 - f["rdd"] - f["tdd"]
    else:
        down, refl, leaf = tss + f["tsd"], f["rsd"].copy(), 1.0 - f["rsd"] - f["tsd"] - tss
    ground = np.zeros_like(down)
    for _ in range(400):
        ground += (1.0 - soil) * down
        up = soil * down
        leaf = leaf + up * (1.0 - f["rdd"] - f["tdd"])
        refl = refl + up * f["tdd"]
        down = up * f["rdd"]
    return leaf, ground, refl


@pytest.mark.parametrize("diffuse", [False, True])
def test_energy_is_conserved(case, diffuse):
    out, soil, _ = case
    leaf, ground, refl = _series(out, soil, diffuse)
    np.testing.assert_allclose(refl, out.rddt if diffuse else out.rsdt, atol=1e-12)
    np.testing.assert_allclose(leaf, absorbed_fraction(out, soil, diffuse=1.0 if diffuse else None), atol=1e-12)
    np.testing.assert_allclose(leaf + ground + refl, 1.0, atol=1e-12)
    assert np.all(leaf >= -1e-12) and np.all(ground >= 0.0)


def test_fapar_limits_and_bounds(case):
    out, soil, _ = case
    black = np.asarray(fapar(out, soil, WL))
    white = np.asarray(fapar(out, soil, WL, diffuse=1.0))
    rng = np.random.default_rng(1)
    mixed = np.asarray(fapar(out, soil, WL, diffuse=jnp.asarray(rng.uniform(0, 1, (N, WL.size)))))
    assert black.shape == (N,) and black.dtype == np.float64
    for f in (black, white, mixed):
        assert np.all((f >= 0.0) & (f <= 1.0))
        assert abs(f[0]) < 1e-12  # bare soil: no leaves, nothing absorbed
        assert 0.0 < f[4] < 2e-5  # leaves that absorb 1e-6 of the light: the canopy absorbs almost nothing
    # dense green canopy: what is not reflected is absorbed by the leaves (the soil gets < 0.1 %)
    assert black[1] > 0.85
    np.testing.assert_allclose(black[1], np.mean(1.0 - np.asarray(out.rsdt[1])), atol=1e-3)
    # the mixture is linear in D
    d = 0.3
    np.testing.assert_allclose(fapar(out, soil, WL, diffuse=d), (1 - d) * black + d * white, rtol=1e-12)


def test_fapar_band_weights_and_errors(case):
    out, soil, _ = case
    a = np.asarray(absorbed_fraction(out, soil))
    widths = np.gradient(WL)  # trapezoid weights of the grid
    widths[[0, -1]] *= 0.5
    np.testing.assert_allclose(fapar(out, soil, WL), (a * widths).sum(-1) / widths.sum(), rtol=1e-12)
    np.testing.assert_allclose(fapar(out, soil, WL, weights=np.full(WL.size, 2.0)), fapar(out, soil, WL),
                               rtol=1e-12)
    photons = WL / 550.0  # e.g. a photon-flux weighting
    np.testing.assert_allclose(fapar(out, soil, WL, weights=photons),
                               (a * widths * photons).sum(-1) / (widths * photons).sum(), rtol=1e-12)
    blue = np.asarray(fapar(out, soil, WL, band=(400.0, 550.0)))
    sub = WL <= 550.0
    w_blue = np.gradient(WL[sub])
    w_blue[[0, -1]] *= 0.5
    np.testing.assert_allclose(blue, (a[:, sub] * w_blue).sum(-1) / w_blue.sum(), rtol=1e-12)
    np.testing.assert_allclose(jax.jit(lambda o, s: fapar(o, s, WL))(out, soil), fapar(out, soil, WL), rtol=1e-12)
    with pytest.raises(ValueError, match="fewer than two wavelengths"):
        fapar(out, soil, WL, band=(800.0, 900.0))
    with pytest.raises(ValueError, match="weights must be a spectrum"):
        fapar(out, soil, WL, weights=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        fapar(out, soil, WL, weights=-np.ones(WL.size))


def test_sky_reflectance(case):
    out, _, p = case
    np.testing.assert_array_equal(sky_reflectance(out, 0.0), out.rsot)
    np.testing.assert_allclose(sky_reflectance(out, 1.0), out.rdot, rtol=1e-15)
    d = diffuse_fraction(WL, jnp.asarray(p["sza"]))
    obs = np.asarray(sky_reflectance(out, d))
    np.testing.assert_allclose(obs, (1 - d) * out.rsot + d * out.rdot, rtol=1e-14)
    lo, hi = np.minimum(out.rsot, out.rdot), np.maximum(out.rsot, out.rdot)
    assert np.all((obs >= lo - 1e-15) & (obs <= hi + 1e-15))
    np.testing.assert_allclose(sky_reflectance(out, jnp.full(WL.shape, 0.25)), sky_reflectance(out, 0.25))
    # 4SAIL's azimuth convention: raa = 0 (sun behind the sensor) is the bright backscatter (hotspot) side
    assert np.all(out.rsot[2] > 1.5 * out.rsot[3])
    # diffuse light fills the shadows of the hotspot's opposite side: the observed contrast is smaller
    assert np.all(sky_reflectance(out, 0.4)[2] - sky_reflectance(out, 0.4)[3] < out.rsot[2] - out.rsot[3])
