"""Readers: shared parquet, EcoSIS CSV, generic tables, demo data, and their error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leafjax.data import (
    ColumnError,
    ColumnMapping,
    load_demo,
    load_shared_datasets,
    read_ecosis_csv,
    read_leaf_parquet,
    read_table,
)

WL = np.arange(400, 2401, 50)


def _ecosis_frame(n=4, percent=False):
    rng = np.random.default_rng(0)
    spec = 0.05 + 0.4 * rng.random((n, WL.size))
    if percent:
        spec = spec * 100
    f = pd.DataFrame(spec, columns=[str(w) for w in WL])
    f.insert(0, "Species", ["Acer rubrum"] * n)
    f.insert(0, "LMA_g_m2", [50.0, 60.0, np.nan, 80.0][:n])
    return f, spec


def test_read_shared_parquet(shared_data):
    ds = read_leaf_parquet(shared_data / "leaf_spectra" / "gsti_albert2018_brazil_tnf.parquet")
    assert len(ds) == 15 and ds.wavelengths[0] == 400 and ds.wavelengths[-1] == 2400
    assert ds.wavelengths.dtype == np.float64 and ds.reflectance.dtype == np.float64
    assert set(ds.traits_available()) == {"lma", "nitrogen", "nitrogen_area"}
    assert (ds.meta["instrument"] == "ASD FieldSpec Pro").all()
    assert np.nanmax(ds.reflectance) < 1.0


def test_load_shared_quirks(shared_data):
    ds = load_shared_datasets(shared_data / "leaf_spectra", ["ely2019_ngee_arctic", "sexton2021_tobacco_chl",
                                                             "gsti_wu2019_panama"])
    ely = ds.where_dataset("ely2019_ngee_arctic")
    assert np.isnan(ely.reflectance[:, ely.wavelengths < 500]).all()
    assert (ely.meta["ewt_source"] == "measured").all()
    wu = ds.where_dataset("gsti_wu2019_panama")
    assert set(wu.meta["ewt_source"]) == {"derived_lwc", "none"}
    assert (ds.where_dataset("sexton2021_tobacco_chl").meta["background"] == "white").all()
    with pytest.raises(FileNotFoundError, match="nope"):
        load_shared_datasets(shared_data / "leaf_spectra", ["nope"])


def test_demo():
    ds = load_demo()
    assert 100 <= len(ds) <= 150
    assert ds.wavelengths[0] == 400 and ds.wavelengths[-1] == 2400
    assert "ely2019_ngee_arctic" not in ds.dataset_names()
    assert {"lma", "ewt", "nitrogen"} <= set(ds.traits_available(min_count=100))


def test_ecosis_csv_roundtrip(tmp_path):
    f, spec = _ecosis_frame()
    p = tmp_path / "eco.csv"
    f.to_csv(p, index=False)
    ds = read_ecosis_csv(p, traits={"lma": ("LMA_g_m2", 1e-4)}, meta={"species": "Species"}, dataset="eco")
    np.testing.assert_allclose(ds.wavelengths, WL)
    np.testing.assert_allclose(ds.reflectance, spec, rtol=1e-12)
    np.testing.assert_allclose(ds.trait("lma"), [0.005, 0.006, np.nan, 0.008])
    assert ds.traits_available() == ["lma"] and ds.meta["species"].iloc[0] == "Acer rubrum"
    assert ds.meta["dataset"].iloc[0] == "eco" and ds.meta["site"].iloc[0] == "unknown"


def test_percent_detected_and_converted(tmp_path):
    f, spec = _ecosis_frame(percent=True)
    p = tmp_path / "pct.csv"
    f.to_csv(p, index=False)
    with pytest.warns(UserWarning, match="pct.csv.*percent"):
        ds = read_ecosis_csv(p, traits={"lma": "LMA_g_m2"})
    np.testing.assert_allclose(ds.reflectance, spec / 100, rtol=1e-12)
    with pytest.raises(ValueError, match="pct.csv.*percent"):
        read_ecosis_csv(p, traits={"lma": "LMA_g_m2"}, scale="fraction")


def test_generic_parquet_with_transmittance(tmp_path):
    n = 3
    cols = {"id": ["a", "b", "c"], "N_mass": [1.0, 2.0, 3.0]}
    for w in (500, 600, 700):
        cols[f"R_{w}"] = [0.1, 0.2, 0.3]
        cols[f"T_{w}"] = [0.4, 0.5, 0.45]
    p = tmp_path / "gen.parquet"
    pd.DataFrame(cols).to_parquet(p)
    ds = read_table(p, ColumnMapping(traits={"nitrogen": "N_mass"}, meta={"sample_id": "id"}))
    assert ds.transmittance is not None and ds.spectra().shape == (n, 6)
    assert list(ds.meta["sample_id"]) == ["a", "b", "c"] and ds.meta["dataset"].iloc[0] == "gen"


def test_error_missing_trait_column(tmp_path):
    f, _ = _ecosis_frame()
    p = tmp_path / "eco.csv"
    f.to_csv(p, index=False)
    with pytest.raises(ColumnError, match=r"eco\.csv.*'EWT_cm'"):
        read_ecosis_csv(p, traits={"ewt": "EWT_cm"})


def test_error_missing_trait_column_parquet(shared_data, tmp_path):
    f = pd.read_parquet(shared_data / "leaf_spectra" / "gsti_albert2018_brazil_tnf.parquet").drop(columns="ewt")
    p = tmp_path / "noewt.parquet"
    f.to_parquet(p)
    with pytest.raises(ColumnError, match=r"noewt\.parquet.*'ewt'"):
        read_leaf_parquet(p)


@pytest.mark.parametrize("bad", ["Wave_450", "R450nm", "450 nm"])
def test_error_unknown_wavelength_naming(tmp_path, bad):
    f, _ = _ecosis_frame()
    f = f.rename(columns={"450": bad})
    p = tmp_path / "odd.csv"
    f.to_csv(p, index=False)
    with pytest.raises(ColumnError, match=rf"odd\.csv.*'{bad}'"):
        read_ecosis_csv(p, traits={"lma": "LMA_g_m2"})


def test_error_unknown_naming_gsti(tmp_path):
    p = tmp_path / "g.parquet"
    pd.DataFrame({"R_500": [0.1], "Refl_600": [0.2], "x": [1.0]}).to_parquet(p)
    with pytest.raises(ColumnError, match=r"g\.parquet.*'Refl_600'"):
        read_table(p, ColumnMapping(traits={"lma": "x"}))
    p2 = tmp_path / "none.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(p2, index=False)
    with pytest.raises(ColumnError, match=r"none\.csv.*no wavelength-named column"):
        read_ecosis_csv(p2, traits={})


def test_error_non_numeric_cells(tmp_path):
    f, _ = _ecosis_frame()
    f["LMA_g_m2"] = f["LMA_g_m2"].astype(object)
    f.loc[1, "LMA_g_m2"] = "n.d."
    p = tmp_path / "txt.csv"
    f.to_csv(p, index=False)
    with pytest.raises(ColumnError, match=r"txt\.csv.*'LMA_g_m2'.*row 1.*'n\.d\.'"):
        read_ecosis_csv(p, traits={"lma": "LMA_g_m2"})
    f, _ = _ecosis_frame()
    f["700"] = f["700"].astype(object)
    f.loc[2, "700"] = "0.3x"
    f.to_csv(p, index=False)
    with pytest.raises(ColumnError, match=r"txt\.csv.*'700'.*row 2"):
        read_ecosis_csv(p, traits={"lma": "LMA_g_m2"})
