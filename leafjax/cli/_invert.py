"""``leafjax invert``: invert a spectral archive (parquet, CSV or .npy) into traits, in resumable chunks.

Thin: validates every flag (one-line errors, before JAX is imported or anything is computed), parses them into
:class:`~leafjax.archive.ArchiveSettings`, picks the archive task of ``--model`` (:func:`~leafjax.archive.get_task`)
and runs :func:`~leafjax.archive.invert_archive`.  ``--model prosail`` inverts canopy reflectance (``R_<nm>`` or,
with ``--sensor``, ``R_<band>`` columns, plus per-row ``sza``, ``vza``, ``raa``) into ``lai``, ``chl``, ``ewt``,
``fcover``, ... (see :mod:`leafjax.archive._canopy`); ``--bands`` picks a subset of the sensor's bands (aliases
such as ``B02``/``B8a`` accepted), ``--method hybrid|lut`` and ``--products lai,ccc,cwc,fapar,fcover`` go through
the routes of :mod:`leafjax.products` (the ones :func:`leafjax.products.retrieve_products` runs).

The output's format is the one its extension names (``.parquet``/``.pq`` or ``.csv``); an existing output, or an
output equal to the input, is refused unless ``--overwrite`` (never the input).  The ``--help`` epilog lists the
meaning of every status and quality flag (:func:`leafjax._flags.describe_codes`); the last lines of a run give
the rows written, the status and flag counts, and the meaning of every status other than ``converged`` seen.
"""

from __future__ import annotations

import argparse
import math

from ._common import CLIError, add_compile_cache_option, positive_int

#: Names accepted by ``--sep`` besides a single character.
_SEPARATORS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}
#: ``--method`` choices (``prosail``): the per-pixel fit and the two routes of :mod:`leafjax.products`.
METHODS: tuple[str, ...] = ("lm", "hybrid", "lut")


def add_parsers(sub) -> None:
    from .._flags import describe_codes

    p = sub.add_parser("invert", help="invert spectra (R_<nm>/T_<nm> columns or .npy) into leaf or canopy traits",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=describe_codes())
    p.add_argument("input", help="archive: .parquet, .csv, or .npy (with --wavelengths-file)")
    p.add_argument("--model", required=True, help="prospect-d | prospect-pro | prosail (canopy: needs sza, vza, "
                   "raa columns)")
    p.add_argument("--out", required=True, help="output file, one row per input row, in order: .parquet/.pq "
                   "(Parquet) or .csv (CSV); never the input")
    p.add_argument("--strategy", default="full", help="full (all bands) | optimal (per-constituent subdomains)")
    p.add_argument("--free", help="comma-separated parameters to estimate (default: all but brown)")
    p.add_argument("--chunk-size", default="4096", help="spectra per chunk (memory bound; default 4096)")
    p.add_argument("--wavelengths-file", help="for .npy input: wavelengths in nm, one per band")
    p.add_argument("--kind", default="R", help="for .npy input: R (reflectance, default) or T")
    p.add_argument("--reflectance-only", action="store_true", help="ignore T_ columns")
    p.add_argument("--transmittance-only", action="store_true", help="ignore R_ columns")
    p.add_argument("--percent", action="store_true", help="spectra are in percent: divide by 100")
    p.add_argument("--sep", help="CSV input: field separator: ',' ';' 'tab' or one character (default: detected)")
    p.add_argument("--decimal", help="CSV input: decimal mark '.' or ',' (default: detected)")
    p.add_argument("--expected-rmse", help="RMSE expected from instrument and model (reflectance units, > 0); "
                   "rows with an RMSE above 3 times it are flagged poor_fit (default: the model's)")
    p.add_argument("--constants", default="published", help="optical constants of the leaf model: published "
                   "(default) | recalibrated (fitted on real leaf-clip spectra; with reflectance alone also its "
                   "measurement model and N line)")
    p.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    p.add_argument("--n-starts", default="1", help="look-up-table starting points per spectrum (default 1)")
    p.add_argument("--max-steps", default="60", help="iteration limit (default 60)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out (when the new run "
                   "completes) and discard the finished chunks of an earlier, unfinished run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--sensor", help="prosail: R_<band> columns of this sensor (e.g. sentinel-2a)")
    p.add_argument("--leaf-model", default="prospect-d", help="prosail: prospect-d (default) | prospect-pro")
    p.add_argument("--grid-step", default="1", help="prosail with --sensor: simulation grid step in nm (default 1)")
    p.add_argument("--bands", help="prosail with --sensor: comma-separated bands to use, e.g. B2,B3,B4,B8A "
                   "(aliases B02, b8a accepted; default: every R_<band> column present, at least 3)")
    p.add_argument("--method", default="lm", help="prosail: lm (per-pixel PROSAIL fit, default) | hybrid "
                   "(network trained on simulations) | lut (look-up table per geometry)")
    p.add_argument("--products", help="prosail: comma-separated products lai,ccc,cwc,fapar,fcover, each with "
                   "<product>_std (default: the lm traits; all products with --method hybrid|lut)")
    p.add_argument("--route-options", help="prosail: comma-separated name=value fields of the route, e.g. "
                   "n=2000,k=20 (lut) or n=5000,epochs=10,ensemble=2 (hybrid); see leafjax.products.get_route")
    p.add_argument("--dask", metavar="ADDRESS", help="distribute chunks over a Dask scheduler (needs leafjax[dask])")
    add_compile_cache_option(p)
    p.set_defaults(func=run_invert)


