"""``leafjax voxel simulate`` and ``leafjax voxel invert``: images of a 3-D voxel scene, and the component spectra
retrieved from such images, as thin wrappers around :mod:`leafjax.physics.voxel` and
:func:`leafjax.inversion.retrieve_voxel_spectra`.

* The scene is a JSON file read by :func:`leafjax.physics.voxel.scene_from_spec` (``{"builder": ..., ...}``).
* Spectra tables (``--spectra`` of ``simulate``, ``--out`` of ``invert``): one row per wavelength, columns
  ``wavelength`` (nm), ``<component>_rho`` and ``<component>_tau`` for every leaf component of the scene, and
  ``soil`` (fractions); ``invert`` adds ``fit_rmse`` (BRF), ``status`` and ``quality_flags`` per wavelength (as
  in ``leafjax invert``, docs/io.md; ``at_bound:<c>_albedo`` etc. name the free parameters), so its output is a
  valid ``--spectra`` input.
* Images (``--out`` of ``simulate``, ``--images`` of ``invert``): a ``.npz`` with ``images`` ``(views, nx, ny,
  wl)`` (BRF), ``wavelength`` (nm), ``views`` ``(views, 2)`` (vza, vaa in degrees), ``sza``, ``saa`` (degrees),
  ``pixel_size`` (m; NaN: one pixel for the whole scene) and the simulation settings.

Every argument and file is checked before any compute (one-line errors, exit status 2); outputs appear under
their final name only when complete.  ``invert`` traces its own photons (``--seed``, default 1, i.e. not the
photons of a ``simulate`` run with its default seed 0).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from ._common import (
    CLIError,
    add_compile_cache_option,
    int_option,
    nonnegative_float,
    numeric_column,
    positive_int,
    prepare_output,
    read_table,
    set_precision,
)

#: Keys of an images file written by ``leafjax voxel simulate``.
IMAGE_KEYS = ("images", "wavelength", "views", "sza", "saa", "pixel_size")


def add_parsers(sub) -> None:
    v = sub.add_parser("voxel", help="3-D voxel canopies: simulate images of a scene, invert component spectra")
    verbs = v.add_subparsers(dest="verb", required=True, parser_class=type(v))
    s = verbs.add_parser("simulate", help="Monte Carlo images of a voxel scene at given component spectra (.npz)")
    s.add_argument("--spectra", required=True, help="csv/parquet: wavelength, <component>_rho, <component>_tau, soil")
    s.add_argument("--sza", default="30", help="solar zenith angle in degrees (0..89, default 30)")
    s.add_argument("--saa", default="0", help="solar azimuth angle in degrees (default 0)")
    s.add_argument("--views", default="0:0", help="comma list of VZA:VAA in degrees (default 0:0, nadir)")
    s.add_argument("--pixel-size", help="image pixel in m, dividing the scene extent (default: one pixel)")
    s.add_argument("--noise", default="0", help="relative Gaussian noise std added to the images (>= 0)")
    s.add_argument("--seed", default="0", help="PRNG seed of the photons and the noise (default 0)")
    s.add_argument("--out", required=True, help="output images file (.npz)")
    s.set_defaults(func=run_simulate)
    i = verbs.add_parser("invert", help="retrieve the component spectra of a voxel scene from its images")
    i.add_argument("--images", required=True, help=".npz written by leafjax voxel simulate (or the same keys)")
    i.add_argument("--smoothness", default="0", help="weight of the second-difference prior (>= 0, default 0)")
    i.add_argument("--starts", default="2", help="starting points per wavelength (1..4, default 2)")
    i.add_argument("--seed", default="1", help="PRNG seed of the photons traced for the retrieval (default 1)")
    i.add_argument("--out", required=True, help="output spectra table: .csv or .parquet/.pq")
    i.set_defaults(func=run_invert)
    for p in (s, i):
        p.add_argument("--scene", required=True, help="scene JSON file (leafjax.physics.voxel.scene_from_spec)")
        p.add_argument("--photons", default="65536", help="photons traced (a positive integer, default 65536)")
        p.add_argument("--batch", default="16384", help="photons per compiled batch (default 16384)")
        p.add_argument("--max-order", default="30", help="scatterings kept per path (1..120, default 30)")
        p.add_argument("--dtype", default="float64", help="float64 (default) or float32")
        p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
        add_compile_cache_option(p)


def _float(text, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    try:
        v = float(str(text).strip())
    except ValueError:
        raise CLIError(f"{name}: expected a number, got {text!r}") from None
    if not (math.isfinite(v) and low <= v <= high):
        raise CLIError(f"{name}: expected a number in [{low:g}, {high:g}], got {text!r}")
    return v


def parse_views(text: str) -> tuple[tuple[float, float], ...]:
    """``"0:0,30:180"`` -> ``((0.0, 0.0), (30.0, 180.0))`` (vza in [0, 89) degrees)."""
    views = []
    for item in str(text).split(","):
        parts = item.strip().split(":")
        if len(parts) != 2:
            raise CLIError(f"--views: expected a comma list of VZA:VAA in degrees, got {text!r}")
        views.append((_float(parts[0], "--views VZA", 0.0, 88.999), _float(parts[1], "--views VAA")))
    return tuple(views)


def _read_scene(path: str, dtype):
    from ..physics.voxel import scene_from_spec

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"--scene {path}: no such file" if not p.exists() else f"--scene {path}: not a file")
    try:
        spec = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CLIError(f"--scene {path}: not valid JSON ({e})") from None
    try:
        return scene_from_spec(spec, dtype=dtype)
    except ValueError as e:
        raise CLIError(f"--scene {path}: {e}") from None


def _common(args) -> dict:
    order = positive_int(args.max_order, "--max-order")
    if order > 120:
        raise CLIError(f"--max-order: expected 1..120, got {order}")
    return dict(photons=positive_int(args.photons, "--photons"), batch=positive_int(args.batch, "--batch"),
                max_order=order)


def read_spectra(path: str, components, dtype):
    """A spectra table -> ``(wavelength (wl,), ComponentSpectra)``, with one-line errors."""
    import numpy as np

    from ..physics.voxel import ComponentSpectra

    df = read_table(path)
    need = ["wavelength"] + [f"{c}_{k}" for c in components for k in ("rho", "tau")] + ["soil"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise CLIError(f"--spectra {path}: missing column(s) {missing} (scene components {list(components)})")
    col = {c: numeric_column(df, c, f"--spectra {path}") for c in need}
    wl = col["wavelength"]
    if wl.size == 0 or np.any(np.diff(wl) <= 0):
        raise CLIError(f"--spectra {path}: wavelength must be non-empty and strictly increasing (nm)")
    rho = np.stack([col[f"{c}_rho"] for c in components])
    tau = np.stack([col[f"{c}_tau"] for c in components])
    soil = col["soil"]
    if np.any(rho < 0) or np.any(tau < 0) or np.any(rho + tau > 1) or np.any((soil < 0) | (soil > 1)):
        raise CLIError(f"--spectra {path}: need rho, tau >= 0 with rho + tau <= 1 and 0 <= soil <= 1 (fractions)")
    import jax.numpy as jnp

    return wl, ComponentSpectra(jnp.asarray(rho, dtype), jnp.asarray(tau, dtype), jnp.asarray(soil, dtype))


def _write_npz(out: Path, **arrays) -> None:
    import numpy as np

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def run_simulate(args) -> int:
    """``leafjax voxel simulate``: every input checked, then trace, render, add noise, write."""
    out, _ = prepare_output(args.out, inputs=(args.scene, args.spectra), overwrite=args.overwrite,
                            formats={".npz": "npz"})
    settings = _common(args)
    sza, saa = _float(args.sza, "--sza", 0.0, 88.999), _float(args.saa, "--saa")
    views = parse_views(args.views)
    pixel = None if args.pixel_size is None else _float(args.pixel_size, "--pixel-size", 1e-6)
    noise = nonnegative_float(args.noise, "--noise")
    seed = int_option(args.seed)
    dtype = set_precision(args.dtype)
    scene = _read_scene(args.scene, dtype)
    wl, spectra = read_spectra(args.spectra, scene.components, dtype)

    import jax
    import numpy as np

    from ..io import OutputLock
    from ..physics import voxel as vx

    try:
        vx.image_shape(scene, pixel)
    except ValueError as e:
        raise CLIError(f"--pixel-size: {e}") from None
    key = jax.random.key(seed)
    with OutputLock(out):
        tallies = vx.monte_carlo_tallies(scene, key, n_photons=settings["photons"], sza=sza, saa=saa, views=views,
                                         pixel_size=pixel, max_order=settings["max_order"],
                                         batch_size=settings["batch"])
        images = np.stack([np.asarray(vx.render(tallies, spectra, v, tail=True)) for v in range(len(views))])
        if noise > 0:
            z = np.asarray(jax.random.normal(jax.random.fold_in(key, -1), images.shape, images.dtype))
            images = images * (1.0 + noise * z)
        _write_npz(out, images=images, wavelength=wl, views=np.asarray(views), sza=sza, saa=saa,
                   pixel_size=np.nan if pixel is None else pixel, photons=tallies.n_photons, seed=seed,
                   noise=noise, max_order=settings["max_order"], components=np.asarray(scene.components))
    print(f"wrote {out}: {len(views)} view(s) of {tallies.image_shape[0]} x {tallies.image_shape[1]} pixels x "
          f"{wl.size} wavelengths ({tallies.n_photons} photons, {tallies.unfinished} unfinished paths)")
    return 0


def read_images(path: str) -> dict:
    """An images ``.npz`` -> its arrays, checked (one-line errors)."""
    import numpy as np

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"--images {path}: no such file" if not p.exists() else f"--images {path}: not a file")
    try:
        with np.load(p, allow_pickle=False) as f:
            data = {k: np.asarray(f[k]) for k in f.files}
    except (OSError, ValueError) as e:
        raise CLIError(f"--images {path}: not a readable .npz ({e})") from None
    missing = [k for k in IMAGE_KEYS if k not in data]
    if missing:
        raise CLIError(f"--images {path}: missing array(s) {missing}")
    im, views, wl = data["images"], data["views"], data["wavelength"]
    if im.ndim != 4 or views.shape != (im.shape[0], 2) or wl.shape != (im.shape[3],):
        raise CLIError(f"--images {path}: need images (views, nx, ny, wl), views (views, 2) and wavelength (wl,), "
                       f"got {im.shape}, {views.shape}, {wl.shape}")
    if not np.all(np.isfinite(im)) or not np.all(np.isfinite(views)):
        raise CLIError(f"--images {path}: images and views must be finite")
    return data


def run_invert(args) -> int:
    """``leafjax voxel invert``: every input checked, then trace the scene's tallies, retrieve, write."""
    out, fmt = prepare_output(args.out, inputs=(args.scene, args.images), overwrite=args.overwrite)
    settings = _common(args)
    smoothness = nonnegative_float(args.smoothness, "--smoothness")
    starts = positive_int(args.starts, "--starts")
    if starts > 4:
        raise CLIError(f"--starts: expected 1..4, got {starts}")
    seed = int_option(args.seed)
    import numpy as np

    data = read_images(args.images)
    dtype = set_precision(args.dtype)
    scene = _read_scene(args.scene, dtype)
    sza, saa = float(data["sza"]), float(data["saa"])
    pixel = None if not np.isfinite(float(data["pixel_size"])) else float(data["pixel_size"])

    import jax

    from .._flags import STATUS_MEANINGS
    from ..archive._rows import quality_flag_names
    from ..inversion import ImageObservation, retrieve_voxel_spectra
    from ..io import OutputLock, TableStreamWriter
    from ..physics import voxel as vx

    try:
        shape = vx.image_shape(scene, pixel)
    except ValueError as e:
        raise CLIError(f"--images pixel_size: {e}") from None
    if tuple(data["images"].shape[1:3]) != tuple(shape):
        raise CLIError(f"--images: images of {data['images'].shape[1:3]} pixels, but the scene at pixel size "
                       f"{pixel} m gives {tuple(shape)}")
    views = tuple((float(a), float(b)) for a, b in data["views"])
    with OutputLock(out):
        tallies = vx.monte_carlo_tallies(scene, jax.random.key(seed), n_photons=settings["photons"], sza=sza,
                                         saa=saa, views=views, pixel_size=pixel, max_order=settings["max_order"],
                                         batch_size=settings["batch"])
        obs = [ImageObservation(tallies, v, data["images"][v]) for v in range(len(views))]
        res = retrieve_voxel_spectra(obs, scene.components, smoothness=smoothness, n_starts=starts)
        cols = {"wavelength": data["wavelength"]}
        for k, c in enumerate(scene.components):
            cols[f"{c}_rho"], cols[f"{c}_tau"] = np.asarray(res.rho[k]), np.asarray(res.tau[k])
        pb = res.per_band
        at_bound = {k: np.asarray(v, bool) for k, v in pb.at_bound.items()}
        cols.update(soil=np.asarray(res.soil), fit_rmse=np.asarray(pb.rmse),
                    status=[list(STATUS_MEANINGS)[int(s)] for s in np.asarray(pb.status)],
                    quality_flags=[quality_flag_names(int(q), {k: bool(v[j]) for k, v in at_bound.items()})
                                   for j, q in enumerate(np.asarray(pb.quality))])
        with TableStreamWriter(out, fmt) as w:
            w.write(cols)
    flagged = int(np.sum(np.asarray(pb.quality) != 0))
    print(f"wrote {out}: spectra of {len(scene.components)} component(s) and the soil at "
          f"{data['wavelength'].size} wavelengths from {len(views)} image(s); {flagged} wavelength(s) flagged")
    return 0
