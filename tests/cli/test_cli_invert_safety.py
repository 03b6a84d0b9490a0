"""``leafjax invert`` outputs and flags: the output format from the extension, an output equal to the input
refused, existing outputs kept without ``--overwrite``, the lock, every integer/dialect option validated with one
line before any compute, the ``--help`` epilog, the run's last lines, and one-line errors from ``main``.

Every run inverts the same 8 leaf spectra on a 100-nm grid with ``--chunk-size 8 --max-steps 5`` (one compiled
shape for the whole module)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import jax
import numpy as np
import pandas as pd
import pytest

from leafjax._flags import QUALITY_MEANINGS, STATUS_MEANINGS, describe_codes
from leafjax.cli import main
from leafjax.io import spectral_columns
from leafjax.physics import get_leaf_model
from leafjax.simulation import default_prior, simulate

WL = np.arange(400, 2401, 100)
RUN = ["--model", "prospect-d", "--chunk-size", "8", "--max-steps", "5", "--no-progress",
       "--free", "n_struct,chl,car,ewt,lma"]


@pytest.fixture(scope="module")
def leaves(tmp_path_factory):
    d = tmp_path_factory.mktemp("leaves")
    model = get_leaf_model("prospect-d", wavelengths=WL.astype(np.float64), dtype=np.float64)
    _, r, t = simulate(model, default_prior("prospect-d"), 8, jax.random.key(4))
    df = pd.DataFrame({"sample_id": [f"leaf-{i}" for i in range(8)]})
    df = pd.concat([df, pd.DataFrame(np.asarray(r), columns=spectral_columns("R", WL)),
                    pd.DataFrame(np.asarray(t), columns=spectral_columns("T", WL))], axis=1)
    path = d / "leaves.parquet"
    df.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def reference(leaves, tmp_path_factory):
    """The Parquet output of one ordinary run, and its printed report."""
    out = tmp_path_factory.mktemp("ref") / "ref.parquet"
    proc_out = _invert(leaves, out)
    return pd.read_parquet(out), proc_out


def _invert(path, out, *extra) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["invert", str(path), "--out", str(out), *RUN, *extra]) == 0
    return buf.getvalue()


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leafjax: error:") and "\n" not in err and "Traceback" not in err, err
    return err


def test_out_equal_to_the_input_is_refused_and_the_input_unchanged(leaves, tmp_path, capsys, monkeypatch):
    before = leaves.read_bytes()
    link = tmp_path / "link.parquet"
    link.symlink_to(leaves)
    monkeypatch.chdir(leaves.parent)
    for out in (str(leaves), leaves.name, f"./{leaves.name}", str(link)):
        for extra in ([], ["--overwrite"]):
            err = _error(capsys, ["invert", str(leaves), "--out", out, *RUN, *extra])
            assert "is the input" in err, err
    assert leaves.read_bytes() == before
    assert not list(leaves.parent.glob("*.parts")) and not list(leaves.parent.glob("*.lock"))


def test_csv_output_is_csv_with_the_same_rows(leaves, reference, tmp_path):
    ref, _ = reference
    out = tmp_path / "traits.csv"
    _invert(leaves, out)
    with pytest.raises(Exception):
        pd.read_parquet(out)  # really CSV
    floats = [c for c in ref.columns if pd.api.types.is_float_dtype(ref[c])]
    res = pd.read_csv(out, keep_default_na=False, na_values={c: [""] for c in floats})  # NaN: an empty cell
    assert list(res.columns) == list(ref.columns) and len(res) == len(ref) == 8
    assert res["sample_id"].tolist() == ref["sample_id"].tolist()
    for c in ref.columns:
        if c in floats:
            np.testing.assert_array_equal(res[c].to_numpy(np.float64), ref[c].to_numpy(np.float64), err_msg=c)
        else:
            assert res[c].astype(str).tolist() == ref[c].astype(str).tolist(), c


@pytest.mark.parametrize("name", ["x.txt", "x", "x.json"])
def test_unknown_output_extension_is_refused(leaves, tmp_path, capsys, name):
    err = _error(capsys, ["invert", str(leaves), "--out", str(tmp_path / name), *RUN])
    assert "unknown output format" in err and not (tmp_path / name).exists()


def test_existing_output_refused_without_overwrite_and_replaced_with_it(leaves, reference, tmp_path, capsys):
    out = tmp_path / "o.parquet"
    out.write_bytes(b"earlier")
    err = _error(capsys, ["invert", str(leaves), "--out", str(out), *RUN])
    assert "exists; pass --overwrite" in err and out.read_bytes() == b"earlier"
    _invert(leaves, out, "--overwrite")
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference[0])


def _lock(out, pid):
    out.with_name(out.name + ".lock").write_text(json.dumps({"pid": pid, "host": socket.gethostname(),
                                                             "started": "2024-05-01T10:00:00"}))


def test_live_lock_refuses_a_second_run_and_a_stale_lock_is_taken_over(leaves, tmp_path, capsys):
    out = tmp_path / "o.parquet"
    _lock(out, os.getpid())
    err = _error(capsys, ["invert", str(leaves), "--out", str(out), *RUN])
    assert f"being written by another leafjax run (pid {os.getpid()}" in err and not out.exists()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _lock(out, gone.pid)
    _invert(leaves, out)
    assert len(pd.read_parquet(out)) == 8 and not out.with_name("o.parquet.lock").exists()


@pytest.mark.parametrize("option", ["--chunk-size", "--n-starts", "--max-steps", "--grid-step"])
@pytest.mark.parametrize("value", ["0", "-3", "1.5", "abc", ""])
def test_integer_options_need_a_positive_integer(leaves, tmp_path, capsys, option, value):
    argv = ["invert", str(leaves), "--out", str(tmp_path / "o.parquet"), "--model", "prospect-d", option, value]
    err = _error(capsys, argv)
    assert f"{option}: expected a positive integer" in err, err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("flags,needle", [
    (["--sep", "ab"], "--sep"), (["--sep", '"'], "--sep"), (["--sep", "x"], "--sep"),
    (["--decimal", ";"], "--decimal"), (["--decimal", "dot"], "--decimal"),
    (["--sep", ";", "--decimal", ";"], "--decimal"), (["--sep", ",", "--decimal", ","], "both"),
    (["--expected-rmse", "0"], "--expected-rmse"), (["--expected-rmse", "-0.01"], "--expected-rmse"),
    (["--expected-rmse", "nan"], "--expected-rmse"), (["--expected-rmse", "x"], "--expected-rmse"),
    (["--expected-rmse", "inf"], "--expected-rmse"),
])
def test_dialect_and_rmse_options_are_validated(leaves, tmp_path, capsys, flags, needle):
    err = _error(capsys, ["invert", str(leaves), "--out", str(tmp_path / "o.parquet"), *RUN, *flags])
    assert needle in err, err
    assert not list(tmp_path.iterdir())


def test_valid_dialect_options_are_accepted(tmp_path):
    from leafjax.cli._invert import parse_decimal, parse_expected_rmse, parse_sep

    assert [parse_sep(s) for s in (",", ";", "tab", "TAB", "|", None)] == [",", ";", "\t", "\t", "|", None]
    assert parse_decimal(",") == "," and parse_expected_rmse("0.002") == 0.002 and parse_expected_rmse(None) is None


def test_help_epilog_lists_every_status_and_flag(capsys):
    with pytest.raises(SystemExit) as ex:
        main(["invert", "--help"])
    assert ex.value.code == 0
    text = capsys.readouterr().out
    assert describe_codes() in text  # verbatim (RawDescriptionHelpFormatter)
    for name, meaning in {**STATUS_MEANINGS, **QUALITY_MEANINGS}.items():
        assert f"  {name} " in text and meaning[:40] in text, name
    for option in ("--overwrite", "--sep", "--decimal", "--expected-rmse"):
        assert option in text


def test_report_gives_rows_statuses_their_meanings_and_flag_counts(reference):
    ref, printed = reference
    lines = printed.strip().splitlines()
    assert lines[0].startswith(f"wrote {len(ref)} rows to ")
    for status, n in ref["status"].value_counts().items():
        assert f"{status} {n}" in lines[0]
    flags = pd.Series([f for v in ref["quality_flags"] if v for f in v.split(";")]).value_counts()
    for flag, n in flags.items():
        assert f"{flag} {n}" in lines[0]
    seen = set(ref["status"]) - {"converged"}
    assert {ln.split(":")[0].strip() for ln in lines[1:]} == seen
    for status in seen:
        assert f"  {status}: {STATUS_MEANINGS[status]}" in lines


def test_report_explains_statuses_other_than_converged():
    from leafjax.cli._invert import report

    text = report({"rows": 3, "chunks_computed": 1, "chunks_reused": 0, "seconds": 0.5,
                   "status": {"converged": 1, "max_steps": 1, "invalid_input": 1},
                   "quality_flags": {"at_bound:chl": 2, "out_of_range": 1}}, "o.csv")
    lines = text.splitlines()
    assert lines[0] == ("wrote 3 rows to o.csv (1 chunks computed, 0 reused, 0.5 s); status: converged 1, "
                        "invalid_input 1, max_steps 1; quality_flags: at_bound:chl 2, out_of_range 1")
    assert lines[1:] == [f"  max_steps: {STATUS_MEANINGS['max_steps']}",
                         f"  invalid_input: {STATUS_MEANINGS['invalid_input']}"]


def test_errors_are_one_line_and_bugs_are_reported_as_internal(monkeypatch, capsys, tmp_path):
    import pyarrow as pa

    import leafjax.cli as cli

    build = cli.build_parser
    cases = [(ValueError("bad value\nsecond line"), 2, "leafjax: error: bad value"),
             (FileExistsError("o.csv exists"), 2, "leafjax: error: o.csv exists"),
             (pa.ArrowTypeError("Expected bytes, got a 'int' object"), 2, "leafjax: error: Expected bytes"),
             (ValueError("x" * 40_000), 2, "leafjax: error: xxx"),
             (KeyError("__index_level_0__"), 1, "leafjax: internal error: KeyError: '__index_level_0__' "
                                                "(please report)")]
    for exc, code, start in cases:
        def boom(args, exc=exc):
            raise exc

        def parser(boom=boom):
            p = build()
            p._subparsers._group_actions[0].choices["invert"].set_defaults(func=boom)
            return p

        monkeypatch.setattr(cli, "build_parser", parser)
        assert main(["invert", "in.csv", "--model", "prospect-d", "--out", str(tmp_path / "o.csv")]) == code
        err = capsys.readouterr().err
        assert err.startswith(start) and err.count("\n") == 1 and len(err) < 400, err[:500]
    monkeypatch.undo()
    with pytest.raises(SystemExit) as ex:
        main(["invert", "in.csv"])  # argparse's own error: one line too
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("leafjax: error:") and err.count("\n") == 1 and "--model" in err


def test_recalibrated_constants_are_selectable(leaves, reference, tmp_path, capsys):
    """``--constants recalibrated`` inverts with the packaged recalibrated table (a different answer from the
    published constants, still finite); reflectance alone also applies its measurement model and N line, which
    need a band within 10 nm of 1130 nm; an unknown table gets a one-line error."""
    ref, _ = reference
    out = tmp_path / "rec.parquet"
    _invert(leaves, out, "--constants", "recalibrated")
    rec = pd.read_parquet(out)
    assert np.isfinite(rec["lma"]).all() and not np.allclose(rec["lma"], ref["lma"])
    assert "--constants must be published or recalibrated" in _error(
        capsys, ["invert", str(leaves), "--out", str(tmp_path / "x.csv"), *RUN, "--constants", "tuned"])
    assert "within 10 nm of 1130 nm" in _error(
        capsys, ["invert", str(leaves), "--out", str(tmp_path / "y.csv"), *RUN, "--reflectance-only",
                 "--constants", "recalibrated"])
    wl = np.array([800.0, 1130.0, *np.arange(1700.0, 2401.0, 100.0)])
    model = get_leaf_model("prospect-d", wavelengths=wl, dtype=np.float64)
    _, r, _ = simulate(model, default_prior("prospect-d"), 8, jax.random.key(5))
    path = tmp_path / "r_only.csv"
    pd.DataFrame(np.asarray(r), columns=spectral_columns("R", wl)).to_csv(path, index=False)
    runs = {}
    for table in ("published", "recalibrated"):
        dest = tmp_path / f"r_{table}.csv"
        _invert(path, dest, "--constants", table)
        runs[table] = pd.read_csv(dest)
    assert np.isfinite(runs["recalibrated"]["lma"]).all()
    assert not np.allclose(runs["recalibrated"]["n_struct"], runs["published"]["n_struct"])
