"""Archive inversion: formats, per-row flags, bad input, incremental output and resumption."""

import numpy as np
import pandas as pd
import pytest

from leafjax.cli import main
from leafjax.archive import ArchiveSettings, invert_archive
from helpers import check_interrupted_run_resumes

WL = "400:2400:25"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    d = tmp_path_factory.mktemp("arch")
    sims = d / "sims.parquet"
    assert main(["simulate", "--model", "prospect-d", "--n", "40", "--seed", "3", "--out", str(sims),
                 "--wavelengths", WL, "--noise-multiplicative", "0.002"]) == 0
    df = pd.read_parquet(sims)
    df.insert(0, "sample_id", [f"leaf-{i}" for i in range(len(df))])
    df.loc[2, "R_500"] = np.nan  # a missing band: masked, still inverted
    rcols = [c for c in df.columns if c.startswith("R_")]
    df.loc[4, rcols] = df.loc[4, rcols] * 100  # one row in percent: flagged, not inverted
    path = d / "archive.parquet"
    df.to_parquet(path)
    return d, path, df


SETTINGS = ArchiveSettings(model="prospect-d", chunk_size=16, free=("n_struct", "chl", "car", "ant", "ewt", "lma"))


@pytest.mark.slow
def test_parquet_archive_rows_in_order_with_flags(archive, tmp_path):
    _, path, df = archive
    out = tmp_path / "inv.parquet"
    summary = invert_archive(path, out, SETTINGS, progress=False)
    assert summary["rows"] == 40 and summary["chunks_computed"] == 3
    res = pd.read_parquet(out)
    assert res["sample_id"].tolist() == df["sample_id"].tolist()
    assert "input_chl" in res.columns  # carried columns that clash are renamed
    assert res.loc[4, "status"] == "invalid_input" and "out_of_range" in res.loc[4, "quality_flags"]
    assert np.isnan(res.loc[4, "chl"])
    assert "missing_bands" in res.loc[2, "quality_flags"] and res.loc[2, "status"] == "converged"
    ok = res["status"] == "converged"
    assert ok.sum() >= 38
    rel = np.abs(res.loc[ok, "chl"] / df.loc[ok, "chl"] - 1)
    assert rel.median() < 0.02
    assert not (tmp_path / "inv.parquet.parts").exists()


def test_interrupted_run_resumes_to_identical_output(archive, tmp_path):
    _, path, _ = archive
    other = ArchiveSettings(**{**SETTINGS.__dict__, "max_steps": 5})
    check_interrupted_run_resumes(path, SETTINGS, other, tmp_path)


@pytest.mark.slow
def test_csv_and_npy_inputs(archive, tmp_path):
    _, path, df = archive
    small = df.iloc[[0, 1, 3]]
    small.to_csv(tmp_path / "a.csv", index=False)
    invert_archive(tmp_path / "a.csv", tmp_path / "a.parquet", SETTINGS, progress=False)
    a = pd.read_parquet(tmp_path / "a.parquet")
    assert a["sample_id"].tolist() == small["sample_id"].tolist()
    rcols = [c for c in df.columns if c.startswith("R_")]
    np.save(tmp_path / "r.npy", small[rcols].to_numpy())
    (tmp_path / "wl.txt").write_text("\n".join(c[2:] for c in rcols))
    settings = ArchiveSettings(**{**SETTINGS.__dict__, "free": None})
    invert_archive(tmp_path / "r.npy", tmp_path / "b.parquet", settings, wavelengths_file=str(tmp_path / "wl.txt"),
                   progress=False)
    b = pd.read_parquet(tmp_path / "b.parquet")
    assert len(b) == 3 and (b["status"] == "converged").all()
    # reflectance only: N comes from the N prior and is reported
    assert np.all(np.isfinite(b["n_struct"]))


def test_bad_archives_give_clear_errors(archive, tmp_path, capsys):
    _, path, df = archive
    (tmp_path / "empty.csv").write_text("")
    bad_grid = df.rename(columns={"R_500": "R_500.5", "T_500": "T_500.5"})
    bad_grid.to_parquet(tmp_path / "grid.parquet")
    pct = df.copy()
    rcols = [c for c in df.columns if c.startswith(("R_", "T_"))]
    pct[rcols] = pct[rcols] * 100
    pct.to_parquet(tmp_path / "pct.parquet")
    text = df.astype({"R_600": object})
    text.loc[1, "R_600"] = "abc"
    text.to_csv(tmp_path / "text.csv", index=False)
    cases = [("empty.csv", "empty"), ("grid.parquet", "1-nm grid"), ("pct.parquet", "percent"),
             ("text.csv", "column 'R_600', row 2: 'abc' is not a number")]
    for name, needle in cases:
        assert main(["invert", str(tmp_path / name), "--model", "prospect-d", "--out", str(tmp_path / "o.parquet"),
                     "--no-progress", "--chunk-size", "64"]) == 2
        err = capsys.readouterr().err
        assert needle in err, (name, err)
    assert main(["invert", str(tmp_path / "pct.parquet"), "--model", "prospect-d", "--out",
                 str(tmp_path / "o.parquet"), "--no-progress", "--percent", "--chunk-size", "64",
                 "--free", "n_struct,chl,car,ant,ewt,lma"]) == 0
    assert (pd.read_parquet(tmp_path / "o.parquet")["status"] == "converged").mean() > 0.9


def test_dask_local_cluster_gives_the_same_output(archive, tmp_path):
    distributed = pytest.importorskip("distributed")  # the 'dask' extra; installed by the test extra
    _, path, _ = archive
    local = tmp_path / "local.parquet"
    invert_archive(path, local, SETTINGS, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        summary = invert_archive(path, tmp_path / "dask.parquet", SETTINGS, progress=False, client=client,
                                 max_in_flight=2)
    assert summary["chunks_computed"] == 3
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask.parquet"), pd.read_parquet(local))


@pytest.mark.slow
def test_sharding_over_two_host_devices_matches_one(tmp_path):
    """Runs in a subprocess with two forced CPU devices (the flag must be set before JAX starts)."""
    import os
    import subprocess
    import sys

    code = (
        "import jax, numpy as np, leafjax as lj\n"
        "from leafjax.simulation import Prior, Uniform, Fixed, simulate\n"
        "assert len(jax.devices()) == 2\n"
        "m = lj.ProspectD(wavelengths=np.arange(400, 2401, 40))\n"
        "pr = Prior({'n_struct': Uniform(1.0, 2.5), 'chl': Uniform(5, 100), 'car': Uniform(2, 20),"
        " 'ant': Fixed(0.0), 'brown': Fixed(0.0), 'ewt': Uniform(0.002, 0.03), 'lma': Uniform(0.002, 0.02)})\n"
        "p, r, t = simulate(m, pr, 11, jax.random.key(0))\n"
        "prob = lj.make_problem(m, free=['n_struct', 'chl', 'car', 'ewt', 'lma'], lut_size=200)\n"
        "a = lj.invert(prob, r, t, devices=None); b = lj.invert(prob, r, t)\n"
        "print(float(np.abs(np.asarray(a.estimates['chl']) - np.asarray(b.estimates['chl'])).max()))\n"
    )
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert float(res.stdout.strip().splitlines()[-1]) < 1e-4
