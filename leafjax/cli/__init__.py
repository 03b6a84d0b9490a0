"""Thin command-line interface: parse flags, call library functions, report one-line errors.

Commands: ``simulate``, ``forward``, ``invert``, ``map``, ``voxel`` (``simulate``, ``invert``), ``demo``.  Every error caused by the input or the arguments
(a bad flag, an unreadable or malformed file, an output that may not be written, ...) prints one line
``leafjax: error: ...`` on stderr and exits with status 2; an unexpected exception (a bug) prints one line
``leafjax: internal error: <Type>: <message> (please report)`` and exits with status 1; Ctrl-C exits with 130.
``invert``, ``forward`` and ``simulate`` use the persistent compilation cache (:mod:`leafjax.core._cache`) unless
``--no-compile-cache`` is given.
"""

from __future__ import annotations

import argparse
import sys

from ._common import CLIError, compile_cache_option

#: Longest error message printed (longer ones are cut with "…").
MAX_MESSAGE = 300


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (``leafjax: error: <prog>: <message>``), exit 2."""

    def error(self, message: str):
        print(f"leafjax: error: {self.prog}: {_one_line(message)} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def _message(e: BaseException) -> str:
    text = str(e).strip()
    return _one_line(text.splitlines()[0]) if text else type(e).__name__


def _is_input_error(e: BaseException) -> bool:
    """Errors that come from the user's input or arguments (reported with exit 2), not from a bug."""
    if isinstance(e, (CLIError, ValueError, OSError)):
        return True
    # safety net: parse errors of pandas/pyarrow that a reader did not convert (e.g. ArrowTypeError is a
    # TypeError, not a ValueError)
    return type(e).__module__.split(".")[0] in ("pyarrow", "pandas")


def build_parser() -> argparse.ArgumentParser:
    from . import _demo, _invert, _map, _simulate, _voxel

    parser = _Parser(prog="leafjax", description="Differentiable leaf radiative transfer in JAX.")
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"leafjax {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _simulate.add_parsers(sub)
    _invert.add_parsers(sub)
    _map.add_parsers(sub)
    _voxel.add_parsers(sub)
    _demo.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with compile_cache_option(args):
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("leafjax: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - every exception becomes one line, never a traceback
        if _is_input_error(e):
            print(f"leafjax: error: {_message(e)}", file=sys.stderr)
            return 2
        print(f"leafjax: internal error: {type(e).__name__}: {_message(e)} (please report)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
