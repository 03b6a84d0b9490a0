"""The Mitsuba 3 (eradiate-mitsuba) truth engine: input validation without Mitsuba, and — where it is installed —
its BRF normalisation (bare soil, a horizontal semi-transparent plate) and agreement with the voxel engine on a
small leaf-disc canopy."""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.voxel import (
    ComponentSpectra,
    leaf_disc_mesh,
    monte_carlo_tallies,
    render,
    voxelise_mesh,
)
from leafjax.physics.voxel._mitsuba import auto_tiles, mitsuba_image

PLATE_V = np.array([[0.0, 0.0, 0.5], [1.0, 0.0, 0.5], [1.0, 1.0, 0.5], [0.0, 1.0, 0.5]])
PLATE_F = np.array([[0, 1, 2], [0, 2, 3]])
GOOD = {"extent": (1.0, 1.0), "height": 1.0, "sza": 30.0, "pixel_size": 0.5}


def _call(**kw):
    args = {"vertices": PLATE_V, "faces": PLATE_F, "component_of_face": None, "rho": [[0.3, 0.4]],
            "tau": [[0.2, 0.4]], "soil": [0.1, 0.2]}
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    return mitsuba_image(args.pop("vertices"), args.pop("faces"), args.pop("component_of_face"), args.pop("rho"),
                         args.pop("tau"), args.pop("soil"), **{**GOOD, "spp": 4, **kw})


@pytest.mark.parametrize("kw, match", [
    ({"vertices": np.zeros((4, 2))}, "vertices must be finite with shape"),
    ({"faces": [[0, 1, 7]]}, "faces must index"),
    ({"faces": [[0.0, 1.0, 2.0]]}, "faces must be integer"),
    ({"component_of_face": [0, 1]}, "component_of_face must be 2 integers"),
    ({"rho": [[0.3, 0.4]], "tau": [[0.2]]}, "rho and tau must have shape"),
    ({"soil": [0.1, 0.2, 0.3]}, "rho and tau must have shape"),
    ({"rho": [[0.7, 0.4]], "tau": [[0.5, 0.4]]}, "rho \\+ tau <= 1"),
    ({"pixel_size": 0.3}, "pixel_size 0.3 m must divide"),
    ({"height": 0.4}, "mesh vertex heights"),
    ({"sza": 90.0}, "sza must be in"),
    ({"vza": -1.0}, "vza must be in"),
    ({"extent": (1.0,)}, "extent must be two positive"),
    ({"tiles": 4}, "tiles must be None or an odd"),
    ({"spp": 0}, "spp must be an integer"),
])
def test_bad_inputs_fail_before_mitsuba_is_imported(monkeypatch, kw, match):
    monkeypatch.setitem(sys.modules, "mitsuba", None)  # an import would raise ImportError, not ValueError
    with pytest.raises(ValueError, match=match):
        _call(**kw)


def test_missing_mitsuba_gives_one_line_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "mitsuba", None)
    with pytest.raises(ImportError, match=r"pip install leafjax\[mitsuba\]"):
        _call()


def test_auto_tiles_cover_the_displaced_rays():
    assert auto_tiles((1.0, 1.0), 1.0, 30.0, 0.0) == 5  # 0.58 + 1 box heights -> 2 tiles each side
    assert auto_tiles((4.0, 4.0), 1.0, 0.0, 0.0) == 3
    assert auto_tiles((1.0, 2.0), 1.0, 0.0, 60.0) == 7  # 1.73 + 1 -> 3 tiles of the shorter side


def test_bare_soil_brf_is_its_reflectance():
    pytest.importorskip("mitsuba", reason="the Mitsuba truth engine needs eradiate-mitsuba (leafjax[mitsuba])")
    soil = np.array([0.05, 0.2, 0.35, 0.6])
    im = mitsuba_image(np.zeros((0, 3)), np.zeros((0, 3), int), None, np.full((1, 4), 0.3), np.full((1, 4), 0.3),
                       soil, extent=(1.0, 1.0), height=1.0, sza=40.0, saa=20.0, vza=35.0, vaa=110.0,
                       pixel_size=0.5, spp=16)
    assert im.shape == (2, 2, 4)
    np.testing.assert_allclose(im, np.broadcast_to(soil, im.shape), rtol=2e-6)  # float32, no Monte Carlo noise


