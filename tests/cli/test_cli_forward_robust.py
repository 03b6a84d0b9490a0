"""``leafjax forward`` / ``simulate``: text columns with empty cells, zero contents, safe outputs (format from the
extension, no overwrite of inputs or finished outputs, the lock), CSV dialects, malformed priors and options —
every failure one line with exit status 2, before any output is written."""

import json
import os
import re
import socket

import numpy as np
import pandas as pd
import pytest

from leafjax import _parameters
from leafjax.cli import main
from leafjax.cli._canopy import forward_epilog

GRID = "400:2400:100"
WL = np.arange(400.0, 2401.0, 100.0)
LEAF = ["n_struct", "chl", "car", "ant", "brown", "ewt", "lma"]


def _leaf_table() -> pd.DataFrame:
    """Five leaves; every content is zero in some row (zero is a physical value: closed lower bounds)."""
    return pd.DataFrame({
        "sample": ["a", None, "c", "", "e"],
        "n_struct": [1.0, 1.5, 2.0, 1.2, 2.5],
        "chl": [40.0, 0.0, 30.0, 55.5, 10.0],
        "car": [8.0, 0.0, 0.0, 10.0, 5.0],
        "ant": [0.0, 0.0, 1.0, 0.0, 2.0],
        "brown": [0.0, 0.0, 0.0, 0.5, 0.0],
        "ewt": [0.01, 0.0, 0.012, 0.0, 0.02],
        "lma": [0.005, 0.004, 0.0, 0.006, 0.0],
    })


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err.strip()


def _fails(argv, capsys, *needles):
    code, _, err = _run(argv, capsys)
    assert code == 2, err
    assert err.startswith("leafjax: error: ") and "\n" not in err and len(err) < 320, err
    for n in needles:
        assert n in err, err
    return err


def _library_leaf(table: pd.DataFrame):
    from leafjax.physics import ProspectD
    from leafjax.simulation import params_from_columns

    model = ProspectD(wavelengths=WL, dtype=np.float64)
    out = model(params_from_columns(model, {k: table[k].to_numpy(np.float64) for k in LEAF}))
    return np.asarray(out.reflectance), np.asarray(out.transmittance)


