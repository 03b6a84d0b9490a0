"""Cases of the CLI fuzzer: generated inputs (:mod:`tests.cli._fuzz_inputs`) with generated argument lists for
``invert``, ``forward`` and ``simulate``, each knowing whether it must succeed (``valid=True``), must be refused
(``False``) or may do either (``None``), and what a success must write."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

import _fuzz_inputs as F

#: Output extensions: the format each names; anything else must be refused.
GOOD_OUT = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
BAD_OUT = (".txt", ".json", "", ".parq", ".CSV.gz")
LEAF_NAMES = {"n_struct", "chl", "car", "ant", "brown", "ewt", "lma", "prot", "cbc"}
CANOPY_NAMES = {"lai", "lidf_a", "lidf_b", "lidf_type", "hotspot", "sza", "vza", "raa", "soil_brightness",
                "soil_dryness", "psoil", "rsoil"}


def out_format(name: str) -> str:
    return GOOD_OUT.get("." + name.rsplit(".", 1)[-1].lower() if "." in name else "", "?")


@dataclass
class Case:
    """One CLI call: ``argv`` (``{DIR}`` = the case's folder), the ``files`` written there first, ``--out``,
    validity, and what a success writes (``n_rows``; ``carried`` columns with reference ``records``)."""

    argv: list[str]
    files: dict[str, bytes]
    out: str
    valid: bool | None
    n_rows: int = 0
    carried: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    decimal: str = "."
    note: list[str] = field(default_factory=list)
    table: str = ""

    def describe(self) -> str:
        def show(v: bytes) -> str:
            try:
                return repr(v[:300].decode("utf-8")) + ("…" if len(v) > 300 else "")
            except UnicodeDecodeError:
                return f"<{len(v)} bytes: {v[:24]!r}…>"
        files = "; ".join(f"{k}={show(v)}" for k, v in self.files.items())
        return f"argv={self.argv} notes={self.note} valid={self.valid} files: {files} {self.table}"


def _join(a: bool | None, b: bool | None) -> bool | None:
    """Validity of a case from that of its input and of its arguments."""
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def table_case(inp: F.TableInput, argv: list[str], out: str, valid: bool | None, carried_of, note=()) -> Case:
    dec = inp.dialect.decimal if inp.dialect is not None else "."
    carried = [c for c in inp.columns if carried_of(c)] if len(set(inp.columns)) == len(inp.columns) else []
    return Case(argv, {inp.name: inp.data}, out, _join(inp.valid, valid), len(inp.records), carried,
                inp.records, dec, [*inp.note, *note], f"table: columns={inp.columns} records[:2]={inp.records[:2]}")


@st.composite
def out_args(draw, in_name: str) -> tuple[str, list[str], dict[str, bytes], bool | None, str]:
    """``(out path, extra argv, extra files, validity, note)`` for ``--out``."""
    kind = draw(st.sampled_from(["good"] * 12 + ["bad-ext", "same-as-input", "missing-dir", "is-dir", "exists",
                                                "exists-overwrite"]))
    ext = draw(st.sampled_from(list(GOOD_OUT)))
    out, extra, files, valid = f"{{DIR}}/out{ext}", [], {}, True
    if kind == "bad-ext":
        out, valid = f"{{DIR}}/out{draw(st.sampled_from(BAD_OUT))}", False
    elif kind == "same-as-input":
        out, valid = f"{{DIR}}/{in_name}", False
    elif kind == "missing-dir":
        out, valid = f"{{DIR}}/no/such/out{ext}", False
    elif kind == "is-dir":
        out, valid = "{DIR}", False
    elif kind.startswith("exists"):
        files = {f"out{ext}": b"an earlier result\n"}
        valid = kind == "exists-overwrite"
        extra = ["--overwrite"] if valid else []
    return out, extra, files, valid, f"out-{kind}"


def _options(draw, choices: dict[str, list[tuple[list[str], bool | None]]]) -> tuple[list[str], bool | None,
                                                                                        list[str]]:
    """0-2 option groups drawn from ``choices`` (name -> [(argv, validity)])."""
    argv, valid, note = [], True, []
    names = sorted(choices)
    for name in {draw(st.sampled_from(names)) for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2])))}:
        opt, v = draw(st.sampled_from(choices[name]))
        argv += opt
        valid = _join(valid, v)
        note.append(" ".join(opt))
    return argv, valid, note


CHUNK = [(["--chunk-size", c], v) for c, v in (("1", True), ("2", True), ("4096", True), ("0", False),
                                               ("-1", False), ("abc", False), ("", False), ("1.5", False),
                                               ("99999999999", None))]
INVERT_COMMON = {
    "chunk": CHUNK,
    "dtype": [(["--dtype", "float64"], True), (["--dtype", "float16"], False), (["--dtype", ""], False)],
    "starts": [(["--n-starts", "2"], True), (["--n-starts", "0"], False), (["--n-starts", "-3"], False)],
    "steps": [(["--max-steps", "0"], False), (["--max-steps", "x"], False)],
    "rmse": [(["--expected-rmse", "0.01"], True), (["--expected-rmse", "-1"], False),
             (["--expected-rmse", "abc"], False), (["--expected-rmse", "nan"], False)],
    "percent": [(["--percent"], None)],
    "bogus": [(["--bogus"], False), (["--model"], False)],
}
LEAF_OPTS = INVERT_COMMON | {
    "strategy": [(["--strategy", "optimal"], True), (["--strategy", "fast"], False)],
    "free": [(["--free", "chl,ewt"], True), (["--free", "chl,nope"], False), (["--free", "chl,chl"], None),
             (["--free", ","], None), (["--free", "lai"], False)],
    "only": [(["--reflectance-only", "--transmittance-only"], False), (["--reflectance-only"], None),
             (["--transmittance-only"], None)],
    "model": [(["--model", "prospect-x"], False), (["--model", "prospect-pro"], True)],
    "prosail-only": [(["--sensor", "sentinel-2a"], False), (["--leaf-model", "prospect-pro"], False)],
}


def _sep_opts(inp: F.TableInput) -> dict:
    d = inp.dialect
    if d is None:
        return {"sep": [(["--sep", ";"], None), (["--decimal", ","], None)]}
    return {"sep": [(["--sep", d.sep], True), (["--sep", "," if d.sep == ";" else ";"], None),
                    (["--sep", "ab"], False)],
            "decimal": [(["--decimal", d.decimal], True), (["--decimal", "x"], False)]}


def _spectral(c: str) -> bool:
    return bool(re.match(r"(?i)[rt]_", c))


@st.composite
def invert_leaf_cases(draw) -> Case:
    inp = draw(F.table_inputs(F.mutated(F.leaf_tables()), "spectra"))
    out, extra, files, vout, note = draw(out_args(inp.name))
    opts, vopt, onote = _options(draw, LEAF_OPTS | _sep_opts(inp))
    argv = ["invert", f"{{DIR}}/{inp.name}", "--model", "prospect-d", "--out", out, "--max-steps", "3",
            "--no-progress", *extra, *opts]
    case = table_case(inp, argv, out, _join(vout, vopt), lambda c: not _spectral(c), [note, *onote])
    case.files |= files
    return case


@st.composite
def invert_canopy_cases(draw) -> Case:
    tables = F.mutated(F.canopy_tables(), ("geometry-out",))
    inp = draw(F.table_inputs(tables, "pixels"))
    out, extra, files, vout, note = draw(out_args(inp.name))
    opts, vopt, onote = _options(draw, INVERT_COMMON | _sep_opts(inp) | {
        "sensor": [(["--sensor", "modis-x"], False), (["--leaf-model", "prospect-x"], False),
                   (["--grid-step", "0"], False), (["--strategy", "optimal"], False),
                   (["--free", "lai,chl"], True), (["--free", "nope"], False)]})
    argv = ["invert", f"{{DIR}}/{inp.name}", "--model", "prosail", "--sensor", "sentinel-2a", "--grid-step", "20",
            "--out", out, "--max-steps", "3", "--no-progress", *extra, *opts]
    case = table_case(inp, argv, out, _join(vout, vopt), lambda c: not _spectral(c), [note, *onote])
    case.files |= files
    return case


@st.composite
def invert_npy_cases(draw) -> Case:
    n = draw(st.sampled_from((0,) + F.ROW_COUNTS))
    grid = np.asarray(draw(st.sampled_from(F.LEAF_GRIDS)), np.float64)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    arr = rng.uniform(0.05, 0.5, (n, grid.size))
    valid: bool | None = n > 0
    kind = draw(st.sampled_from(["ok", "ok", "1d", "3d", "extra-band", "int", "object", "bool", "complex", "nan",
                                 "float32", "fortran", "garbage", "empty"]))
    if kind == "1d":
        arr, valid = arr.reshape(-1), False
    elif kind == "3d":
        arr, valid = arr[None], False
    elif kind == "extra-band":
        arr, valid = np.concatenate([arr, arr[:, :1]], 1), False
    elif kind == "int":
        arr, valid = (arr * 100).astype(np.int64), None
    elif kind == "object":
        arr, valid = arr.astype(object), False
    elif kind in ("bool", "complex"):
        arr, valid = arr.astype(kind), None
    elif kind == "nan" and n:
        arr[0, 0], valid = np.nan, _join(valid, None)
    elif kind == "float32":
        arr = arr.astype(np.float32)
    elif kind == "fortran":
        arr = np.asfortranarray(arr)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    data = {"garbage": b"\x93NUMPY garbage", "empty": b""}.get(kind, buf.getvalue())
    valid = False if kind in ("garbage", "empty") else valid
    wl_kind = draw(st.sampled_from(["lines", "comma", "lines", "missing", "none", "garbage", "off-grid", "dup",
                                    "short", "blank", "spaces"]))
    wl_text = {"lines": "\n".join(f"{w:g}" for w in grid), "comma": ",".join(f"{w:g}" for w in grid),
               "garbage": "abc\n\x00\x01", "off-grid": "\n".join(f"{w + 0.5:g}" for w in grid),
               "dup": "\n".join(f"{w:g}" for w in np.r_[grid[:-1], grid[0]]), "blank": "",
               "short": "\n".join(f"{w:g}" for w in grid[:-1]), "spaces": " ".join(f"{w:g}" for w in grid) + "\n"}
    files = {"x.npy": data}
    wl_args: list[str] = []
    if wl_kind in wl_text:
        files["wl.txt"] = wl_text[wl_kind].encode()
        wl_args = ["--wavelengths-file", "{DIR}/wl.txt"]
    elif wl_kind == "missing":
        wl_args = ["--wavelengths-file", "{DIR}/nope.txt"]
    if wl_kind not in ("lines", "comma", "spaces"):
        valid = False
    out, extra, ofiles, vout, note = draw(out_args("x.npy"))
    opts, vopt, onote = _options(draw, INVERT_COMMON | {
        "kind": [(["--kind", "T"], True), (["--kind", "Z"], False), (["--kind", "RT"], False)]})
    argv = ["invert", "{DIR}/x.npy", "--model", "prospect-d", "--out", out, "--max-steps", "3", "--no-progress",
            *wl_args, *extra, *opts]
    rows = arr.shape[0] if arr.ndim == 2 else 0
    return Case(argv, files | ofiles, out, _join(_join(valid, vout), vopt), rows, [], [], ".",
                [f"npy-{kind}", f"wl-{wl_kind}", note, *onote])


WAVELENGTHS = [(["--wavelengths", w], v) for w, v in (("2400:400", False), ("abc", False), ("300:500", False),
                                                      ("400:2400:0", False), ("400.5,500", False),
                                                      ("500,500", False), ("", False), ("400:2400:250", True))]


@st.composite
def forward_cases(draw) -> Case:
    model = draw(st.sampled_from(["prospect-d", "prospect-d", "prosail"]))
    extra_kinds = ("zero-conc",) if model != "prosail" else ("zero-conc", "geometry-out")
    inp = draw(F.table_inputs(F.mutated(F.params_tables(model), extra_kinds), "params"))
    out, extra, files, vout, note = draw(out_args(inp.name))
    choices = {"wl": WAVELENGTHS, "chunk": [(["--chunk-size", c], v) for c, v in
                                            (("2", True), ("0", False), ("-3", False), ("abc", False))],
               "dtype": [(["--dtype", "float64"], True), (["--dtype", "int8"], False)],
               "model": [(["--model", "prospect-x"], False)], "bogus": [(["--bogus"], False)]}
    if model == "prosail":
        choices |= {"prosail": [(["--factors", "all"], True), (["--factors", "x"], False),
                                (["--sensor", "sentinel-2a", "--wavelengths", "400:2400:10"], None),
                                (["--sensor", "nope"], False),
                                (["--leaf-model", "prospect-x"], False)]}
    else:
        choices |= {"leaf-only": [(["--sensor", "sentinel-2a"], False), (["--factors", "all"], False)]}
    opts, vopt, onote = _options(draw, choices)
    argv = ["forward", "--model", model, "--params", f"{{DIR}}/{inp.name}", "--out", out,
            "--wavelengths", "400:2400:100", *extra, *opts]
    names = LEAF_NAMES | (CANOPY_NAMES if model == "prosail" else set())
    case = table_case(inp, argv, out, _join(vout, vopt), lambda c: c not in names, [model, note, *onote])
    case.files |= files
    return case


PRIOR = {"n_struct": {"uniform": [1.2, 2.2]}, "chl": {"truncated_normal": {"mean": 40, "std": 15, "low": 5,
                                                                             "high": 90}},
         "car": {"uniform": [2, 15]}, "ant": {"fixed": 0}, "ewt": {"uniform": [0.004, 0.02]},
         "lma": {"uniform": [0.002, 0.012]}}
PRIORS = {"ok": (json.dumps(PRIOR), True), "corr": (json.dumps(PRIOR | {"_correlation": np.eye(6).tolist()}), True),
          "bad-json": ('{"chl": ', False), "unknown": (json.dumps({"nope": {"uniform": [0, 1]}}), False),
          "low>high": (json.dumps(PRIOR | {"chl": {"uniform": [90, 5]}}), False), "list": ("[1, 2]", False),
          "nan": (json.dumps(PRIOR | {"chl": {"uniform": [float("nan"), 5]}}), False), "binary": ("\x00\xff", False),
          "out-of-bounds": (json.dumps(PRIOR | {"chl": {"uniform": [-5, 5000]}}), False)}


@st.composite
def simulate_cases(draw) -> Case:
    model = draw(st.sampled_from(["prospect-d", "prospect-d", "prosail"]))
    n_text, vn = draw(st.sampled_from([("2", True), ("3", True), ("0", False), ("-2", False),
                                       ("abc", False), ("2.5", False), ("", False)]))
    out, extra, files, vout, note = draw(out_args("prior.json"))
    choices = {"wl": WAVELENGTHS, "seed": [(["--seed", "7"], True), (["--seed", "x"], False)],
               "noise": [(["--noise-additive", "0.01"], True), (["--noise-additive", "-1"], False),
                         (["--noise-multiplicative", "nan"], False), (["--noise-additive", "inf"], False)],
               "chunk": [(["--chunk-size", c], v) for c, v in (("2", True), ("0", False), ("-1", False))],
               "dtype": [(["--dtype", "float64"], True), (["--dtype", "x"], False)]}
    if model == "prosail":
        choices |= {"prosail": [(["--factors", "all"], True), (["--sensor", "sentinel-2a"], True),
                                (["--factors", "none"], False), (["--leaf-model", "nope"], False)]}
    else:
        choices |= {"prior": [(["--prior", "{DIR}/prior.json"], PRIORS[k][1]) for k in PRIORS] +
                             [(["--prior", "{DIR}/none.json"], False)],
                    "leaf-only": [(["--sensor", "sentinel-2a"], False)]}
    opts, vopt, onote = _options(draw, choices)
    prior = draw(st.sampled_from(sorted(PRIORS)))
    if "--prior" in opts:
        vopt = _join(vopt, PRIORS[prior][1]) if vopt is not False else False
    files = files | {"prior.json": PRIORS[prior][0].encode("utf-8", "surrogateescape")}
    argv = ["simulate", "--model", model, "--n", n_text, "--out", out, "--wavelengths", "400:2400:100",
            *extra, *opts]
    n = int(n_text) if vn else 0
    return Case(argv, files, out, _join(_join(vn, vout), vopt), n, [], [], ".", [model, f"prior-{prior}", note,
                                                                               *onote])


@st.composite
def real_invert_cases(draw) -> Case:
    """Valid leaf archives in user dialects (stored index, CRLF, BOM, `;`, blank lines, quoted newlines) with the
    real solver: R and T on one 9-band grid, 3 rows, 3 steps (one compiled shape)."""
    tables = F.leaf_tables(n=3, grid=F.LEAF_GRIDS[1], both=True)
    inp = draw(F.table_inputs(F.mutated(tables, ()).filter(lambda t: t.valid is True), "spectra",
                              allow_damage=False))
    argv = ["invert", f"{{DIR}}/{inp.name}", "--model", "prospect-d", "--out", "{DIR}/out.csv", "--max-steps", "3",
            "--no-progress"]
    return table_case(inp, argv, "{DIR}/out.csv", True, lambda c: not _spectral(c))
