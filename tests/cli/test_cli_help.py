"""``leafjax --help`` (console script, ``python -m leafjax``, every sub-command) works and imports no JAX."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

COMMANDS = ("simulate", "forward", "invert", "map", "demo")

PROBE = """
import contextlib, io, sys
import leafjax.cli as c
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    try:
        c.main(sys.argv[1:])
    except SystemExit as e:
        assert e.code == 0, e.code
assert buf.getvalue().startswith("usage: leafjax"), buf.getvalue()[:200]
print('jax' in sys.modules, 'numpy' in sys.modules)
"""


@pytest.mark.parametrize("argv", [["--help"], *([cmd, "--help"] for cmd in COMMANDS)], ids=" ".join)
def test_help_imports_no_jax(argv):
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]  # neither jax nor numpy was imported


def test_python_m_leafjax_help_lists_the_commands():
    proc = subprocess.run([sys.executable, "-m", "leafjax", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: leafjax")
    for cmd in COMMANDS:
        assert cmd in proc.stdout


def test_console_script_help_and_version():
    script = shutil.which("leafjax")
    if script is None:
        pytest.skip("the leafjax console script is not installed (pip install -e .)")
    proc = subprocess.run([script, "invert", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "--chunk-size" in proc.stdout
    import leafjax

    proc = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == f"leafjax {leafjax.__version__}"
