"""``leafjax simulate`` and ``leafjax forward`` (leaf models here; ``--model prosail`` in :mod:`._canopy`).

Both validate every argument and input before any compute (one-line errors, exit status 2), write the format the
``--out`` extension names (Parquet or CSV), refuse an existing output without ``--overwrite`` and an output that
is one of the inputs, and hold ``<out>.lock`` while writing.
"""

from __future__ import annotations

import argparse
import time

from . import _canopy, _lst
from ._common import (
    CLIError,
    add_compile_cache_option,
    int_option,
    load_prior_file,
    nonnegative_float,
    numeric_column,
    parse_wavelengths,
    positive_int,
    prepare_output,
    read_table,
    set_precision,
)

_OUT_HELP = "output file: .parquet/.pq (Parquet) or .csv (CSV), the format the extension names"


def add_parsers(sub) -> None:
    p = sub.add_parser("simulate", help="sample parameters from a prior, simulate spectra, write a table")
    p.add_argument("--model", required=True, help="prospect-d | prospect-pro | prosail | lst")
    p.add_argument("--n", required=True, help="number of spectra or samples (a positive integer)")
    p.add_argument("--seed", default="0", help="PRNG seed (an integer, default 0)")
    p.add_argument("--out", required=True, help=_OUT_HELP)
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--wavelengths", help="START:STOP[:STEP] or comma list in nm (default 400:2400)")
    p.add_argument("--prior", help="JSON file with a prior specification (default: the documented prior; "
                                   "format: leafjax.simulation.prior_from_mapping)")
    p.add_argument("--noise-additive", default="0", help="additive Gaussian noise std (reflectance, >= 0)")
    p.add_argument("--noise-multiplicative", default="0", help="relative Gaussian noise std (>= 0)")
    p.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    p.add_argument("--chunk-size", default="8192", help="spectra per compiled batch (a positive integer)")
    _canopy.add_arguments(p)
    _lst.add_arguments(p)
    add_compile_cache_option(p)
    p.set_defaults(func=run_simulate)

    f = sub.add_parser("forward", help="run a model for every row of a parameter table (csv/parquet)",
                       epilog=_canopy.forward_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("--model", required=True, help="prospect-d | prospect-pro | prosail")
    f.add_argument("--params", required=True, help="csv or parquet with canonical parameter columns (below)")
    f.add_argument("--sep", help="CSV field separator (default: detected; e.g. ';')")
    f.add_argument("--decimal", help="CSV decimal mark (default: detected; e.g. ',')")
    f.add_argument("--out", required=True, help=_OUT_HELP)
    f.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    f.add_argument("--wavelengths", help="START:STOP[:STEP] or comma list in nm (default 400:2400)")
    f.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    f.add_argument("--chunk-size", default="8192", help="rows per compiled batch (a positive integer)")
    _canopy.add_arguments(f)
    add_compile_cache_option(f)
    f.set_defaults(func=run_forward)


def _model(name: str, wavelengths, dtype):
    from ..physics import LEAF_MODELS, get_leaf_model

    if name.lower() not in LEAF_MODELS:
        raise CLIError(f"unknown model {name!r}; choose one of: {', '.join(LEAF_MODELS)}, prosail")
    return get_leaf_model(name, wavelengths=wavelengths, dtype=dtype)


def _check_model_name(name: str, also: str = "") -> None:
    from .._parameters import MODELS

    if name.lower() != "prosail" and (name.lower() not in MODELS or not name.lower().startswith("prospect-")):
        raise CLIError(f"unknown model {name!r}; choose one of: prospect-d, prospect-pro, prosail{also}")


def _write(args, out, fmt, inputs, **kwargs) -> int:
    from ..io import OutputLock
    from ..simulation import write_spectra_parquet

    with OutputLock(out):
        prepare_output(args.out, inputs=inputs, overwrite=args.overwrite)  # again, now that we hold the lock
        return write_spectra_parquet(out, fmt=fmt, **kwargs)


def run_simulate(args) -> int:
    if args.model.lower() == "lst":
        return _lst.run_simulate(args)
    _lst.check_unused(args)
    _check_model_name(args.model, also=", lst")
    n = positive_int(args.n, "--n")
    seed = int_option(args.seed, "--seed")
    additive = nonnegative_float(args.noise_additive, "--noise-additive")
    multiplicative = nonnegative_float(args.noise_multiplicative, "--noise-multiplicative")
    if args.model.lower() == "prosail":
        return _canopy.run_simulate(args, n=n, seed=seed, noise_additive=additive,
                                    noise_multiplicative=multiplicative)
    _canopy.check_leaf_only(args)
    chunk = positive_int(args.chunk_size, "--chunk-size")
    wl = parse_wavelengths(args.wavelengths)
    out, fmt = prepare_output(args.out, inputs=[args.prior], overwrite=args.overwrite)
    dtype = set_precision(args.dtype)
    import jax
    import numpy as np

    from ..simulation import default_prior, make_noise
    from ..simulation._priors import check_within_bounds

    model = _model(args.model, wl, dtype)
    prior = load_prior_file(args.prior) if args.prior else default_prior(model.name)
    try:
        check_within_bounds(prior, model.params_type.names)
    except ValueError as e:
        raise CLIError(f"--prior {args.prior}: {e}" if args.prior else str(e)) from None
    from ..simulation._simulate import params_from_columns

    params_from_columns(model, {k: np.zeros(1) for k in prior.names})  # every required parameter present
    noise = make_noise(additive, multiplicative)
    k_prior, k_noise = jax.random.split(jax.random.key(seed))
    t0 = time.perf_counter()
    cols = {k: np.asarray(v) for k, v in prior.sample(k_prior, n, dtype=dtype).items()}
    rows = _write(args, out, fmt, [args.prior], model=model, columns=cols, key=k_noise, noise=noise,
                  chunk_size=chunk)
    dt = time.perf_counter() - t0
    print(f"wrote {rows} {model.name} spectra ({wl.size} bands, R and T) to {out} in {dt:.1f} s")
    return 0


def run_forward(args) -> int:
    _check_model_name(args.model)
    if args.model.lower() == "prosail":
        return _canopy.run_forward(args)
    _canopy.check_leaf_only(args)
    chunk = positive_int(args.chunk_size, "--chunk-size")
    wl = parse_wavelengths(args.wavelengths)
    out, fmt = prepare_output(args.out, inputs=[args.params], overwrite=args.overwrite)
    dtype = set_precision(args.dtype)
    from ..io import spectral_columns
    from ..simulation import validate_parameter_table
    from ..simulation._simulate import derived_columns, params_from_columns

    model = _model(args.model, wl, dtype)
    df = read_table(args.params, sep=args.sep, decimal=args.decimal)
    names = model.params_type.names
    used = [c for c in df.columns if c in names or c == "lma"]
    cols = {c: numeric_column(df, c, args.params) for c in used}
    try:
        params_from_columns(model, {k: v[:1] for k, v in cols.items()})  # checks names before computing
    except ValueError as e:
        raise CLIError(f"{args.params}: {e}") from None
    validate_parameter_table(model, cols, source=args.params)
    extra = {c: df[c].to_numpy() for c in df.columns if c not in used}
    outputs = {*names, *derived_columns(model, {k: cols.get(k, [0.0]) for k in names}),
               *spectral_columns("R", wl), *spectral_columns("T", wl)}
    clash = [c for c in extra if c in outputs]
    if clash:
        raise CLIError(f"{args.params}: column {clash[0]!r} is also an output column; drop or rename it")
    t0 = time.perf_counter()
    rows = _write(args, out, fmt, [args.params], model=model, columns={k: v for k, v in cols.items() if k in names},
                  extra=extra, chunk_size=chunk)
    print(f"wrote {rows} {model.name} spectra ({wl.size} bands) to {out} in {time.perf_counter() - t0:.1f} s")
    return 0
