"""The Sentinel-1/2 scene simulator: shapes, determinism, phenology, clouds and SCL, the retrieved LAI product,
radar against the water-cloud model, speckle statistics, dates and sun, recompilation.  Chips of 32 × 32 pixels
and one compiled program (4 chips per call) shared by every test; the retrieval is the cheap NDVI stand-in."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from _compile_count import count_compiles
from leafjax.data import VALID_SCL
from leafjax.physics.radar import water_cloud_db
from leafjax.physics.sky import solar_position
from leafjax.simulation import (CROP_CLASSES, CloudSettings, NdviLaiRetrieval, RadarSettings, SceneConfig,
                                acquisition_dates, class_arrays, crop_lai, default_scene_optics, realism_report,
                                scene_radar_coefficients, scenes_to_chips, simulate_s1s2_scenes, smoothed_speckle,
                                solar_geometry, speckle_for_targets, speckle_statistics, split_config)

PER_CALL = 4  # one compiled shape for every test


@pytest.fixture(scope="module")
def optics():
    return default_scene_optics()


class Recorder:
    """The NDVI stand-in retrieval, remembering what it was called with."""

    def __init__(self, band_names):
        self.inner = NdviLaiRetrieval(band_names=band_names)
        self.calls = []

    def __call__(self, reflectance, geometry):
        self.calls.append((reflectance, geometry))
        return self.inner(reflectance, geometry)


def _run(optics, n=3, config=SceneConfig(), key=0, retrieve=None):
    retrieve = retrieve or NdviLaiRetrieval(band_names=optics.srf.band_names)
    return simulate_s1s2_scenes(jax.random.key(key), n, config, retrieve=retrieve, optics=optics,
                                chips_per_call=PER_CALL)


@pytest.fixture(scope="module")
def cloudy(optics):
    """3 chips with 30 % cloud on every date (exactly, by the quantile threshold)."""
    rec = Recorder(optics.srf.band_names)
    cfg = SceneConfig(clouds=CloudSettings(clear_probability=0.0, fraction=(0.3, 0.3)))
    return _run(optics, 3, cfg, retrieve=rec), rec


@pytest.mark.slow
def test_shapes_dtypes_and_ranges(cloudy, optics):
    s, _ = cloudy
    n, y = 3, 32
    assert s.s1_db.shape == (n, 3, 2, y, y) and s.s1_db.dtype == np.float32
    assert s.lai_product.shape == (n, 2, y, y) and s.lai_product.dtype == np.float64
    for field in (s.lai, s.lai_s1, s.soil_moisture):
        assert field.shape == (n, 3, y, y) and field.dtype == np.float32
    assert s.scl.shape == (n, 3, y, y) and s.scl.dtype == np.int16 and s.clear.dtype == bool
    assert s.reflectance.shape == (n, 3, y, y, optics.srf.n_bands)
    assert s.incidence_deg.shape == (n, y, y) and s.parcel.shape == (n, y, y)
    assert s.s2_doy.shape == s.s1_doy.shape == s.sza.shape == (n, 3) and s.vza.shape == (n,)
    assert s.band_names == tuple(optics.srf.band_names) and len(s.class_names) == len(CROP_CLASSES)
    assert np.all(np.isfinite(s.s1_db)) and np.all((s.s1_db > -40) & (s.s1_db < 5))
    assert np.all((s.incidence_deg > 30) & (s.incidence_deg < 48))
    assert np.all((s.soil_moisture >= 0.02) & (s.soil_moisture <= 0.45))
    assert np.all((s.sza > 10) & (s.sza < 80)) and np.all((s.raa >= 0) & (s.raa <= 180))


def test_determinism_and_independent_chips(optics, cloudy):
    s, _ = cloudy
    again = _run(optics, 3, SceneConfig(clouds=CloudSettings(clear_probability=0.0, fraction=(0.3, 0.3))))
    np.testing.assert_array_equal(again.s1_db, s.s1_db)
    np.testing.assert_array_equal(again.lai, s.lai)
    two = _run(optics, 2, SceneConfig(clouds=CloudSettings(clear_probability=0.0, fraction=(0.3, 0.3))))
    np.testing.assert_array_equal(two.s1_db, s.s1_db[:2])  # chip i depends on (key, i) only
    np.testing.assert_array_equal(two.scl, s.scl[:2])
    assert not np.allclose(s.s1_db[0], s.s1_db[1]) and not np.array_equal(s.parcel[0], s.parcel[1])
    other = _run(optics, 2, key=1)
    assert not np.allclose(other.s1_db, s.s1_db[:2])


def test_phenology_bounds_harvest_and_mowing():
    ca = class_arrays(CROP_CLASSES)
    d = jnp.arange(1.0, 366.0)
    for i, c in enumerate(CROP_CLASSES):
        p = {k: jnp.asarray(v[i]) for k, v in ca.items()}
        p.update(lai_amplitude=p["lai_amplitude_mean"], sos=p["sos_mean"], eos=p["eos_mean"],
                 harvest=p["harvest_mean"])
        lai = np.asarray(crop_lai(d, p))
        assert lai.min() >= 0 and lai.max() <= c.lai_base + c.lai_amplitude[0] + 1e-6, c.name
        if c.harvest[0] < 366:
            after = lai[int(c.harvest[0]) + 5:int(c.harvest[0]) + 30]
            assert np.all(after <= c.lai_residual + 1e-3), c.name  # harvested: near 0
        if c.mowing[0] < 366:
            m = int(c.mowing[0])
            before, cut, later = lai[m - 3], lai[m + 1], lai[m + 40]
            assert cut < 0.3 * before and later > 2 * cut, c.name  # cut, then regrowth
    # and in the scenes: LAI within the class bounds
    p = {k: jnp.asarray(v[0]) for k, v in ca.items()}
    p.update(lai_amplitude=p["lai_amplitude_mean"], sos=p["sos_mean"], eos=p["eos_mean"],
             harvest=p["harvest_mean"])
    g = jax.grad(lambda a: crop_lai(jnp.asarray(150.0), {**p, "lai_amplitude": a}))(jnp.asarray(4.0))
    assert 0.5 < float(g) <= 1.0  # differentiable in the amplitude (the growth factor at DOY 150)


def test_scene_lai_limits(cloudy):
    s, _ = cloudy
    top = max(c.lai_base + c.lai_amplitude[0] + 4 * c.lai_amplitude[1] for c in CROP_CLASSES) * 1.6
    assert np.all(s.lai >= 0) and np.all(s.lai <= top)
    water = np.array([c.water for c in CROP_CLASSES])[s.crop_class]
    assert np.all(s.lai[np.broadcast_to(water[:, None], s.lai.shape)] == 0)


def test_cloud_fraction_and_masks_match_scl(cloudy):
    s, _ = cloudy
    cloud = np.isin(s.scl, (8, 9))
    frac = cloud.mean(axis=(2, 3))
    np.testing.assert_allclose(frac, 0.3, atol=0.02)
    np.testing.assert_allclose(s.cloud_fraction, 0.3, atol=1e-6)
    assert set(np.unique(s.scl).tolist()) <= {3, 4, 5, 6, 7, 8, 9, 10}
    assert (s.scl == 3).any() and (s.scl == 9).any() and (s.scl == 8).any()
    np.testing.assert_array_equal(s.clear, np.isin(s.scl, VALID_SCL))
    assert np.all(np.isnan(s.lai_product[~s.clear[:, :2]]))
    assert np.all(np.isfinite(s.lai_product[s.clear[:, :2]]))
    refl = s.reflectance[cloud]
    assert np.all(refl > 0.2)  # clouds are bright


def test_product_is_the_injected_retrieval_on_clear_pixels(cloudy, optics):
    s, rec = cloudy
    assert len(rec.calls) == 1  # one call for all chips and dates
    ok = s.clear[:, :2]
    expected = NdviLaiRetrieval(band_names=optics.srf.band_names)(s.reflectance[:, :2][ok].astype(np.float64), {})
    np.testing.assert_array_equal(s.lai_product[ok], expected)
    reflectance, geometry = rec.calls[0]
    assert reflectance.shape == (int(ok.sum()), optics.srf.n_bands) and set(geometry) == {"sza", "vza", "raa"}
    np.testing.assert_allclose(geometry["sza"], np.broadcast_to(s.sza[:, :2, None, None], ok.shape)[ok])


def test_radar_equals_water_cloud_without_speckle_or_perturbation(optics):
    classes = tuple(dataclasses.replace(c, radar_offset_db=(0.0, 0.0), share=0.0 if c.water else c.share)
                    for c in CROP_CLASSES)
    zero = (0.0, 0.0)
    radar = RadarSettings(chip_db_sd=zero, parcel_db_sd=zero, parcel_date_db_sd=zero, event_db_sd=zero,
                          pixel_db_sd=zero, looks=zero)
    cfg = SceneConfig(classes=classes, radar=radar)
    s = _run(optics, 2, cfg)
    co, _ = scene_radar_coefficients(None, soil=cfg.soil)
    theta = np.broadcast_to(s.incidence_deg[:, None], s.lai_s1.shape)
    for i, pol in enumerate(("vh", "vv")):
        co_p = jax.tree.map(lambda v: jnp.asarray(v, jnp.float32), getattr(co, pol))
        expected = np.asarray(water_cloud_db(jnp.asarray(s.lai_s1), jnp.asarray(s.soil_moisture), jnp.asarray(theta),
                                             co_p))
        np.testing.assert_allclose(s.s1_db[:, :, i], expected, atol=2e-4)
        np.testing.assert_allclose(s.model_db[:, :, i], expected, atol=2e-4)


def test_speckle_enl_and_lag1_match_their_targets():
    looks, sigma = speckle_for_targets(30.6, 0.77)
    enl, rho = speckle_statistics(looks, sigma)
    assert abs(enl - 30.6) < 1e-6 and abs(rho - 0.77) < 1e-6
    field = smoothed_speckle(jax.random.key(3), jnp.full((4, 128, 128), 0.02, jnp.float64),
                             jnp.asarray(looks), jnp.asarray(sigma))
    x = np.asarray(field)[:, 8:-8, 8:-8]  # away from the edges
    measured = x.mean() ** 2 / x.var(ddof=1)
    a = x - x.mean(axis=(1, 2), keepdims=True)
    lag1 = np.sum(a[:, :, :-1] * a[:, :, 1:]) / np.sum(a * a)
    assert abs(measured / 30.6 - 1) < 0.1 and abs(lag1 - 0.77) < 0.03
    d = RadarSettings()
    assert all(speckle_statistics(L, s)[1] > 0.7 for L, s in zip(d.looks, d.smoothing_px))
    same = smoothed_speckle(jax.random.key(3), jnp.ones((2, 16, 16)), 0.0, 1.0)  # looks 0: off
    np.testing.assert_array_equal(np.asarray(same), 1.0)


def test_dates_and_sun():
    _, dyn = split_config(SceneConfig())
    dyn = {k: jnp.asarray(v) for k, v in dyn.items()}
    for i in range(20):
        s2, s1 = (np.asarray(v) for v in acquisition_dates(jax.random.key(i), dyn, jnp.float64))
        gaps = np.diff(s2)
        assert np.all(np.isin(gaps, (5.0, 10.0))) and 105 <= s2[2] <= 275
        assert np.all(np.diff(s1) >= 6.0) and np.all(np.mod(s1 - s1[0], 6.0) == 0)
        assert np.all(np.abs(s1 - s2) <= 9.0)
    for doy, date, lat in ((100, "2019-04-10T10:31:00Z", 55.0), (172, "2019-06-21T10:31:30Z", 50.0)):
        sza, saa = solar_geometry(float(doy), lat, 10.5)
        ref_z, ref_a = solar_position(date, lat, 0.0)
        assert abs(float(sza) - float(ref_z)) < 0.5 and abs(float(saa) - float(ref_a)) < 0.5


def test_second_call_does_not_recompile(optics):
    cfg = SceneConfig(radar=dataclasses.replace(RadarSettings(), parcel_db_sd=(1.0, 1.0)))
    ret = NdviLaiRetrieval(band_names=optics.srf.band_names)
    _run(optics, 3, cfg, key=5, retrieve=ret)
    with count_compiles() as c:
        _run(optics, 3, dataclasses.replace(cfg, lai_pixel_cv=0.2), key=6, retrieve=ret)  # new numbers, same shapes
    assert c.compiles == 0, c.names


@pytest.mark.filterwarnings("ignore:Degrees of freedom")  # empty ENL windows of tiny chips
def test_chips_and_realism_report(cloudy):
    from leafjax.inversion import sample_realism_stats

    s, _ = cloudy
    chips = scenes_to_chips(s)
    assert len(chips) == 3 and chips[0].s1.shape == (3, 2, 32, 32) and chips[0].lai_status == ("ok", "ok", "missing")
    np.testing.assert_array_equal(chips[1].valid[:2], s.clear[1, :2])
    report = realism_report(chips[:2], chips[2:], sample_realism_stats, min_pixels=10)
    names = [r.statistic for r in report.rows]
    assert len(names) == 27 and "LAI-VH r" in names and "median vh LAI 1-2 (dB)" in names
    assert report.scenes == ("SIMULATED t-2", "SIMULATED t-1")
    assert "| statistic |" in report.table()
