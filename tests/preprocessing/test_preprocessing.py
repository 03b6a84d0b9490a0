"""Preprocessing steps on crafted inputs: percent spectrum, NaN band, splice step, 5-nm grid, outliers."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

from leafjax.data import SpectralDataset
from leafjax.preprocessing import (
    StepReport,
    band_mask,
    compose,
    correct_splice_steps,
    detect_percent,
    drop_missing_bands,
    flag_outliers,
    missing_band_mask,
    resample,
    savgol,
    to_fraction,
)

WL = np.arange(400.0, 2401.0)


def leaf_like(wl=WL, scale=1.0, shift=0.0):
    """A smooth leaf-like spectrum: low visible, red edge at 710 nm, NIR plateau, water dips."""
    r = 0.05 + 0.42 / (1 + np.exp(-(wl - 710) / 15))
    r -= 0.2 * np.exp(-(((wl - 1450) / 60) ** 2)) + 0.25 * np.exp(-(((wl - 1940) / 70) ** 2))
    return scale * r + shift


def _ds(rows, wl=WL, instrument="ASD", **traits):
    rows = np.atleast_2d(rows)
    meta = pd.DataFrame({"instrument": [instrument] * len(rows)})
    return SpectralDataset.from_arrays(wl, rows, meta=meta, **traits)


def test_percent_spectrum_converted_with_report():
    r = leaf_like()
    ds = _ds(np.stack([r * 100, r]))
    assert list(detect_percent(ds.reflectance)) == [True, False]
    out, rep = to_fraction(ds)
    np.testing.assert_allclose(out.reflectance, np.stack([r, r]), rtol=1e-12)
    assert isinstance(rep, StepReport) and rep.n_rows_changed == 1
    assert list(rep.details["reflectance_rows_percent"]) == [0]
    same, rep2 = to_fraction(_ds(r))
    assert rep2.n_rows_changed == 0 and "already" in rep2.message
    with pytest.raises(ValueError, match="row 0.*neither"):
        to_fraction(_ds(r * 4000))


def test_white_background_fraction_not_taken_as_percent():
    r = np.clip(leaf_like() * 2.0, 0, 0.97)  # NIR ~0.93 as sexton2021
    assert not detect_percent(r[None]).any()


def test_nan_band_mask_and_propagation():
    r = leaf_like()
    a = r.copy()
    a[WL < 500] = np.nan  # a dataset that starts at 500 nm
    ds = _ds(np.stack([a, r]))
    mask, rep = missing_band_mask(ds)
    assert mask.shape == (2, WL.size) and mask[0].sum() == 100 and not mask[1].any()
    assert rep.n_rows_changed == 1
    assert rep.details["missing_ranges_by_dataset"]["array"] == []  # not missing in *every* row
    only, rep_only = missing_band_mask(ds.subset([0]))
    assert rep_only.details["missing_ranges_by_dataset"]["array"] == [(400.0, 499.0)]
    # resampling keeps the band missing; smoothing filters the finite run only
    res, _ = resample(ds, np.arange(400.0, 2401.0, 10.0))
    assert np.isnan(res.reflectance[0, :10]).all() and np.isfinite(res.reflectance[0, 10:]).all()
    sm, rep_sg = savgol(ds)
    assert np.isnan(sm.reflectance[0, :100]).all() and np.isfinite(sm.reflectance[0, 100:]).all()
    assert np.max(np.abs(sm.reflectance[1] - r)) < 2e-3
    common, rep_drop = drop_missing_bands(ds)
    assert common.wavelengths[0] == 500 and rep_drop.n_bands_changed == 100


def test_band_mask_ranges():
    out, rep = band_mask(_ds(leaf_like()), [(1350, 1460)])
    assert np.isnan(out.reflectance[0, (WL >= 1350) & (WL <= 1460)]).all()
    assert rep.n_bands_changed == 111 and np.isfinite(out.reflectance[0, WL < 1350]).all()


def test_resample_5nm_grid():
    wl5 = np.arange(400.0, 2401.0, 5.0)
    lin = 0.1 + 1e-4 * (wl5 - 400)
    ds = _ds(lin, wl=wl5)
    out, rep = resample(ds, np.arange(398.0, 2403.0))
    inside = (out.wavelengths >= 400) & (out.wavelengths <= 2400)
    np.testing.assert_allclose(out.reflectance[0, inside], 0.1 + 1e-4 * (out.wavelengths[inside] - 400), atol=1e-12)
    assert np.isnan(out.reflectance[0, ~inside]).all()
    assert rep.details["n_outside"] == 4 and rep.details["source_step_nm"] == 5.0
    # savgol on a 5-nm grid: derivative is per nm
    d1, _ = savgol(ds, window=7, polyorder=2, deriv=1)
    np.testing.assert_allclose(d1.reflectance[0], 1e-4, atol=1e-10)
    with pytest.raises(ValueError, match="uniform"):
        savgol(_ds(lin[:3], wl=np.array([400.0, 405.0, 415.0])), window=3, polyorder=1)


def test_savgol_smooths_noise():
    rng = np.random.default_rng(0)
    r = leaf_like()
    noisy = r + rng.normal(0, 0.005, r.size)
    out, rep = savgol(_ds(noisy), window=21, polyorder=3)
    assert np.std(out.reflectance[0] - r) < 0.5 * np.std(noisy - r)
    assert rep.details["max_abs_change"] > 0


def test_splice_step_removed():
    r = leaf_like()
    stepped = r.copy()
    stepped[WL > 1000] += 0.02  # SWIR1 detector reads high
    stepped[WL > 1800] -= 0.015  # SWIR2 reads low
    mode = "additive"
    out, rep = correct_splice_steps(_ds(np.stack([stepped, r])), (1000, 1800), mode=mode)
    far = (np.abs(WL - 1000) > 3) & (np.abs(WL - 1800) > 3)
    np.testing.assert_allclose(out.reflectance[0, far], r[far], atol=2e-3)
    np.testing.assert_allclose(out.reflectance[1], r, atol=1e-12)  # no step: untouched
    assert rep.details["steps"][1000.0][0] == pytest.approx(0.02, abs=2e-3)
    assert rep.details["steps"][1800.0][0] == pytest.approx(-0.015, abs=2e-3)
    assert list(rep.details["corrected_rows"]) == [0]


def test_splice_multiplicative():
    r = leaf_like()
    stepped = r.copy()
    stepped[WL > 1000] *= 1.05  # a gain error of the SWIR detector
    out, rep = correct_splice_steps(_ds(stepped), (1000,), mode="multiplicative")
    far = np.abs(WL - 1000) > 3
    np.testing.assert_allclose(out.reflectance[0, far], r[far], atol=1e-3)
    with pytest.raises(ValueError, match="mode"):
        correct_splice_steps(_ds(r), (1000,), mode="other")


def test_splice_auto_joins_by_instrument():
    r = leaf_like()
    stepped = r.copy()
    stepped[WL > 1895] += 0.015
    svc = _ds(stepped, instrument="SVC HR-1024i")
    out, rep = correct_splice_steps(svc)
    assert set(rep.details["steps"]) == {1000.0, 1895.0}
    assert np.max(np.abs(out.reflectance[0, WL > 1900] - r[WL > 1900])) < 2e-3
    _, rep_asd = correct_splice_steps(_ds(stepped, instrument="ASD FieldSpec 4"))
    assert set(rep_asd.details["steps"]) == {1000.0, 1800.0}


def test_flag_outliers():
    rng = np.random.default_rng(1)
    base = leaf_like()
    rows = [base * rng.uniform(0.95, 1.05) for _ in range(20)]
    rows[3] = base * 0.3  # a dark, broken spectrum
    rows[5] = np.clip(base * 2.0, 0, 0.96)  # white background NIR ~0.93
    rows[7] = base.copy()
    rows[7][1500] = 1.4  # out of range
    out, rep = flag_outliers(_ds(np.stack(rows)))
    m = out.meta
    assert m["flag_spectral"].iloc[3] and m["flag_white_background"].iloc[5] and m["flag_range"].iloc[7]
    assert not m["flag_any"].iloc[[0, 1, 2, 4, 6]].any()
    assert rep.details["counts"]["flag_white_background"] == 1 and out.reflectance is not None


def test_pipeline_collects_reports():
    r = leaf_like()
    ds = _ds(np.stack([r * 100, r]))
    pipe = compose(to_fraction, savgol, partial(resample, target_wavelengths=np.arange(400.0, 2401.0, 10.0)))
    out, reports = pipe(ds)
    assert [x.step for x in reports] == ["to_fraction", "savgol", "resample"]
    assert out.wavelengths.size == 201 and np.nanmax(out.reflectance) < 1
    with pytest.raises(TypeError, match="StepReport"):
        compose(lambda d: (d, "done"))(ds)
