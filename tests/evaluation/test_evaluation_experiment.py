"""Smoke test of the LODO experiment script on three small shared datasets."""

from __future__ import annotations

import pytest

import pandas as pd

from experiments.lodo_baselines.run import main


def test_lodo_experiment_smoke(shared_data, tmp_path):
    main(["--data", str(shared_data / "leaf_spectra"), "--out", str(tmp_path), "--traits", "lma,chl",
          "--ks", "5", "--seeds", "2", "--step-nm", "20", "--n-boot", "50", "--max-components", "5",
          "--datasets", "gsti_albert2018_brazil_tnf,gsti_burnett2021_quercus_bnl,gsti_rogers2017_utqiagvik_arctic"])
    over = pd.read_csv(tmp_path / "overview.csv")
    assert set(over["method"]) == {"plsr_target", "plsr_source", "plsr_combined", "mean"}
    assert set(over["k"]) == {0, 5} and set(over["trait"]) == {"lma"}  # no chl in these datasets
    assert (tmp_path / "metrics_by_dataset.md").is_file() and (tmp_path / "datasets.csv").is_file()
    assert (tmp_path / "figures" / "lma_k5.png").stat().st_size > 1000
    preds = pd.read_csv(tmp_path / "predictions.csv.gz")
    assert set(preds["held_out"]) == {"gsti_albert2018_brazil_tnf", "gsti_burnett2021_quercus_bnl",
                                      "gsti_rogers2017_utqiagvik_arctic"}


@pytest.mark.slow
def test_network_grid_resumes_from_finished_parts(shared_data, tmp_path):
    import pytest

    from experiments.lodo_networks.run import main as grid

    args = ["--data", str(shared_data / "leaf_spectra"), "--out", str(tmp_path), "--traits", "lma",
            "--networks", "glm", "--strategies", "sst,sot,stft", "--finetune", "head", "--ks", "5", "--seeds", "1",
            "--epochs", "2", "--patience", "1", "--step-nm", "40", "--n-boot", "0",
            "--datasets", "gsti_albert2018_brazil_tnf,gsti_burnett2021_quercus_bnl,gsti_rogers2017_utqiagvik_arctic"]
    grid(args)
    parts = sorted((tmp_path / "parts").glob("*.csv.gz"))
    assert [p.name for p in parts] == ["lma__glm.csv.gz", "lma__plsr.csv.gz"]
    first = pd.read_csv(tmp_path / "predictions.csv.gz")
    assert set(first["method"]) == {"plsr_target", "plsr_source", "plsr_combined", "mean", "glm_sst", "glm_sot",
                                    "glm_stft_head"}
    stamps = {p.name: p.stat().st_mtime_ns for p in parts}
    (tmp_path / "parts" / "lma__glm.csv.gz").unlink()  # as if the run had died during this part
    grid(args)
    assert (tmp_path / "parts" / "lma__plsr.csv.gz").stat().st_mtime_ns == stamps["lma__plsr.csv.gz"]  # reused
    again = pd.read_csv(tmp_path / "predictions.csv.gz")
    assert len(again) == len(first) and set(again["method"]) == set(first["method"])
    with pytest.raises(SystemExit, match="other settings"):
        grid([*args[:-2], "--epochs", "3", *args[-2:]])
