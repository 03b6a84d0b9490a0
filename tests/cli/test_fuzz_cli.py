"""Property-based fuzzing of the command line (issue 12): ``invert`` (leaf tables, ``.npy``, ``--model prosail``),
``forward`` and ``simulate`` on generated inputs and arguments, in-process through :func:`leafjax.cli.main`.

The contract, checked for every case (:func:`check_case`): the run either

* exits 0 and writes, in the format its ``--out`` extension names, one row per valid input record: the count
  equals the reference reading of the input (:mod:`tests.cli._fuzz_inputs`), the carried columns keep their
  order and values, "wrote N" says N; or
* exits 2 with exactly one non-empty stderr line starting ``leafjax: error:`` (at most 300 characters) and writes
  no output;

and never raises, never exits otherwise, never modifies an input (or an existing output without
``--overwrite``), never leaves a lock file, never succeeds on an input that must be refused (a non-numeric
spectral cell, a duplicate column, no record, garbage, a bad argument value), never refuses a valid input of a
dialect users write (``;``/decimal commas, CRLF/CR, BOM, blank lines, quoted newlines, stored Parquet indexes).

Cost: a successful inversion costs ~10 s of compilation per run (``invert`` recompiles on every archive run in
one process), so the bulk tests replace the two solver calls of the archive tasks by a shape-exact stub
(:func:`fake_solvers`: readers, validation, setup, chunking, assembly and writers stay real) and
:func:`test_fuzz_invert_real_solver` runs a few real inversions.  Violations are collected over all examples and
reported together, grouped by class, with a reproducer of the first case of each class.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leafjax.cli import main

import _fuzz_args as A
from _fuzz_inputs import reference_csv

#: Generated cases per test; their sum is the fuzzer's size (>= 1,000, asserted below).
#: ``LEAFJAX_FUZZ_FACTOR`` scales them (e.g. 10 for a long local run; below 1 only while developing).
FACTOR = float(os.environ.get("LEAFJAX_FUZZ_FACTOR", "1"))
EXAMPLES = {k: max(1, round(v * FACTOR)) for k, v in {"invert_leaf": 330, "invert_npy": 120, "invert_canopy": 150,
                                                       "forward": 240, "simulate": 160, "real": 3}.items()}
EXAMPLES["real"] = 3
assert FACTOR < 1 or sum(EXAMPLES.values()) >= 1000
#: Per-case wall-clock bound (a hang fails the case); first compilations of a shape take a few seconds.
DEADLINE_MS = 60_000
COUNTS: dict[str, int] = defaultdict(int)
SETUPS: dict = {}
OUTCOMES: dict[str, dict] = defaultdict(lambda: defaultdict(int))


def fuzz_settings(name: str):
    return settings(max_examples=EXAMPLES[name], deadline=DEADLINE_MS, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)


# --- the contract -------------------------------------------------------------------------------------------------

def norm(v, decimal: str = "."):
    """A cell as ``None`` (missing), a float or a string, whatever reader produced it."""
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    s = str(v)
    if s == "":
        return None
    try:
        return float(s.replace(decimal, ".") if decimal != "." else s)
    except ValueError:
        return s


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return a == b


def read_output(path: Path, fmt: str) -> tuple[list[str], list[dict]] | str:
    """``(columns, records)`` of an output file, or the reason it is not a file of format ``fmt``."""
    data = path.read_bytes()
    if fmt == "parquet":
        if data[:4] != b"PAR1":
            return "a .parquet/.pq output that is not Parquet"
        df = pd.read_parquet(path)
        return list(df.columns), df.to_dict("records")
    if data[:4] == b"PAR1":
        return "a .csv output holding Parquet"
    ref = reference_csv(data, ",")
    return "a .csv output that is not CSV" if ref is None else ref


def check_case(case: A.Case, capsys) -> list[tuple[str, str]]:
    """Run ``case`` in a fresh folder; the contract violations ``[(class, detail)]`` (empty: it holds)."""
    with tempfile.TemporaryDirectory(prefix="lj-fuzz-") as tmp:
        d = Path(tmp)
        for name, data in case.files.items():
            (d / name).write_bytes(data)
        argv = [a.replace("{DIR}", tmp) for a in case.argv]
        out = Path(case.out.replace("{DIR}", tmp))
        before = {p: p.read_bytes() for p in d.iterdir() if p.is_file()}
        capsys.readouterr()
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse
            rc = e.code if isinstance(e.code, int) else 2
        except BaseException as e:  # noqa: BLE001 - any exception is a traceback for the user
            return [(f"traceback:{type(e).__name__}", str(e)[:200])]
        stdout, stderr = capsys.readouterr()
        bad: list[tuple[str, str]] = []
        overwritten = "--overwrite" in argv and rc == 0
        for p, data in before.items():
            if (not p.exists() or p.read_bytes() != data) and not (overwritten and p == out):
                bad.append(("input-modified", p.name))
        if Path(f"{out}.lock").exists():
            bad.append(("lock-left", f"{out.name}.lock"))
        if rc == 2:
            lines = [ln for ln in stderr.splitlines() if ln.strip()]
            if "Traceback" in stderr:
                bad.append(("traceback-in-stderr", stderr[-200:]))
            elif len(lines) != 1 or not lines[0].startswith("leafjax: error:"):
                kind = "argparse-usage" if "usage:" in stderr else "stderr-not-one-line"
                bad.append((kind, " | ".join(lines)[:200]))
            elif len(lines[0]) > 300:
                bad.append(("long-message", lines[0][:120] + "…"))
            if case.valid is True:
                bad.append(("refused-valid", lines[-1][:200] if lines else ""))
            if out.is_file() and out not in before:
                bad.append(("output-on-error", out.name))
            return bad
        if rc != 0:
            return bad + [(f"exit-{rc}", stderr.strip()[-200:])]
        if case.valid is False:
            return bad + [("accepted-invalid", stdout.strip()[:200])]
        if not out.is_file():
            return bad + [("no-output", stdout.strip()[:200])]
        got = read_output(out, A.out_format(out.name))
        if isinstance(got, str):
            return bad + [("wrong-format", got)]
        cols, recs = got
        if len(recs) != case.n_rows:
            bad.append(("wrong-rows", f"{len(recs)} rows written, {case.n_rows} records in the input"))
        m = re.search(r"wrote (\d+)", stdout)
        if m is None or int(m.group(1)) != case.n_rows:
            bad.append(("wrong-count-message", stdout.strip()[:120]))
        if Path(f"{out}.parts").exists():
            bad.append(("parts-left", f"{out.name}.parts"))
        bad += check_carried(case, cols, recs)
        return bad


def check_carried(case: A.Case, cols: list[str], recs: list[dict]) -> list[tuple[str, str]]:
    """Carried columns: present (as ``c`` or ``input_c``), in input order, values unchanged."""
    pos = []
    for c in case.carried:
        name = f"input_{c}" if f"input_{c}" in cols else c
        if name not in cols:
            return [("carried-missing", c)]
        pos.append(cols.index(name))
        if len(recs) == len(case.records):
            for i, (r, ref) in enumerate(zip(recs, case.records)):
                a, b = norm(r[name]), norm(ref.get(c), case.decimal)
                if not same(a, b):
                    return [("carried-changed", f"column {c!r} row {i + 1}: {b!r} became {a!r}")]
    if pos != sorted(pos):
        return [("carried-order", f"{[cols[p] for p in pos]}")]
    return []


# --- running the fuzzer -------------------------------------------------------------------------------------------

@dataclass
class Findings:
    """Violations over a test's examples, grouped by class (first case of each kept as its reproducer)."""

    name: str
    classes: dict[str, list] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, case: A.Case, bad: list[tuple[str, str]]) -> None:
        COUNTS[self.name] += 1
        OUTCOMES[self.name][case.valid] += 1
        for kind, detail in bad:
            entry = self.classes.setdefault(kind, [0, case, detail])
            entry[0] += 1

    def assert_clean(self) -> None:
        assert COUNTS[self.name] >= EXAMPLES[self.name], f"only {COUNTS[self.name]} cases ran"
        if self.classes:
            lines = [f"{self.name}: {sum(e[0] for e in self.classes.values())} violations in "
                     f"{COUNTS[self.name]} cases ({self.seconds:.0f} s; valid/either/invalid cases: "
                     f"{[OUTCOMES[self.name][k] for k in (True, None, False)]})"]
            for kind, (n, case, detail) in sorted(self.classes.items()):
                lines.append(f"[{kind}] x{n}: {detail}\n    {case.describe()}")
            pytest.fail("\n".join(lines), pytrace=False)


