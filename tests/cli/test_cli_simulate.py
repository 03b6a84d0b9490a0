"""``leafjax simulate`` / ``leafjax forward``: valid files, one-line errors with non-zero exit codes."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from leafjax.cli import main


def test_simulate_writes_parameters_and_spectra(tmp_path):
    out = tmp_path / "sims.parquet"
    assert main(["simulate", "--model", "prospect-pro", "--n", "50", "--seed", "0", "--out", str(out),
                 "--wavelengths", "400:2400:100", "--noise-additive", "0.001"]) == 0
    df = pd.read_parquet(out)
    assert len(df) == 50
    for c in ("n_struct", "chl", "car", "ant", "brown", "ewt", "prot", "cbc", "lma", "nitrogen"):
        assert c in df.columns
    assert [c for c in df.columns if c.startswith("R_")] == [f"R_{w}" for w in range(400, 2401, 100)]
    assert [c for c in df.columns if c.startswith("T_")] == [f"T_{w}" for w in range(400, 2401, 100)]
    # same seed, same file
    out2 = tmp_path / "sims2.parquet"
    main(["simulate", "--model", "prospect-pro", "--n", "50", "--seed", "0", "--out", str(out2),
          "--wavelengths", "400:2400:100", "--noise-additive", "0.001"])
    pd.testing.assert_frame_equal(df, pd.read_parquet(out2))


def test_forward_reproduces_simulation_and_carries_ids(tmp_path):
    sims = tmp_path / "sims.parquet"
    main(["simulate", "--model", "prospect-d", "--n", "20", "--out", str(sims), "--wavelengths", "450,550,800",
          "--dtype", "float64"])
    df = pd.read_parquet(sims)
    params = df[["n_struct", "chl", "car", "ant", "brown", "ewt", "lma"]].copy()
    params.insert(0, "sample_id", [f"s{i}" for i in range(20)])
    params.to_csv(tmp_path / "params.csv", index=False)
    out = tmp_path / "fwd.parquet"
    assert main(["forward", "--model", "prospect-d", "--params", str(tmp_path / "params.csv"), "--out", str(out),
                 "--wavelengths", "450,550,800", "--dtype", "float64"]) == 0
    fwd = pd.read_parquet(out)
    assert fwd["sample_id"].tolist() == params["sample_id"].tolist()
    np.testing.assert_allclose(fwd[["R_450", "R_550", "R_800", "T_800"]].to_numpy(),
                               df[["R_450", "R_550", "R_800", "T_800"]].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("argv,needle", [
    (["simulate", "--model", "prospect-7", "--n", "5", "--out", "{tmp}/a.parquet"], "unknown model"),
    (["simulate", "--model", "prospect-d", "--n", "0", "--out", "{tmp}/a.parquet"], "positive integer"),
    (["simulate", "--model", "prospect-d", "--n", "-3", "--out", "{tmp}/a.parquet"], "positive integer"),
    (["simulate", "--model", "prospect-d", "--n", "5", "--out", "{tmp}/a.parquet", "--wavelengths", "350:700"],
     "outside the model range"),
    (["simulate", "--model", "prospect-d", "--n", "5", "--out", "{tmp}/a.parquet", "--wavelengths", "400,2600"],
     "outside the model range"),
    (["simulate", "--model", "prospect-d", "--n", "5", "--out", "{tmp}/missing/dir/a.parquet"], "does not exist"),
    (["forward", "--model", "prospect-d", "--params", "{tmp}/nope.csv", "--out", "{tmp}/a.parquet"], "no such file"),
])
def test_bad_arguments_give_one_line_errors(tmp_path, capsys, argv, needle):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leafjax: error:") and needle in err and "\n" not in err
    assert not (tmp_path / "a.parquet").exists()


def test_forward_rejects_bad_tables(tmp_path, capsys):
    pd.DataFrame({"n_struct": [1.5], "chl": [40.0], "car": [8.0], "ewt": [0.01]}).to_csv(tmp_path / "p.csv")
    assert main(["forward", "--model", "prospect-d", "--params", str(tmp_path / "p.csv"),
                 "--out", str(tmp_path / "o.parquet")]) == 2
    assert "lma" in capsys.readouterr().err
    pd.DataFrame({"n_struct": [1.5, 1.2], "chl": [40.0, np.nan], "car": [8.0, 8.0], "ewt": [0.01, 0.01],
                  "lma": [0.005, 0.005]}).to_csv(tmp_path / "q.csv")
    assert main(["forward", "--model", "prospect-d", "--params", str(tmp_path / "q.csv"),
                 "--out", str(tmp_path / "o.parquet")]) == 2
    assert "'chl' has NaN" in capsys.readouterr().err
    pd.DataFrame({"n_struct": [1.5], "chl": [400.0], "car": [8.0], "ewt": [0.01], "lma": [0.005]}).to_csv(
        tmp_path / "r.csv")
    assert main(["forward", "--model", "prospect-d", "--params", str(tmp_path / "r.csv"),
                 "--out", str(tmp_path / "o.parquet")]) == 2
    assert "outside" in capsys.readouterr().err
    pd.DataFrame({"n_struct": [1.5], "chl": [40.0], "car": [8.0], "ewt": [0.01], "lma": [0.005],
                  "prot": [0.001], "cbc": [0.004]}).to_csv(tmp_path / "s.csv")
    assert main(["forward", "--model", "prospect-pro", "--params", str(tmp_path / "s.csv"),
                 "--out", str(tmp_path / "o.parquet")]) == 2
    assert "lma" in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()


def test_console_script_entry_point(tmp_path):
    """The module entry point exits non-zero with a one-line message."""
    res = subprocess.run([sys.executable, "-m", "leafjax.cli", "simulate", "--model", "x", "--n", "1", "--out",
                          str(tmp_path / "a.parquet")], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "unknown model" in res.stderr
