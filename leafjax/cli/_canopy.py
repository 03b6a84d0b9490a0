"""``leafjax simulate --model prosail`` and ``leafjax forward --model prosail``: thin wrappers around
:func:`leafjax.simulation.write_prosail_parquet` (the library does the work)."""

from __future__ import annotations

import time

from ._common import (
    CLIError,
    check_output_path,
    load_prior_file,
    parse_wavelengths,
    positive_int,
    read_table,
    set_precision,
)

#: Values of ``--factors``.
FACTOR_CHOICES = ("bidirectional", "all")


def add_arguments(p) -> None:
    """Options shared by ``simulate`` and ``forward`` that only apply to ``--model prosail``."""
    p.add_argument("--sensor", help="prosail: sensor name (e.g. sentinel-2a) or SRF csv; writes R_<band> columns")
    p.add_argument("--factors", default="bidirectional",
                   help="prosail: bidirectional (R_ columns, default) or all (adds rsot_, rddt_, rsdt_, rdot_)")
    p.add_argument("--leaf-model", default="prospect-d", help="prosail: prospect-d (default) | prospect-pro")


def check_leaf_only(args) -> None:
    """Reject prosail-only options with a leaf model."""
    if args.sensor is not None or args.factors != "bidirectional" or args.leaf_model != "prospect-d":
        raise CLIError("--sensor, --factors and --leaf-model need --model prosail")


def _setup(args):
    if args.factors not in FACTOR_CHOICES:
        raise CLIError(f"--factors must be one of {', '.join(FACTOR_CHOICES)}, got {args.factors!r}")
    wl = parse_wavelengths(args.wavelengths)
    out = check_output_path(args.out)
    dtype = set_precision(args.dtype)
    from ..physics.canopy import Prosail
    from ..spectral import load_srf
    from ..physics import LEAF_MODELS

    if args.leaf_model.lower().replace("_", "-") not in LEAF_MODELS:
        raise CLIError(f"unknown --leaf-model {args.leaf_model!r}; choose one of: {', '.join(LEAF_MODELS)}")
    model = Prosail(args.leaf_model, wavelengths=wl, dtype=dtype)
    srf = None
    if args.sensor is not None:
        srf = load_srf(args.sensor, wl, dtype=dtype)  # ValueError -> one-line error
    return wl, out, dtype, model, srf


def _describe(srf, wl) -> str:
    return f"{srf.n_bands} {srf.name} bands" if srf is not None else f"{wl.size} bands"


def run_simulate(args) -> int:
    n = positive_int(args.n)
    wl, out, dtype, model, srf = _setup(args)
    import jax

    from ..simulation import default_prosail_prior, sample_prosail_table, write_prosail_parquet
    from ..spectral import GaussianNoise
    prior = load_prior_file(args.prior) if args.prior else default_prosail_prior(args.leaf_model)
    if args.noise_additive < 0 or args.noise_multiplicative < 0:
        raise CLIError("noise standard deviations must be >= 0")
    noise = None
    if args.noise_additive > 0 or args.noise_multiplicative > 0:
        noise = GaussianNoise(additive=args.noise_additive, multiplicative=args.noise_multiplicative)
    k_prior, k_noise = jax.random.split(jax.random.key(args.seed))
    t0 = time.perf_counter()
    cols = sample_prosail_table(prior, n, k_prior, model)
    rows = write_prosail_parquet(out, model, cols, srf=srf, factors=args.factors, noise=noise, key=k_noise,
                                 chunk_size=min(args.chunk_size, 2048))
    print(f"wrote {rows} prosail spectra ({_describe(srf, wl)}) to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def run_forward(args) -> int:
    import numpy as np

    wl, out, dtype, model, srf = _setup(args)
    from ..simulation import CANOPY_NAMES, validate_prosail_table, write_prosail_parquet

    df = read_table(args.params)
    names = set(model.leaf_model.params_type.names) | set(CANOPY_NAMES)
    cols = {}
    for c in df.columns:
        if c in names and c != "lidf_type":
            try:
                cols[c] = df[c].to_numpy(dtype=np.float64)
            except (ValueError, TypeError):
                raise CLIError(f"{args.params}: column {c!r} has non-numeric values") from None
    if "lidf_type" in df.columns:
        cols["lidf_type"] = df["lidf_type"].astype(str).str.lower().to_numpy()
    validate_prosail_table(model, cols, source=args.params)
    extra = {c: df[c].to_numpy() for c in df.columns if c not in names}
    t0 = time.perf_counter()
    rows = write_prosail_parquet(out, model, cols, srf=srf, factors=args.factors, extra=extra,
                                 chunk_size=min(args.chunk_size, 2048))
    print(f"wrote {rows} prosail spectra ({_describe(srf, wl)}) to {out} in {time.perf_counter() - t0:.1f} s")
    return 0
