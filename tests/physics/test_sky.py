"""Sky physics: solar position against the NREL SPA (pvlib), noon symmetry and input handling; the relative
azimuth and 4SAIL's hotspot convention; the Bird & Riordan diffuse fraction (bounds, monotonicity, limits,
jit/vmap, gradients)."""

from __future__ import annotations

import datetime as dt

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.canopy import canopy_geometry, lidf
from leafjax.physics.sky import (ACCURACY_DEG, SkyIllumination, air_mass, diffuse_fraction, rayleigh_optical_depth,
                                 relative_azimuth, solar_position)

WL = np.arange(400.0, 2401.0, 10.0)


def _sky_distance(z1, a1, z2, a2):
    """Angle (degrees) between two directions given by zenith and azimuth (degrees)."""
    z1, a1, z2, a2 = (np.deg2rad(v) for v in (z1, a1, z2, a2))
    c = np.cos(z1) * np.cos(z2) + np.sin(z1) * np.sin(z2) * np.cos(a1 - a2)
    return np.rad2deg(np.arccos(np.clip(c, -1.0, 1.0)))


def _pvlib(times, lat, lon):
    pvlib = pytest.importorskip("pvlib")
    import pandas as pd

    sp = pvlib.solarposition.get_solarposition(pd.DatetimeIndex(times, tz="UTC"), lat, lon, method="nrel_numpy")
    return sp["zenith"].to_numpy(), sp["azimuth"].to_numpy()


def test_solar_position_matches_the_nrel_spa():
    rng = np.random.default_rng(14)
    t0, t1 = (np.datetime64(s, "s").astype(np.int64) for s in ("1990-01-01T00:00:00", "2040-12-31T23:59:59"))
    zs, az, ours_z, ours_a = [], [], [], []
    for _ in range(40):  # 40 places × 40 times (pvlib takes one place per call)
        lat, lon = rng.uniform(-70.0, 70.0), rng.uniform(-180.0, 180.0)
        times = rng.integers(t0, t1, 40).astype("datetime64[s]")
        z, a = _pvlib(times, lat, lon)
        oz, oa = solar_position(times, lat, lon)
        zs.append(z), az.append(a), ours_z.append(oz), ours_a.append(oa)
    zs, az, oz, oa = (np.concatenate(v) for v in (zs, az, ours_z, ours_a))
    day = zs < 85.0
    assert day.sum() >= 200
    dz = np.abs(oz - zs)[day]
    da = np.abs((oa - az + 180.0) % 360.0 - 180.0)[day]
    sep = _sky_distance(oz, oa, zs, az)[day]
    assert dz.max() <= ACCURACY_DEG and sep.max() <= ACCURACY_DEG, (dz.max(), sep.max())
    assert da[zs[day] >= 20.0].max() <= 0.02, da[zs[day] >= 20.0].max()
    assert np.all((oa >= 0.0) & (oa < 360.0)) and oz.dtype == np.float64


def test_witzwil_acquisition():
    sza, saa = solar_position("2022-03-05T10:29:21Z", 46.983, 7.0876)
    z, a = _pvlib([np.datetime64("2022-03-05T10:29:21")], 46.983, 7.0876)
    assert abs(float(sza) - z[0]) <= ACCURACY_DEG and abs(float(saa) - a[0]) <= ACCURACY_DEG
    assert 55.3 < float(sza) < 55.5 and 157.4 < float(saa) < 157.6  # morning: sun south-south-east


def test_noon_symmetry_at_the_solstice():
    lat, lon = 46.983, 7.0876
    times = np.datetime64("2021-06-21T10:30:00") + np.arange(0, 7200, 1).astype("timedelta64[s]")
    sza, _ = solar_position(times, lat, lon)
    noon = times[np.argmin(sza)]
    assert abs(float(sza.min()) - (lat - 23.437)) < 0.01  # transit zenith = lat − declination
    offsets = np.array([600, 3600, 10800]).astype("timedelta64[s]")
    z_before, a_before = solar_position(noon - offsets, lat, lon)
    z_after, a_after = solar_position(noon + offsets, lat, lon)
    np.testing.assert_allclose(z_before, z_after, atol=0.01)
    np.testing.assert_allclose(a_before + a_after, 360.0, atol=0.02)
    assert np.all(a_before < 180.0) and np.all(a_after > 180.0)


