"""``leafjax simulate --model lst``: land-surface-temperature pre-training samples streamed to a table.

A thin wrapper around :func:`leafjax.simulation.iter_simulate_lst`: the TIGR pre-training pool (truth rows
removed), the pre-training emissivity spectra, the band model fitted at run time from the line-by-line truth
(:func:`leafjax.inversion.cached_band_model`, cached per data and settings) and the VIMI band responses.  Every
argument is checked before any compute (one-line errors, exit status 2); the output appears only when complete
and ``<out>.lock`` is held while writing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ._common import (
    CLIError,
    int_option,
    nonnegative_float,
    positive_int,
    prepare_output,
    set_precision,
)

#: Files of the thermal data folder that the command reads (the band-model fit may read more; it names them).
REQUIRED_FILES: tuple[str, ...] = ("lwir_atmospheres.h5", "tigr2311_profiles.npz", "mt_ckd_h2o_continuum.nc")
#: Environment variable naming the shared data folder (its ``thermal/`` subfolder is the default ``--data``).
SHARED_DATA_ENV = "LEAFJAX_SHARED_DATA"


def add_arguments(p) -> None:
    """Options of ``simulate`` that only apply to ``--model lst``."""
    p.add_argument("--data", help="lst: thermal data folder (default: $LEAFJAX_SHARED_DATA/thermal, else "
                                  "../shared/data/thermal relative to the working directory)")
    p.add_argument("--vza-max", help="lst: largest view zenith angle in degrees (0..89, default 60); the view "
                                     "angle is uniform on [0, VZA_MAX]")
    p.add_argument("--noise-k", help="lst: Gaussian noise (NEdT, K >= 0, default 0) added to each band "
                                     "brightness temperature")


def check_unused(args) -> None:
    """Reject the lst-only options with another model."""
    for flag, value in (("--data", args.data), ("--vza-max", args.vza_max), ("--noise-k", args.noise_k)):
        if value is not None:
            raise CLIError(f"{flag} needs --model lst")


def default_data_folder() -> Path:
    """``$LEAFJAX_SHARED_DATA/thermal`` if the variable is set, else ``../shared/data/thermal`` (from the cwd)."""
    root = os.environ.get(SHARED_DATA_ENV)
    return (Path(root) if root else Path.cwd().parent / "shared" / "data") / "thermal"


def _data_folder(text: str | None) -> Path:
    folder = Path(text) if text is not None else default_data_folder()
    shown = f"--data {folder}" if text is not None else f"thermal data folder {folder} (set --data)"
    if not folder.is_dir():
        raise CLIError(f"{shown}: no such folder" if not folder.exists() else f"{shown}: not a folder")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise CLIError(f"{shown}: missing {missing[0]}")
    return folder


def _reject_other_options(args) -> None:
    given = [flag for flag, value in (("--wavelengths", args.wavelengths), ("--prior", args.prior),
                                      ("--sensor", args.sensor)) if value is not None]
    if args.factors != "bidirectional":
        given.append("--factors")
    if args.leaf_model != "prospect-d":
        given.append("--leaf-model")
    if given:
        raise CLIError(f"{given[0]} does not apply to --model lst")
    for flag, text in (("--noise-additive", args.noise_additive), ("--noise-multiplicative",
                                                                   args.noise_multiplicative)):
        if nonnegative_float(text, flag) != 0.0:
            raise CLIError(f"{flag} does not apply to --model lst (use --noise-k, in K)")


def _vza_max(text: str | None) -> float:
    from .._parameters import spec

    if text is None:
        from ..simulation import LstPrior

        return LstPrior().vza_deg[1]
    v = nonnegative_float(text, "--vza-max")
    high = spec("vza").high
    if v > high:
        raise CLIError(f"--vza-max: expected at most {high:g} degrees, got {v:g}")
    return v


def _cast(tree, dtype):
    """Floating arrays of a pytree (band model, atmospheres) in ``dtype``; other leaves unchanged."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    def cast(x):
        return x.astype(dtype) if eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.floating) else x

    return jax.tree.map(cast, tree)


def _load(folder: Path):
    """TIGR profiles, the truth file and the band model, with one-line errors."""
    try:
        from ..data._thermal import load_lwir_truth, load_tigr
        from ..inversion._band_fit import cached_band_model

        tigr = load_tigr(folder)
        truth = load_lwir_truth(folder)
        t0 = time.perf_counter()
        band_model = cached_band_model(folder)
        return tigr, truth, band_model, time.perf_counter() - t0
    except ImportError as e:
        raise CLIError(f"--model lst needs {e.name or 'an optional dependency'} (pip install leafjax[thermal])"
                       ) from None
    except (OSError, ValueError) as e:
        raise CLIError(" ".join(str(e).split()) or type(e).__name__) from None


def run_simulate(args) -> int:
    """``leafjax simulate --model lst`` (arguments parsed by :func:`leafjax.cli._simulate.add_parsers`)."""
    n = positive_int(args.n, "--n")
    seed = int_option(args.seed, "--seed")
    chunk = positive_int(args.chunk_size, "--chunk-size")
    _reject_other_options(args)
    vza_max = _vza_max(args.vza_max)
    noise_k = 0.0 if args.noise_k is None else nonnegative_float(args.noise_k, "--noise-k")
    folder = _data_folder(args.data)
    out, fmt = prepare_output(args.out, overwrite=args.overwrite)
    dtype = set_precision(args.dtype)
    import jax
    import numpy as np

    from ..io import OutputLock, TableStreamWriter
    from ..physics.thermal import vimi_response
    from ..simulation import (
        LstPrior,
        emissivity_library,
        iter_simulate_lst,
        pretraining_pool,
        split_emissivities,
    )

    prior = LstPrior(vza_deg=(0.0, vza_max))
    tigr, truth, band_model, fit_s = _load(folder)
    pool, report = pretraining_pool(tigr, truth, return_report=True)
    pre, _site = split_emissivities(truth)
    nu = np.asarray(band_model.wavenumber)
    library = emissivity_library(truth, pre, nu)
    srf = vimi_response(nu)
    band_model = _cast(band_model, dtype)
    profiles = _cast(tigr.atmospheres[pool], dtype)
    t0 = time.perf_counter()
    with OutputLock(out):
        prepare_output(args.out, overwrite=args.overwrite)  # again, now that we hold the lock
        with TableStreamWriter(out, fmt) as writer:
            for block in iter_simulate_lst(jax.random.key(seed), n, band_model, profiles, library, srf, prior,
                                           chunk_size=chunk, noise_k=noise_k, profile_ids=pool,
                                           emissivity_ids=pre):
                writer.write(block)
            rows = writer.rows
    dt = time.perf_counter() - t0
    dropped = report["total"] - report["kept"]
    print(f"wrote {rows} lst samples ({report['kept']} TIGR profiles, {dropped} dropped; {len(pre)} emissivity "
          f"spectra; {srf.n_bands} VIMI bands) to {out} in {dt:.1f} s ({rows / max(dt, 1e-9):.0f} samples/s; "
          f"band model {fit_s:.1f} s)")
    return 0
