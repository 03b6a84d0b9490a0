"""Archives on top of the ``leafjax.io`` readers: what users write opens (and inverts), and every bad input is a
one-line error before any compute.  Few end-to-end inversions (8 rows, chunks of 4, 5 steps, a 21-band grid)."""

import numpy as np
import pandas as pd
import pytest

from leafjax.archive import ArchiveSettings, get_task, invert_archive, open_archive
from leafjax.archive._table import iter_chunks
from leafjax.cli import main

WL = np.arange(400, 2401, 100)
R = [f"R_{w}" for w in WL]
T = [f"T_{w}" for w in WL]
SETTINGS = ArchiveSettings(model="prospect-d", chunk_size=4, max_steps=5)


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    d = tmp_path_factory.mktemp("readers")
    assert main(["simulate", "--model", "prospect-d", "--n", "8", "--seed", "1", "--out", str(d / "s.parquet"),
                 "--wavelengths", "400:2400:100"]) == 0
    return pd.read_parquet(d / "s.parquet")[R + T]


def _invert(path, tmp_path, **kw):
    out = tmp_path / "out.parquet"
    summary = invert_archive(path, out, ArchiveSettings(**{**SETTINGS.__dict__, **kw}), progress=False)
    return summary, pd.read_parquet(out)


def test_parquet_with_a_stored_index_inverts(sims, tmp_path):
    df = sims.assign(sample=[f"s{i}" for i in range(8)])
    df[df.index != 2].to_parquet(tmp_path / "sub.parquet")  # stores __index_level_0__
    summary, res = _invert(tmp_path / "sub.parquet", tmp_path)
    assert summary["rows"] == 7 and res["sample"].tolist() == [f"s{i}" for i in range(8) if i != 2]
    assert "__index_level_0__" not in res.columns and np.isfinite(res["chl"]).all()


def test_csv_records_with_a_carried_column_changing_type_assemble(sims, tmp_path):
    """ids 0..5 then P0, P1 (chunks of 4: the type changes in the second chunk), a quoted multi-line note, blank
    lines, a trailing blank line at the chunk boundary, CRLF line ends: rows in = rows out, ids kept as text."""
    ids = ["0", "1", "2", "3", "4", "5", "P0", "P1"]
    lines = ["id,note," + ",".join(R + T)]
    for i, (_, row) in enumerate(sims.iterrows()):
        note = '"two\r\nlines"' if i == 1 else f"n{i}"
        lines.append(f"{ids[i]},{note}," + ",".join(f"{v:.6f}" for v in row))
        if i in (2, 3):
            lines.append("")  # a blank line inside the file, and one at the chunk boundary
    (tmp_path / "a.csv").write_bytes(("\r\n".join(lines) + "\r\n\r\n").encode())
    info = open_archive(tmp_path / "a.csv")
    assert info.n_rows == 8 and info.table.dtypes["id"] == "string"
    summary, res = _invert(tmp_path / "a.csv", tmp_path)
    assert summary["rows"] == 8 and summary["chunks"] == 2
    assert res["id"].tolist() == ids and res.loc[1, "note"] == "two\r\nlines"


def test_semicolon_decimal_comma_reaches_the_reader_through_settings(sims, tmp_path):
    df = sims.head(3).assign(sza=30.0, vza=0.0, raa=0.0)
    df.to_csv(tmp_path / "s.csv", sep=";", decimal=",", index=False)
    detected = open_archive(tmp_path / "s.csv")
    assert (detected.table.sep, detected.table.decimal, detected.n_rows) == (";", ",", 3)
    np.testing.assert_allclose(next(iter_chunks(detected, 4))[1].reflectance, sims.head(3)[R].to_numpy(), atol=1e-12)
    for model in ("prospect-d", "prosail"):
        task = get_task(model)
        info = task.open(tmp_path / "s.csv", ArchiveSettings(model=model, sep=";", decimal=","))
        assert (info.table.sep, info.table.decimal) == (";", ",")
        with pytest.raises(ValueError):  # a wrong option reaches the reader too
            task.open(tmp_path / "s.csv", ArchiveSettings(model=model, sep=";", decimal="."))


