"""Thin command-line interface: parse flags, call library functions, report one-line errors.

Commands: ``simulate``, ``forward``, ``invert``, ``demo``.  Errors print ``leafjax: error: ...``
on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from ._common import CLIError


def build_parser() -> argparse.ArgumentParser:
    from . import _demo, _invert, _simulate

    parser = argparse.ArgumentParser(prog="leafjax", description="Differentiable leaf radiative transfer in JAX.")
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"leafjax {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _simulate.add_parsers(sub)
    _invert.add_parsers(sub)
    _demo.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CLIError, ValueError, OSError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"leafjax: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("leafjax: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
