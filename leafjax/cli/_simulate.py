"""``leafjax simulate`` and ``leafjax forward`` (leaf models here; ``--model prosail`` in :mod:`._canopy`)."""

from __future__ import annotations

import time

from . import _canopy
from ._common import (
    CLIError,
    check_output_path,
    load_prior_file,
    parse_wavelengths,
    positive_int,
    read_table,
    set_precision,
)


def add_parsers(sub) -> None:
    p = sub.add_parser("simulate", help="sample parameters from a prior, simulate spectra, write parquet")
    p.add_argument("--model", required=True, help="prospect-d | prospect-pro | prosail")
    p.add_argument("--n", required=True, help="number of spectra (> 0)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    p.add_argument("--out", required=True, help="output parquet file")
    p.add_argument("--wavelengths", help="START:STOP[:STEP] or comma list in nm (default 400:2400)")
    p.add_argument("--prior", help="JSON file with a prior specification (default: the documented prior)")
    p.add_argument("--noise-additive", type=float, default=0.0, help="additive Gaussian noise std (reflectance)")
    p.add_argument("--noise-multiplicative", type=float, default=0.0, help="relative Gaussian noise std")
    p.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    p.add_argument("--chunk-size", type=int, default=8192, help="spectra per compiled batch")
    _canopy.add_arguments(p)
    p.set_defaults(func=run_simulate)

    f = sub.add_parser("forward", help="run a model for every row of a parameter table (csv/parquet)")
    f.add_argument("--model", required=True, help="prospect-d | prospect-pro | prosail")
    f.add_argument("--params", required=True, help="csv or parquet with canonical parameter columns")
    f.add_argument("--out", required=True, help="output parquet file")
    f.add_argument("--wavelengths", help="START:STOP[:STEP] or comma list in nm (default 400:2400)")
    f.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    f.add_argument("--chunk-size", type=int, default=8192, help="rows per compiled batch")
    _canopy.add_arguments(f)
    f.set_defaults(func=run_forward)


def _model(name: str, wavelengths, dtype):
    from ..physics import LEAF_MODELS, get_leaf_model

    if name.lower() not in LEAF_MODELS:
        raise CLIError(f"unknown model {name!r}; choose one of: {', '.join(LEAF_MODELS)}, prosail")
    return get_leaf_model(name, wavelengths=wavelengths, dtype=dtype)


def run_simulate(args) -> int:
    if args.model.lower() == "prosail":
        return _canopy.run_simulate(args)
    _canopy.check_leaf_only(args)
    n = positive_int(args.n)
    wl = parse_wavelengths(args.wavelengths)
    out = check_output_path(args.out)
    dtype = set_precision(args.dtype)
    import jax
    import numpy as np

    from ..simulation import default_prior, make_noise, write_spectra_parquet
    from ..simulation._priors import check_within_bounds

    model = _model(args.model, wl, dtype)
    prior = load_prior_file(args.prior) if args.prior else default_prior(model.name)
    check_within_bounds(prior, model.params_type.names)
    noise = make_noise(args.noise_additive, args.noise_multiplicative)
    key = jax.random.key(args.seed)
    k_prior, k_noise = jax.random.split(key)
    t0 = time.perf_counter()
    cols = {k: np.asarray(v) for k, v in prior.sample(k_prior, n, dtype=dtype).items()}
    rows = write_spectra_parquet(out, model, cols, key=k_noise, noise=noise, chunk_size=args.chunk_size)
    dt = time.perf_counter() - t0
    print(f"wrote {rows} {model.name} spectra ({wl.size} bands, R and T) to {out} in {dt:.1f} s")
    return 0


def run_forward(args) -> int:
    if args.model.lower() == "prosail":
        return _canopy.run_forward(args)
    _canopy.check_leaf_only(args)
    import numpy as np

    wl = parse_wavelengths(args.wavelengths)
    out = check_output_path(args.out)
    dtype = set_precision(args.dtype)
    from ..simulation import validate_parameter_table, write_spectra_parquet

    model = _model(args.model, wl, dtype)
    df = read_table(args.params)
    names = model.params_type.names
    cols = {}
    for c in df.columns:
        if c in names or c == "lma":
            try:
                cols[c] = df[c].to_numpy(dtype=np.float64)
            except (ValueError, TypeError):
                raise CLIError(f"{args.params}: column {c!r} has non-numeric values") from None
    from ..simulation._simulate import params_from_columns

    params_from_columns(model, {k: v[:1] for k, v in cols.items()})  # checks names before computing
    validate_parameter_table(model, cols, source=args.params)
    extra = {c: df[c].to_numpy() for c in df.columns if c not in names and c != "lma"}
    t0 = time.perf_counter()
    rows = write_spectra_parquet(out, model, {k: v for k, v in cols.items() if k in names}, extra=extra,
                                 chunk_size=args.chunk_size)
    print(f"wrote {rows} {model.name} spectra ({wl.size} bands) to {out} in {time.perf_counter() - t0:.1f} s")
    return 0
