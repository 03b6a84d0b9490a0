"""Start-up cost: fresh-process wall time of ``import jax``, ``import leafjax``, first use of a name, and
``leafjax --help``, measured in the same run and interleaved (so a busy machine slows all of them alike).

``import leafjax`` loads its subpackages on first use (module ``__getattr__``), so it should cost at most
1.3x ``import jax`` (target), and ``leafjax --help`` must not import JAX at all (checked here through
``sys.modules`` in the same process that printed the help).

Run:  python benchmarks/import_time.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import time

#: Modules a leaf ``leafjax invert`` does not need: reported if its import path loads them.
NOT_NEEDED_BY_LEAF_INVERT = ("flax", "optax", "optimistix", "leafjax.physics.canopy", "leafjax.simulation._prosail",
                             "leafjax.inversion._canopy", "leafjax.networks", "leafjax.training", "scipy", "dask")
#: What ``leafjax invert --model prospect-d`` imports before its first chunk (the archive engine, the leaf task).
INVERT_IMPORTS = (
    "import sys\n"
    "import leafjax.cli._invert, leafjax.archive as a\n"
    "a.get_task('prospect-d')\n"
    f"print(','.join(m for m in {NOT_NEEDED_BY_LEAF_INVERT!r} if m in sys.modules))"
)

#: name -> Python source run in a fresh interpreter (``leafjax --help`` runs the CLI in-process so that the
#: same process can report ``sys.modules``; the console script itself is timed as ``leafjax --help (script)``).
CASES: dict[str, str | list[str]] = {
    "python (empty)": "pass",
    "import jax": "import jax",
    "import leafjax": "import leafjax",
    "leafjax.ProspectD": "import leafjax; leafjax.ProspectD",
    "leafjax invert imports": INVERT_IMPORTS,
    "leafjax --help": (
        "import sys, contextlib, io\n"
        "import leafjax.cli as c\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        c.main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('jax' in sys.modules)"
    ),
}

#: Target ratio ``import leafjax`` / ``import jax``.
TARGET = 1.3


def run_once(code: str | list[str]) -> tuple[float, str]:
    """Wall time (s) of ``python -c code`` (or of the command ``code``) in a fresh process, and its stdout."""
    cmd = [sys.executable, "-c", code] if isinstance(code, str) else code
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, proc.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="interleaved repeats per case (median; >= 5)")
    args = ap.parse_args(argv)
    repeats = max(args.repeats, 5)
    script = shutil.which("leafjax")
    if script is not None:
        CASES["leafjax --help (script)"] = [script, "--help"]
    times: dict[str, list[float]] = {name: [] for name in CASES}
    outputs: dict[str, set[str]] = {name: set() for name in CASES}
    for name, code in CASES.items():  # warm the file-system cache once, untimed
        run_once(code)
    for _ in range(repeats):
        for name, code in CASES.items():
            dt, out = run_once(code)
            times[name].append(dt)
            outputs[name].add(out)
    import jax  # only for the version line, after the timed runs

    print(f"python {platform.python_version()}, jax {jax.__version__}, {platform.machine()}; "
          f"median of {repeats} interleaved fresh processes")
    med = {name: statistics.median(ts) for name, ts in times.items()}
    for name in CASES:
        print(f"{name:<24}: {med[name]:6.3f} s  (min {min(times[name]):.3f}, max {max(times[name]):.3f})")
    ratio = med["import leafjax"] / med["import jax"]
    print(f"ratio import leafjax / import jax: {ratio:.2f}x   (target <= {TARGET}x)")
    print(f"ratio leafjax.ProspectD / import jax: {med['leafjax.ProspectD'] / med['import jax']:.2f}x")
    extra = sorted({m for out in outputs["leafjax invert imports"] for m in out.split(",") if m})
    print(f"loaded by a leaf invert's imports but not needed: {', '.join(extra) or 'none'}")
    jax_loaded = outputs["leafjax --help"] != {"False"}
    print(f"jax in sys.modules after leafjax --help: {jax_loaded}")
    return 1 if (jax_loaded or ratio > TARGET) else 0


if __name__ == "__main__":
    sys.exit(main())
