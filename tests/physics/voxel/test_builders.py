"""Voxel scene builders and mesh voxelisation: exact and supersampled leaf area, periodic lateral wrap, random
placement, crowns, rows, leaf meshes and their inclination histograms, and bad-input errors.

NumPy work only (no photon tracing); the whole module runs in a few seconds."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from leafjax.physics.canopy import campbell_lidf
from leafjax.physics.voxel import (
    Tree,
    crowns_scene,
    floating_spheres_scene,
    homogeneous_scene,
    leaf_disc_mesh,
    random_spheres,
    rows_scene,
    spherical_lidf,
    voxelise_mesh,
)

SPHERICAL = np.asarray(spherical_lidf())


def _lai(scene) -> np.ndarray:
    return np.asarray(scene.lai())


def _area(scene) -> np.ndarray:
    """Total one-sided leaf area per component (m²)."""
    return np.asarray(scene.lad).sum(axis=(1, 2, 3)) * math.prod(scene.voxel_size)


def _mesh_area(v, f) -> float:
    t = np.asarray(v)[np.asarray(f)]
    return float(0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1).sum())


def _min_image_distances(c, extent) -> np.ndarray:
    d = c[:, None] - c[None]
    d[..., :2] -= np.asarray(extent) * np.round(d[..., :2] / np.asarray(extent))
    return np.linalg.norm(d, axis=-1)[np.triu_indices(len(c), 1)]


# ---------------------------------------------------------------------------------------------------- builders
@pytest.mark.parametrize("lai", [0.0, 0.5, 3.7])
def test_homogeneous_lai_exact(lai):
    scene = homogeneous_scene(lai, 2.0, shape=(3, 2, 7), extent=(1.5, 1.0))
    np.testing.assert_allclose(_lai(scene), [lai], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(np.asarray(scene.lad), lai / 2.0, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(scene.lidf[0]), SPHERICAL, rtol=1e-14)
    assert scene.shape == (3, 2, 7) and scene.components == ("leaves",)
    np.testing.assert_allclose(scene.height, 2.0)
    np.testing.assert_allclose(scene.extent, (1.5, 1.0))


def test_floating_spheres_lai():
    # 1 m voxels, supersample 4: 0.25 m sub-cells, 15 per radius.
    r, lad, extent = 3.75, 1.6, (20.0, 20.0)
    centres = random_spheres(0, 3, r, extent, (r, 10.0 - r))
    scene = floating_spheres_scene(centres, r, lad, extent=extent, height=10.0, shape=(20, 20, 10), supersample=4)
    expected = 3 * 4.0 / 3.0 * math.pi * r**3 * lad / (extent[0] * extent[1])
    np.testing.assert_allclose(_lai(scene), [expected], rtol=0.02)
    assert np.asarray(scene.lad).max() <= lad * (1 + 1e-12)


def test_spheres_wrap_across_lateral_edges():
    kw = {"extent": (20.0, 20.0), "height": 10.0, "shape": (20, 20, 10), "supersample": 4}
    inside = np.asarray(floating_spheres_scene([[10.0, 10.0, 5.0]], 3.75, 1.0, **kw).lad)
    corner = np.asarray(floating_spheres_scene([[0.0, 0.0, 5.0]], 3.75, 1.0, **kw).lad)  # wraps in x and y
    outside = np.asarray(floating_spheres_scene([[-20.0, 40.0, 5.0]], 3.75, 1.0, **kw).lad)  # x, y anywhere
    # Shifts by whole voxels: the same field, rolled, so the volume is conserved exactly.
    np.testing.assert_array_equal(corner, np.roll(inside, (-10, -10), axis=(1, 2)))
    np.testing.assert_array_equal(outside, corner)
    odd = floating_spheres_scene([[0.3, 19.9, 5.0]], 3.75, 1.0, **kw)
    np.testing.assert_allclose(_area(odd), [4.0 / 3.0 * math.pi * 3.75**3], rtol=0.02)


def test_random_spheres_no_overlap_and_reproducible():
    extent = (10.0, 8.0)
    c = random_spheres(7, 20, 1.0, extent, (1.0, 4.0))
    assert c.shape == (20, 3)
    assert np.all((c[:, :2] >= 0) & (c[:, :2] < extent)) and np.all((c[:, 2] >= 1.0) & (c[:, 2] <= 4.0))
    assert _min_image_distances(c, extent).min() >= 2.0
    np.testing.assert_array_equal(c, random_spheres(7, 20, 1.0, extent, (1.0, 4.0)))
    assert not np.array_equal(c, random_spheres(8, 20, 1.0, extent, (1.0, 4.0)))
    radii = np.linspace(0.5, 1.5, 10)
    cv = random_spheres(1, 10, radii, extent, (1.5, 3.0))
    d = cv[:, None] - cv[None]
    d[..., :2] -= np.asarray(extent) * np.round(d[..., :2] / np.asarray(extent))
    iu = np.triu_indices(10, 1)
    assert np.all(np.linalg.norm(d, axis=-1)[iu] >= (radii[:, None] + radii[None])[iu])
    typed = random_spheres(jax.random.key(3), 5, 1.0, extent, (1.0, 4.0))
    np.testing.assert_array_equal(typed, random_spheres(jax.random.key(3), 5, 1.0, extent, (1.0, 4.0)))
    np.testing.assert_array_equal(typed, random_spheres(jax.random.PRNGKey(3), 5, 1.0, extent, (1.0, 4.0)))
    assert random_spheres(0, 0, 1.0, extent, (1.0, 4.0)).shape == (0, 3)


def test_crowns_scene_components_and_volumes():
    # 0.5 m voxels, supersample 4: 0.125 m sub-cells, 16 per crown radius.
    extent, h, shape = (10.0, 10.0), 10.0, (20, 20, 20)
    trees = [Tree(2.5, 2.5, 1.0, 6.0, 2.0, "ellipsoid", "birch", 1.5),
             {"x": 9.5, "y": 7.0, "crown_base": 2.0, "crown_top": 9.0, "crown_radius": 2.0, "shape": "cone",
              "species": "spruce", "lad": 2.0},  # crosses the x edge
             {"x": 6.0, "y": 2.5, "crown_base": 1.5, "crown_top": 5.5, "crown_radius": 2.0, "species": "birch",
              "lad": 1.0}]  # dict without shape: ellipsoid
    scene = crowns_scene(trees, extent=extent, height=h, shape=shape, species_lidf={"birch": 57.0, "spruce": None},
                         understorey_lai=0.7, understorey_height=0.3)
    assert scene.components == ("birch", "spruce", "understorey")
    area = _area(scene)
    ellipsoid = [4.0 / 3.0 * math.pi * 2.0**2 * 0.5 * depth for depth in (5.0, 4.0)]
    np.testing.assert_allclose(area[0], 1.5 * ellipsoid[0] + 1.0 * ellipsoid[1], rtol=0.02)
    np.testing.assert_allclose(area[1], 2.0 * math.pi * 2.0**2 * 7.0 / 3.0, rtol=0.02)
    np.testing.assert_allclose(_lai(scene)[2], 0.7, rtol=1e-13)  # exact despite the partial layer (dz = 0.5 m)
    lad_u = np.asarray(scene.lad[2])
    np.testing.assert_allclose(lad_u[..., 0], 0.7 / 0.3 * 0.3 / 0.5, rtol=1e-13)
    assert np.all(lad_u[..., 1:] == 0)
    f = np.asarray(campbell_lidf(57.0), dtype=np.float64)
    np.testing.assert_allclose(np.asarray(scene.lidf[0]), f / f.sum(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(scene.lidf[1:]), np.stack([SPHERICAL, SPHERICAL]), rtol=1e-12)
    # The cone that crosses the x edge fills both border columns.
    lad_s = np.asarray(scene.lad[1])
    assert lad_s[0].sum() > 0 and lad_s[-1].sum() > 0


@pytest.mark.parametrize("axis", ["x", "y"])
def test_rows_lai_exact(axis):
    spacing, width, top, gap, lad = 0.75, 0.3, 1.2, 0.2, 2.5
    extent = (3.0, 1.0) if axis == "y" else (1.0, 3.0)
    shape = (7, 2, 9) if axis == "y" else (2, 7, 9)
    scene = rows_scene(row_spacing=spacing, row_width=width, row_height=top, lad=lad, extent=extent, height=1.5,
                       shape=shape, axis=axis, soil_gap_height=gap)
    np.testing.assert_allclose(_lai(scene), [lad * width / spacing * (top - gap)], rtol=1e-13)
    field = np.asarray(scene.lad[0])
    assert field.max() <= lad * (1 + 1e-12) and field[..., 0].max() == 0.0  # the soil gap below 0.2 m is bare
    along = 1 if axis == "y" else 0
    assert np.all(np.ptp(field, axis=along) == 0)  # uniform along the rows


# ---------------------------------------------------------------------------------------------------- meshes
def test_horizontal_square_exact():
    x0, x1, y0, y1, z = 0.3, 1.55, 0.2, 1.9, 0.6
    v = [[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]]
    scene = voxelise_mesh(v, [[0, 1, 2], [0, 2, 3]], extent=(2.0, 2.0), height=1.0, shape=(4, 4, 3))
    edges = np.arange(5) * 0.5
    ox = np.clip(np.minimum(edges[1:], x1) - np.maximum(edges[:-1], x0), 0.0, None)
    oy = np.clip(np.minimum(edges[1:], y1) - np.maximum(edges[:-1], y0), 0.0, None)
    expected = np.zeros((4, 4, 3))
    expected[..., 1] = ox[:, None] * oy[None]  # z = 0.6 m lies in layer 1 (dz = 1/3 m)
    np.testing.assert_allclose(np.asarray(scene.lad[0]) * math.prod(scene.voxel_size), expected, atol=1e-14)
    np.testing.assert_allclose(_area(scene), [(x1 - x0) * (y1 - y0)], rtol=1e-13)
    np.testing.assert_array_equal(np.asarray(scene.lidf[0]), np.eye(SPHERICAL.size)[0])


def test_vertical_and_components():
    v = [[0.1, 0.1, 0.1], [0.9, 0.1, 0.1], [0.9, 0.1, 0.9],  # vertical: last class
         [0.2, 0.2, 0.5], [0.8, 0.2, 0.5], [0.2, 0.8, 0.5]]  # horizontal: first class
    scene = voxelise_mesh(v, [[0, 1, 2], [3, 4, 5]], component_of_face=[1, 0], components=("a", "b", "empty"),
                          extent=(1.0, 1.0), height=1.0, shape=(3, 3, 3), angle_classes="sail")
    lidf = np.asarray(scene.lidf)
    n = lidf.shape[1]
    assert n == 13
    np.testing.assert_array_equal(lidf[0], np.eye(n)[0])
    np.testing.assert_array_equal(lidf[1], np.eye(n)[-1])
    np.testing.assert_allclose(lidf[2], np.asarray(spherical_lidf(angle_classes="sail")), rtol=1e-14)
    np.testing.assert_allclose(_area(scene), [0.18, 0.32, 0.0], rtol=1e-13, atol=0)


def test_triangle_wraps_across_periodic_edges():
    tri = np.array([[1.8, 1.7, 0.5], [2.4, 1.7, 0.5], [2.1, 2.3, 0.5]])  # crosses x = Lx and y = Ly
    kw = {"extent": (2.0, 2.0), "height": 1.0, "shape": (4, 4, 2)}
    lad = np.asarray(voxelise_mesh(tri, [[0, 1, 2]], **kw).lad[0])
    assert lad[-1, -1, 1] > 0 and lad[0, -1, 1] > 0 and lad[0, 0, 1] > 0  # pieces on both sides of both edges
    np.testing.assert_allclose(lad.sum() * 0.5**3, 0.18, rtol=1e-13)
    for shift in ([-2.0, 0.0, 0.0], [6.0, -4.0, 0.0]):  # whole periods: the same field
        moved = np.asarray(voxelise_mesh(tri + shift, [[0, 1, 2]], **kw).lad[0])
        np.testing.assert_allclose(moved, lad, rtol=1e-12, atol=1e-12)
    moved = np.asarray(voxelise_mesh(tri + [0.37, -0.91, 0.0], [[0, 1, 2]], **kw).lad[0])
    np.testing.assert_allclose(moved.sum(), lad.sum(), rtol=1e-13)
    # The part beyond x = Lx (x in [2.0, 2.4]) lands in column 0: its area is the triangle minus the part x < 2.
    left = 0.5 * 0.2 * 0.2 * 2.0  # the triangle's part with x ≤ 2: base 0.2 … 2.0 has height 2·(x − 1.8)
    np.testing.assert_allclose(lad[0].sum() * 0.5**3, 0.18 - left, rtol=1e-12)


def test_leaf_disc_mesh_area_and_lidf():
    n, r, sides = 2000, 0.1, 8
    v, f = leaf_disc_mesh(0, n, radius=r, extent=(2.0, 2.0), z_range=(r, 2.0 - r), n_sides=sides)
    assert v.shape == (n * sides, 3) and f.shape == (n * (sides - 2), 3)
    assert v[:, 2].min() >= 0.0 and v[:, 2].max() <= 2.0
    total = n * sides / 2 * r**2 * math.sin(2 * math.pi / sides)
    np.testing.assert_allclose(_mesh_area(v, f), total, rtol=1e-12)
    scene = voxelise_mesh(v, f, extent=(2.0, 2.0), height=2.0, shape=(8, 8, 8))
    np.testing.assert_allclose(_area(scene), [total], rtol=1e-9)
    lidf = np.asarray(scene.lidf[0])
    assert 0.5 * np.abs(lidf - SPHERICAL).sum() < 0.05
    assert np.abs(lidf - SPHERICAL).max() <= 1.0 / n + 1e-12  # stratified class counts
    f30 = np.asarray(campbell_lidf(30.0), dtype=np.float64)
    v2, f2 = leaf_disc_mesh(jax.random.key(1), 500, radius=0.05, extent=(1.0, 1.0), z_range=(0.2, 0.8), lidf=30.0)
    lidf2 = np.asarray(voxelise_mesh(v2, f2, extent=(1.0, 1.0), height=1.0, shape=(4, 4, 4)).lidf[0])
    assert np.abs(lidf2 - f30 / f30.sum()).max() <= 1.0 / 500 + 1e-12


def test_leaf_disc_mesh_reproducible():
    kw = {"radius": 0.05, "extent": (1.0, 1.0), "z_range": (0.1, 0.9)}
    a = leaf_disc_mesh(5, 50, **kw)
    b = leaf_disc_mesh(5, 50, **kw)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], leaf_disc_mesh(6, 50, **kw)[0])
    np.testing.assert_array_equal(leaf_disc_mesh(jax.random.key(2), 50, **kw)[0],
                                  leaf_disc_mesh(jax.random.PRNGKey(2), 50, **kw)[0])
    v, f = leaf_disc_mesh(0, 0, **kw)
    assert v.shape == (0, 3) and f.shape == (0, 3)
    empty = voxelise_mesh(v, f, extent=(1.0, 1.0), height=1.0, shape=(2, 2, 2))
    assert np.all(np.asarray(empty.lad) == 0) and np.allclose(np.asarray(empty.lidf[0]), SPHERICAL)


# ---------------------------------------------------------------------------------------------------- errors
_GRID = {"extent": (1.0, 1.0), "height": 1.0, "shape": (2, 2, 2)}
_TRI = np.array([[0.1, 0.1, 0.2], [0.9, 0.1, 0.2], [0.5, 0.9, 0.4]])
_BAD = [
    (lambda: homogeneous_scene(-1.0), "lai must be a non-negative"),
    (lambda: homogeneous_scene(1.0, shape=(0, 1, 1)), "shape must be three positive integers"),
    (lambda: homogeneous_scene(1.0, extent=(1.0, -1.0)), "extent must be two positive"),
    (lambda: homogeneous_scene(1.0, 0.0), "height must be a positive"),
    (lambda: homogeneous_scene(1.0, lidf=95.0), "mean leaf angle must lie in"),
    (lambda: homogeneous_scene(1.0, lidf=np.ones(5)), "18 non-negative class fractions"),
    (lambda: homogeneous_scene(1.0, angle_classes="bogus"), "unknown angle_classes"),
    (lambda: floating_spheres_scene([[0.5, 0.5, 0.9]], 0.2, 1.0, **_GRID), "does not fit between the soil"),
    (lambda: floating_spheres_scene([[0.5, 0.5]], 0.2, 1.0, **_GRID), r"centres must be finite with shape \(n, 3\)"),
    (lambda: floating_spheres_scene([[0.5, 0.5, 0.5]], 0.2, 1.0, supersample=0, **_GRID), "supersample must be"),
    (lambda: random_spheres(0, 2, 0.6, (1.0, 1.0), (0.6, 0.6)), "exceeds the box extent"),
    (lambda: random_spheres(0, 50, 0.4, (1.0, 1.0), (0.5, 0.5), max_attempts=20), "could not place sphere"),
    (lambda: random_spheres(0, 2, 0.1, (1.0, 1.0), (0.5, 0.2)), "z_range must be"),
    (lambda: crowns_scene([Tree(0.5, 0.5, 0.1, 0.9, 0.3, "cone", "oak", 1.0)], species_lidf={}, **_GRID),
     "species_lidf has no entry for species"),
    (lambda: crowns_scene([Tree(0.5, 0.5, 0.1, 1.5, 0.3, "cone", "oak", 1.0)], species_lidf={"oak": None},
                          **_GRID), "tree 0 needs 0 ≤ crown_base < crown_top"),
    (lambda: crowns_scene([Tree(0.5, 0.5, 0.1, 0.9, 0.3, "pyramid", "oak", 1.0)], species_lidf={"oak": None},
                          **_GRID), "tree 0 needs shape in"),
    (lambda: crowns_scene([{"x": 0.5}], species_lidf={}, **_GRID), "tree 0 must be a Tree or a dict"),
    (lambda: crowns_scene([], species_lidf={}, **_GRID), "at least one tree or understorey_lai"),
    (lambda: rows_scene(row_spacing=0.3, row_width=0.1, row_height=0.5, lad=1.0, **_GRID), "multiple of row_spacing"),
    (lambda: rows_scene(row_spacing=0.5, row_width=0.1, row_height=0.5, lad=1.0, axis="z", **_GRID),
     "axis must be 'x' or 'y'"),
    (lambda: voxelise_mesh(_TRI[:, :2], [[0, 1, 2]], **_GRID), r"vertices must be finite with shape \(v, 3\)"),
    (lambda: voxelise_mesh(_TRI, [[0.0, 1.0, 2.0]], **_GRID), "faces must be integer vertex indices"),
    (lambda: voxelise_mesh(_TRI, [[0, 1, 3]], **_GRID), "faces must index the 3 vertices"),
    (lambda: voxelise_mesh(_TRI + [0.0, 0.0, 0.7], [[0, 1, 2]], **_GRID), r"face 0 has vertex heights .* outside"),
    (lambda: voxelise_mesh(_TRI - [0.0, 0.0, 0.3], [[0, 1, 2]], **_GRID), r"outside \[0, height = 1.0\] m"),
    (lambda: voxelise_mesh(_TRI, [[0, 1, 2]], component_of_face=[1], **_GRID), "component_of_face must be 1 integers"),
    (lambda: voxelise_mesh(_TRI, [[0, 1, 2]], components=("a", "a"), **_GRID), "unique names"),
    (lambda: voxelise_mesh(_TRI, [[0, 1, 2]], components="leaves", **_GRID), "non-empty sequence of unique names"),
    (lambda: leaf_disc_mesh(0, 10, radius=0.1, extent=(1.0, 1.0), z_range=(0.05, 0.5)), "radius = 0.1 ≤ z_min"),
    (lambda: leaf_disc_mesh(0, 10, radius=0.1, extent=(1.0, 1.0), z_range=(0.5, 0.5), n_sides=2), "n_sides must be"),
    (lambda: leaf_disc_mesh(0, -1, radius=0.1, extent=(1.0, 1.0), z_range=(0.5, 0.5)), "n_leaves must be"),
    (lambda: leaf_disc_mesh(0, 1, radius=0.0, extent=(1.0, 1.0), z_range=(0.5, 0.5)), "radius must be a positive"),
    (lambda: leaf_disc_mesh("seed", 1, radius=0.1, extent=(1.0, 1.0), z_range=(0.5, 0.5)), "key_or_seed must be"),
    (lambda: leaf_disc_mesh(0, 1, radius=0.1, extent=(1.0, 1.0), z_range=(0.5, 0.5), lidf=np.ones(3)),
     "class fractions"),
]


@pytest.mark.parametrize("call, message", _BAD, ids=[m for _, m in _BAD])
def test_bad_inputs_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