def test_semi_transparent_plate_matches_adding_formula():
    pytest.importorskip("mitsuba", reason="the Mitsuba truth engine needs eradiate-mitsuba (leafjax[mitsuba])")
    rho, tau, rs = np.array([[0.3, 0.45]]), np.array([[0.4, 0.5]]), np.array([0.2, 0.3])
    # Many tiles: the light trapped between plate and soil leaks out at the edges of the tiled patch.
    im = mitsuba_image(PLATE_V, PLATE_F, None, rho, tau, rs, extent=(1.0, 1.0), height=1.0, sza=30.0, vza=20.0,
                       vaa=70.0, pixel_size=0.5, spp=8192, tiles=41)
    expected = rho[0] + tau[0] ** 2 * rs / (1.0 - rho[0] * rs)
    np.testing.assert_allclose(im.mean(axis=(0, 1)), expected, rtol=4e-3)


def test_leaf_disc_canopy_agrees_with_voxel_engine():
    """Discrete leaves (Mitsuba) against the voxelised mesh (turbid voxel Monte Carlo), box means at nadir and 60°
    forward (off the hotspot, which only the discrete canopy has), sun at 30°: within 6 % (red) and 4 % (NIR).
    Measured (2-core CPU, 2^16 photons, 16k rays): -2.4 %, -0.8 % at nadir, -2.4 %, +1.5 % at 60°; the gap is
    the finite leaf size (discs of radius 0.04 m: -7 %, -2 %; 0.01 m: -3 %, +0.5 %) plus Monte Carlo noise."""
    pytest.importorskip("mitsuba", reason="the Mitsuba truth engine needs eradiate-mitsuba (leafjax[mitsuba])")
    v, f = leaf_disc_mesh(0, 2000, radius=0.02, extent=(1.0, 1.0), z_range=(0.05, 0.55))  # LAI ≈ 2.3
    rho, tau, rs = np.array([[0.06, 0.45]]), np.array([[0.04, 0.45]]), np.array([0.1, 0.2])
    views = ((0.0, 0.0), (60.0, 180.0))
    ref = [mitsuba_image(v, f, None, rho, tau, rs, extent=(1.0, 1.0), height=0.6, sza=30.0, vza=a, vaa=b,
                         pixel_size=1.0, spp=2048).mean(axis=(0, 1)) for a, b in views]
    scene = voxelise_mesh(v, f, extent=(1.0, 1.0), height=0.6, shape=(2, 2, 6))
    tal = monte_carlo_tallies(scene, jax.random.key(3), n_photons=1 << 14, sza=30.0, views=views, max_order=12,
                              batch_size=1 << 14)
    sp = ComponentSpectra(jnp.asarray(rho), jnp.asarray(tau), jnp.asarray(rs))
    for i, expected in enumerate(ref):
        got = np.asarray(render(tal, sp, i, tail=True))[0, 0]
        rel = got / expected - 1.0
        assert abs(rel[0]) < 0.06 and abs(rel[1]) < 0.04, f"view {views[i]}: relative differences {rel}"


@pytest.mark.parametrize("vaa, lit_pixel", [(0.0, 0), (180.0, 1)])
def test_pixel_and_azimuth_convention(vaa, lit_pixel):
    """Black strips (x in [0, 0.5), z = 0.5, periodic) over a white soil, sun at the zenith: a view ray from the
    top plane z = 1 at vza = atan(0.5) crosses the strip plane 0.25 m and the soil 0.5 m away along -v, so of
    the four 0.25 m pixel columns exactly one sees lit soil — column 0 for vaa = 0 (the ray runs towards -x),
    column 1 for vaa = 180 (as leafjax's exit-point convention)."""
    pytest.importorskip("mitsuba", reason="the Mitsuba truth engine needs eradiate-mitsuba (leafjax[mitsuba])")
    v = np.array([[0.0, -1.0, 0.5], [0.5, -1.0, 0.5], [0.5, 2.0, 0.5], [0.0, 2.0, 0.5]])
    vza = float(np.degrees(np.arctan(0.5)))
    im = mitsuba_image(v, PLATE_F, None, [[0.0]], [[0.0]], [0.8], extent=(1.0, 1.0), height=1.0, sza=0.0, vza=vza,
                       vaa=vaa, pixel_size=0.25, spp=64, tiles=5)
    expected = np.zeros((4, 4, 1))
    expected[lit_pixel] = 0.8
    np.testing.assert_allclose(im, expected, atol=1e-5)