def test_forward_text_column_with_empty_cells_and_zero_contents(tmp_path, capsys):
    """The old code raised ArrowTypeError on the empty ``sample`` cells; zero contents match the library."""
    table = _leaf_table()
    table.to_parquet(tmp_path / "p.parquet")
    table.to_csv(tmp_path / "p.csv", index=False)
    r, t = _library_leaf(table)
    for src in ("p.parquet", "p.csv"):
        out = tmp_path / f"o_{src}.parquet"
        code, msg, err = _run(["forward", "--model", "prospect-d", "--params", tmp_path / src, "--out", out,
                               "--wavelengths", GRID, "--dtype", "float64"], capsys)
        assert code == 0, err
        assert "wrote 5 " in msg
        got = pd.read_parquet(out)
        assert list(got.columns[:8]) == ["sample", *LEAF]
        parquet = src.endswith("parquet")
        assert got["sample"].isna().sum() == (1 if parquet else 2)  # csv: an empty cell is missing too
        assert got["sample"].dropna().tolist() == (["a", "c", "", "e"] if parquet else ["a", "c", "e"])
        np.testing.assert_allclose(got[[f"R_{w:g}" for w in WL]].to_numpy(), r, rtol=1e-12, atol=0)
        np.testing.assert_allclose(got[[f"T_{w:g}" for w in WL]].to_numpy(), t, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(got[LEAF].to_numpy(), table[LEAF].to_numpy())


def test_forward_prospect_pro_zero_dry_matter_gives_finite_nitrogen(tmp_path, capsys):
    """prot = cbc = 0 is a valid (if odd) leaf: lma = 0 and nitrogen 0 (the old code wrote NaN nitrogen)."""
    table = pd.DataFrame({"n_struct": [1.5, 1.0], "chl": [0.0, 20.0], "car": [0.0, 4.0], "ant": [0.0, 0.0],
                          "brown": [0.0, 0.0], "ewt": [0.0, 0.01], "prot": [0.0, 0.001], "cbc": [0.0, 0.0]})
    table.to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / "o.parquet"
    code, _, err = _run(["forward", "--model", "prospect-pro", "--params", tmp_path / "p.csv", "--out", out,
                         "--wavelengths", GRID, "--dtype", "float64"], capsys)
    assert code == 0, err
    got = pd.read_parquet(out)
    assert got["lma"].tolist() == [0.0, 0.001]
    np.testing.assert_allclose(got["nitrogen"], [0.0, 100.0 / 4.43])
    assert np.isfinite(got.filter(regex="^[RT]_").to_numpy()).all()


def test_forward_prosail_text_column_zero_parameters_and_lidf_types(tmp_path, capsys):
    from leafjax.physics.canopy import Prosail
    from leafjax.physics.canopy._prosail import simulate_prosail

    table = _leaf_table().iloc[:3].copy()
    table["lai"] = [0.0, 2.0, 3.0]
    table["lidf_type"] = ["campbell", "Verhoef", " CAMPBELL "]
    table["lidf_a"] = [0.0, -0.35, 90.0]
    table["lidf_b"] = [0.0, -0.15, 0.0]
    table["hotspot"] = [0.0, 0.05, 0.2]
    table["sza"] = [0.0, 30.0, 45.0]
    table["vza"] = [0.0, 10.0, 0.0]
    table["raa"] = [0.0, -90.0, 180.0]
    table["soil_brightness"] = [0.0, 1.0, 1.2]
    table["soil_dryness"] = [0.0, 1.0, 0.5]
    table.to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / "o.csv"
    code, _, err = _run(["forward", "--model", "prosail", "--params", tmp_path / "p.csv", "--out", out,
                         "--wavelengths", GRID, "--dtype", "float64"], capsys)
    assert code == 0, err
    got = pd.read_csv(out)
    assert got["sample"].isna().tolist() == [False, True, False]
    assert got["lidf_type"].tolist() == ["campbell", "verhoef", "campbell"]
    lib = table.drop(columns="sample").assign(lidf_type=["campbell", "verhoef", "campbell"])
    ref = np.asarray(simulate_prosail({k: lib[k].to_numpy() for k in lib.columns},
                                      Prosail("prospect-d", wavelengths=WL, dtype=np.float64)).rsot)
    np.testing.assert_allclose(got[[f"R_{w:g}" for w in WL]].to_numpy(), ref, rtol=1e-12, atol=1e-15)


def test_forward_semicolon_decimal_comma_csv(tmp_path, capsys):
    table = _leaf_table().drop(columns="sample")
    table.to_csv(tmp_path / "plain.csv", index=False)
    table.to_csv(tmp_path / "semi.csv", index=False, sep=";", decimal=",")
    table[table.chl > 0].to_parquet(tmp_path / "indexed.parquet")  # a stored pandas index
    outs = {}
    for src in ("plain.csv", "semi.csv"):
        outs[src] = tmp_path / f"{src}.parquet"
        code, _, err = _run(["forward", "--model", "prospect-d", "--params", tmp_path / src, "--out", outs[src],
                             "--wavelengths", GRID, "--dtype", "float64"], capsys)
        assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_parquet(outs["plain.csv"]), pd.read_parquet(outs["semi.csv"]))
    code, _, err = _run(["forward", "--model", "prospect-d", "--params", tmp_path / "indexed.parquet",
                         "--out", tmp_path / "i.parquet", "--wavelengths", GRID], capsys)
    assert code == 0, err
    assert len(pd.read_parquet(tmp_path / "i.parquet")) == 4


def test_out_equal_to_params_is_refused(tmp_path, capsys):
    src = tmp_path / "p.parquet"
    _leaf_table().to_parquet(src)
    before = src.read_bytes()
    (tmp_path / "link.parquet").symlink_to(src)
    for out in (src, tmp_path / "link.parquet", tmp_path / "." / "p.parquet"):
        _fails(["forward", "--model", "prospect-d", "--params", src, "--out", out, "--overwrite",
                "--wavelengths", GRID], capsys, "input")
    assert src.read_bytes() == before
    prior = tmp_path / "prior.json"
    prior.write_text('{"chl": {"uniform": [10, 20]}}')
    _fails(["simulate", "--model", "prospect-d", "--n", 2, "--prior", prior, "--out", prior], capsys, "--out")


