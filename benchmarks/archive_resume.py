"""Archive inversion at scale: a 10⁵-row parquet archive is inverted (1) in one go, (2) interrupted midway and
restarted; the outputs must be identical.  Peak memory (max RSS) is reported for archives of 10⁴ and 10⁵ rows
to show that it depends on the chunk size, not on the archive length.

Run:  python benchmarks/archive_resume.py [--rows 100000] [--step 10] [--chunk-size 4096]
``--step`` is the wavelength step (nm) of the simulated archive (R and T, 400–2400 nm); each run uses
``leafjax invert`` in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

CLI = [sys.executable, "-m", "leafjax.cli"]
RSS = ("import resource, runpy, sys; sys.argv = ['leafjax'] + sys.argv[1:]; "
       "code = 0\ntry:\n    runpy.run_module('leafjax.cli', run_name='__main__')\nexcept SystemExit as e:\n"
       "    code = e.code\nprint('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
       "sys.exit(code)")


def run_cli(args, *, kill_after_parts: int | None = None, parts_dir: Path | None = None) -> tuple[int, float, int]:
    """Run ``leafjax <args>`` in a fresh process; return (exit code, seconds, max RSS in MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", RSS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    if kill_after_parts is not None:
        while proc.poll() is None:
            if parts_dir.exists() and len(list(parts_dir.glob("chunk-*.parquet"))) >= kill_after_parts:
                proc.send_signal(signal.SIGKILL)  # a hard crash: no clean-up code runs
                break
            time.sleep(0.2)
    out, err = proc.communicate()
    rss = next((int(line.split()[1]) // 1024 for line in err.splitlines() if line.startswith("MAXRSS_KB")), -1)
    return proc.returncode, time.perf_counter() - t0, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--small-rows", type=int, default=10_000)
    ap.add_argument("--step", type=int, default=10)
    ap.add_argument("--chunk-size", type=int, default=4096)
    args = ap.parse_args()
    wl = f"400:2400:{args.step}"
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        report = {}
        for rows, name in ((args.small_rows, "small"), (args.rows, "big")):
            code, dt, _ = run_cli(["simulate", "--model", "prospect-pro", "--n", str(rows), "--out",
                                   str(d / f"{name}.parquet"), "--wavelengths", wl, "--noise-multiplicative",
                                   "0.005", "--chunk-size", "8192"])
            assert code == 0
            print(f"simulated {rows} rows in {dt:.0f} s ({(d / f'{name}.parquet').stat().st_size / 1e6:.0f} MB)")
        common = ["--model", "prospect-pro", "--chunk-size", str(args.chunk_size), "--no-progress"]
        code, dt_small, rss_small = run_cli(["invert", str(d / "small.parquet"), "--out", str(d / "small_out.parquet"),
                                             *common])
        assert code == 0
        code, dt_full, rss_full = run_cli(["invert", str(d / "big.parquet"), "--out", str(d / "full.parquet"), *common])
        assert code == 0
        n_chunks = -(-args.rows // args.chunk_size)
        code, dt_a, _ = run_cli(["invert", str(d / "big.parquet"), "--out", str(d / "resumed.parquet"), *common],
                                kill_after_parts=n_chunks // 2, parts_dir=d / "resumed.parquet.parts")
        done = len(list((d / "resumed.parquet.parts").glob("chunk-*.parquet")))
        code, dt_b, rss_b = run_cli(["invert", str(d / "big.parquet"), "--out", str(d / "resumed.parquet"), *common])
        assert code == 0
        same = pd.read_parquet(d / "full.parquet").equals(pd.read_parquet(d / "resumed.parquet"))
        report = {"rows": args.rows, "bands": len(range(400, 2401, args.step)) * 2, "chunk_size": args.chunk_size,
                  "uninterrupted_s": round(dt_full, 1), "spectra_per_s": round(args.rows / dt_full, 1),
                  "killed_after_chunks": done, "of_chunks": n_chunks, "killed_run_s": round(dt_a, 1),
                  "resumed_run_s": round(dt_b, 1), "identical_output": bool(same),
                  "max_rss_mb": {f"{args.small_rows}_rows": rss_small, f"{args.rows}_rows": rss_full,
                                 "resumed": rss_b}}
        print(json.dumps(report, indent=1))
        if not same:
            sys.exit("outputs differ")


if __name__ == "__main__":
    main()
