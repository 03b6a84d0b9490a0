"""Raster time stacks: validation, windows with their transforms, chip tiling (overlap, padding), the S1/S2
challenge chips, xarray export."""

from __future__ import annotations

import numpy as np
import pytest

from leafjax.data import TimeStack, stack_from_s1s2


def _stack(ny=10, nx=7):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3, 2, ny, nx)).astype(np.float32)
    mask = rng.random((3, ny, nx)) > 0.2
    dates = np.array(["2020-05-01", "2020-05-13", "2020-05-25"], "datetime64[D]")
    return TimeStack(data, mask, dates, ("vh", "vv"), "EPSG:32635", (10.0, 0.0, 500000.0, 0.0, -10.0, 6e6), "s")


def test_validation_one_line_errors():
    s = _stack()
    for kwargs, msg in [(dict(data=s.data[0]), "time, channel"), (dict(mask=s.mask.astype(int)), "bool"),
                        (dict(dates=s.dates[:2]), "one date"), (dict(channels=("vh",)), "channel names"),
                        (dict(transform=(1.0, 2.0)), "6 affine")]:
        args = dict(data=s.data, mask=s.mask, dates=s.dates, channels=s.channels, transform=s.transform) | kwargs
        with pytest.raises(ValueError, match=msg) as info:
            TimeStack(**args)
        assert "\n" not in str(info.value)


def test_window_keeps_pixels_and_georeferencing():
    s = _stack()
    w = s.window(3, 2, 4, 5)
    np.testing.assert_array_equal(w.data, s.data[..., 3:7, 2:7])
    np.testing.assert_array_equal(w.mask, s.mask[..., 3:7, 2:7])
    # the window's pixel (0, 0) has the parent's pixel (3, 2) coordinates
    a, b, c, d, e, f = w.transform
    assert (c, f) == (500000.0 + 2 * 10.0, 6e6 - 3 * 10.0)
    with pytest.raises(ValueError, match="outside"):
        s.window(8, 0, 4, 4)


def test_tiles_cover_without_overlap_and_drop_or_pad_edges():
    s = _stack(10, 7)
    chips = list(s.tiles(4))
    assert [c.shape for c in chips] == [(4, 4)] * 2  # rows 0, 4 (8 does not fit); col 0 (4 does not fit)
    assert s.tile_origins(4) == [(0, 0), (4, 0)]
    padded = list(s.tiles(4, pad=True))
    assert len(padded) == 3 * 2 and all(c.shape == (4, 4) for c in padded)
    last = padded[-1]  # origin (8, 4): 2 x 3 real pixels, the rest padded and invalid
    np.testing.assert_array_equal(last.data[..., :2, :3], s.data[..., 8:10, 4:7])
    assert np.isnan(last.data[..., 2:, :]).all() and not last.mask[..., 2:, :].any() and not last.mask[..., :, 3:].any()
    overlapping = list(s.tiles(4, stride=2))
    assert len(overlapping) == len(s.tile_origins(4, 2)) == 4 * 2
    np.testing.assert_array_equal(overlapping[1].data, s.data[..., 0:4, 2:6])


def test_select_times_and_channel():
    s = _stack()
    t = s.select_times([2, 0])
    np.testing.assert_array_equal(t.channel("vv"), s.data[[2, 0], 1])
    assert list(t.dates) == [s.dates[2], s.dates[0]]
    with pytest.raises(KeyError, match="no channel"):
        s.channel("hh")


def test_to_xarray_coordinates():
    pytest.importorskip("xarray")
    x = _stack().to_xarray()
    assert x.dims == ("time", "channel", "y", "x") and x.shape == (3, 2, 10, 7)
    assert float(x.x[0]) == 500005.0 and float(x.y[0]) == 6e6 - 5.0
    assert x.coords["mask"].shape == (3, 10, 7)


def test_real_sample_chips_tile_into_stacks(shared_data):
    folder = shared_data / "lai_s1s2_sample"
    if not folder.is_dir():
        pytest.skip("the real S1/S2 sample is not available")
    pytest.importorskip("rioxarray")
    from leafjax.data import s1s2_chip_names, read_s1s2_chip

    chip = read_s1s2_chip(folder, s1s2_chip_names(folder)[0])
    s1, s2 = stack_from_s1s2(chip)
    assert s1.channels == ("vh", "vv") and s2.channels == ("lai",) and s1.shape == s2.shape == (256, 256)
    np.testing.assert_array_equal(s2.mask, chip.valid)
    chips = list(s2.tiles(64))
    assert len(chips) == 16 and chips[5].shape == (64, 64)
    np.testing.assert_array_equal(chips[5].data[:, 0], chip.lai[:, 64:128, 64:128])