def test_out_csv_writes_csv_and_existing_output_needs_overwrite(tmp_path, capsys):
    src = tmp_path / "p.parquet"
    _leaf_table().to_parquet(src)
    out = tmp_path / "o.csv"
    argv = ["forward", "--model", "prospect-d", "--params", src, "--out", out, "--wavelengths", GRID,
            "--dtype", "float64"]
    assert _run(argv, capsys)[0] == 0
    assert not out.read_bytes().startswith(b"PAR1")  # the old code wrote Parquet under the .csv name
    first = pd.read_csv(out)
    assert len(first) == 5 and first["R_400"].notna().all()
    r, _ = _library_leaf(_leaf_table())
    np.testing.assert_array_equal(first[[f"R_{w:g}" for w in WL]].to_numpy(), r)  # CSV floats round-trip
    stamp = out.stat().st_mtime_ns
    _fails(argv, capsys, "exists", "--overwrite")
    assert out.stat().st_mtime_ns == stamp
    assert _run([*argv, "--overwrite"], capsys)[0] == 0
    _fails([*argv[:6], tmp_path / "o.txt", *argv[7:]], capsys, "unknown output format")
    sims = tmp_path / "s.csv"
    assert _run(["simulate", "--model", "prospect-d", "--n", 3, "--out", sims, "--wavelengths", GRID], capsys)[0] == 0
    assert len(pd.read_csv(sims)) == 3
    _fails(["simulate", "--model", "prospect-d", "--n", 3, "--out", sims, "--wavelengths", GRID], capsys, "exists")


def test_output_being_written_by_another_run_is_refused(tmp_path, capsys):
    src = tmp_path / "p.csv"
    _leaf_table().to_csv(src, index=False)
    out = tmp_path / "o.parquet"
    lock = tmp_path / "o.parquet.lock"
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "started": "t0"}))
    _fails(["forward", "--model", "prospect-d", "--params", src, "--out", out, "--wavelengths", GRID], capsys,
           "being written by another leafjax run", str(lock))
    assert not out.exists() and lock.exists()


@pytest.mark.parametrize("prior, needle", [
    ([1, 2], "JSON object"),
    ("chl", "JSON object"),
    ({}, "no parameter"),
    ({"chlorophyll": {"uniform": [1, 2]}}, "'chlorophyll'"),
    ({"chl": {"gaussian": [1, 2]}}, "'chl'"),
    ({"chl": [10, 20]}, "'chl'"),
    ({"chl": {"uniform": [10]}}, "'chl'"),
    ({"chl": {"uniform": {"low": 10}}}, "'high'"),
    ({"chl": {"uniform": [10, "x"]}}, "'chl'"),
    ({"chl": {"truncated_normal": [40, 10, 5]}}, "'chl'"),
    ({"chl": {"truncated_normal": [40, 0, 5, 90]}}, "std"),
    ({"chl": {"fixed": "a lot"}}, "'chl'"),
    ({"chl": {"fixed": None}}, "'chl'"),
    ({"chl": {"uniform": [80, 10]}}, "low 80 > high 10"),
    ({"chl": {"uniform": [-5, 10]}}, "physical bounds"),
    ({"ewt": {"uniform": [0.01, 2.0]}}, "'ewt'"),
    ({"chl": {"uniform": [10, 20]}, "car": {"uniform": [1, 2]}, "_correlation": [[1, 0.5]]}, "_correlation"),
    ({"chl": {"uniform": [10, 20]}, "_correlation": [[2.0]]}, "_correlation"),
    ({"prot": {"uniform": [0.001, 0.002]}}, "'prot'"),  # not a PROSPECT-D parameter
])
def test_malformed_prior_json_is_one_line_naming_the_parameter(tmp_path, capsys, prior, needle):
    path = tmp_path / "prior.json"
    path.write_text(json.dumps(prior))
    out = tmp_path / "s.parquet"
    _fails(["simulate", "--model", "prospect-d", "--n", 3, "--prior", path, "--out", out, "--wavelengths", GRID],
           capsys, "--prior", needle)
    assert not out.exists()


def test_prior_json_syntax_and_duplicate_keys(tmp_path, capsys):
    path = tmp_path / "prior.json"
    base = ["simulate", "--model", "prospect-d", "--n", 3, "--prior", path, "--out", tmp_path / "s.parquet"]
    path.write_text('{"chl": {"uniform": [10, 20]},')
    _fails(base, capsys, "not valid JSON", "line 1")
    path.write_text('{"chl": {"uniform": [10, 20]}, "chl": {"fixed": 5}}')
    _fails(base, capsys, "'chl'", "twice")
    _fails([*base[:6], tmp_path / "missing.json", *base[7:]], capsys, "--prior")