def fuzz(name: str, cases, capsys) -> None:
    found = Findings(name)
    t0 = time.perf_counter()

    @fuzz_settings(name)
    @given(cases)
    def one(case):
        found.add(case, check_case(case, capsys))

    one()
    found.seconds = time.perf_counter() - t0
    found.assert_clean()


class _AnyDict(dict):
    """Estimates of every name asked for (the stub does not know the task's output names)."""

    def __init__(self, n: int, fill=1.0):
        super().__init__()
        self.n, self.fill = n, fill

    def __missing__(self, key):
        import jax.numpy as jnp

        return jnp.full(self.n, self.fill)


class _FakeResult:
    def __init__(self, obs: np.ndarray):
        assert obs.ndim == 2 and obs.shape[0] >= 1 and np.issubdtype(obs.dtype, np.floating), obs.shape
        import jax.numpy as jnp  # jax arrays, as the real results (the run-time type checks want them)

        n = obs.shape[0]
        self.estimates = self.params = _AnyDict(n)
        self.std = _AnyDict(n)
        self.rmse, self.cost = jnp.full(n, 0.01), jnp.full(n, 0.0)
        self.iterations = self.iters = jnp.full(n, 3, jnp.int32)
        self.status = jnp.zeros(n, jnp.int32)
        self.quality = jnp.zeros(n, jnp.int32)
        self.at_bound = _AnyDict(n, False)

    def __getitem__(self, key):
        return getattr(self, key)


