"""``leafjax simulate --model lst``: a streamed table with the documented columns; one-line errors before compute."""

import numpy as np
import pandas as pd
import pytest

from leafjax.cli import main
from leafjax.simulation import lst_columns

COLUMNS = list(lst_columns(("b1", "b2", "b3", "b4")))


@pytest.fixture(scope="module")
def data(shared_data):
    return str(shared_data / "thermal")


@pytest.mark.slow
def test_simulate_lst_writes_parquet_and_csv(tmp_path, data, capsys):
    out = tmp_path / "lst.parquet"
    argv = ["simulate", "--model", "lst", "--n", "300", "--seed", "3", "--chunk-size", "128", "--data", data,
            "--vza-max", "40", "--noise-k", "0.1", "--out", str(out)]
    assert main(argv) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and line.startswith("wrote 300 lst samples") and "samples/s" in line
    df = pd.read_parquet(out)
    assert list(df.columns) == COLUMNS and len(df) == 300
    assert df["vza"].between(0.0, 40.0).all() and (df["lst"] - df["t_air"]).between(-10.0, 20.0).all()
    assert df["profile"].dtype == np.int64 and df["emissivity_id"].between(1, 21).all()
    assert not (tmp_path / "lst.parquet.lock").exists()
    assert main(argv) == 2  # exists: refused without --overwrite
    assert "exists" in capsys.readouterr().err
    csv = tmp_path / "lst.csv"
    assert main([*argv[:-2], "--out", str(csv)]) == 0
    np.testing.assert_allclose(pd.read_csv(csv)[COLUMNS].to_numpy(float), df.to_numpy(float), rtol=1e-6)


def test_default_data_folder_comes_from_the_environment(tmp_path, data, monkeypatch, capsys):
    from pathlib import Path

    monkeypatch.setenv("LEAFJAX_SHARED_DATA", str(Path(data).parent))
    assert main(["simulate", "--model", "lst", "--n", "128", "--chunk-size", "128", "--out",
                 str(tmp_path / "a.parquet")]) == 0
    assert len(pd.read_parquet(tmp_path / "a.parquet")) == 128
    monkeypatch.setenv("LEAFJAX_SHARED_DATA", str(tmp_path / "nowhere"))
    assert main(["simulate", "--model", "lst", "--n", "5", "--out", str(tmp_path / "b.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert "thermal data folder" in err and "--data" in err and "\n" not in err


@pytest.mark.parametrize("extra,needle", [
    (["--n", "0"], "--n: expected a positive integer"),
    (["--n", "x"], "--n: expected a positive integer"),
    (["--seed", "1.5"], "--seed: expected an integer"),
    (["--chunk-size", "-4"], "--chunk-size: expected a positive integer"),
    (["--vza-max", "95"], "--vza-max: expected at most 89"),
    (["--vza-max", "-1"], "--vza-max: expected a finite number >= 0"),
    (["--noise-k", "-0.1"], "--noise-k: expected a finite number >= 0"),
    (["--noise-k", "nan"], "--noise-k: expected a finite number >= 0"),
    (["--data", "{tmp}/missing"], "no such folder"),
    (["--data", "{tmp}"], "missing lwir_atmospheres.h5"),
    (["--wavelengths", "400:2400"], "--wavelengths does not apply to --model lst"),
    (["--sensor", "sentinel-2a"], "--sensor does not apply to --model lst"),
    (["--noise-additive", "0.01"], "--noise-additive does not apply to --model lst"),
    (["--dtype", "float16"], "--dtype must be float32 or float64"),
    (["--out", "{tmp}/a.txt"], "unknown output format"),
    (["--out", "{tmp}/missing/a.parquet"], "does not exist"),
])
def test_bad_arguments_give_one_line_errors(tmp_path, data, capsys, extra, needle):
    argv = ["simulate", "--model", "lst", "--n", "10", "--data", data, "--out", str(tmp_path / "a.parquet")]
    argv += [a.replace("{tmp}", str(tmp_path)) for a in extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leafjax: error:") and needle in err and "\n" not in err, err
    assert not (tmp_path / "a.parquet").exists()


def test_lst_options_need_model_lst_and_help_lists_lst(tmp_path, capsys):
    out = str(tmp_path / "a.parquet")
    for flag, value in (("--data", str(tmp_path)), ("--vza-max", "10"), ("--noise-k", "0.5")):
        assert main(["simulate", "--model", "prospect-d", "--n", "5", "--out", out, flag, value]) == 2
        assert f"{flag} needs --model lst" in capsys.readouterr().err
    assert main(["simulate", "--model", "nope", "--n", "5", "--out", out]) == 2
    assert "prosail, lst" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    assert "prospect-d | prospect-pro | prosail | lst" in text and "--vza-max" in text and "--noise-k" in text
