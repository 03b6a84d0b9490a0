"""Reader of the real Sentinel-1/2 LAI sample (``lai_s1s2_sample/`` of the shared data folder, challenge naming):
shapes and dtypes, the [VH, VV] channel order, integer SCL masks, the corrupt LAI file detected and flagged (not a
crash), file-name parsing, and errors for malformed folders."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from leafjax.data import (S1_CHANNELS, VALID_SCL, lai_file_problem, load_s1s2_sample, parse_chip_name,
                          read_s1s2_chip, s1s2_chip_names, scl_classes)

pytest.importorskip("rioxarray")


@pytest.fixture(scope="module")
def sample_folder(shared_data):
    folder = shared_data / "lai_s1s2_sample"
    if not (folder / "s1").is_dir():
        pytest.skip(f"the S1/S2 LAI sample is not in {shared_data}")
    return folder


@pytest.fixture(scope="module")
def chips(sample_folder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = load_s1s2_sample(sample_folder)
    return out, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_three_chips_with_the_documented_shapes_and_names(chips):
    out, _ = chips
    assert [c.scene for c in out] == ["KALININGRAD_GUSEV", "LATVIA_LITHUANIA", "MOLDOVA_ROMANIA"]
    k = out[0]
    assert str(k.name.date_from) == "2018-04-07" and str(k.name.date_to) == "2018-04-19"
    assert (k.name.row, k.name.column) == (7, 23)
    for c in out:
        assert c.s1.shape == (3, 2, 256, 256) and c.s1.dtype == np.float32
        assert c.lai.shape == c.scl.shape == c.valid.shape == c.clear.shape == (3, 256, 256)
        assert c.lai.dtype == np.float64 and c.valid.dtype == bool
        assert np.all(np.isfinite(c.s1))
        assert c.lai_status[2] == "missing"  # no LAI at t in the sample
        assert not c.valid[2].any() and np.isnan(c.lai[2]).all()
        assert c.crs is not None and "UTM" in c.crs


def test_channel_order_is_vh_then_vv(chips):
    out, _ = chips
    assert S1_CHANNELS == ("vh", "vv")
    for c in out:
        med_vh, med_vv = np.median(c.vh), np.median(c.vv)
        print(f"{c.scene}: median VH {med_vh:.1f} dB, VV {med_vv:.1f} dB")
        assert med_vh < med_vv - 3.0 and -25 < med_vh < -14 and -14 < med_vv < -7
        np.testing.assert_array_equal(c.vh, c.s1[:, 0])


def test_masks_are_integer_classes_and_valid_is_classes_2_to_6(chips):
    out, _ = chips
    for c in out:
        assert np.issubdtype(c.scl.dtype, np.integer)
        present = c.scl[:2]
        assert present.min() >= 0 and present.max() <= 11
        np.testing.assert_array_equal(c.clear, np.isin(c.scl, VALID_SCL))
        assert np.all(c.valid <= c.clear)
        assert np.isnan(c.lai[~c.valid]).all() and np.isfinite(c.lai[c.valid]).all()
    assert out[2].valid[0].mean() > 0.99  # Moldova t-2: classes 4, 5, 7 only


def test_corrupt_lai_file_is_detected_flagged_and_skipped(chips, sample_folder):
    out, messages = chips
    latvia = out[1]
    assert latvia.lai_status[0].startswith("corrupt") and "mask" in latvia.lai_status[0]
    assert not latvia.valid[0].any() and np.isnan(latvia.lai[0]).all()
    assert latvia.clear[0].mean() > 0.99  # its mask is fine; only the LAI is lost
    assert latvia.lai_status[1] == "ok" and latvia.valid[1].mean() > 0.99
    assert [c.lai_status[:2] for c in (out[0], out[2])] == [("ok", "ok"), ("ok", "ok")]
    corrupt = [m for m in messages if "LATVIA_LITHUANIA" in m and "LAI" in m]
    assert len(corrupt) == 1 and "-0-" in corrupt[0]
    # by content alone: the real LAI files pass, the mask-like one does not
    assert lai_file_problem(out[0].lai[0][out[0].valid[0]], None) is None
    assert lai_file_problem(latvia.scl[0].astype(np.float64), None).startswith("integer-valued")


def test_file_names_parse_and_round_trip():
    n = parse_chip_name("LATVIA_LITHUANIA_2019-05-29_2019-06-10-1-0-25-29.tiff")
    assert (n.scene, n.time, n.before, n.row, n.column) == ("LATVIA_LITHUANIA", 1, 0, 25, 29)
    assert n.file(2) == "LATVIA_LITHUANIA_2019-05-29_2019-06-10-2-0-25-29.tiff"
    assert parse_chip_name("SPAIN_BADAJOZ_2019-03-11_2019-03-29-2-7-1-6.tiff").chip == (
        "SPAIN_BADAJOZ_2019-03-11_2019-03-29-7-1-6")
    with pytest.raises(ValueError, match="challenge chip name"):
        parse_chip_name("S2A_MSIL2A_20220305T102921.tif")


def test_scl_conversion_marks_non_classes():
    with pytest.warns(RuntimeWarning, match="no SCL class"):
        out = scl_classes(np.array([[4.0, 2.5], [np.nan, 12.0]]), "m")
    np.testing.assert_array_equal(out, [[4, -1], [-1, -1]])


def test_reading_by_any_name_and_errors(sample_folder, tmp_path):
    names = s1s2_chip_names(sample_folder)
    assert len(names) == 3 and s1s2_chip_names(sample_folder.parent) == names
    first = read_s1s2_chip(sample_folder, "MOLDOVA_ROMANIA_2019-08-20_2019-09-01-1-0-11-0.tiff")
    assert first.name.chip == names[2]
    with pytest.raises(FileNotFoundError, match="s1/"):
        read_s1s2_chip(tmp_path, names[0])
    # a chip whose S1 file at t is missing is an error naming the file; a missing mask leaves LAI unvalidated
    for sub in ("s1", "s2", "s2-mask"):
        (tmp_path / sub).mkdir()
    src = first.name
    for t in (0, 1):
        for sub in ("s1", "s2"):
            shutil.copy(sample_folder / sub / src.file(t), tmp_path / sub / src.file(t))
    with pytest.raises(FileNotFoundError, match="Sentinel-1"):
        read_s1s2_chip(tmp_path, src.chip)
    shutil.copy(sample_folder / "s1" / src.file(2), tmp_path / "s1" / src.file(2))
    with pytest.warns(RuntimeWarning, match="s2-mask"):
        c = read_s1s2_chip(tmp_path, src.chip)
    assert c.lai_status[:2] == ("unmasked", "unmasked") and not c.valid.any()
