"""``leafjax invert``: invert a spectral archive (parquet, CSV or .npy) into traits, in resumable chunks.

Thin: parses the flags into :class:`~leafjax.archive.ArchiveSettings`, picks the archive task of ``--model``
(:func:`~leafjax.archive.get_task`) and runs :func:`~leafjax.archive.invert_archive`.  ``--model prosail``
inverts canopy reflectance (``R_<nm>`` or, with ``--sensor``, ``R_<band>`` columns, plus per-row ``sza``,
``vza``, ``raa``) into ``lai``, ``chl``, ``ewt``, ``fcover``, ... (see :mod:`leafjax.archive._canopy`)."""

from __future__ import annotations

import json

from ._common import CLIError, check_output_path, positive_int, set_precision


def add_parsers(sub) -> None:
    p = sub.add_parser("invert", help="invert spectra (R_<nm>/T_<nm> columns or .npy) into leaf or canopy traits")
    p.add_argument("input", help="archive: .parquet, .csv, or .npy (with --wavelengths-file)")
    p.add_argument("--model", required=True, help="prospect-d | prospect-pro | prosail (canopy: needs sza, vza, "
                   "raa columns)")
    p.add_argument("--out", required=True, help="output parquet file (one row per input row, in order)")
    p.add_argument("--strategy", default="full", help="full (all bands) | optimal (per-constituent subdomains)")
    p.add_argument("--free", help="comma-separated parameters to estimate (default: all but brown)")
    p.add_argument("--chunk-size", default="4096", help="spectra per chunk (memory bound; default 4096)")
    p.add_argument("--wavelengths-file", help="for .npy input: wavelengths in nm, one per band")
    p.add_argument("--kind", default="R", help="for .npy input: R (reflectance, default) or T")
    p.add_argument("--reflectance-only", action="store_true", help="ignore T_ columns")
    p.add_argument("--transmittance-only", action="store_true", help="ignore R_ columns")
    p.add_argument("--percent", action="store_true", help="spectra are in percent: divide by 100")
    p.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    p.add_argument("--n-starts", default="1", help="look-up-table starting points per spectrum (default 1)")
    p.add_argument("--max-steps", default="60", help="iteration limit (default 60)")
    p.add_argument("--overwrite", action="store_true", help="discard the finished chunks of an earlier run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--sensor", help="prosail: R_<band> columns of this sensor (e.g. sentinel-2a)")
    p.add_argument("--leaf-model", default="prospect-d", help="prosail: prospect-d (default) | prospect-pro")
    p.add_argument("--grid-step", default="1", help="prosail with --sensor: simulation grid step in nm (default 1)")
    p.add_argument("--dask", metavar="ADDRESS", help="distribute chunks over a Dask scheduler (needs leafjax[dask])")
    p.set_defaults(func=run_invert)


def run_invert(args) -> int:
    if args.strategy not in ("full", "optimal"):
        raise CLIError(f"--strategy must be full or optimal, got {args.strategy!r}")
    if args.reflectance_only and args.transmittance_only:
        raise CLIError("--reflectance-only and --transmittance-only exclude each other")
    if args.kind not in ("R", "T"):
        raise CLIError("--kind must be R or T")
    check_output_path(args.out)
    set_precision(args.dtype)
    from ..archive import ArchiveSettings, CanopyArchiveTask, get_task, invert_archive
    from ..physics import LEAF_MODELS

    task = get_task(args.model)  # unknown model -> one-line error listing the choices
    model = args.model.lower().replace("_", "-")
    leaf_model = args.leaf_model.lower().replace("_", "-")
    if isinstance(task, CanopyArchiveTask):
        if leaf_model not in LEAF_MODELS:
            raise CLIError(f"unknown --leaf-model {args.leaf_model!r}; choose one of: {', '.join(LEAF_MODELS)}")
        if args.strategy != "full":
            raise CLIError("--strategy optimal applies to leaf models only")
        if args.sensor is not None:
            from ..spectral import load_srf

            load_srf(args.sensor)  # unknown sensor -> one-line error before any work
    elif args.sensor is not None or leaf_model != "prospect-d" or args.grid_step != "1":
        raise CLIError("--sensor, --leaf-model and --grid-step need --model prosail")
    settings = ArchiveSettings(
        model=model, strategy=args.strategy, chunk_size=positive_int(args.chunk_size),
        use_r=not args.transmittance_only, use_t=not args.reflectance_only, percent=args.percent,
        dtype=args.dtype, n_starts=positive_int(args.n_starts), max_steps=positive_int(args.max_steps),
        free=tuple(x.strip() for x in args.free.split(",")) if args.free else None, kind=args.kind,
        sensor=args.sensor, leaf_model=leaf_model, grid_step=positive_int(args.grid_step))
    client = None
    if args.dask:
        try:
            from distributed import Client
        except ImportError:
            raise CLIError("--dask needs the dask extra: pip install 'leafjax[dask]'") from None
        client = Client(args.dask)
    try:
        summary = invert_archive(args.input, args.out, settings, task=task, wavelengths_file=args.wavelengths_file,
                                 resume=not args.overwrite, progress=not args.no_progress, client=client)
    finally:
        if client is not None:
            client.close()
    print(f"wrote {summary['rows']} rows to {args.out} ({summary['chunks_computed']} chunks computed, "
          f"{summary['chunks_reused']} reused, {summary['seconds']:.1f} s); status: {json.dumps(summary['status'])}")
    return 0
