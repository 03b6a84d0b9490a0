"""Water-cloud calibration: recovery of known coefficients from data the model generated itself (a self-consistency
test of the fit, not a validation of the model), and a fit on the real Sentinel-1/2 LAI sample that runs, is finite
and lowers the dB RMSE of the default coefficients; the sample's realism statistics (ENL, per-LAI-class medians,
LAI–VH correlation)."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.inversion import (ASSUMED_INCIDENCE_DEG, NOMINAL_SOIL_MOISTURE, WcmFitData, fit_water_cloud,
                               sample_realism_stats, wcm_fit_data)
from leafjax.physics.radar import DEFAULT_COEFFICIENTS, WaterCloudCoefficients, water_cloud_db

TRUE = {"vh": {"a": 0.03, "b": 0.25, "e": 0.4}, "vv": {"a": 0.09, "b": 0.4, "e": 0.5}}
SOIL_DB = {"vh": np.array([-21.0, -19.5, -22.0]), "vv": np.array([-13.0, -11.0, -12.5])}


def _synthetic(e_free: bool = True, noise_db: float = 0.3, n: int = 3000, seed: int = 0) -> WcmFitData:
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(3), n)
    lai = rng.uniform(0.0, 6.0, group.size)
    s1 = []
    for pol in ("vh", "vv"):
        t = TRUE[pol]
        d = DEFAULT_COEFFICIENTS[pol]["d"]
        c = SOIL_DB[pol][group] - d * NOMINAL_SOIL_MOISTURE
        co = WaterCloudCoefficients(a=t["a"], b=t["b"], c=jnp.asarray(c), d=d, e=t["e"] if e_free else 1.0)
        s1.append(np.asarray(water_cloud_db(jnp.asarray(lai), NOMINAL_SOIL_MOISTURE, ASSUMED_INCIDENCE_DEG, co))
                  + rng.normal(0.0, noise_db, lai.size))
    return WcmFitData(lai, np.stack(s1, axis=1), group, ("g0", "g1", "g2"))


@pytest.mark.parametrize("e_free", [True, False])
def test_fit_recovers_the_coefficients_of_self_generated_data(e_free):
    """Self-consistency, not validation: data simulated by the water-cloud model itself (0.3 dB Gaussian noise,
    LAI 0–6, three scene-dates with their own soil term) are fitted back; the fit must recover A, B, E and the
    per-scene-date bare-soil σ⁰ (C + D·mv)."""
    fit = fit_water_cloud(_synthetic(e_free), fit_exponent=e_free)
    for pol in ("vh", "vv"):
        co, t = getattr(fit.coefficients, pol), TRUE[pol]
        assert fit.status[pol] == 0, fit.status
        assert float(co.a) == pytest.approx(t["a"], rel=0.05)
        assert float(co.b) == pytest.approx(t["b"], rel=0.05)
        assert float(co.e) == pytest.approx(t["e"] if e_free else 1.0, rel=0.05)
        soil = np.asarray(co.c) + float(co.d) * NOMINAL_SOIL_MOISTURE
        np.testing.assert_allclose(soil, SOIL_DB[pol], atol=0.15)  # ≈ 3σ: only thin canopies see the soil
        assert fit.rmse_db[pol] == pytest.approx(0.3, rel=0.05)  # the noise level: nothing left to explain
        assert not fit.linear_limit[pol]
    assert fit.coefficients.vv.c.dtype == jnp.float64 and fit.n_pixels == 9000


def test_fit_rejects_bad_settings_and_empty_data():
    with pytest.raises(ValueError, match="incidence_deg"):
        fit_water_cloud(_synthetic(n=50), incidence_deg=95.0)
    with pytest.raises(ValueError, match="no valid pixel"):
        wcm_fit_data([])


@pytest.fixture(scope="module")
def chips(shared_data):
    pytest.importorskip("rioxarray")
    folder = shared_data / "lai_s1s2_sample"
    if not (folder / "s1").is_dir():
        pytest.skip(f"the S1/S2 LAI sample is not in {shared_data}")
    from leafjax.data import load_s1s2_sample

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the sample's corrupt LAI file (tested in tests/data)
        return load_s1s2_sample(folder)


def test_fit_on_the_real_sample_runs_is_finite_and_beats_the_defaults(chips):
    data = wcm_fit_data(chips, max_pixels_per_group=20000, seed=0)
    assert data.groups == ("KALININGRAD_GUSEV t-2", "KALININGRAD_GUSEV t-1", "LATVIA_LITHUANIA t-1",
                           "MOLDOVA_ROMANIA t-2", "MOLDOVA_ROMANIA t-1")  # Latvia t-2: corrupt LAI file
    assert data.lai.min() >= 0.0
    fit = fit_water_cloud(data)
    print("\n" + fit.summary())
    for pol in ("vh", "vv"):
        co = getattr(fit.coefficients, pol)
        assert all(np.all(np.isfinite(np.asarray(v))) for v in (co.a, co.b, co.c, co.e))
        assert fit.rmse_db[pol] < fit.rmse_default_db[pol]
        assert fit.rmse_db[pol] <= fit.rmse_offsets_db[pol]  # LAI explains something beyond per-date offsets
        assert fit.status[pol] in (0, 1)


def test_realism_statistics_of_the_real_sample(chips):
    stats = sample_realism_stats(chips)
    print(f"\nENL (homogeneous {stats['settings']['window']}x{stats['settings']['window']} windows): "
          f"VH {stats['enl']['vh']['median']:.1f}, VV {stats['enl']['vv']['median']:.1f} "
          f"({stats['enl']['vh']['n']} windows); LAI-VH r = {stats['lai_vh_correlation']:.3f}, "
          f"LAI-VV r = {stats['lai_vv_correlation']:.3f}")
    for label, row in stats["backscatter_median_db"].items():
        print(f"  LAI {label}: VH {row['vh']:.2f} dB, VV {row['vv']:.2f} dB, n = {row['n']}")
    for pol in ("vh", "vv"):
        enl = stats["enl"][pol]
        assert enl["n"] > 100 and 1.0 < enl["q25"] <= enl["median"] <= enl["q75"]
        assert 0.0 < stats["lag1_correlation"][pol]["median"] < 1.0
        assert stats["date_change_db"][pol]["median_abs"] > 0.0
    assert 0.1 < stats["lai_vh_correlation"] < 0.7
    assert set(stats["lai_vh_correlation_by_scene_date"]) == {"KALININGRAD_GUSEV t-2", "KALININGRAD_GUSEV t-1",
                                                              "LATVIA_LITHUANIA t-1", "MOLDOVA_ROMANIA t-2",
                                                              "MOLDOVA_ROMANIA t-1"}
    rows = [r for r in stats["backscatter_median_db"].values() if r["n"]]
    assert all(r["vh"] < r["vv"] for r in rows)
    assert sum(r["n"] for r in stats["backscatter_median_db"].values()) == stats["n_valid_pixels"]
    q = stats["lai_quantiles"]
    assert 0.0 <= q["q05"] < q["q50"] < q["q95"] < 8.0
