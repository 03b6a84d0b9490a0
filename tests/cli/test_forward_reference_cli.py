"""``leafjax forward`` on the shared PROSPECT reference parameters, verbatim (including chl = car = 0 and values
beyond the inversion bounds, e.g. car = 30 µg/cm²), in float32: the forward model accepts every physically valid
leaf and reproduces the independent reference spectra."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import leafjax as lj
from leafjax.cli import main

#: Reference column → canonical name (shared/data/README.md: n, cab, car, cbrown, cw, cm, ant, prot, cbc).
CANONICAL = {"n": "n_struct", "cab": "chl", "car": "car", "ant": "ant", "cbrown": "brown", "cw": "ewt",
             "cm": "lma", "prot": "prot", "cbc": "cbc"}
#: float32 tolerance on R and T (fractions), as for the library-level reference test.
TOL_FLOAT32 = 1e-5


@pytest.fixture(scope="module")
def reference(shared_data):
    return pd.read_parquet(shared_data / "reference" / "prospect_reference.parquet")


@pytest.mark.parametrize("model, version", [("prospect-d", "D"), ("prospect-pro", "PRO")])
def test_forward_cli_reproduces_reference(reference, tmp_path, model, version):
    rows = reference[reference["version"] == version].reset_index(drop=True)
    names = lj.get_leaf_model(model).params_type.names
    params = rows[[c for c, n in CANONICAL.items() if n in names]].rename(columns=CANONICAL)
    params.insert(0, "row", np.arange(len(rows)))
    if version == "D":
        # the edge cases: zero pigments, and contents beyond the inversion bounds (lj.TRAITS) but physical
        assert (params["chl"] == 0).any() and (params["car"] == 0).any()
        assert (params["car"] > lj.bounds("car")[1]).any()
    else:
        assert (params["ant"] > 0).all() and (params["prot"] > 0).all()
    src, out = tmp_path / "params.parquet", tmp_path / "spectra.parquet"
    params.to_parquet(src)
    assert main(["forward", "--model", model, "--params", str(src), "--out", str(out), "--wavelengths",
                 "400:2500", "--dtype", "float32", "--chunk-size", "16"]) == 0
    got = pd.read_parquet(out)
    assert got["row"].tolist() == list(range(len(rows)))
    np.testing.assert_array_equal(got["chl"].to_numpy(), params["chl"].to_numpy())
    wl = np.arange(400, 2501)
    for side in ("R", "T"):
        cols = [f"{side}_{w}" for w in wl]
        assert got[cols].to_numpy().dtype == np.float32
        diff = np.abs(got[cols].to_numpy(np.float64) - rows[cols].to_numpy(np.float64))
        assert np.isfinite(diff).all()
        assert diff.max() <= TOL_FLOAT32, f"{model} {side}: max |diff| = {diff.max():.2e}"


def test_forward_cli_rejects_unphysical_leaves(tmp_path, capsys):
    base = {"n_struct": [1.5], "chl": [0.0], "car": [0.0], "ewt": [0.0], "lma": [0.0]}
    ok = tmp_path / "ok.csv"
    pd.DataFrame(base).to_csv(ok, index=False)
    assert main(["forward", "--model", "prospect-d", "--params", str(ok), "--out", str(tmp_path / "a.parquet"),
                 "--wavelengths", "500,800"]) == 0
    for name, value in (("chl", -1.0), ("n_struct", 0.9), ("ewt", -1e-3)):
        bad = tmp_path / f"bad_{name}.csv"
        pd.DataFrame({**base, name: [value]}).to_csv(bad, index=False)
        assert main(["forward", "--model", "prospect-d", "--params", str(bad), "--out",
                     str(tmp_path / "b.parquet"), "--wavelengths", "500,800"]) == 2
        assert f"'{name}' outside" in capsys.readouterr().err
