"""``leafjax invert --model prosail``: canopy archives of Sentinel-2 pixels (rows, flags, accuracy, resume, errors).

Small on purpose: 10 pixels simulated on a 10-nm grid, chunks of 4 (every chunk is padded to 4 pixels, so the
whole module compiles the solver once per band layout)."""

import numpy as np
import pandas as pd
import pytest

from leafjax.canopy import Prosail, load_srf, write_prosail_parquet
from leafjax.physics.canopy import fcover
from leafjax.cli import main
from leafjax.archive import ArchiveSettings
from helpers import check_interrupted_run_resumes

GRID = np.arange(400, 2401, 10)
N = 10
SETTINGS = ArchiveSettings(model="prosail", sensor="sentinel-2a", grid_step=10, chunk_size=4, dtype="float64",
                           max_steps=30)
CLI = ["--model", "prosail", "--sensor", "sentinel-2a", "--grid-step", "10", "--chunk-size", "4", "--dtype",
       "float64", "--max-steps", "30", "--no-progress"]


def _truth(n, seed=0):
    rng = np.random.default_rng(seed)
    return {"n_struct": np.full(n, 1.5), "chl": rng.uniform(25, 65, n), "car": np.full(n, 8.0),
            "ant": np.zeros(n), "brown": np.zeros(n), "ewt": rng.uniform(0.008, 0.02, n),
            "lma": rng.uniform(0.004, 0.009, n), "lai": rng.uniform(0.8, 5.0, n), "lidf_a": rng.uniform(40, 70, n),
            "hotspot": rng.uniform(0.05, 0.3, n), "sza": rng.uniform(20, 50, n), "vza": rng.uniform(0, 10, n),
            "raa": rng.uniform(0, 180, n), "soil_brightness": rng.uniform(0.7, 1.3, n),
            "soil_dryness": rng.uniform(0, 1, n)}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    d = tmp_path_factory.mktemp("canopy")
    truth = _truth(N)
    path = d / "pixels.parquet"
    write_prosail_parquet(path, Prosail(wavelengths=GRID, dtype=np.float64), truth,
                          srf=load_srf("sentinel-2a", GRID, dtype=np.float64),
                          extra={"pixel": [f"px-{i}" for i in range(N)]}, chunk_size=2)  # as test_cli_canopy
    df = pd.read_parquet(path)
    df.loc[3, "sza"] = np.nan  # no geometry: flagged, not inverted
    df.loc[5, "R_B5"] = np.nan  # a missing band: left out of that pixel's fit
    df.to_parquet(path)
    return d, path, df, truth


@pytest.mark.slow
def test_cli_inverts_sentinel2_pixels_in_order_with_flags(archive, tmp_path):
    _, path, df, truth = archive
    out = tmp_path / "traits.parquet"
    assert main(["invert", str(path), "--out", str(out), *CLI]) == 0
    res = pd.read_parquet(out)
    assert res["pixel"].tolist() == df["pixel"].tolist()
    # known structure columns are fixed per row, so only lai, chl, ewt, lma are free
    for c in ("lai", "lai_std", "chl", "chl_std", "ewt", "ewt_std", "fcover", "lma", "rmse", "iterations",
              "status", "quality_flags", "input_lai", "input_chl", "sza", "lidf_a"):
        assert c in res.columns, c
    assert "lidf_a_std" not in res.columns and "fcover_std" not in res.columns
    assert res.loc[3, "status"] == "invalid_input" and "invalid_geometry" in res.loc[3, "quality_flags"]
    assert np.isnan(res.loc[3, "lai"])
    assert "missing_bands" in res.loc[5, "quality_flags"]
    ok = np.flatnonzero(res["status"] == "converged")
    assert len(ok) >= N - 2 and 5 in ok
    np.testing.assert_allclose(res.loc[ok, "lai"], truth["lai"][ok], atol=0.1)
    np.testing.assert_allclose(res.loc[ok, "chl"], truth["chl"][ok], rtol=0.05)
    f_true = np.asarray(fcover(truth["lai"], truth["lidf_a"]))
    np.testing.assert_allclose(res.loc[ok, "fcover"], f_true[ok], atol=0.02)
    assert (res.loc[ok, "rmse"] < 1e-3).all() and np.isfinite(res.loc[ok, "lai_std"]).all()


@pytest.mark.slow
def test_interrupted_canopy_run_resumes_to_identical_output(archive, tmp_path):
    _, path, _, _ = archive
    other = ArchiveSettings(**{**SETTINGS.__dict__, "sensor": "sentinel-2b"})
    check_interrupted_run_resumes(path, SETTINGS, other, tmp_path)