def test_vectorised_equals_scalar_and_inputs():
    rng = np.random.default_rng(3)
    times = (np.datetime64("2020-01-01T00:00:00") + rng.integers(0, 86400 * 365, 12).astype("timedelta64[s]"))
    lat, lon = rng.uniform(-60, 60, 12), rng.uniform(-180, 360, 12)
    sza, saa = solar_position(times, lat, lon)
    assert sza.shape == saa.shape == (12,)
    for i in range(12):
        z, a = solar_position(times[i], lat[i], lon[i])
        np.testing.assert_allclose([z, a], [sza[i], saa[i]], rtol=1e-12, atol=1e-9)
    # broadcasting: one time over a grid of places
    grid_z, _ = solar_position(times[0], lat[:, None], lon[None, :])
    assert grid_z.shape == (12, 12)
    np.testing.assert_allclose(np.diag(grid_z), solar_position(times[0], lat, lon)[0], rtol=1e-12)
    # the same instant written five ways
    ref = solar_position(np.datetime64("2022-03-05T10:29:21"), 46.983, 7.0876)
    pd = pytest.importorskip("pandas")
    for t in ("2022-03-05T10:29:21Z", "2022-03-05T11:29:21+01:00", "2022-03-05 10:29:21",
              dt.datetime(2022, 3, 5, 11, 29, 21, tzinfo=dt.timezone(dt.timedelta(hours=1))),
              pd.Timestamp("2022-03-05 11:29:21", tz="Europe/Zurich"), ["2022-03-05T10:29:21Z"]):
        np.testing.assert_allclose(np.ravel(solar_position(t, 46.983, 7.0876)), np.ravel(ref), rtol=1e-12)


@pytest.mark.parametrize("kwargs, match", [({"lat": 91.0}, "lat must lie"), ({"lon": 360.0}, "lon must lie"),
                                           ({"lon": -181.0}, "lon must lie"), ({"lat": np.nan}, "finite"),
                                           ({"time": "yesterday"}, "ISO-8601"), ({"time": 3.5}, "time must"),
                                           ({"time": np.datetime64("NaT")}, "NaT")])
