"""PROSPECT-D and PROSPECT-PRO against 83 reference spectra from an independent implementation."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from helpers import model_and_params

TOL = {"float64": 1e-9, "float32": 1e-5}


@pytest.fixture(scope="module")
def reference(shared_data):
    df = pd.read_parquet(shared_data / "reference" / "prospect_reference.parquet")
    assert len(df) == 83
    return df


def _columns(rows: pd.DataFrame, version: str) -> dict:
    cols = {"n_struct": rows["n"], "chl": rows["cab"], "car": rows["car"], "ant": rows["ant"],
            "brown": rows["cbrown"], "ewt": rows["cw"]}
    if version == "D":
        cols["lma"] = rows["cm"]
    else:
        cols["prot"], cols["cbc"] = rows["prot"], rows["cbc"]
    return {k: v.to_numpy() for k, v in cols.items()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("version", ["D", "PRO"])
def test_agreement_with_reference(reference, version, dtype):
    rows = reference[reference["version"] == version]
    assert len(rows) == (43 if version == "D" else 40)
    wl = np.arange(400, 2501)
    model, params = model_and_params(version, _columns(rows, version), dtype=getattr(jnp, dtype))
    out = eqx.filter_jit(model)(params)
    assert out.reflectance.dtype == jnp.dtype(dtype)
    r_ref = rows[[f"R_{w}" for w in wl]].to_numpy()
    t_ref = rows[[f"T_{w}" for w in wl]].to_numpy()
    dr = np.abs(np.asarray(out.reflectance, np.float64) - r_ref).max()
    dt = np.abs(np.asarray(out.transmittance, np.float64) - t_ref).max()
    assert dr <= TOL[dtype], f"max |dR| = {dr:.3e}"
    assert dt <= TOL[dtype], f"max |dT| = {dt:.3e}"


def test_wavelength_subset_matches_full(reference):
    rows = reference[reference["version"] == "D"].iloc[:5]
    cols = _columns(rows, "D")
    full_model, params = model_and_params("D", cols)
    pick = np.array([401, 555, 700, 1450, 2200, 2500])
    sub_model, _ = model_and_params("D", cols, wavelengths=pick)
    assert sub_model.n_bands == pick.size
    full = full_model(params)
    sub = sub_model(params)
    np.testing.assert_array_equal(np.asarray(sub.wavelengths), pick)
    np.testing.assert_allclose(sub.reflectance, np.asarray(full.reflectance)[:, pick - 400], rtol=0, atol=1e-15)
    np.testing.assert_allclose(sub.transmittance, np.asarray(full.transmittance)[:, pick - 400], rtol=0, atol=1e-15)


def test_wavelength_off_grid_is_an_error():
    import leafjax as lj

    with pytest.raises(ValueError, match="not on the optical-constant grid"):
        lj.ProspectD(wavelengths=[399.0, 500.0])
    with pytest.raises(ValueError, match="not on the optical-constant grid"):
        lj.ProspectD(wavelengths=[500.5])
