"""``leafjax simulate --model prosail`` and ``leafjax forward --model prosail``: thin wrappers around
:func:`leafjax.simulation.write_prosail_parquet` (the library does the work), and the column documentation of
``leafjax forward --help`` (built from the parameter registry, which imports no JAX)."""

from __future__ import annotations

import time

from ._common import (
    CLIError,
    load_prior_file,
    numeric_column,
    parse_wavelengths,
    positive_int,
    prepare_output,
    read_table,
    set_precision,
    text_column,
)

#: Values of ``--factors``.
FACTOR_CHOICES = ("bidirectional", "all")
#: Largest PROSAIL batch compiled at once (memory of the 4SAIL intermediates).
MAX_PROSAIL_CHUNK = 2048


def add_arguments(p) -> None:
    """Options shared by ``simulate`` and ``forward`` that only apply to ``--model prosail``."""
    p.add_argument("--sensor", help="prosail: sensor name (e.g. sentinel-2a) or SRF csv; writes R_<band> columns")
    p.add_argument("--factors", default="bidirectional",
                   help="prosail: bidirectional (R_ columns, default) or all (adds rsot_, rddt_, rsdt_, rdot_)")
    p.add_argument("--leaf-model", default="prospect-d", help="prosail: prospect-d (default) | prospect-pro")


def _param(name: str, default: bool = True) -> str:
    from .._parameters import spec

    s = spec(name)
    unit = "" if s.unit == "-" else f"{s.unit}, "
    dflt = f", default {s.default:g}" if default else ""
    return f"{name} ({unit}{s.low:g}..{s.high:g}{dflt})"


def forward_epilog() -> str:
    """The input and output columns of ``leafjax forward`` (units, bounds and defaults from the registry)."""
    import textwrap

    leaf_req = ", ".join(_param(n, False) for n in ("n_struct", "chl", "car", "ewt", "lma"))
    pro = ", ".join(_param(n, False) for n in ("prot", "cbc"))
    leaf_opt = ", ".join(_param(n) for n in ("ant", "brown"))
    canopy_req = ", ".join(_param(n, False) for n in ("lai", "soil_brightness", "soil_dryness"))
    canopy_opt = ", ".join(_param(n) for n in ("lidf_b", "hotspot", "sza", "vza", "raa"))
    items = [
        (0, "input columns (--params, csv or parquet; canonical names and units; bounds closed, so zero contents "
            "are valid; every parameter cell a finite number; any other column, e.g. an identifier or text with "
            "empty cells, is carried through unchanged):"),
        (2, f"leaf, required: {leaf_req}; prospect-pro (or --leaf-model prospect-pro): {pro} instead of lma"),
        (2, f"leaf, optional: {leaf_opt}"),
        (2, f"--model prosail, required: {canopy_req}, lidf_a (Campbell mean leaf angle in degrees 0..90, or "
            "Verhoef parameter a -1..1)"),
        (2, f"--model prosail, optional: lidf_type (campbell | verhoef, default campbell), {canopy_opt}; angles "
            "in degrees; Verhoef needs |lidf_a| + |lidf_b| <= 1"),
        (0, "output columns, one row per input row, in input order:"),
        (2, "the carried columns; the parameters with defaults filled in (prospect-pro adds lma = prot + cbc, "
            "g/cm2, and nitrogen, % dry mass);"),
        (2, "leaf models: R_<nm>, T_<nm> (reflectance, transmittance; fractions) on the --wavelengths grid;"),
        (2, "--model prosail: R_<nm> (top-of-canopy bidirectional reflectance factor rsot; fraction), or "
            "R_<band> with --sensor; with --factors all also rsot_<x>, rddt_<x>, rsdt_<x>, rdot_<x> "
            "(bidirectional, bi-hemispherical, directional-hemispherical, hemispherical-directional reflectance "
            "factors; <x> = nm or band name)."),
        (0, "output format: the --out extension names it (.parquet or .pq: Parquet; .csv: CSV); an existing --out "
            "is refused unless --overwrite; --out may not be the --params file; <out>.lock is held while "
            "writing."),
    ]
    return "\n".join(textwrap.fill(text, 100, initial_indent=" " * i, subsequent_indent=" " * (i + 4 if i else 2))
                     for i, text in items)