@pytest.mark.slow
def test_wavelength_columns_without_sensor(tmp_path):
    wl = np.arange(400, 2401, 100)
    truth = _truth(3, seed=1)
    path = tmp_path / "nm.csv"
    write_prosail_parquet(tmp_path / "nm.parquet", Prosail(wavelengths=wl, dtype=np.float64), truth)
    pd.read_parquet(tmp_path / "nm.parquet").to_csv(path, index=False)
    out = tmp_path / "o.parquet"
    assert main(["invert", str(path), "--out", str(out), "--model", "prosail", "--chunk-size", "4", "--dtype",
                 "float64", "--max-steps", "30", "--no-progress", "--free", "lai,chl,ewt,lma"]) == 0
    res = pd.read_parquet(out)
    assert (res["status"] == "converged").all()
    np.testing.assert_allclose(res["lai"], truth["lai"], atol=0.1)


@pytest.mark.parametrize("change,extra,needle", [
    (lambda df: df.drop(columns=["sza", "raa"]), [], "missing geometry column(s) sza, raa"),
    (lambda df: df.drop(columns=["R_B5"]), ["--bands", "B2,B03,B4,B5,B8A"], "missing R_B5"),
    (lambda df: df.rename(columns={"R_B5": "R_B99"}), [], "unknown R_B99"),
    (lambda df: df.assign(R_B02=df["R_B2"]), [], "R_B2 and R_B02 are both band B2"),
    (lambda df: df.drop(columns=[c for c in df.columns if c.startswith("R_") and c not in ("R_B3", "R_B4")]), [],
     "at least 3 are needed"),
    (lambda df: df, ["--bands", "B2,B3,B13"], "unknown band 'B13'"),
    (lambda df: df, ["--method", "knn"], "--method must be one of lm, hybrid, lut"),
    (lambda df: df, ["--method", "lut", "--products", "lai,gai"], "unknown product 'gai'"),
    (lambda df: df, ["--method", "lut", "--route-options", "nn=3"], "bad options for method 'lut'"),
    (lambda df: df, ["--method", "hybrid", "--free", "lai,chl"], "method lm only"),
    (lambda df: df, ["--sensor", "modis"], "unknown sensor"),
    (lambda df: df, ["--leaf-model", "x"], "--leaf-model"),
    (lambda df: df.rename(columns={"R_B4": "R_665"}), [], "are wavelengths"),
])
def test_bad_canopy_archives_one_line_errors(archive, tmp_path, capsys, change, extra, needle):
    _, _, df, _ = archive
    change(df).to_parquet(tmp_path / "in.parquet")
    assert main(["invert", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "o.parquet"), *CLI, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leafjax: error:") and needle in err and "\n" not in err, err
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize("extra", [["--sensor", "sentinel-2a"], ["--method", "lut"], ["--products", "lai"],
                                   ["--bands", "B2,B3,B4"]])
def test_sensor_option_needs_prosail(archive, tmp_path, capsys, extra):
    _, path, _, _ = archive
    assert main(["invert", str(path), "--out", str(tmp_path / "o.parquet"), "--model", "prospect-d", *extra]) == 2
    assert "need --model prosail" in capsys.readouterr().err


def test_l2a_band_aliases_and_subsets_resolve_to_the_sensor_bands(archive, tmp_path):
    """``R_B02``-style columns in any order, without B8: the bands used are the sensor's, in its order, and the
    response is exactly ``load_srf(...).select(...)`` of those rows (no solve: this checks the set-up only)."""
    from leafjax.archive import CanopyArchiveTask

    _, _, df, _ = archive
    renamed = df.drop(columns=["R_B8"]).rename(columns={"R_B2": "R_B02", "R_B3": "R_B03", "R_B8A": "R_b8a"})
    renamed = renamed[["R_B12", *[c for c in renamed.columns if c != "R_B12"]]]
    renamed.to_csv(tmp_path / "l2a.csv", index=False)
    task = CanopyArchiveTask()
    info = task.open(tmp_path / "l2a.csv", SETTINGS)
    settings = task.resolve(SETTINGS, info)
    bands = ("B2", "B3", "B4", "B5", "B6", "B7", "B8A", "B11", "B12")
    assert settings.bands == bands and info.r_columns[0] == "R_B02" and info.r_columns[-1] == "R_B12"
    state = task.setup(settings, info)
    full = load_srf("sentinel-2a", GRID, dtype=np.float64)
    rows = [full.band_names.index(b) for b in bands]
    np.testing.assert_array_equal(np.asarray(state.srf.weights), np.asarray(full.weights)[rows])
    assert "R_B8" not in info.carried and "sza" in info.carried
    only = task.resolve(ArchiveSettings(**{**SETTINGS.__dict__, "bands": ("b8a", "B04", "B3")}),
                        task.open(tmp_path / "l2a.csv",
                                  ArchiveSettings(**{**SETTINGS.__dict__, "bands": ("b8a", "B04", "B3")})))
    assert only.bands == ("B3", "B4", "B8A")
