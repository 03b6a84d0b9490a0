"""``leafjax map``: the CLI writes the same numbers as the library (:func:`leafjax.archive.map_scenes`), to
GeoTIFF and zarr, and reports bad flags and inputs as one line (exit 2) before any compute.

Synthetic PROSAIL scene of ``tests/_scenes.py``; look-up-table route at 2,000 entries, k = 10."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rioxarray")

from _scenes import NAME, simulate, write_scene  # noqa: E402

from leafjax.archive import SceneArchiveTask, map_scenes  # noqa: E402
from leafjax.cli import main  # noqa: E402
from leafjax.io import read_maps  # noqa: E402

FLAGS = ["--method", "lut", "--n-samples", "2000", "--k", "10", "--tile-size", "12", "--scale", "1e-4",
         "--offset", "-0.1", "--products", "lai,fapar", "--no-progress"]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_scene(tmp_path_factory.mktemp("scene") / NAME, simulate()[0])


def test_cli_output_equals_the_api_output(scene, tmp_path, capsys):
    assert main(["map", str(scene), "--out", str(tmp_path / "cli.tif"), *FLAGS]) == 0
    line = capsys.readouterr().out
    assert line.startswith("wrote 480 pixels to") and "cloud 3" in line
    task = SceneArchiveTask(sensor="auto", method="lut", route_options=(("n", 2000), ("k", 10)), tile_size=12,
                            scale=(1e-4,), offset=(-0.1,), products=("lai", "fapar"))
    map_scenes(scene, tmp_path / "api.tif", task=task)
    cli, api = read_maps(tmp_path / "cli.tif"), read_maps(tmp_path / "api.tif")
    assert list(cli.data_vars) == ["lai", "fapar", "lai_std", "fapar_std", "rmse", "status", "quality_flags"]
    for v in api.data_vars:
        np.testing.assert_array_equal(cli[v].values, api[v].values)
    assert main(["map", str(scene), "--out", str(tmp_path / "cli.zarr"), *FLAGS]) == 0
    z = read_maps(tmp_path / "cli.zarr")
    assert z.rio.crs == api.rio.crs and z["quality_flags"].dtype == np.int32
    np.testing.assert_array_equal(z["lai"].values, api["lai"].values)
    np.testing.assert_array_equal(z["quality_flags"].values, api["quality_flags"].values.astype(np.int32))
    # an existing output is refused without --overwrite
    assert main(["map", str(scene), "--out", str(tmp_path / "cli.tif"), *FLAGS]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--products", "lai,height"], "--products: unknown product 'height'"),
    (["--method", "nn"], "--method must be one of lm, hybrid, lut"),
    (["--mask-classes", "3,12"], "--mask-classes: SCL classes are 0-11"),
    (["--vza", "95"], "--vza: expected one angle in degrees in [0, 90)"),
    (["--scale", "x"], "--scale: expected a number"),
    (["--tile-size", "0"], "--tile-size: expected a positive integer"),
    (["--time", "yesterday"], "is not an ISO-8601 time"),
])
def test_bad_flags_are_one_line_errors(scene, tmp_path, capsys, extra, message):
    assert main(["map", str(scene), "--out", str(tmp_path / "m.tif"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_are_one_line_errors(scene, tmp_path, capsys):
    assert main(["map", str(scene), "--out", str(tmp_path / "m.png")]) == 2
    assert "unknown output format '.png'" in capsys.readouterr().err
    assert main(["map", str(scene), "--out", str(tmp_path / "m.tif"), "--method", "lut"]) == 2
    err = capsys.readouterr().err
    assert "look like digital numbers" in err and "--scale" in err and err.count("\n") == 1
    assert main(["map", str(tmp_path / "missing.tif"), "--out", str(tmp_path / "m.tif")]) == 2
    assert "no such scene" in capsys.readouterr().err
    assert main(["map", str(scene), "--out", str(tmp_path / "m.tif"), "--sensor", "spot-5"]) == 2
    assert "spot-5" in capsys.readouterr().err