def test_bad_parameter_cells_are_named_by_file_column_and_row(tmp_path, capsys):
    def fails(table, *needles, model="prospect-d"):
        src = tmp_path / "p.csv"
        table.to_csv(src, index=False)
        _fails(["forward", "--model", model, "--params", src, "--out", tmp_path / "o.parquet",
                "--wavelengths", GRID], capsys, "p.csv", *needles)
        assert not (tmp_path / "o.parquet").exists()

    t = _leaf_table()
    fails(t.assign(chl=[1.0, np.nan, 3.0, 4.0, 5.0]), "'chl'", "row 2")
    fails(t.assign(car=["1", "2", "x7", "3", "4"]), "'car'", "row 3", "'x7'")
    fails(t.assign(ewt=[0.01, 0.01, 0.01, 0.01, -0.001]), "'ewt'", "row 5")
    fails(t.assign(n_struct=[1.0, 0.99, 1.0, 1.0, 1.0]), "'n_struct'", "row 2")
    fails(t.drop(columns="lma"), "lma")
    canopy = t.assign(lai=1.0, lidf_a=50.0, soil_brightness=1.0, soil_dryness=0.5)
    fails(canopy.assign(lidf_type=["campbell", "spherical", "campbell", "verhoef", "campbell"],
                        lidf_a=[50, 50, 50, 0.2, 50]), "'lidf_type'", "row 2", "'spherical'", model="prosail")
    fails(canopy.assign(lidf_type=["campbell", "campbell", None, "campbell", "campbell"]), "'lidf_type'", "row 3",
          model="prosail")
    fails(canopy.assign(lidf_type="verhoef", lidf_a=[0.5, 0.5, 0.5, 50.0, 0.5]), "lidf_a", "row 4",
          model="prosail")
    fails(canopy.assign(sza=[0.0, 10.0, 90.0, 0.0, 0.0]), "'sza'", "row 3", model="prosail")
    fails(t.assign(R_500=0.1), "'R_500'", "output column")


@pytest.mark.parametrize("extra, needle", [
    (["--chunk-size", "0"], "--chunk-size"),
    (["--chunk-size", "1.5"], "--chunk-size"),
    (["--n", "0"], "--n"),
    (["--n", "ten"], "--n"),
    (["--seed", "x"], "--seed"),
    (["--seed", str(2 ** 70)], "--seed"),
    (["--noise-additive", "-0.1"], "--noise-additive"),
    (["--noise-multiplicative", "inf"], "--noise-multiplicative"),
    (["--wavelengths", "400:1e15"], "--wavelengths"),
    (["--wavelengths", "400:500:0"], "--wavelengths"),
    (["--wavelengths", "400:500:1e-9"], "--wavelengths"),
    (["--wavelengths", "nan:500"], "--wavelengths"),
    (["--wavelengths", "400,abc"], "--wavelengths"),
])
def test_simulate_options_are_validated_in_one_line(tmp_path, capsys, extra, needle):
    args = {"--n": "3", "--chunk-size": "4", "--wavelengths": GRID}
    args.update(dict(zip(extra[::2], extra[1::2])))
    argv = ["simulate", "--model", "prospect-d", "--out", tmp_path / "s.parquet"]
    for k, v in args.items():
        argv += [k, v]
    _fails(argv, capsys, needle)
    assert not (tmp_path / "s.parquet").exists()


def test_forward_help_documents_columns_from_the_registry():
    text = forward_epilog()
    for name in (*LEAF, "prot", "cbc", "lai", "lidf_type", "lidf_a", "lidf_b", "hotspot", "sza", "vza", "raa",
                 "soil_brightness", "soil_dryness", "R_<nm>", "T_<nm>", "R_<band>", "rsot_<x>", "rddt_<x>",
                 "rsdt_<x>", "rdot_<x>", "nitrogen", ".csv", "--overwrite"):
        assert name in text, name


def test_prosail_docstring_ranges_and_defaults_match_the_registry():
    import leafjax.simulation._prosail as mod

    doc = mod.__doc__
    entries = re.findall(r"- ``(\w+)`` \(([^;]+); ([^;]+); \[([-\d.]+), ([-\d.]+)\]", doc)
    assert len(entries) >= 15
    for name, _unit, default, low, high in entries:
        s = _parameters.spec(name)
        assert (float(low), float(high)) == s.bounds, name
        if default != "required" and not default.startswith("required"):
            assert float(default) == s.default, name
    for col in ("R_<nm>", "R_<band>", "rsot_<x>", "rddt_<x>", "rsdt_<x>", "rdot_<x>", "carried"):
        assert col in doc