def test_blank_lines_and_cr_only_files_count_records(sims, tmp_path):
    body = ["x," + ",".join(R)] + [f"{i}," + ",".join("0.3" for _ in R) for i in range(3)]
    (tmp_path / "cr.csv").write_bytes("\r".join(body).encode() + b"\r")
    (tmp_path / "bl.csv").write_text("\n\n".join(body) + "\n\n\n")
    assert open_archive(tmp_path / "cr.csv").n_rows == 3 and open_archive(tmp_path / "bl.csv").n_rows == 3
    with pytest.raises(ValueError, match="chunk_size must be at least 1"):
        next(iter_chunks(open_archive(tmp_path / "cr.csv"), 0))


@pytest.mark.parametrize("change,needle", [
    (lambda df: df.rename(columns={"R_2400": "R_2600"}),
     "wavelength 2600 nm is outside the model's 400-2500 nm range"),
    (lambda df: df.rename(columns={"R_2400": "R_500"}), "duplicate column R_500"),
    (lambda df: df.rename(columns={"T_500": "T_550"}),
     "R_ and T_ columns are on different wavelength grids (R_ only at 500 nm; T_ only at 550 nm)"),
    (lambda df: df.rename(columns={"R_500": "R_500.5", "T_500": "T_500.5"}), "500.5 nm is not on the model's 1-nm"),
    (lambda df: df.astype({"R_600": object}).assign(R_600=["0.1", "0.2", "x y", "0.3", "", "", "", ""]),
     "column 'R_600', row 3: 'x y' is not a number"),
    (lambda df: df.head(0), "the archive has no rows"),
], ids=["2600nm", "duplicate", "grids", "off-grid", "non-number", "no-rows"])
def test_bad_tables_one_line_errors_before_compute(sims, tmp_path, change, needle):
    change(sims).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError) as e:
        open_archive(tmp_path / "bad.csv")
    msg = str(e.value)
    assert needle in msg and msg.startswith(str(tmp_path / "bad.csv")) and "\n" not in msg, msg


def test_semicolon_file_read_with_comma_gives_a_short_message(tmp_path):
    header = ";".join(f"R_{w}" for w in range(400, 2501))
    (tmp_path / "s.csv").write_text(header + "\n" + ";".join(["0.3"] * 2101) + "\n")
    with pytest.raises(ValueError) as e:
        open_archive(tmp_path / "s.csv", sep=",")
    assert len(str(e.value)) < 300 and "sep" in str(e.value)
    assert open_archive(tmp_path / "s.csv").wavelengths.size == 2101  # detected


@pytest.mark.parametrize("array,wl_text,needle", [
    (np.zeros((0, 21)), None, "the array has no rows"),
    (np.zeros(21), None, "expected a 2-D array (rows, bands), got shape (21,)"),
    (np.array([[0.1, "a"]], dtype=object), None, "holds Python objects, not numbers"),
    (np.zeros((2, 21), bool), None, "holds bool values, not numbers"),
    (np.zeros((2, 20)), None, "the array has 20 bands but"),
    (np.zeros((2, 2)), "400\nabc\n", "'abc' is not a wavelength"),
    (np.zeros((2, 2)), "400\nnan\n", "wavelength nan nm is not finite"),
    (np.zeros((2, 2)), "", "the wavelengths file is empty"),
    (np.zeros((2, 2)), "missing", "no such wavelengths file"),
], ids=["0-rows", "1-d", "object", "bool", "count", "text", "nan", "empty", "missing"])
def test_bad_npy_one_line_errors(tmp_path, array, wl_text, needle):
    np.save(tmp_path / "a.npy", array, allow_pickle=array.dtype == object)
    wl = tmp_path / "wl.txt"
    if wl_text != "missing":
        wl.write_text("\n".join(map(str, WL)) if wl_text is None else wl_text)
    with pytest.raises((ValueError, OSError)) as e:
        open_archive(tmp_path / "a.npy", wavelengths_file=str(wl))
    assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)
