"""4SAIL/PROSAIL against the 60 reference spectra of PyPI ``prosail`` 2.0.5 (shared/data/reference)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from leafjax.canopy import (REFLECTANCE_FACTORS, CanopyParams, DryWetSoil, DryWetSoilParams, prosail,
                            simulate_prosail)
from leafjax.physics import ProspectD, ProspectDParams

#: Required agreement in float64 and the looser float32 bound (measured max ≈ 1.6e-6).
TOL64 = 1e-6
TOL32 = 1e-5
LIDF_CODES = {1: "verhoef", 2: "campbell"}


@pytest.fixture(scope="module")
def reference(shared_data):
    return pd.read_parquet(shared_data / "reference" / "prosail_reference.parquet")


def _run(ref: pd.DataFrame, dtype) -> dict[str, np.ndarray]:
    leaf_model = ProspectD(dtype=dtype)
    soil_model = DryWetSoil(dtype=dtype)
    out = {f: np.zeros((len(ref), 2101)) for f in REFLECTANCE_FACTORS}
    for code, lidf_type in LIDF_CODES.items():
        sel = ref["typelidf"].to_numpy() == code
        r = ref[sel]
        cs = lambda name: jnp.asarray(r[name].to_numpy(), dtype=dtype)  # noqa: E731
        leaf = ProspectDParams(n_struct=cs("n"), chl=cs("cab"), car=cs("car"), ant=cs("ant"), brown=cs("cbrown"),
                               ewt=cs("cw"), lma=cs("cm"))
        canopy = CanopyParams(lai=cs("lai"), lidf_a=cs("lidfa"), lidf_b=cs("lidfb"), hotspot=cs("hspot"),
                              sza=cs("tts"), vza=cs("tto"), raa=cs("psi"), lidf_type=lidf_type)
        soil = soil_model(DryWetSoilParams(soil_brightness=cs("rsoil"), soil_dryness=cs("psoil")))
        res = jax.jit(prosail)(leaf, canopy, soil, leaf_model)
        for f in REFLECTANCE_FACTORS:
            arr = getattr(res, f)
            assert arr.dtype == dtype
            out[f][sel] = np.asarray(arr, dtype=np.float64)
    return out


def _expected(ref: pd.DataFrame, factor: str) -> np.ndarray:
    return ref[[f"{factor}_{wl}" for wl in range(400, 2501)]].to_numpy()


def test_reference_covers_both_lidf_types_and_bare_soil(reference):
    assert len(reference) == 60
    assert set(reference["typelidf"]) == {1, 2}
    assert (reference["lai"] == 0).any()


def _check(got, reference, tol, label):
    errors = {f: float(np.max(np.abs(np.asarray(got[f], dtype=np.float64) - _expected(reference, f))))
              for f in REFLECTANCE_FACTORS}
    assert all(np.isfinite(v) for v in errors.values())
    assert max(errors.values()) <= tol, f"max |Δ| per factor ({label}): {errors}"


def test_four_factors_match_reference_float32(reference):
    """The functional path (ProspectD → DryWetSoil → prosail), float32: max |Δ| measured ≈ 1.6e-6."""
    _check(_run(reference, jnp.float32), reference, TOL32, "float32")


def test_bare_soil_row_equals_soil(reference):
    row = reference[reference["lai"] == 0].iloc[0]
    soil = DryWetSoil(dtype=jnp.float64)(DryWetSoilParams(row["rsoil"], row["psoil"]))
    for f in REFLECTANCE_FACTORS:
        np.testing.assert_allclose(_expected(reference.loc[[row.name]], f)[0], np.asarray(soil), atol=1e-12)


def test_four_factors_match_reference_float64(reference):
    """The table entry point (used by the CLI), float64: all four factors within 1e-6 (measured ≈ 8e-10)."""
    table = {"n_struct": reference["n"], "chl": reference["cab"], "car": reference["car"], "ant": reference["ant"],
             "brown": reference["cbrown"], "ewt": reference["cw"], "lma": reference["cm"], "lai": reference["lai"],
             "lidf_type": reference["typelidf"].map(LIDF_CODES), "lidf_a": reference["lidfa"],
             "lidf_b": reference["lidfb"], "hotspot": reference["hspot"], "sza": reference["tts"],
             "vza": reference["tto"], "raa": reference["psi"], "soil_brightness": reference["rsoil"],
             "soil_dryness": reference["psoil"]}
    out = simulate_prosail(table, wavelengths=range(400, 2501), dtype=jnp.float64)
    assert out.rsot.shape == (60, 2101) and out.rsot.dtype == jnp.float64
    _check({f: getattr(out, f) for f in REFLECTANCE_FACTORS}, reference, TOL64, "float64")


def test_table_entry_point_missing_column():
    with pytest.raises(ValueError, match="missing parameter"):
        simulate_prosail({"n_struct": [1.5], "chl": [40.0], "car": [8.0], "soil_brightness": [1.0],
                          "soil_dryness": [0.5]}, wavelengths=[500, 800])
