"""Seasonality features (two triangle waves of the date, Wang et al.) and the Sentinel-1/2 LAI network inputs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.preprocessing import (
    LAI_SCALE,
    s1s2_inputs,
    s1s2_targets,
    scl_mask_channels,
    scl_valid,
    seasonality,
    seasonality_maps,
    triangle_wave,
    year_fraction,
)


def _reference_wave(f: float) -> float:
    """The reference code's piecewise map (``periodlin_map``), restated: on each half-period ``[k/2, (k+1)/2)``
    the value rises with slope 4 (even k) or falls with slope −4 (odd k); −1 at integers, +1 at half-integers."""
    k = int(np.floor(f / 0.5))
    if k % 2 == 0:
        return 4.0 * (f - k / 2) - 1.0
    return 1.0 - 4.0 * (f - k / 2)


def test_matches_the_reference_definition_on_every_calendar_day():
    month, day = np.meshgrid(np.arange(1, 13), np.arange(1, 32), indexing="ij")
    f = year_fraction(month, day)
    got = seasonality(fraction=f)
    assert got.shape == (12, 31, 2)
    ref = np.vectorize(_reference_wave)
    np.testing.assert_allclose(got[..., 0], ref(f), atol=1e-12)
    np.testing.assert_allclose(got[..., 1], ref(f - 0.25), atol=1e-12)


def test_range_landmarks_periodicity_and_distinct_dates():
    doy = np.arange(1, 366, dtype=float)
    s = seasonality(doy)
    assert s.shape == (365, 2) and np.all(np.abs(s) <= 1.0)
    # winter-summer wave: -1 at the start of the year, +1 at mid-year; spring-autumn: -1 at f = 1/4, +1 at f = 3/4
    f = np.array([0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(seasonality(fraction=f), [[-1, 0], [0, -1], [1, 0], [0, 1]], atol=1e-12)
    np.testing.assert_allclose(seasonality(doy + 365.25), s, atol=1e-9)  # period one year
    # continuous (slope 4 per year) and no two days of a year share both features (|s1| + |s2| = 1: a diamond)
    assert np.max(np.abs(np.diff(s, axis=0))) <= 4.0 / 365.25 + 1e-12
    np.testing.assert_allclose(np.abs(s).sum(axis=1), 1.0, atol=1e-12)
    assert len({tuple(np.round(v, 9)) for v in s}) == 365
    np.testing.assert_allclose(triangle_wave(np.array([-0.25, 1.5])), [0.0, 1.0])
    with pytest.raises(ValueError, match="exactly one"):
        seasonality(doy, fraction=doy / 365.0)


def test_jax_arrays_stay_jax_under_jit_and_maps_broadcast():
    doy = jnp.array([10.0, 200.0])
    out = jax.jit(seasonality)(doy)
    assert isinstance(out, jax.Array) and out.shape == (2, 2)
    np.testing.assert_allclose(np.asarray(out), seasonality(np.array([10.0, 200.0])), rtol=1e-6)
    maps = seasonality_maps(np.asarray(out), 3, 4)
    assert maps.shape == (2, 2, 3, 4) and np.all(maps == np.asarray(out)[:, :, None, None])
    with pytest.raises(ValueError, match="batch, k"):
        seasonality_maps(np.zeros(2), 3, 4)


def test_s1s2_inputs_and_targets():
    rng = np.random.default_rng(0)
    n, h, w = 2, 3, 4
    scl = rng.integers(0, 12, (n, 2, h, w)).astype(np.float64)  # stored as float64 in the challenge files
    lai = rng.random((n, 2, h, w)) * 6.0
    lai[0, 0, 0, 0] = np.nan
    x = s1s2_inputs(np.full((n, 3, 2, h, w), -15.0), lai, scl, [1, 183])
    assert {k: v.shape for k, v in x.items()} == {"s1": (n, 3, 2, h, w), "lai": (n, 2, h, w),
                                                   "lai_mask": (n, 2, 6, h, w), "season": (n, 2)}
    assert all(v.dtype == np.float32 for v in x.values())
    np.testing.assert_allclose(x["s1"], 0.5)  # -15 dB / 30 + 1
    assert x["lai"][0, 0, 0, 0] == 0.0
    np.testing.assert_allclose(x["lai"][1], lai[1] / LAI_SCALE, rtol=1e-6)
    masks = x["lai_mask"]
    np.testing.assert_array_equal(masks[:, :, 0], (scl >= 2) & (scl <= 6))
    np.testing.assert_array_equal(masks[:, :, 1:].sum(axis=2), masks[:, :, 0])  # one-hot within the valid classes
    np.testing.assert_array_equal(masks[:, :, 3], scl == 4)
    np.testing.assert_array_equal(scl_mask_channels(scl[0, 0]).shape, (6, h, w))
    assert not scl_valid(np.nan) and scl_valid(6.0) and not scl_valid(7)
    t = s1s2_targets(lai[:, 0], scl[:, 0])
    np.testing.assert_array_equal(t["target_mask"], scl_valid(scl[:, 0]) & np.isfinite(lai[:, 0]))
    assert t["target_mask"].dtype == bool and np.all(t["target"][~t["target_mask"]] == 0.0)
    with pytest.raises(ValueError, match="n, 3, 2"):
        s1s2_inputs(np.zeros((n, 2, 2, h, w)), lai, scl, [1, 2])
    with pytest.raises(ValueError, match="day_of_year"):
        s1s2_inputs(np.zeros((n, 3, 2, h, w)), lai, scl, [1])
