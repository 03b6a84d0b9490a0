"""``leafjax invert`` on a CSV of the real validation rows (Sentinel-2 L2A ``R_B02`` … ``R_B12`` without B8, sun
angles computed from each row's time and place, ``vza`` 5°, ``raa`` from a view azimuth of 0°) gives exactly the
estimates of ``leafjax.products.retrieve_products`` in Python with the same route and key.

The rows are the first 16 of ``s2_crop_traits/lai_s2_insitu.csv`` in the shared data folder (Graf et al. 2023);
the look-up table is small (2,000 entries, k = 20) to keep the test fast."""

import pytest
import jax
import numpy as np
import pandas as pd

from leafjax.cli import main
from leafjax.physics.sky import relative_azimuth, solar_position
from leafjax.products import get_route, retrieve_products
from leafjax.spectral import load_srf

TABLE_BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12")
ROUTE = {"n": 2000, "k": 20}


@pytest.mark.slow
def test_cli_on_real_rows_equals_python(shared_data, tmp_path):
    rows = pd.read_csv(shared_data / "s2_crop_traits" / "lai_s2_insitu.csv").head(16)
    rows = rows[rows["platform"] == "S2B"].reset_index(drop=True)  # one sensor: one --sensor run
    sza, saa = solar_position(rows["acquisition_utc"].to_numpy(str), rows["lat"].to_numpy(), rows["lon"].to_numpy())
    table = pd.DataFrame({"point_id": rows["point_id"], **{f"R_{b}": rows[b] for b in TABLE_BANDS},
                          "sza": sza, "vza": 5.0, "raa": np.asarray(relative_azimuth(saa, np.zeros(len(rows))))})
    table.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "est.csv"
    assert main(["invert", str(tmp_path / "rows.csv"), "--model", "prosail", "--sensor", "sentinel-2b",
                 "--method", "lut", "--products", "lai,ccc", "--route-options", "n=2000,k=20", "--out", str(out),
                 "--no-progress"]) == 0
    cli = pd.read_csv(out)
    srf = load_srf("sentinel-2b", np.arange(400.0, 2401.0), bands=list(TABLE_BANDS))
    ref = retrieve_products(table[[f"R_{b}" for b in TABLE_BANDS]].to_numpy(), {g: table[g].to_numpy() for g in
                            ("sza", "vza", "raa")}, srf, get_route("lut", **ROUTE), products=("lai", "ccc"),
                            key=jax.random.key(0))
    assert len(cli) == len(table) > 5 and (cli["status"] == "converged").all()
    for p in ("lai", "ccc"):
        np.testing.assert_array_equal(cli[p].to_numpy(), ref.values[p], err_msg=p)
        np.testing.assert_array_equal(cli[f"{p}_std"].to_numpy(), ref.std[p], err_msg=p)
    assert np.all(ref.values["lai"] > 0) and np.all(ref.values["ccc"] > 0)
