"""Soil models: PROSAIL dry/wet mixture, the seven reference soils, the empirical SVD basis."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from leafjax.canopy import (BasisSoil, BasisSoilParams, DryWetSoil, DryWetSoilParams, default_soil_basis,
                            load_dry_wet_soils, load_reference_soils)


def test_packaged_tables_equal_shared_data(shared_data):
    dw = pd.read_csv(shared_data / "soil" / "soil_dry_wet.csv")
    lib = load_dry_wet_soils(dtype=jnp.float64)
    np.testing.assert_array_equal(np.asarray(lib["dry"]), dw["dry"].to_numpy())
    np.testing.assert_array_equal(np.asarray(lib["wet"]), dw["wet"].to_numpy())
    atbd = pd.read_csv(shared_data / "soil" / "soil_spectra_atbd.csv")
    ref = load_reference_soils(dtype=jnp.float64)
    assert ref.names == tuple(f"soil_{i:02d}" for i in range(1, 8))
    np.testing.assert_array_equal(np.asarray(ref.spectra), atbd.iloc[:, 1:].to_numpy().T)
    with pytest.raises(KeyError, match="unknown soil"):
        ref["soil_99"]


def test_dry_wet_mixture_convention():
    wl = [400, 1000, 2400]
    model = DryWetSoil(wl, dtype=jnp.float64)
    lib = load_dry_wet_soils(wl, jnp.float64)
    b = jnp.asarray([0.5, 1.2])
    d = jnp.asarray([0.0, 0.75])
    out = model(DryWetSoilParams(soil_brightness=b, soil_dryness=d))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out[0], 0.5 * lib["wet"], rtol=1e-15)
    np.testing.assert_allclose(out[1], 1.2 * (0.75 * lib["dry"] + 0.25 * lib["wet"]), rtol=1e-15)
    jac = jax.jacfwd(lambda p: model(p))(DryWetSoilParams(1.0, 0.3))
    np.testing.assert_allclose(jac.soil_dryness, lib["dry"] - lib["wet"], rtol=1e-15)
    np.testing.assert_allclose(jac.soil_brightness, 0.3 * lib["dry"] + 0.7 * lib["wet"], rtol=1e-15)


def test_wavelength_off_grid_raises():
    with pytest.raises(ValueError, match="not on the table grid"):
        DryWetSoil([400.5])


def test_basis_reproduces_training_spectra_and_is_differentiable():
    wl = np.arange(400, 2401, 10)
    full = default_soil_basis(8, wl, jnp.float64)  # 9 spectra → rank ≤ 8: exact
    training = np.concatenate([np.asarray(load_dry_wet_soils(wl, jnp.float64).spectra),
                               np.asarray(load_reference_soils(wl, jnp.float64).spectra)])
    np.testing.assert_allclose(full(full.project(training)), training, atol=1e-10)
    basis = default_soil_basis(3, wl, jnp.float64)
    assert basis.components.shape == (3, wl.size)
    ex = np.asarray(basis.explained)
    assert np.all(np.diff(ex) <= 0) and 0.9 < ex.sum() <= 1.0
    coef = basis.project(training).coefficients
    # components are scaled to unit variance over the training set
    np.testing.assert_allclose(np.std(np.asarray(coef), axis=0, ddof=1), 1.0, rtol=1e-8)
    recon_err = np.abs(np.asarray(basis(BasisSoilParams(coef))) - training).max()
    assert recon_err < 0.1
    jac = jax.jacfwd(lambda c: basis(BasisSoilParams(c)))(jnp.zeros(3))
    np.testing.assert_allclose(jac, basis.components.T, rtol=1e-15)
    with pytest.raises(ValueError, match="coefficients"):
        basis(BasisSoilParams(jnp.zeros(4)))
    with pytest.raises(ValueError, match="n_components"):
        BasisSoil.fit(training, wl, n_components=9)
