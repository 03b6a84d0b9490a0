"""Readers of the thermal reference data (shared data folder): canonical units, agreement between the files, the
WVC split, missing-file errors and the truth TOA brightness temperatures."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from thermal_fixtures import lwir_truth, thermal_folder  # noqa: F401

from leafjax.data import (LAND_EMISSIVITY_COLUMNS, load_continuum, load_lwir_truth, load_tigr, load_us_standard,
                          split_truth, truth_band_brightness_temperature)
from leafjax.physics.thermal import vimi_response


def test_truth_shapes_and_units(lwir_truth, thermal_folder):
    h5py = pytest.importorskip("h5py")
    t = lwir_truth
    assert t.wavenumber.shape == (526,) and t.wavenumber[0] == 800.0 and t.wavenumber[-1] == 1325.0
    for a in (t.transmittance, t.path_radiance, t.downwelling):
        assert a.shape == (80, 526)
    assert t.emissivity.shape == (22, 526) and t.tigr_rows.shape == (80,)
    assert t.atmospheres.temperature.shape == (80, 43)
    with h5py.File(thermal_folder / "lwir_atmospheres.h5", "r") as f:
        np.testing.assert_allclose(t.path_radiance, f["La"][()].T * 0.01)  # µW cm⁻² → W m⁻²
        np.testing.assert_allclose(np.asarray(t.atmospheres.pressure), f["P"][()] / 100.0)  # Pa → hPa
    assert float(t.atmospheres.pressure[0]) == pytest.approx(1013.0)
    # radiances per wavenumber in W m⁻² sr⁻¹ (cm⁻¹)⁻¹: a window path radiance is a fraction of B(1000, 300 K) ≈ 0.1
    assert 0.0 < np.median(t.path_radiance) < 0.1 and np.all(t.transmittance <= 1.0)
    assert np.mean(t.emissivity[0]) < 0.1 and 0 not in LAND_EMISSIVITY_COLUMNS and len(LAND_EMISSIVITY_COLUMNS) == 21


def test_column_water_vapour_matches_readme_range(lwir_truth):
    # the data README quotes 0.11–5.67 g/cm²; our hydrostatic trapezoid integral over the 43 levels gives
    # 0.115–5.62 (within 1–5 %: the README's integration scheme is not stated)
    w = lwir_truth.column_water_vapour
    assert w.min() == pytest.approx(0.11, rel=0.05) and w.max() == pytest.approx(5.67, rel=0.02)
    np.testing.assert_allclose(w, np.asarray(lwir_truth.atmospheres.column_water_vapour()), rtol=1e-6)


def test_tigr_rows_are_the_truth_atmospheres(lwir_truth, thermal_folder):
    tigr = load_tigr(thermal_folder)
    assert tigr.atmospheres.temperature.shape == (2311, 43) and len(set(tigr.lwir_rows.tolist())) == 80
    rows = tigr.lwir_rows
    np.testing.assert_array_equal(lwir_truth.tigr_rows, rows)
    np.testing.assert_allclose(np.asarray(tigr.atmospheres.temperature)[rows],
                               np.asarray(lwir_truth.atmospheres.temperature))
    # TIGR ozone is a volume fraction: ×1e6 gives the truth file's ppmv
    np.testing.assert_allclose(np.asarray(tigr.atmospheres.o3)[rows], np.asarray(lwir_truth.atmospheres.o3),
                               rtol=1e-9)


def test_continuum_and_us_standard(thermal_folder):
    c = load_continuum(thermal_folder)
    assert (c.ref_pressure, c.ref_temperature) == (1013.0, 296.0)
    assert c.wavenumber[0] <= 0.0 and c.wavenumber[-1] >= 20000.0 and np.all(np.diff(c.wavenumber) == 10.0)
    window = (c.wavenumber >= 800) & (c.wavenumber <= 1300)
    assert np.all(c.self_absco[window] > 1e-26) and np.all(c.self_absco[window] > 10 * c.foreign_absco[window])
    assert np.all((c.self_texp[window] > 0) & (c.self_texp[window] < 10))
    us = load_us_standard(thermal_folder)
    assert us["pressure"].shape == (66,) and us["pressure"][0] == pytest.approx(1006.973, rel=1e-5)  # hPa
    assert us["co2"][0] == pytest.approx(380.0, rel=1e-3)  # ppmv


def test_split_by_water_vapour(lwir_truth):
    cal, site = split_truth(lwir_truth)
    assert len(cal) == len(site) == 40 and not set(cal) & set(site) and set(cal) | set(site) == set(range(80))
    w = lwir_truth.column_water_vapour
    order = np.argsort(w, kind="stable")
    assert order[0] in cal and order[1] in site and order[-2] in cal and order[-1] in site
    for half in (cal, site):  # both span the range
        assert w[half].min() < 0.2 and w[half].max() > 5.0
    again = split_truth(lwir_truth)
    np.testing.assert_array_equal(again[0], cal)


def test_missing_files_are_named(tmp_path):
    for reader, name in ((load_lwir_truth, "lwir_atmospheres.h5"), (load_tigr, "tigr2311_profiles.npz"),
                         (load_continuum, "mt_ckd_h2o_continuum.nc"), (load_us_standard, "us_standard_atmosphere.csv")):
        with pytest.raises(FileNotFoundError, match=name):
            reader(tmp_path)


def test_truth_band_brightness_temperature(lwir_truth):
    t = lwir_truth
    srf = vimi_response(t.wavenumber)
    dry = int(np.argmin(t.column_water_vapour))
    idx = np.array([dry, dry])
    ts = np.array([300.0, 310.0])
    bt = truth_band_brightness_temperature(t, idx, np.ones(526), ts, srf)
    assert bt.shape == (2, 4)
    # the driest atmosphere is nearly transparent in the 10.8 µm window: BT a little below Ts
    assert np.all(bt[:, 2] < ts) and np.all(bt[:, 2] > ts - 2.0) and bt[1, 2] > bt[0, 2]
    e = t.emissivity[list(LAND_EMISSIVITY_COLUMNS[:2])]
    bt2 = truth_band_brightness_temperature(t, idx, e, ts, srf)
    assert np.all(bt2 < bt + 1e-9)  # emissivity < 1 lowers BT when the sky is colder than the surface
    with pytest.raises(ValueError, match="truth grid"):
        truth_band_brightness_temperature(t, idx, jnp.ones(10), ts, srf)