def _positive(value: str, option: str) -> int:
    """A positive integer option; one-line ``CLIError`` "<option>: expected a positive integer, got ..."."""
    return positive_int(value, option)


def parse_sep(text: str | None) -> str | None:
    """``--sep``: ``None``, a name (``tab``, ``comma``, ``semicolon``) or one character (not a quote, a line
    break or a letter/digit)."""
    if text is None:
        return None
    sep = _SEPARATORS.get(text.lower(), text)
    if len(sep) != 1 or sep in "\"'\r\n" or sep.isalnum() or sep == ".":
        raise CLIError(f"--sep: expected ',', ';', 'tab' or one separator character, got {text!r}"[:160])
    return sep


def parse_decimal(text: str | None) -> str | None:
    """``--decimal``: ``None``, ``"."`` or ``","``."""
    if text is not None and text not in (".", ","):
        raise CLIError(f"--decimal: expected '.' or ',', got {text!r}"[:160])
    return text


def parse_expected_rmse(text: str | None) -> float | None:
    """``--expected-rmse``: ``None`` or a finite float > 0 (reflectance units)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise CLIError(f"--expected-rmse: expected a number > 0, got {text!r}"[:160]) from None
    if not math.isfinite(value) or value <= 0:
        raise CLIError(f"--expected-rmse: expected a number > 0, got {text!r}"[:160])
    return value


def _check_flags(args) -> dict:
    """Every flag that needs no import: the parsed values (one-line ``CLIError`` otherwise)."""
    if args.strategy not in ("full", "optimal"):
        raise CLIError(f"--strategy must be full or optimal, got {args.strategy!r}"[:160])
    if args.constants not in ("published", "recalibrated"):
        raise CLIError(f"--constants must be published or recalibrated, got {args.constants!r}"[:160])
    if args.reflectance_only and args.transmittance_only:
        raise CLIError("--reflectance-only and --transmittance-only exclude each other")
    if args.kind not in ("R", "T"):
        raise CLIError("--kind must be R or T")
    if args.dtype not in ("float32", "float64"):
        raise CLIError(f"--dtype must be float32 or float64, got {args.dtype!r}"[:160])
    values = {"chunk_size": _positive(args.chunk_size, "--chunk-size"),
              "n_starts": _positive(args.n_starts, "--n-starts"),
              "max_steps": _positive(args.max_steps, "--max-steps"),
              "grid_step": _positive(args.grid_step, "--grid-step"),
              "sep": parse_sep(args.sep), "decimal": parse_decimal(args.decimal),
              "expected_rmse": parse_expected_rmse(args.expected_rmse)}
    if values["sep"] is not None and values["sep"] == values["decimal"]:
        raise CLIError(f"--sep and --decimal are both {values['sep']!r}")
    free = None
    if args.free is not None:
        free = tuple(x.strip() for x in args.free.split(","))
        if not all(free):
            raise CLIError(f"--free: expected comma-separated parameter names, got {args.free!r}"[:160])
    values["free"] = free
    if args.method not in METHODS:
        raise CLIError(f"--method must be one of {', '.join(METHODS)}, got {args.method!r}"[:160])
    values["bands"] = _names(args.bands, "--bands", "band names")
    values["products"] = _names(args.products, "--products", "product names")
    values["route_options"] = parse_route_options(args.route_options)
    return values


def parse_route_options(text: str | None) -> tuple[tuple[str, object], ...]:
    """``--route-options``: ``"n=2000,k=20,sky=false"`` → ``(("n", 2000), ("k", 20), ("sky", False))`` (values:
    int, float, true/false, else the text); one-line ``CLIError`` for an item without ``=`` or a repeated name."""
    if text is None:
        return ()
    out: dict[str, object] = {}
    for item in text.split(","):
        name, eq, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name.isidentifier() or not value or name in out:
            raise CLIError(f"--route-options: expected distinct name=value items, got {item.strip()!r}"[:160])
        low = value.lower()
        if low in ("true", "false"):
            out[name] = low == "true"
            continue
        for kind in (int, float):
            try:
                out[name] = kind(value)
                break
            except ValueError:
                out[name] = value
    return tuple(out.items())


def _names(text: str | None, option: str, what: str) -> tuple[str, ...] | None:
    """A comma-separated list option: ``None`` or the stripped names (one-line ``CLIError`` for an empty one)."""
    if text is None:
        return None
    names = tuple(x.strip() for x in text.split(","))
    if not all(names):
        raise CLIError(f"{option}: expected comma-separated {what}, got {text!r}"[:160])
    return names


def run_invert(args) -> int:
    values = _check_flags(args)
    from ..io import check_output

    check_output(args.out, inputs=(args.input, args.wavelengths_file), overwrite=args.overwrite)
    from ._common import set_precision

    set_precision(args.dtype)
    from ..archive import ArchiveSettings, get_task, invert_archive, is_canopy_task
    from ..physics import LEAF_MODELS

    task = get_task(args.model)  # unknown model -> one-line error listing the choices
    model = args.model.lower().replace("_", "-")
    leaf_model = args.leaf_model.lower().replace("_", "-")
    if is_canopy_task(model):
        if leaf_model not in LEAF_MODELS:
            raise CLIError(f"unknown --leaf-model {args.leaf_model!r}; choose one of: {', '.join(LEAF_MODELS)}")
        if args.strategy != "full":
            raise CLIError("--strategy optimal applies to leaf models only")
        if args.sensor is not None:
            from ..spectral import load_srf

            load_srf(args.sensor)  # unknown sensor -> one-line error before any work
        from ..archive._canopy import check_bands, check_route

        if values["bands"] is not None and args.sensor is None:
            raise CLIError("--bands needs --sensor (band columns R_<band>)")
        values["bands"] = check_bands(values["bands"], args.sensor)
        values["products"] = check_route(args.method, values["products"], values["free"], values["route_options"])
        if args.constants != "published":
            raise CLIError("--constants applies to the leaf models prospect-d and prospect-pro")
    elif (args.sensor is not None or leaf_model != "prospect-d" or values["grid_step"] != 1
          or args.method != "lm" or values["bands"] is not None or values["products"] is not None
          or values["route_options"]):
        raise CLIError("--sensor, --leaf-model, --grid-step, --bands, --method, --products and --route-options "
                       "need --model prosail")
    settings = ArchiveSettings(
        model=model, strategy=args.strategy, chunk_size=values["chunk_size"], use_r=not args.transmittance_only,
        use_t=not args.reflectance_only, percent=args.percent, dtype=args.dtype, n_starts=values["n_starts"],
        max_steps=values["max_steps"], free=values["free"], kind=args.kind, sensor=args.sensor,
        leaf_model=leaf_model, grid_step=values["grid_step"], sep=values["sep"], decimal=values["decimal"],
        expected_rmse=values["expected_rmse"], bands=values["bands"], method=args.method,
        products=values["products"], route_options=values["route_options"], constants=args.constants)
    client = None
    if args.dask:
        try:
            from distributed import Client
        except ImportError:
            raise CLIError("--dask needs the dask extra: pip install 'leafjax[dask]'") from None
        client = Client(args.dask)
    try:
        summary = invert_archive(args.input, args.out, settings, task=task, wavelengths_file=args.wavelengths_file,
                                 resume=not args.overwrite, overwrite=args.overwrite, progress=not args.no_progress,
                                 client=client)
    finally:
        if client is not None:
            client.close()
    print(report(summary, args.out))
    return 0


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def report(summary: dict, out: str) -> str:
    """The lines printed after a run: rows written, chunks, status and quality-flag counts, then the meaning of
    every status other than ``converged`` that occurred (one line each)."""
    from .._flags import STATUS_MEANINGS

    lines = [f"wrote {summary['rows']} rows to {out} ({summary['chunks_computed']} chunks computed, "
             f"{summary['chunks_reused']} reused, {summary['seconds']:.1f} s); status: {_counts(summary['status'])}"
             f"; quality_flags: {_counts(summary.get('quality_flags', {}))}"]
    for name in STATUS_MEANINGS:
        if name != "converged" and summary["status"].get(name):
            lines.append(f"  {name}: {STATUS_MEANINGS[name]}")
    return "\n".join(lines)
