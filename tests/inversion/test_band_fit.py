"""The band model fitted to the LBLRTM calibration atmospheres (shared data; fitted once per session through
:func:`leafjax.inversion.cached_band_model`): brightness-temperature accuracy on the held-out site atmospheres,
float64 finite-difference gradients on real profiles, the cache and the fit's input checks."""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from thermal_fixtures import fitted_band_model, lwir_truth, thermal_folder  # noqa: F401

import leafjax.inversion._band_fit as band_fit
from leafjax.data import split_truth
from leafjax.inversion import band_model_cache_dir, band_model_errors, cached_band_model, fit_band_model
from leafjax.physics.thermal import Atmosphere, toa_brightness_temperature, vimi_response

#: Issue 15 targets: site BT RMSE (K) of the 8.2, 8.6, 10.8 and 11.95 µm bands.
TARGET_K = np.array([0.5, 0.5, 0.3, 0.3])


def _rmse(errors):
    e = errors.reshape(-1, errors.shape[-1])
    return np.sqrt(np.mean(e**2, axis=0))


def test_site_brightness_temperature_accuracy(fitted_band_model, lwir_truth):
    m, truth = fitted_band_model, lwir_truth
    _, site = split_truth(truth)
    srf_model, srf_truth = vimi_response(np.asarray(m.wavenumber)), vimi_response(truth.wavenumber)
    site_err = band_model_errors(m, truth, site, srf_model, srf_truth)  # 21 land emissivities × Ts − 5, 0, +10 K
    assert site_err.shape == (40, 21, 3, 4)
    site_rmse = _rmse(site_err)
    print(f"band model site BT RMSE (K) {np.round(site_rmse, 3)}")
    assert np.all(site_rmse <= TARGET_K), site_rmse
    assert np.all(np.abs(site_err.mean(axis=(0, 1, 2))) < 0.15)  # no large band bias


def test_gradients_on_real_profiles(fitted_band_model, lwir_truth):
    """∂BT/∂Ts, ∂BT/∂ε and ∂BT/∂H₂O at several levels vs float64 central differences (relative ≤ 1e-4)."""
    m, truth = fitted_band_model, lwir_truth
    atm = truth.atmospheres[int(np.argsort(truth.column_water_vapour)[40])]  # a mid-range (≈ 2 g/cm²) profile
    srf = vimi_response(np.asarray(m.wavenumber))
    nu = np.asarray(m.wavenumber)

    @jax.jit
    def bt(ts, eps, h2o):
        a = Atmosphere(atm.pressure, atm.temperature, h2o, atm.o3, {})
        return toa_brightness_temperature(m(a, 20.0), eps, ts, srf)

    args = (jnp.float64(float(atm.temperature[0]) + 3.0), jnp.full(nu.size, 0.95), atm.h2o)
    k = int(np.argmin(np.abs(nu - 925.0)))
    zero_e, zero_w = jnp.zeros(nu.size), jnp.zeros(atm.h2o.shape)
    directions = [(1.0, zero_e, zero_w, 1e-3), (0.0, zero_e.at[k].set(1.0), zero_w, 1e-5)]
    directions += [(0.0, zero_e, zero_w.at[lev].set(1.0), float(atm.h2o[lev]) * 1e-4) for lev in (0, 2, 5, 10)]
    jvp = jax.jit(lambda t: jax.jvp(bt, args, t)[1])
    for d_ts, d_eps, d_h2o, h in directions:
        tangent = (jnp.float64(d_ts), d_eps, d_h2o)
        plus = [a + h * d for a, d in zip(args, tangent)]
        minus = [a - h * d for a, d in zip(args, tangent)]
        fd = (np.asarray(bt(*plus)) - np.asarray(bt(*minus))) / (2.0 * h)
        np.testing.assert_allclose(np.asarray(jvp(tangent)), fd, rtol=1e-4, atol=1e-12)


def test_cache_round_trip_and_failures(fitted_band_model, thermal_folder, monkeypatch, tmp_path):
    t0 = time.perf_counter()
    again = cached_band_model(thermal_folder)  # from the session cache: no refit
    assert time.perf_counter() - t0 < 5.0
    for a, b in zip(jax.tree.leaves(again), jax.tree.leaves(fitted_band_model)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert any(p.name.startswith("band-model-") for p in band_model_cache_dir().iterdir())
    with pytest.raises(ValueError, match="unknown band-model settings"):
        cached_band_model(thermal_folder, channel_widht=5)
    with pytest.raises(FileNotFoundError, match="lwir_atmospheres.h5"):
        cached_band_model(tmp_path)
    # an unwritable cache only warns (the fit itself is stubbed here)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("LEAFJAX_CACHE_DIR", str(blocker))
    monkeypatch.setattr(band_fit, "fit_band_model", lambda truth, idx, **kw: fitted_band_model)
    with pytest.warns(RuntimeWarning, match="could not write the band-model cache"):
        m = cached_band_model(thermal_folder, steps=3)
    assert m is fitted_band_model
    # a damaged cache entry is refitted with a warning
    monkeypatch.setenv("LEAFJAX_CACHE_DIR", str(tmp_path / "cache"))
    cached_band_model(thermal_folder, steps=3)
    (entry,) = list((tmp_path / "cache" / "thermal").iterdir())
    entry.write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="unreadable band-model cache"):
        cached_band_model(thermal_folder, steps=3)
    assert os.path.getsize(entry) > 100


def test_fit_input_checks(lwir_truth):
    cal, _ = split_truth(lwir_truth)
    with pytest.raises(ValueError, match="calibration atmospheres"):
        fit_band_model(lwir_truth, cal[:1])
    with pytest.raises(ValueError, match="channel width"):
        fit_band_model(lwir_truth, cal, channel_width=0)
    no_continuum = type(lwir_truth)(**{**lwir_truth.__dict__, "continuum": None})
    with pytest.raises(ValueError, match="continuum"):
        fit_band_model(no_continuum, cal)
