"""``leafjax invert --model prosail --method lut|hybrid|lm --products``: the CLI writes what
``leafjax.products.retrieve_products`` returns in Python for the same route configuration and key.

The archive is validation-like (Sentinel-2 L2A columns ``R_B02`` … ``R_B12`` without B8, per-row ``sza``, ``vza``,
``raa``) but simulated: 10 PROSAIL pixels at two geometries on a 10-nm grid, float64, chunks of 4, one pixel
without geometry and one with a missing band.  Routes are small (a 300-entry table; a hybrid of 400 simulations,
one member, 2 epochs, no band noise) so that the module stays short."""

import jax
import numpy as np
import pandas as pd
import pytest

from leafjax.archive import ArchiveSettings, CanopyArchiveTask
from leafjax.archive._canopy_products import route_kwargs
from leafjax.canopy import Prosail, load_srf, write_prosail_parquet
from leafjax.cli import main
from leafjax.products import PRODUCTS, get_route, retrieve_products

GRID = np.arange(400, 2401, 10)
N = 10
BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8A", "B11", "B12")
L2A = {"B2": "B02", "B3": "B03", "B4": "B04", "B5": "B05", "B6": "B06", "B7": "B07"}
CLI = ["--model", "prosail", "--sensor", "sentinel-2a", "--grid-step", "10", "--chunk-size", "4", "--dtype",
       "float64", "--no-progress"]
OPTIONS = {"lut": (("n", 300), ("k", 10)),
           "hybrid": (("n", 400), ("epochs", 2), ("ensemble", 1), ("batch_size", 64), ("noise", "none"))}


@pytest.fixture(scope="module")
def l2a_csv(tmp_path_factory):
    d = tmp_path_factory.mktemp("l2a")
    rng = np.random.default_rng(3)
    truth = {"n_struct": np.full(N, 1.5), "chl": rng.uniform(25, 65, N), "car": np.full(N, 8.0),
             "ant": np.zeros(N), "brown": np.zeros(N), "ewt": rng.uniform(0.008, 0.02, N),
             "lma": rng.uniform(0.004, 0.009, N), "lai": rng.uniform(0.5, 5.0, N), "lidf_a": np.full(N, 57.0),
             "hotspot": np.full(N, 0.1), "sza": np.where(np.arange(N) < 5, 30.0, 40.0), "vza": np.full(N, 5.0),
             "raa": np.where(np.arange(N) < 5, 60.0, 120.0), "soil_brightness": rng.uniform(0.7, 1.3, N),
             "soil_dryness": rng.uniform(0, 1, N)}
    write_prosail_parquet(d / "sim.parquet", Prosail(wavelengths=GRID, dtype=np.float64), truth,
                          srf=load_srf("sentinel-2a", GRID, dtype=np.float64), chunk_size=N)
    sim = pd.read_parquet(d / "sim.parquet")
    df = pd.DataFrame({"point_id": [f"p{i}" for i in range(N)], "lai_insitu": truth["lai"]})
    for b in BANDS:
        df[f"R_{L2A.get(b, b)}"] = sim[f"R_{b}"]
    for g in ("sza", "vza", "raa"):
        df[g] = truth[g]
    df.loc[2, "sza"] = np.nan  # no geometry: flagged, not retrieved
    df.loc[7, "R_B05"] = np.nan  # a missing band
    df.to_csv(d / "pixels.csv", index=False)
    return d / "pixels.csv", df


def _python(df: pd.DataFrame, method: str, settings: ArchiveSettings):
    """``retrieve_products`` in Python with the run's route (same kwargs, model, response and key)."""
    srf = load_srf("sentinel-2a", GRID, dtype=np.float64).select(BANDS)
    model = Prosail(wavelengths=GRID, dtype=np.float64)
    route = get_route(method, **route_kwargs(settings))
    bands = df[[f"R_{L2A.get(b, b)}" for b in BANDS]].to_numpy()
    geometry = {g: df[g].to_numpy() for g in ("sza", "vza", "raa")}
    return retrieve_products(bands, geometry, srf, route, model=model, key=jax.random.key(0))


