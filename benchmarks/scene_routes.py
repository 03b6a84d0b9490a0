"""Scene throughput of the three product routes (lm, hybrid, lut) and the look-up-table build vs a PyPI ``prosail``
loop.

**The scene is synthetic**: 1000 x 1000 Sentinel-2A pixels (the nine bands of the validation rows: B2-B8A, B11,
B12, no B8) simulated by PROSAIL (PROSPECT-D + 4SAIL, Campbell LIDF, dry/wet soil; float32 on 400-2400 nm) from
uniformly random parameters at one geometry (sza 35, vza 5, raa 100 degrees); ``--unique`` pixels are simulated
and repeated to fill the scene (the routes' cost does not depend on the values).  Each route is the object of
:func:`leafjax.products.get_route` with its defaults (``--lut-n``, ``--hybrid-n``, ``--epochs``, ``--ensemble``
change them), run through :func:`leafjax.products.retrieve_products` in tiles of ``--tile`` pixels (the archive
engine's chunk size) with one prepared state, as the scene task does.

Printed per route: ``prepare`` time (hybrid: training; lut: ``prepare`` plus the one table of the scene's
geometry, built on the first tile), the pixels/s on the pixels measured (on the 2-core CPU: hybrid on the whole
scene, ``--pixels``; lut on ``--lut-pixels`` = 4096 and lm on ``--lm-pixels`` = 1024, since a 50,000-entry table
query and the per-pixel fit run at ~10^2 and ~10 pixels/s there; when fewer than the scene's 10^6 pixels are
measured the time for the whole scene is *extrapolated*, and says so).
Fairness (:mod:`_timing`): imports, set-up and one warm-up tile (compilation) precede every timed region; wall
and process CPU seconds and the load average are printed.

**LUT build vs prosail**: :func:`leafjax.inversion.build_lut` (direct sun only, no noise: PyPI ``prosail`` has
no sky model) of ``--build-n`` entries against ``prosail.run_prosail`` per entry with the same parameters
(``--prosail-entries``), each convolved to the same bands with the same response (NumPy matrix product), timed
after ``import prosail`` and its numba warm-up; entries per second and their ratio (interleaved repeats, per
repeat, median [min-max]).  The table entries are checked against ``prosail`` (max |difference| of the bands, in
float64 and float32).

Run (2-core CPU, ~10 min):   python benchmarks/scene_routes.py
Smoke run (~2 min):          python benchmarks/scene_routes.py --quick
GPU (whole scene for every route, lm on 10^5 pixels):   python benchmarks/scene_routes.py --gpu
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a script named prosail.py: keep it from shadowing the PyPI package (helpers are found last)
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # entry point: float64 available for the check; routes run float32

import numpy as np  # noqa: E402

import _timing as tm  # noqa: E402
from leafjax.physics.canopy import Prosail  # noqa: E402
from leafjax.spectral import load_srf  # noqa: E402

SCENE_PIXELS = 1000 * 1000
GEOMETRY = {"sza": 35.0, "vza": 5.0, "raa": 100.0}
BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8A", "B11", "B12")
GRID = np.arange(400, 2401, dtype=np.float64)
RANGES = {  # uniform sampling ranges of the synthetic scene (canonical names and units)
    "n_struct": (1.2, 2.2), "chl": (15.0, 75.0), "car": (3.0, 15.0), "ant": (0.0, 0.0), "brown": (0.0, 0.3),
    "ewt": (0.005, 0.03), "lma": (0.003, 0.012), "lai": (0.2, 6.0), "lidf_a": (30.0, 75.0), "hotspot": (0.05, 0.3),
    "soil_brightness": (0.6, 1.4), "soil_dryness": (0.0, 1.0),
}
PROSAIL_ARGS = ("n_struct", "chl", "car", "brown", "ewt", "lma", "lai", "lidf_a", "hotspot", "sza", "vza", "raa")


def synthetic_scene(model: Prosail, srf, unique: int, seed: int = 0) -> np.ndarray:
    """``(unique, band)`` float32 reflectance of random PROSAIL pixels at :data:`GEOMETRY` (not timed)."""
    from leafjax.physics.canopy import simulate_prosail

    rng = np.random.default_rng(seed)
    p = {k: rng.uniform(lo, hi, unique) for k, (lo, hi) in RANGES.items()}
    p.update({k: np.full(unique, v) for k, v in GEOMETRY.items()})
    out = []
    for s in range(0, unique, 4096):
        rsot = simulate_prosail({k: v[s:s + 4096] for k, v in p.items()}, model).rsot
        out.append(np.asarray(rsot, np.float64) @ np.asarray(srf.weights, np.float64).T)
    return np.concatenate(out).astype(np.float32)


def route_run(name: str, route, srf, model, pool: np.ndarray, pixels: int, tile: int) -> dict:
    """Prepare ``route`` (timed), warm up on one tile (untimed unless it builds the LUT), then time
    ``retrieve_products`` over ``pixels`` pixels in tiles; returns the figures."""
    from leafjax.products import retrieve_products

    tiles = max(1, -(-pixels // tile))
    geometry = {k: np.full(tile, v) for k, v in GEOMETRY.items()}

    def block(i):
        idx = (np.arange(tile) + i * tile) % pool.shape[0]
        return pool[idx]

    t0 = time.perf_counter()
    state = route.prepare(srf, model, jax.random.key(0))
    prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    retrieve_products(block(0), geometry, srf, route, model=model, state=state)  # compile (+ lut: the table)
    first = time.perf_counter() - t0
    if name == "lut":  # the table of the scene's geometry is the route's per-geometry "prepare"
        t0 = time.perf_counter()
        retrieve_products(block(0), geometry, srf, route, model=model, state=state)
        prep += first - (time.perf_counter() - t0)

    def go():
        return [retrieve_products(block(i), geometry, srf, route, model=model, state=state) for i in range(tiles)]

    c = tm.Contender(f"{name} ({tiles * tile} px)", go, tiles * tile)
    return {"contender": c, "prepare": prep}


def lut_build_vs_prosail(srf64, srf32, build_n: int, entries: int, repeats: int) -> None:
    """``build_lut`` (direct sun, no noise) against a ``prosail.run_prosail`` loop + the same convolution."""
    import prosail

    from leafjax.inversion import build_lut
    from leafjax.products._routes import make_prior

    warnings.simplefilter("ignore")
    prior = make_prior("atbd", (GEOMETRY["sza"],) * 2, (GEOMETRY["vza"],) * 2, (GEOMETRY["raa"],) * 2)
    m32 = Prosail("prospect-d", wavelengths=GRID, dtype=np.float32)
    m64 = Prosail("prospect-d", wavelengths=GRID, dtype=np.float64)
    key = jax.random.key(1)
    chunk = min(4096, build_n)
    build_lut(m32, srf32, prior, build_n, key, geometry=GEOMETRY, chunk_size=chunk)  # compile + warm-up

    def lj():
        return jax.block_until_ready(build_lut(m32, srf32, prior, build_n, key, geometry=GEOMETRY,
                                               chunk_size=chunk).bands)

    ref64 = build_lut(m64, srf64, prior, entries, key, geometry=GEOMETRY, chunk_size=min(4096, entries))
    weights = np.asarray(srf64.weights, np.float64)

    def prosail_bands(table, i):
        vals = {k: np.asarray(v, np.float64) for k, v in table.values.items()}
        a = [float(vals[k][i]) for k in PROSAIL_ARGS]
        rsot = prosail.run_prosail(*a, ant=float(vals["ant"][i]), prospect_version="D", typelidf=2,
                                   rsoil=float(vals["soil_brightness"][i]), psoil=float(vals["soil_dryness"][i]))
        return weights @ np.asarray(rsot)[:GRID.size]  # 400-2400 nm of prosail's 400-2500 nm

    def one(i):
        return prosail_bands(ref64, i)

    one(0)  # numba compilation
    base = tm.Contender(f"prosail loop + convolution ({entries} entries)", lambda: np.stack(
        [one(i) for i in range(entries)]), entries)
    mine = tm.Contender(f"leafjax build_lut f32 ({build_n} entries)", lj, build_n)
    before, after = tm.run_interleaved([mine, base], repeats)
    print(f"LUT build vs PyPI prosail (direct sun, no noise; {len(BANDS)} S2A bands): load before "
          f"{tm.fmt_load(before)}, after {tm.fmt_load(after)}; {repeats} interleaved repeat(s)")
    print(tm.table([mine, base], unit="entries/s"))
    print("  " + tm.ratio_line("LUT build speed-up leafjax f32 / prosail loop (per repeat)", mine, base))
    ref = np.asarray(base.result)
    d64 = np.abs(np.asarray(ref64.bands, np.float64) - ref).max()
    t32 = build_lut(m32, srf32, prior, entries, key, geometry=GEOMETRY, chunk_size=min(4096, entries))
    ref32 = np.stack([prosail_bands(t32, i) for i in range(entries)])  # prosail at the float32 table's entries
    d32 = np.abs(np.asarray(t32.bands, np.float64) - ref32).max()
    print(f"  check: max |band difference| of the LUT entries vs prosail (run at each table's own parameters) over "
          f"{entries} entries: float64 table {d64:.1e}, float32 table {d32:.1e}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: small routes and pixel counts")
    ap.add_argument("--gpu", action="store_true", help="accelerator sizes: whole scene, lm on 10^5 pixels")
    ap.add_argument("--pixels", type=int, default=None, help="pixels timed for hybrid (default 10^6)")
    ap.add_argument("--lut-pixels", type=int, default=None, help="pixels timed for lut (default 4096; gpu 10^6)")
    ap.add_argument("--lm-pixels", type=int, default=None, help="pixels timed for lm (default 1024; gpu 10^5)")
    ap.add_argument("--tile", type=int, default=4096, help="pixels per retrieve_products call (lm: at most "
                    "--lm-pixels)")
    ap.add_argument("--unique", type=int, default=None, help="distinct simulated pixels (default 20000)")
    ap.add_argument("--lut-n", type=int, default=None, help="LUT entries (default: the route's, 50000)")
    ap.add_argument("--hybrid-n", type=int, default=None, help="hybrid simulations (default: the route's)")
    ap.add_argument("--epochs", type=int, default=None, help="hybrid epochs (default: the route's)")
    ap.add_argument("--ensemble", type=int, default=None, help="hybrid members (default: the route's)")
    ap.add_argument("--build-n", type=int, default=None, help="entries of the timed LUT build (default 20000)")
    ap.add_argument("--prosail-entries", type=int, default=None, help="prosail loop length (default 500)")
    ap.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default 1; gpu 3)")
    ap.add_argument("--routes", default="lut,hybrid,lm", help="routes to time (comma-separated)")
    args = ap.parse_args(argv)
    q, g = args.quick, args.gpu
    pixels = args.pixels or (8192 if q else SCENE_PIXELS)
    lut_pixels = args.lut_pixels or (2048 if q else SCENE_PIXELS if g else 4096)
    lm_pixels = args.lm_pixels or (256 if q else 100_000 if g else 1024)
    tile = min(args.tile, 1024) if q else args.tile
    unique = args.unique or (2000 if q else 20_000)
    repeats = args.repeats or (3 if g else 1)
    build_n = args.build_n or (2000 if q else 20_000)
    entries = args.prosail_entries or (50 if q else 500)
    lut_kw = {"n": args.lut_n or (2000 if q else 50_000)}
    hyb_kw = {k: v for k, v in (("n", args.hybrid_n or (2000 if q else None)),
                                ("epochs", args.epochs or (2 if q else None)),
                                ("ensemble", args.ensemble or (1 if q else None))) if v is not None}
    from leafjax.products import get_route

    srf32 = load_srf("sentinel-2a", GRID, dtype=np.float32).select(BANDS)
    srf64 = load_srf("sentinel-2a", GRID, dtype=np.float64).select(BANDS)
    model = Prosail("prospect-d", wavelengths=GRID, dtype=np.float32)
    print(tm.header(f"synthetic {SCENE_PIXELS} px S2A scene ({len(BANDS)} bands, no B8), {unique} distinct "
                    f"PROSAIL pixels repeated, one geometry {GEOMETRY}; tiles of {tile} px; float32"))
    t0 = time.perf_counter()
    pool = synthetic_scene(model, srf32, unique)
    print(f"scene simulated in {time.perf_counter() - t0:.1f} s (not part of any figure)")
    routes = {"lut": (get_route("lut", **lut_kw), lut_pixels), "hybrid": (get_route("hybrid", **hyb_kw), pixels),
              "lm": (get_route("lm"), lm_pixels)}
    runs = {}
    for name in args.routes.split(","):
        route, n = routes[name]
        runs[name] = route_run(name, route, srf32, model, pool, n, min(tile, n))
        print(f"  {name}: prepared in {runs[name]['prepare']:.1f} s ({route})", flush=True)
    cs = [r["contender"] for r in runs.values()]
    before, after = tm.run_interleaved(cs, repeats, verbose=True)
    print(f"routes: load before {tm.fmt_load(before)}, after {tm.fmt_load(after)}; {repeats} repeat(s)")
    print(tm.table(cs, unit="pixels/s"))
    for name, r in runs.items():
        c = r["contender"]
        rate = float(np.median(c.rates()))
        scene = SCENE_PIXELS / rate
        how = "measured" if c.items >= SCENE_PIXELS else f"extrapolated from {c.items} px"
        print(f"  {name}: {rate:,.0f} px/s; prepare {r['prepare']:.1f} s; 10^6-px scene {scene:,.0f} s ({how}), "
              f"{r['prepare'] + scene:,.0f} s with prepare")
    if not g:
        lut_build_vs_prosail(srf64, srf32, build_n, entries, max(repeats, 3 if not q else 2))
    print(f"load at end {tm.fmt_load(tm.load())}")


if __name__ == "__main__":
    main()