def check_leaf_only(args) -> None:
    """Reject prosail-only options with a leaf model."""
    if args.sensor is not None or args.factors != "bidirectional" or args.leaf_model != "prospect-d":
        raise CLIError("--sensor, --factors and --leaf-model need --model prosail")


def _setup(args, inputs):
    if args.factors not in FACTOR_CHOICES:
        raise CLIError(f"--factors must be one of {', '.join(FACTOR_CHOICES)}, got {args.factors!r}")
    chunk = min(positive_int(args.chunk_size, "--chunk-size"), MAX_PROSAIL_CHUNK)
    wl = parse_wavelengths(args.wavelengths)
    out, fmt = prepare_output(args.out, inputs=[*inputs, args.sensor], overwrite=args.overwrite)
    dtype = set_precision(args.dtype)
    from ..physics import LEAF_MODELS
    from ..physics.canopy import Prosail
    from ..spectral import load_srf

    if args.leaf_model.lower().replace("_", "-") not in LEAF_MODELS:
        raise CLIError(f"unknown --leaf-model {args.leaf_model!r}; choose one of: {', '.join(LEAF_MODELS)}")
    model = Prosail(args.leaf_model, wavelengths=wl, dtype=dtype)
    srf = None
    if args.sensor is not None:
        srf = load_srf(args.sensor, wl, dtype=dtype)  # ValueError -> one-line error
    return wl, out, fmt, chunk, model, srf


def _describe(srf, wl) -> str:
    return f"{srf.n_bands} {srf.name} bands" if srf is not None else f"{wl.size} bands"


def _write(args, out, fmt, **kwargs) -> int:
    from ..io import OutputLock
    from ..simulation import write_prosail_parquet

    with OutputLock(out):
        prepare_output(args.out, inputs=[getattr(args, "params", None)], overwrite=args.overwrite)  # re-check
        return write_prosail_parquet(out, fmt=fmt, **kwargs)


def run_simulate(args, *, n: int, seed: int, noise_additive: float, noise_multiplicative: float) -> int:
    wl, out, fmt, chunk, model, srf = _setup(args, [args.prior])
    import jax

    from ..simulation import default_prosail_prior, sample_prosail_table
    from ..spectral import GaussianNoise

    prior = load_prior_file(args.prior) if args.prior else default_prosail_prior(args.leaf_model)
    noise = None
    if noise_additive > 0 or noise_multiplicative > 0:
        noise = GaussianNoise(additive=noise_additive, multiplicative=noise_multiplicative)
    k_prior, k_noise = jax.random.split(jax.random.key(seed))
    t0 = time.perf_counter()
    cols = sample_prosail_table(prior, n, k_prior, model)
    rows = _write(args, out, fmt, model=model, columns=cols, srf=srf, factors=args.factors, noise=noise,
                  key=k_noise, chunk_size=chunk)
    print(f"wrote {rows} prosail spectra ({_describe(srf, wl)}) to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def run_forward(args) -> int:
    wl, out, fmt, chunk, model, srf = _setup(args, [args.params])
    from ..simulation import CANOPY_NAMES, validate_prosail_table

    df = read_table(args.params, sep=args.sep, decimal=args.decimal)
    names = set(model.leaf_model.params_type.names) | set(CANOPY_NAMES)
    cols = {c: numeric_column(df, c, args.params) for c in df.columns if c in names and c != "lidf_type"}
    if "lidf_type" in df.columns:
        cols["lidf_type"] = text_column(df, "lidf_type")
    validate_prosail_table(model, cols, source=args.params)
    extra = {c: df[c].to_numpy() for c in df.columns if c not in names}
    _check_no_clash(args.params, extra, model, srf, args.factors)
    t0 = time.perf_counter()
    rows = _write(args, out, fmt, model=model, columns=cols, srf=srf, factors=args.factors, extra=extra,
                  chunk_size=chunk)
    print(f"wrote {rows} prosail spectra ({_describe(srf, wl)}) to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _check_no_clash(source, extra, model, srf, factors) -> None:
    from ..simulation._prosail import REFLECTANCE_FACTORS, prosail_column_labels

    labels = prosail_column_labels(model, srf)
    prefixes = ("R",) + (REFLECTANCE_FACTORS if factors == "all" else ())
    outputs = {f"{p}_{b}" for p in prefixes for b in labels}
    clash = [c for c in extra if c in outputs]
    if clash:
        raise CLIError(f"{source}: column {clash[0]!r} is also an output column; drop or rename it")
