"""``leafjax voxel simulate`` / ``leafjax voxel invert``: images of a JSON scene, the spectra retrieved from them
(round trip with the simulation's own photons = inverse crime, labelled as such), one-line errors before compute."""

import json

import numpy as np
import pandas as pd
import pytest

from leafjax.cli import main

SCENE = {"builder": "crowns", "extent": [1.0, 1.0], "height": 1.0, "shape": [4, 4, 4],
         "trees": [{"x": 0.5, "y": 0.5, "crown_base": 0.3, "crown_top": 0.95, "crown_radius": 0.4,
                    "species": "birch", "lad": 3.0}],
         "species_lidf": {"birch": None}, "understorey_lai": 0.8, "understorey_height": 0.25}
COMMON = ["--photons", "8192", "--batch", "8192", "--max-order", "12"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("voxel")
    (d / "scene.json").write_text(json.dumps(SCENE))
    wl = np.array([550.0, 670.0, 800.0])
    pd.DataFrame({"wavelength": wl, "birch_rho": [0.09, 0.05, 0.45], "birch_tau": [0.07, 0.03, 0.42],
                  "understorey_rho": [0.12, 0.08, 0.40], "understorey_tau": [0.09, 0.05, 0.45],
                  "soil": [0.12, 0.16, 0.25]}).to_csv(d / "spectra.csv", index=False)
    return d


def _simulate(d, out, *extra):
    return main(["voxel", "simulate", "--scene", str(d / "scene.json"), "--spectra", str(d / "spectra.csv"),
                 "--views", "0:0,30:0,30:180", "--pixel-size", "0.5", *COMMON, "--out", str(out), *extra])


def test_simulate_then_invert_recovers_the_spectra_with_the_same_photons(files, capsys):
    images = files / "img.npz"
    assert _simulate(files, images) == 0
    assert capsys.readouterr().out.startswith(f"wrote {images}: 3 view(s) of 2 x 2 pixels x 3 wavelengths")
    with np.load(images) as f:
        assert f["images"].shape == (3, 2, 2, 3) and np.all((f["images"] > 0) & (f["images"] < 1))
        assert f["views"].tolist() == [[0.0, 0.0], [30.0, 0.0], [30.0, 180.0]] and float(f["sza"]) == 30.0
    out = files / "fit.csv"
    argv = ["voxel", "invert", "--scene", str(files / "scene.json"), "--images", str(images), *COMMON,
            "--seed", "0", "--starts", "4", "--out", str(out)]
    assert main(argv) == 0  # seed 0 = the simulation's photons: an inverse crime, so recovery must be exact
    fit, truth = pd.read_csv(out), pd.read_csv(files / "spectra.csv")
    assert list(fit.columns) == [*truth.columns, "fit_rmse", "status", "quality_flags"]
    np.testing.assert_allclose(fit["fit_rmse"], 0.0, atol=1e-6)
    assert set(fit["status"]) <= {"converged", "max_steps"}
    np.testing.assert_allclose(fit[truth.columns].to_numpy(), truth.to_numpy(), atol=2e-3)
    assert main(argv) == 2 and "exists" in capsys.readouterr().err  # no overwrite without --overwrite
    # the output is a valid --spectra input
    again = files / "again.npz"
    assert main(["voxel", "simulate", "--scene", str(files / "scene.json"), "--spectra", str(out), *COMMON,
                 "--out", str(again)]) == 0


@pytest.mark.parametrize("change, message", [
    (["--views", "0:0,95:0"], "--views VZA"),
    (["--views", "30"], "VZA:VAA"),
    (["--pixel-size", "0.3"], "must divide the scene extent"),
    (["--noise", "-1"], "--noise"),
    (["--max-order", "500"], "--max-order"),
    (["--out", "x.csv"], "unknown output format"),
])
def test_simulate_bad_arguments_are_one_line_errors(files, tmp_path, capsys, change, message):
    argv = ["voxel", "simulate", "--scene", str(files / "scene.json"), "--spectra", str(files / "spectra.csv"),
            "--out", str(tmp_path / "a.npz"), *COMMON, *change]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("leafjax: error:") and message in err
    assert not (tmp_path / "a.npz").exists()


def test_bad_scene_spectra_and_images_are_one_line_errors(files, tmp_path, capsys):
    bad_scene = tmp_path / "s.json"
    bad_scene.write_text(json.dumps({**SCENE, "colour": "green"}))
    base = ["voxel", "simulate", "--spectra", str(files / "spectra.csv"), "--out", str(tmp_path / "a.npz")]
    assert main([*base, "--scene", str(bad_scene)]) == 2
    assert "unknown key(s) ['colour']" in capsys.readouterr().err
    bad_scene.write_text("{not json")
    assert main([*base, "--scene", str(bad_scene)]) == 2 and "not valid JSON" in capsys.readouterr().err
    spectra = pd.read_csv(files / "spectra.csv").drop(columns="understorey_tau")
    spectra.to_csv(tmp_path / "sp.csv", index=False)
    assert main(["voxel", "simulate", "--scene", str(files / "scene.json"), "--spectra", str(tmp_path / "sp.csv"),
                 "--out", str(tmp_path / "a.npz")]) == 2
    assert "missing column(s) ['understorey_tau']" in capsys.readouterr().err
    np.savez(tmp_path / "im.npz", images=np.zeros((1, 3, 3, 2)), wavelength=[500.0, 600.0], views=[[0.0, 0.0]],
             sza=30.0, saa=0.0, pixel_size=0.5)
    assert main(["voxel", "invert", "--scene", str(files / "scene.json"), "--images", str(tmp_path / "im.npz"),
                 "--out", str(tmp_path / "f.csv")]) == 2
    assert "gives (2, 2)" in capsys.readouterr().err
    np.savez(tmp_path / "im.npz", images=np.zeros((1, 2, 2, 2)))
    assert main(["voxel", "invert", "--scene", str(files / "scene.json"), "--images", str(tmp_path / "im.npz"),
                 "--out", str(tmp_path / "f.csv")]) == 2
    assert "missing array(s)" in capsys.readouterr().err