def test_solar_position_rejects_bad_input(kwargs, match):
    args = {"time": "2022-03-05T10:29:21Z", "lat": 46.0, "lon": 7.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        solar_position(args["time"], args["lat"], args["lon"])


def test_relative_azimuth_folds_and_follows_the_4sail_hotspot_convention():
    np.testing.assert_allclose(relative_azimuth([10.0, 0.0, 90.0, 359.0], [350.0, 180.0, 300.0, 1.0]),
                               [20.0, 180.0, 150.0, 2.0])
    assert isinstance(relative_azimuth(jnp.asarray(10.0), 350.0), jax.Array)
    # sun and sensor in the same direction (saa = vaa) with sza = vza: 4SAIL's hotspot distance vanishes (the
    # brighter backscatter at raa = 0 is checked in test_observed.py)
    raa = jnp.asarray(relative_azimuth(140.0, 140.0))
    dist = lidf("campbell", jnp.asarray(57.0), jnp.asarray(0.0))
    assert float(canopy_geometry(dist, jnp.asarray(35.0), jnp.asarray(35.0), raa).dso) == 0.0


def test_diffuse_fraction_bounds_and_monotonicity():
    sza = jnp.arange(0.0, 76.0, 5.0)
    d = np.asarray(diffuse_fraction(WL, sza))
    assert d.shape == (sza.size, WL.size) and d.dtype == np.float64
    assert np.all((d > 0.0) & (d < 1.0))
    assert np.all(np.diff(d, axis=0) > 0.0)  # more diffuse towards the horizon
    assert np.all(np.diff(d, axis=1) < 0.0)  # and towards the blue
    hazy = np.asarray(diffuse_fraction(WL, jnp.asarray([30.0, 89.0, 90.0, 95.0]), aot550=2.0))
    assert np.all((hazy >= 0.0) & (hazy <= 1.0)) and np.all(hazy[0] > d[6])  # 1.0 once the beam is gone
    assert np.all(np.asarray(diffuse_fraction(WL, 30.0, aot550=0.0, pressure_hpa=0.0)) == 0.0)


def test_rayleigh_and_air_mass_against_independent_formulas():
    lam = WL * 1e-3  # Hansen & Travis (1974, eq. 2.29), an independent fit
    hansen = 0.008569 * lam**-4 * (1.0 + 0.0113 * lam**-2 + 0.00013 * lam**-4)
    vis = WL <= 1000.0  # their fit is for the visible; beyond, both are below 0.01
    np.testing.assert_allclose(rayleigh_optical_depth(WL)[vis], hansen[vis], rtol=0.015)
    np.testing.assert_allclose(rayleigh_optical_depth(WL)[~vis], hansen[~vis], atol=1e-4)
    np.testing.assert_allclose(rayleigh_optical_depth(WL, 506.625)[vis], 0.5 * hansen[vis], rtol=0.015)
    m = air_mass(jnp.asarray([0.0, 60.0, 90.0]))
    np.testing.assert_allclose(m[:2], [1.0, 2.0], rtol=3e-3)  # plane-parallel 1/cos at moderate zenith
    assert 37.0 < float(m[2]) < 39.0  # Kasten & Young (1989): 37.9 at the horizon
    # Rayleigh only: the closed form of Bird & Riordan
    t_r = np.exp(-rayleigh_optical_depth(550.0) * float(air_mass(jnp.asarray(40.0))))
    diff = 0.5 * (1.0 - t_r**0.95)
    np.testing.assert_allclose(diffuse_fraction(np.asarray([550.0]), 40.0, aot550=0.0), [diff / (t_r + diff)],
                               rtol=1e-12)


def test_diffuse_fraction_jit_vmap_dtype_and_pytree():
    sza = jnp.asarray([10.0, 35.0, 60.0])
    aot = jnp.asarray([0.05, 0.2, 0.6])
    ref = diffuse_fraction(WL, sza, aot550=aot)
    np.testing.assert_allclose(jax.jit(lambda z, a: diffuse_fraction(WL, z, aot550=a))(sza, aot), ref, rtol=1e-12)
    np.testing.assert_allclose(jax.vmap(lambda z, a: diffuse_fraction(WL, z, aot550=a))(sza, aot), ref, rtol=1e-12)
    assert diffuse_fraction(jnp.asarray(WL, jnp.float32), sza.astype(jnp.float32)).dtype == jnp.float32
    sky = SkyIllumination(aot550=aot, angstrom=1.0)
    assert len(jax.tree.leaves(sky)) == 4
    np.testing.assert_allclose(jax.jit(lambda s, z: s(WL, z))(sky, sza),
                               diffuse_fraction(WL, sza, aot550=aot, angstrom=1.0), rtol=1e-12)
    with pytest.raises(ValueError, match="are they in µm"):
        diffuse_fraction(WL * 1e-3, 30.0)
    with pytest.raises(ValueError, match="aot550 must be >= 0"):
        diffuse_fraction(WL, 30.0, aot550=-0.1)


def test_diffuse_fraction_gradients_match_finite_differences():
    wl = np.asarray([450.0, 670.0, 865.0, 1610.0])
    f = lambda aot, z: jnp.sum(diffuse_fraction(wl, z, aot550=aot) * jnp.asarray([1.0, 2.0, 3.0, 4.0]))  # noqa
    aot, z, h = 0.25, 40.0, 1e-5
    g_aot, g_z = jax.grad(f, argnums=(0, 1))(jnp.asarray(aot), jnp.asarray(z))
    fd_aot = (f(aot + h, z) - f(aot - h, z)) / (2 * h)
    fd_z = (f(aot, z + h) - f(aot, z - h)) / (2 * h)
    np.testing.assert_allclose([g_aot, g_z], [fd_aot, fd_z], rtol=1e-6)
    assert float(g_aot) > 0.0 and float(g_z) > 0.0
