"""``leafjax simulate/forward --model prosail``: columns, agreement with the library, one-line errors.

Every PROSPECT-D run here uses one grid (10 nm), float64 and batches of 2 rows, so PROSAIL compiles once."""

import numpy as np
import pandas as pd
import pytest

from leafjax.canopy import Prosail, default_prosail_prior, load_srf, simulate_prosail
from leafjax.cli import main

WL = "400:2400:10"
GRID = np.arange(400, 2401, 10)
PARAMS = {"plot": ["a", "b"], "n_struct": [1.5, 1.8], "chl": [40.0, 60.0], "car": [8.0, 10.0],
          "ewt": [0.01, 0.015], "lma": [0.005, 0.006], "lai": [3.0, 1.0], "lidf_a": [57.0, 40.0],
          "hotspot": [0.1, 0.2], "sza": [30.0, 40.0], "vza": [0.0, 10.0], "raa": [0.0, 90.0],
          "soil_brightness": [1.0, 0.8], "soil_dryness": [0.5, 0.2]}


@pytest.fixture
def params_csv(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame(PARAMS).to_csv(path, index=False)
    return path


def test_forward_prosail_matches_library(tmp_path, params_csv):
    out = tmp_path / "o.parquet"
    assert main(["forward", "--model", "prosail", "--params", str(params_csv), "--out", str(out),
                 "--wavelengths", WL, "--dtype", "float64", "--factors", "all"]) == 0
    df = pd.read_parquet(out)
    assert df["plot"].tolist() == ["a", "b"] and df["lidf_type"].tolist() == ["campbell"] * 2
    wl = GRID
    ref = simulate_prosail({k: np.asarray(v) for k, v in PARAMS.items() if k != "plot"},
                           Prosail(wavelengths=wl, dtype=np.float64))
    np.testing.assert_allclose(df[[f"R_{w}" for w in wl]].to_numpy(), ref.rsot, rtol=1e-12)
    for name in ("rsot", "rddt", "rsdt", "rdot"):
        np.testing.assert_allclose(df[[f"{name}_{w}" for w in wl]].to_numpy(), getattr(ref, name), rtol=1e-12)


def test_forward_prosail_sensor_bands(tmp_path, params_csv):
    out = tmp_path / "o.parquet"
    assert main(["forward", "--model", "prosail", "--params", str(params_csv), "--out", str(out),
                 "--sensor", "sentinel-2a", "--dtype", "float64", "--wavelengths", WL]) == 0
    df = pd.read_parquet(out)
    srf = load_srf("sentinel-2a", GRID)
    assert [c for c in df.columns if c.startswith("R_")] == [f"R_{b}" for b in srf.band_names]
    assert "rddt_B4" not in df.columns
    full = simulate_prosail({k: np.asarray(v) for k, v in PARAMS.items() if k != "plot"},
                            Prosail(wavelengths=GRID, dtype=np.float64)).rsot
    np.testing.assert_allclose(df[[f"R_{b}" for b in srf.band_names]].to_numpy(),
                               np.asarray(full) @ np.asarray(srf.weights).T, rtol=1e-10)


def test_simulate_prosail_default_prior_and_reproducible(tmp_path):
    argv = ["simulate", "--model", "prosail", "--n", "30", "--seed", "3", "--sensor", "sentinel-2a",
            "--noise-additive", "0.005", "--wavelengths", WL, "--dtype", "float64", "--chunk-size", "2"]
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert main(argv + ["--out", str(a)]) == 0 and main(argv + ["--out", str(b)]) == 0
    df = pd.read_parquet(a)
    pd.testing.assert_frame_equal(df, pd.read_parquet(b))
    assert len(df) == 30 and "R_B8A" in df.columns
    for name in ("lai", "lidf_type", "lidf_a", "lidf_b", "hotspot", "sza", "vza", "raa", "soil_brightness",
                 "soil_dryness", "chl", "ewt", "lma"):
        assert name in df.columns
    for name, m in default_prosail_prior().marginals.items():
        lo, hi = m.support()
        assert df[name].between(lo, hi).all(), name


def test_simulate_prosail_pro_leaf_model(tmp_path):
    out = tmp_path / "a.parquet"
    assert main(["simulate", "--model", "prosail", "--leaf-model", "prospect-pro", "--n", "4",
                 "--wavelengths", "500,800,1600", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert {"prot", "cbc", "R_500", "R_800", "R_1600"} <= set(df.columns)


@pytest.mark.parametrize("argv,needle", [
    (["forward", "--model", "prosail", "--params", "{p}", "--out", "{tmp}/a.parquet", "--sensor", "modis"],
     "unknown sensor"),
    (["forward", "--model", "prosail", "--params", "{p}", "--out", "{tmp}/a.parquet", "--factors", "some"],
     "--factors"),
    (["forward", "--model", "prosail", "--params", "{p}", "--out", "{tmp}/a.parquet", "--leaf-model", "x"],
     "--leaf-model"),
    (["forward", "--model", "prospect-d", "--params", "{p}", "--out", "{tmp}/a.parquet", "--sensor",
      "sentinel-2a"], "need --model prosail"),
    (["simulate", "--model", "prosail", "--n", "0", "--out", "{tmp}/a.parquet"], "positive integer"),
    (["forward", "--model", "prosail", "--params", "{bad}", "--out", "{tmp}/a.parquet"], "lai"),
    (["forward", "--model", "prosail", "--params", "{missing}", "--out", "{tmp}/a.parquet"], "missing"),
])
def test_bad_arguments_one_line_errors(tmp_path, params_csv, capsys, argv, needle):
    bad = dict(PARAMS, lai=[3.0, -1.0])
    pd.DataFrame(bad).to_csv(tmp_path / "bad.csv", index=False)
    pd.DataFrame({k: v for k, v in PARAMS.items() if k != "soil_dryness"}).to_csv(tmp_path / "m.csv", index=False)
    sub = {"{tmp}": str(tmp_path), "{p}": str(params_csv), "{bad}": str(tmp_path / "bad.csv"),
           "{missing}": str(tmp_path / "m.csv")}
    for k, v in sub.items():
        argv = [a.replace(k, v) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leafjax: error:") and needle in err and "\n" not in err
    assert not (tmp_path / "a.parquet").exists()


def test_invert_help_lists_the_route_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(["invert", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--method", "--products", "--bands", "--route-options"):
        assert flag in text, flag


def test_route_options_are_parsed_to_typed_pairs():
    from leafjax.cli._common import CLIError
    from leafjax.cli._invert import parse_route_options

    assert parse_route_options("n=2000, k=20,sky=false,aot550=0.2,prior=uniform") == (
        ("n", 2000), ("k", 20), ("sky", False), ("aot550", 0.2), ("prior", "uniform"))
    assert parse_route_options(None) == ()
    for bad in ("n", "n=1,n=2", "=3", "n="):
        with pytest.raises(CLIError, match="--route-options"):
            parse_route_options(bad)
