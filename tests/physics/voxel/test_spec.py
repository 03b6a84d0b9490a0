"""``scene_from_spec``: every builder reachable from a JSON-like mapping, equal to the direct call; key errors."""

import json

import numpy as np
import pytest

from leafjax.physics import voxel as vx


def test_each_builder_matches_its_direct_call():
    cases = [
        ({"builder": "homogeneous", "lai": 2.0, "height": 1.0, "shape": [2, 2, 4], "lidf": 45.0},
         vx.homogeneous_scene(2.0, 1.0, shape=(2, 2, 4), lidf=45.0)),
        ({"builder": "floating_spheres", "centres": [[0.5, 0.5, 0.5]], "radius": [0.3], "lad": 2.0,
          "extent": [1.0, 1.0], "height": 1.0, "shape": [4, 4, 4]},
         vx.floating_spheres_scene([[0.5, 0.5, 0.5]], [0.3], 2.0, extent=(1.0, 1.0), height=1.0, shape=(4, 4, 4))),
        ({"builder": "crowns", "trees": [{"x": 0.5, "y": 0.5, "crown_base": 0.2, "crown_top": 0.9,
                                          "crown_radius": 0.3, "species": "oak", "lad": 1.5, "shape": "cone"}],
          "extent": [1.0, 1.0], "height": 1.0, "shape": [4, 4, 4], "species_lidf": {"oak": None}},
         vx.crowns_scene([vx.Tree(0.5, 0.5, 0.2, 0.9, 0.3, "cone", "oak", 1.5)], extent=(1.0, 1.0), height=1.0,
                         shape=(4, 4, 4), species_lidf={"oak": None})),
        ({"builder": "rows", "row_spacing": 1.0, "row_width": 0.4, "row_height": 0.8, "lad": 2.0,
          "extent": [2.0, 2.0], "height": 1.0, "shape": [8, 2, 4]},
         vx.rows_scene(row_spacing=1.0, row_width=0.4, row_height=0.8, lad=2.0, extent=(2.0, 2.0), height=1.0,
                       shape=(8, 2, 4))),
        ({"builder": "mesh", "vertices": [[0, 0, 0.5], [1, 0, 0.5], [1, 1, 0.5]], "faces": [[0, 1, 2]],
          "extent": [1.0, 1.0], "height": 1.0, "shape": [2, 2, 2]},
         vx.voxelise_mesh([[0, 0, 0.5], [1, 0, 0.5], [1, 1, 0.5]], [[0, 1, 2]], extent=(1.0, 1.0), height=1.0,
                          shape=(2, 2, 2))),
    ]
    for spec, direct in cases:
        got = vx.scene_from_spec(json.loads(json.dumps(spec)))  # through JSON: lists, null
        assert got.components == direct.components and got.shape == direct.shape, spec["builder"]
        np.testing.assert_array_equal(np.asarray(got.lad), np.asarray(direct.lad))
        np.testing.assert_array_equal(np.asarray(got.lidf), np.asarray(direct.lidf))


@pytest.mark.parametrize("spec, message", [
    ([1, 2], "must be a mapping"),
    ({"lai": 1.0}, "needs 'builder'"),
    ({"builder": "cubes"}, "needs 'builder'"),
    ({"builder": "homogeneous", "lai": 1.0, "colour": "green"}, "unknown key(s) ['colour']"),
    ({"builder": "rows", "lad": 1.0}, "missing key(s)"),
    ({"builder": "crowns", "trees": 3, "extent": [1, 1], "height": 1, "shape": [2, 2, 2], "species_lidf": {}},
     "'trees' must be a list"),
    ({"builder": "homogeneous", "lai": -1.0}, "lai"),
])
def test_bad_specifications_are_one_line_value_errors(spec, message):
    with pytest.raises(ValueError, match=None) as e:
        vx.scene_from_spec(spec)
    assert message in str(e.value) and "\n" not in str(e.value)