@pytest.fixture
def fake_solvers(monkeypatch):
    """Replace the archive tasks' solver calls by a stub returning results of the right shapes."""
    import leafjax.archive._canopy as canopy
    import leafjax.archive._leaf as leaf

    def fake_invert(problem, *args, reflectance=None, transmittance=None, **kw):
        obs = reflectance if reflectance is not None else transmittance
        return _FakeResult(np.asarray(obs if obs is not None else args[0]))

    monkeypatch.setattr(leaf, "invert", fake_invert)
    monkeypatch.setattr(leaf, "_solve_compiled", leaf._solve)  # the stub is NumPy: call it untraced
    setup = leaf.LeafArchiveTask.setup

    def cached_setup(self, settings, info):  # setup reads only these (and compiles ~3 s per new combination)
        key = (self.model_name, settings.dtype, settings.use_r, settings.use_t, settings.free, settings.strategy,
               np.asarray(info.wavelengths).tobytes())
        if key not in SETUPS:
            SETUPS[key] = setup(self, settings, info)
        return dataclasses.replace(SETUPS[key], settings=settings)

    monkeypatch.setattr(leaf.LeafArchiveTask, "setup", cached_setup)
    monkeypatch.setattr(canopy, "invert_canopy", lambda r, *a, **k: _FakeResult(np.asarray(r)))


@pytest.mark.slow
def test_fuzz_invert_leaf_tables(capsys, fake_solvers):
    fuzz("invert_leaf", A.invert_leaf_cases(), capsys)


def test_fuzz_invert_npy(capsys, fake_solvers):
    fuzz("invert_npy", A.invert_npy_cases(), capsys)


@pytest.mark.slow
def test_fuzz_invert_canopy_tables(capsys, fake_solvers):
    fuzz("invert_canopy", A.invert_canopy_cases(), capsys)


@pytest.mark.slow
def test_fuzz_forward(capsys):
    fuzz("forward", A.forward_cases(), capsys)


@pytest.mark.slow
def test_fuzz_simulate(capsys):
    fuzz("simulate", A.simulate_cases(), capsys)


def test_fuzz_invert_real_solver(capsys):
    """A few valid archives of user dialects through the real solver (one shape: 3 steps, grid of 9 bands)."""
    fuzz("real", A.real_invert_cases(), capsys)


def test_fuzz_case_count():
    """The fuzzer's size: >= 1,000 generated cases when the whole module ran."""
    if set(COUNTS) != set(EXAMPLES):
        pytest.skip("run with the whole module")
    assert FACTOR < 1 or sum(COUNTS.values()) >= 1000, dict(COUNTS)


def codes_table() -> str:
    """The status and quality-flag tables of ``docs/io.md``, generated from :mod:`leafjax._flags`."""
    from leafjax._flags import QUALITY_MEANINGS, STATUS_MEANINGS

    rows = ["| status | meaning |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in STATUS_MEANINGS.items()]
    rows += ["", "| quality flag | meaning |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in QUALITY_MEANINGS.items()]
    return "\n".join(rows)


def test_docs_list_every_status_and_flag():
    """docs/io.md holds the tables of every status and quality flag exactly as leafjax._flags defines them."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "io.md").read_text(encoding="utf-8")
    block = text.split("<!-- codes:begin -->\n", 1)[1].split("\n<!-- codes:end -->", 1)[0]
    assert block == codes_table(), "regenerate the block of docs/io.md from tests.cli.test_fuzz_cli.codes_table()"