def _check_same(res: pd.DataFrame, ref, df: pd.DataFrame) -> None:
    assert res["point_id"].tolist() == df["point_id"].tolist()
    assert list(res.columns[:2]) == ["point_id", "lai_insitu"]
    cols = [c for p in PRODUCTS for c in (p, f"{p}_std")]
    assert list(res.columns[-len(cols) - 4:]) == cols + ["rmse", "iterations", "status", "quality_flags"]
    for p in PRODUCTS:
        np.testing.assert_array_equal(res[p].to_numpy(), ref.values[p], err_msg=p)
        np.testing.assert_array_equal(res[f"{p}_std"].to_numpy(), ref.std[p], err_msg=p)
    # the band RMSE is reduced over a batch of another shape (the chunk): equal to the last few bits
    np.testing.assert_allclose(res["rmse"].to_numpy(), ref.rmse, rtol=1e-12, atol=0)
    names = {0: "converged", 1: "max_steps", 2: "invalid_input", 3: "nonfinite"}
    assert res["status"].tolist() == [names[int(s)] for s in ref.status]
    assert res.loc[2, "status"] == "invalid_input" and "invalid_geometry" in res.loc[2, "quality_flags"]
    assert np.isnan(res.loc[2, "lai"]) and "missing_bands" in res.loc[7, "quality_flags"]


@pytest.mark.parametrize("method", ["lut", pytest.param("hybrid", marks=pytest.mark.slow)])
def test_cli_route_matches_retrieve_products(l2a_csv, tmp_path, method):
    path, df = l2a_csv
    options = ",".join(f"{k}={v}" for k, v in OPTIONS[method])
    out = tmp_path / "maps.parquet"
    assert main(["invert", str(path), "--out", str(out), *CLI, "--method", method, "--route-options", options]) == 0
    settings = ArchiveSettings(model="prosail", method=method, route_options=OPTIONS[method])
    _check_same(pd.read_parquet(out), _python(df, method, settings), df)


@pytest.mark.slow
def test_cli_lm_products_match_retrieve_products(l2a_csv, tmp_path):
    path, df = l2a_csv
    out = tmp_path / "maps.parquet"
    assert main(["invert", str(path), "--out", str(out), *CLI, "--max-steps", "20", "--products",
                 ",".join(PRODUCTS)]) == 0
    res = pd.read_parquet(out)
    _check_same(res, _python(df, "lm", ArchiveSettings(model="prosail", max_steps=20)), df)
    # the route sees direct + diffuse light, the pixels were simulated under direct sun: only roughly right
    ok = res["status"] == "converged"
    assert ok.sum() >= 6 and np.abs(res.loc[ok, "lai"] - res.loc[ok, "lai_insitu"]).max() < 1.0


def test_lut_run_resumes_to_identical_output_and_products_subset(l2a_csv, tmp_path):
    """Chunks do not depend on the tables cached by earlier chunks: a resumed run writes the same file; and
    ``products`` picks (and orders) the columns."""
    from helpers import check_interrupted_run_resumes

    path, _ = l2a_csv
    settings = ArchiveSettings(model="prosail", sensor="sentinel-2a", grid_step=10, chunk_size=4, dtype="float64",
                               method="lut", products=("fcover", "lai"), route_options=OPTIONS["lut"])
    other = ArchiveSettings(**{**settings.__dict__, "route_options": (("n", 200), ("k", 10))})
    check_interrupted_run_resumes(path, settings, other, tmp_path)
    res = pd.read_parquet(tmp_path / "full.parquet")
    assert list(res.columns[-8:-4]) == ["fcover", "fcover_std", "lai", "lai_std"] and "ccc" not in res.columns
    info = CanopyArchiveTask().open(path, settings)
    assert CanopyArchiveTask().resolve(settings, info).bands == BANDS
