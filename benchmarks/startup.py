"""Start-up cost in fresh processes: one spectrum (prosail vs leafjax eager and jitted, cold and warm compilation
cache), and the fixed CPU of ``leafjax invert`` (cold and warm cache).

Every case runs in its own fresh interpreter; within each repeat the cases run one after the other
(interleaved), so a busy machine slows all of them alike; figures are medians over the repeats, with the load
average (``os.getloadavg``) before and after.  *Cold* = an empty cache folder (``LEAFJAX_CACHE_DIR`` set to a new
temporary folder for that one process); *warm* = a folder filled by an earlier, untimed run of the same case.

**Fixed CPU of invert** (user + system CPU of the whole process, children included)::

    fixed = CPU(1,000 rows, default chunk) - 1,000 * marginal
    marginal = (CPU(5,000 rows, --chunk-size 1000) - CPU(1,000 rows, --chunk-size 1000)) / 4,000

The two runs of the pair solve the same padded program (five and one chunks of 1,000 rows, each padded to the
1,024-row bucket), so their difference is the per-row work only; ``fixed`` is what a run costs beyond its rows
(imports, reading, setup, tracing, lowering, compiling or loading programs, writing).  Target (issue 13): warm
fixed CPU <= 3 s; one spectrum, warm, <= 2x the prosail process.

Run:  python benchmarks/startup.py [--repeats 5] [--rows 1000] [--skip-invert]
      python benchmarks/startup.py --latency     (batch-1 per-call latency in one process)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PARAMS = "n_struct=1.5, chl=40.0, car=8.0, ewt=0.012, lma=0.005"
#: One-spectrum cases: Python source run in a fresh interpreter.
SPECTRUM_CASES: dict[str, str] = {
    "prosail.run_prospect": "import prosail\nprosail.run_prospect(1.5, 40.0, 8.0, 0.0, 0.012, 0.005, ant=0.0)",
    "leafjax eager": f"import leafjax as lj\nlj.ProspectD()(lj.ProspectDParams({PARAMS})).reflectance"
                     ".block_until_ready()",
    "leafjax jitted": f"import jax, leafjax as lj\nf = jax.jit(lambda m, p: m(p))\n"
                      f"f(lj.ProspectD(), lj.ProspectDParams({PARAMS})).reflectance.block_until_ready()",
}


def run_process(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """``(wall s, CPU s)`` of a fresh process (CPU: user + system of the child, from ``os.wait4``)."""
    t0 = time.perf_counter()
    # run outside benchmarks/, whose prosail.py would shadow PyPI's prosail
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=tempfile.gettempdir())
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed: {err[-1500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _env(cache: Path) -> dict:
    env = dict(os.environ)
    env["LEAFJAX_CACHE_DIR"] = str(cache)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env.pop("LEAFJAX_COMPILATION_CACHE", None)
    return env


def _table(tmp: Path, n: int) -> Path:
    """A noisy PROSPECT-D table of ``n`` rows (R and T, 400-2400 nm), made once, untimed."""
    path = tmp / f"sims{n}.parquet"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "leafjax", "simulate", "--model", "prospect-d", "--n", str(n),
                        "--seed", "1", "--noise-additive", "0.005", "--out", str(path)], check=True,
                       env=_env(tmp / "cache-tables"), stdout=subprocess.DEVNULL)
    return path


def _invert_cmd(table: Path, out: Path, chunk: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "leafjax", "invert", str(table), "--model", "prospect-d", "--out", str(out),
           "--no-progress", "--overwrite"]
    return cmd + (["--chunk-size", str(chunk)] if chunk else [])


def batch1_latency(repeats: int, calls: int = 300) -> None:
    """Per-call latency (ms) at batch 1, in this process, after warm-up, interleaved per repeat: prosail's
    ``run_prospect`` against leafjax's compiled-call primitive (``leafjax.core.jit_call``), ``jax.jit`` and
    ``equinox.filter_jit`` of ``lambda m, p: m(p)``, on 3 bands (dispatch overhead) and on 400-2400 nm."""
    import equinox as eqx
    import jax
    import numpy as np

    here = Path(__file__).resolve().parent  # benchmarks/prosail.py must not shadow PyPI's prosail
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.modules.pop("prosail", None)
    import prosail

    import leafjax as lj
    from leafjax.core import jit_call

    for wl in (np.array([500.0, 800.0, 1500.0]), np.arange(400.0, 2401.0)):
        model = lj.ProspectD(wavelengths=wl)
        params = lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0, ewt=0.012, lma=0.005)
        call = type(model).__call__
        filtered, jitted = eqx.filter_jit(lambda m, p: m(p)), jax.jit(lambda m, p: m(p))
        fns = {"prosail.run_prospect (2101 bands)": lambda: prosail.run_prospect(1.5, 40.0, 8.0, 0.0, 0.012, 0.005,
                                                                                  ant=0.0),
               "leafjax.core.jit_call": lambda: jit_call(call, model, params).reflectance.block_until_ready(),
               "jax.jit": lambda: jitted(model, params).reflectance.block_until_ready(),
               "equinox.filter_jit": lambda: filtered(model, params).reflectance.block_until_ready()}
        times: dict[str, list[float]] = {k: [] for k in fns}
        for f in fns.values():
            f()
        for _ in range(repeats):
            for k, f in fns.items():
                t0 = time.perf_counter()
                for _ in range(calls):
                    f()
                times[k].append((time.perf_counter() - t0) / calls * 1e3)
        print(f"batch-1 latency, {wl.size} bands, median of {repeats} x {calls} calls, load "
              f"{os.getloadavg()[0]:.2f}:")
        for k, v in times.items():
            print(f"  {k:<36}: {statistics.median(v):.3f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats (median; >= 5)")
    ap.add_argument("--rows", type=int, default=1000, help="rows of the invert run (default 1000)")
    ap.add_argument("--skip-invert", action="store_true", help="one-spectrum cases only")
    ap.add_argument("--latency", action="store_true", help="only the in-process batch-1 per-call latency")
    args = ap.parse_args(argv)
    repeats = max(args.repeats, 5)
    if args.latency:
        batch1_latency(repeats)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="leafjax-startup-"))
    load_before = os.getloadavg()
    try:
        cases: dict[str, tuple[list[str], str]] = {}  # name -> (command, "cold" | "warm")
        for name, code in SPECTRUM_CASES.items():
            cases[f"{name} (warm)"] = ([sys.executable, "-c", code], "warm")
            if name != "prosail.run_prospect":
                cases[f"{name} (cold)"] = ([sys.executable, "-c", code], "cold")
        if not args.skip_invert:
            big, small = _table(tmp, 5 * args.rows), _table(tmp, args.rows)
            out = tmp / "out.parquet"
            cases["invert rows (warm)"] = (_invert_cmd(small, out, None), "warm")
            cases["invert rows, chunk (warm)"] = (_invert_cmd(small, out, args.rows), "warm")
            cases["invert 5x rows, chunk (warm)"] = (_invert_cmd(big, out, args.rows), "warm")
            cases["invert rows (cold)"] = (_invert_cmd(small, out, None), "cold")
        warm = tmp / "cache-warm"
        for name, (cmd, kind) in cases.items():  # fill the warm cache (and the file-system cache), untimed
            if kind == "warm":
                run_process(cmd, _env(warm))
        wall: dict[str, list[float]] = {n: [] for n in cases}
        cpu: dict[str, list[float]] = {n: [] for n in cases}
        for r in range(repeats):
            for name, (cmd, kind) in cases.items():
                cache = warm if kind == "warm" else tmp / f"cache-cold-{r}-{len(wall[name])}"
                w, c = run_process(cmd, _env(cache))
                wall[name].append(w)
                cpu[name].append(c)
                if kind == "cold":
                    shutil.rmtree(cache, ignore_errors=True)
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    import jax

    print(f"python {sys.version.split()[0]}, jax {jax.__version__}, {os.cpu_count()} CPUs; median of {repeats} "
          f"interleaved fresh processes; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    med = {n: (statistics.median(wall[n]), statistics.median(cpu[n])) for n in cases}
    for name in cases:
        print(f"{name:<34}: wall {med[name][0]:6.2f} s (min {min(wall[name]):.2f})   CPU {med[name][1]:6.2f} s")
    base = med["prosail.run_prospect (warm)"][0]
    for name in ("leafjax eager (warm)", "leafjax jitted (warm)"):
        print(f"ratio {name} / prosail (wall): {med[name][0] / base:.2f}x (target <= 2x)")
    if not args.skip_invert:
        n = args.rows
        ratios = []
        for i in range(repeats):  # per repeat, so that the load of that repeat cancels
            marginal = (cpu["invert 5x rows, chunk (warm)"][i] - cpu["invert rows, chunk (warm)"][i]) / (4 * n)
            ratios.append((cpu["invert rows (warm)"][i] - n * marginal, marginal,
                           cpu["invert rows (cold)"][i] - n * marginal))
        fixed, marginal, cold = (statistics.median(x) for x in zip(*ratios))
        print(f"invert: marginal CPU {marginal * 1e3:.2f} ms/row; fixed CPU of {n} rows: warm {fixed:.2f} s "
              f"(target <= 3 s), cold {cold:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
