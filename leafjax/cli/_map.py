"""``leafjax map``: satellite scenes in, product maps out (LAI, CCC, CWC, fAPAR, fCover with σ and flags).

Thin: validates every flag (one-line errors, before JAX is imported or anything is computed), builds a
:class:`~leafjax.archive.SceneArchiveTask` and runs :func:`~leafjax.archive.map_scenes` (tiles through the archive
engine: resumable after an interruption, one tile in memory at a time).  Outputs: ``.tif`` (one scene),
``.zarr``/``.nc`` (one scene or a time series on one grid), ``DIR/`` (one GeoTIFF per scene), ``.parquet``/``.csv``
(the per-pixel table).  Scene flags (SCL classes) and every status/quality flag: see the ``--help`` epilog.
"""

from __future__ import annotations

import argparse
import math

from ._common import CLIError, add_compile_cache_option, int_option, positive_int

#: Products of ``--products`` (kept here so that ``--help`` imports nothing heavy; = leafjax.products.PRODUCTS).
PRODUCT_NAMES: tuple[str, ...] = ("lai", "ccc", "cwc", "fapar", "fcover")
METHOD_NAMES: tuple[str, ...] = ("lm", "hybrid", "lut")


def add_parsers(sub) -> None:
    from .._flags import SCENE_MASK_CLASSES, describe_codes

    p = sub.add_parser("map", help="satellite scenes (GeoTIFF, netCDF, zarr) into product maps (lai, ccc, cwc, "
                       "fapar, fcover)", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=describe_codes())
    p.add_argument("scenes", nargs="+", metavar="SCENE", help="scene files: .tif/.tiff (GeoTIFF/COG), .nc, .zarr; "
                   "band names from the band descriptions (B02 or B2, B8A, ...), SCL as a band")
    p.add_argument("--out", required=True, help="maps.tif (one scene) | maps.zarr | maps.nc (a time series on one "
                   "grid) | DIR/ (one <scene>_maps.tif per scene) | pixels.parquet | pixels.csv")
    p.add_argument("--sensor", default="auto", help="sentinel-2a | sentinel-2b | sentinel-2c | landsat-8 | "
                   "landsat-9 | auto (default: from the product name, e.g. S2A_MSIL2A_...)")
    p.add_argument("--products", default=",".join(PRODUCT_NAMES), help="comma-separated, default all: "
                   + ",".join(PRODUCT_NAMES))
    p.add_argument("--method", help="lm | hybrid | lut (default: leafjax.products.DEFAULT_METHOD)")
    p.add_argument("--n-samples", help="simulations of the look-up table / training set (default: the method's)")
    p.add_argument("--k", help="lut: best entries averaged (default: the method's)")
    p.add_argument("--epochs", help="hybrid: training epochs (default: the method's)")
    p.add_argument("--prior", help="lut, hybrid: simulation prior crop | atbd | uniform (default: the method's; "
                                   "crop for lut, atbd for hybrid)")
    p.add_argument("--tile-size", default="256", help="tile edge in pixels (memory bound; default 256)")
    p.add_argument("--bands", default="auto", help="comma-separated bands to use (aliases accepted), or auto: "
                   "every reflectance band of the scene")
    p.add_argument("--scale", help="reflectance = DN * scale + offset: one number or one per band (default: the "
                   "file's scale_factor; Sentinel-2 L2A DN: 1e-4)")
    p.add_argument("--offset", help="one number or one per band (default: the file's add_offset; Sentinel-2 L2A "
                   "from processing baseline 04.00: -0.1)")
    p.add_argument("--nodata", help="DN of missing data (default: the file's nodata)")
    p.add_argument("--scl-band", default="SCL", help="name of the scene-classification band (default SCL; none: "
                   "no classification)")
    p.add_argument("--mask-classes", default=",".join(map(str, SCENE_MASK_CLASSES)),
                   help="SCL classes not inverted (flagged, NaN; default %(default)s: nodata, saturated, shadow, "
                   "water, cloud, cirrus, snow)")
    p.add_argument("--vza", default="5", help="view zenith (deg) when the scene has no vza band/metadata (default 5)")
    p.add_argument("--vaa", default="0", help="view azimuth (deg from north) when the scene has none (default 0)")
    p.add_argument("--time", help="acquisition time (ISO-8601 UTC) when the file name and metadata have none")
    p.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    p.add_argument("--seed", default="0", help="seed of the method's simulations (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out and discard the finished "
                   "tiles of an earlier, unfinished run")
    p.add_argument("--no-resume", action="store_true", help="discard the finished tiles of an unfinished run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_compile_cache_option(p)
    p.set_defaults(func=run_map)


def _numbers(text: str | None, option: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise CLIError(f"{option}: expected a number or comma-separated numbers, got {text!r}"[:160]) from None
    if not values or not all(math.isfinite(v) for v in values):
        raise CLIError(f"{option}: expected finite numbers, got {text!r}"[:160])
    return values


def _names(text: str, option: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in text.split(","))
    if not all(names):
        raise CLIError(f"{option}: expected comma-separated names, got {text!r}"[:160])
    return names


def task_options(args) -> dict:
    """The :class:`~leafjax.archive.SceneArchiveTask` fields from the flags (one-line ``CLIError`` otherwise)."""
    products = tuple(p.lower() for p in _names(args.products, "--products"))
    bad = [p for p in products if p not in PRODUCT_NAMES]
    if bad:
        raise CLIError(f"--products: unknown product {bad[0]!r}; choose from {', '.join(PRODUCT_NAMES)}")
    if len(set(products)) != len(products):
        raise CLIError("--products lists a product twice")
    method = None if args.method is None else args.method.strip().lower()
    if method is not None and method not in METHOD_NAMES:
        raise CLIError(f"--method must be one of {', '.join(METHOD_NAMES)}, got {args.method!r}"[:160])
    if args.dtype not in ("float32", "float64"):
        raise CLIError(f"--dtype must be float32 or float64, got {args.dtype!r}"[:160])
    route = {}
    for flag, field in (("n_samples", "n"), ("k", "k"), ("epochs", "epochs")):
        value = getattr(args, flag)
        if value is not None:
            route[field] = positive_int(value, "--" + flag.replace("_", "-"))
    if args.prior is not None:
        if args.prior not in ("crop", "atbd", "uniform"):
            raise CLIError(f"--prior must be crop, atbd or uniform, got {args.prior!r}"[:160])
        if method == "lm":
            raise CLIError("--prior applies to --method lut or hybrid (lm has bounds, no prior)")
        route["prior"] = args.prior
    try:
        classes = tuple(sorted({int(c) for c in args.mask_classes.split(",") if c.strip()}))
    except ValueError:
        raise CLIError(f"--mask-classes: expected comma-separated SCL classes 0-11, got {args.mask_classes!r}"
                       [:160]) from None
    if any(not 0 <= c <= 11 for c in classes):
        raise CLIError(f"--mask-classes: SCL classes are 0-11, got {args.mask_classes!r}"[:160])
    angles = {}
    for name in ("vza", "vaa"):
        v = _numbers(getattr(args, name), "--" + name)
        if len(v) != 1 or (name == "vza" and not 0 <= v[0] < 90):
            raise CLIError(f"--{name}: expected one angle in degrees" + (" in [0, 90)" if name == "vza" else ""))
        angles[name] = v[0]
    nodata = _numbers(args.nodata, "--nodata")
    if nodata is not None and len(nodata) != 1:
        raise CLIError("--nodata: expected one number")
    if args.time is not None:
        from ..io._raster_names import parse_time

        try:
            parse_time(args.time, "--time")
        except ValueError as e:
            raise CLIError(str(e)) from None
    scl = None if args.scl_band.strip().lower() in ("none", "") else args.scl_band.strip()
    return {"sensor": args.sensor.strip().lower(), "products": products, "method": method,
            "route_options": tuple(route.items()), "tile_size": positive_int(args.tile_size, "--tile-size"),
            "bands": None if args.bands.strip().lower() == "auto" else _names(args.bands, "--bands"),
            "scale": _numbers(args.scale, "--scale"), "offset": _numbers(args.offset, "--offset"),
            "nodata": None if nodata is None else nodata[0], "scl_band": scl, "mask_classes": classes,
            "time": args.time, "seed": int_option(args.seed, "--seed"), **angles}


def run_map(args) -> int:
    options = task_options(args)
    from ..io import check_output
    from ..io._outputs import SCENE_OUTPUT_FORMATS

    try:
        check_output(args.out, inputs=args.scenes, overwrite=args.overwrite, formats=SCENE_OUTPUT_FORMATS)
    except ValueError as e:
        raise CLIError(f"--out: {e}") from None
    from ._common import set_precision

    set_precision(args.dtype)
    if options["sensor"] != "auto":
        from ..spectral import load_srf

        load_srf(options["sensor"])  # unknown sensor -> one-line error before any work
    from ..archive import SceneArchiveTask, map_scenes

    task = SceneArchiveTask(**options)
    summary = map_scenes(args.scenes, args.out, task=task, dtype=args.dtype, resume=not args.no_resume,
                         overwrite=args.overwrite, progress=not args.no_progress)
    print(report(summary, args.out))
    return 0


def report(summary: dict, out: str) -> str:
    """One line: pixels written, tiles computed/reused, seconds, status and flag counts."""
    def counts(c: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"

    return (f"wrote {summary['rows']} pixels to {out} ({summary['chunks_computed']} tiles computed, "
            f"{summary['chunks_reused']} reused, {summary['seconds']:.1f} s); status: {counts(summary['status'])}; "
            f"quality_flags: {counts(summary.get('quality_flags', {}))}")
