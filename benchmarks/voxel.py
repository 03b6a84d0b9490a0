"""Voxel canopy Monte Carlo throughput (``leafjax.physics.voxel``): paths traced per second, full tallies per second
(tracing + host aggregation), spectral evaluations per second of the image polynomial (and its gradient), against
leafjax's 1-D 4SAIL (and PyPI ``prosail``'s ``run_sail`` if installed) at the same wavelength counts.

Scenes: ``hom``, a turbid layer of LAI 3 (spherical LIDF), 1 m x 1 m x 1 m box of 10 x 10 x 10 voxels; ``crowns``,
an open forest in a 10 m x 10 m x 7 m box of 40 x 40 x 20 voxels: 4 birch ellipsoids (Campbell, mean leaf angle 57 deg,
LAD 1.0) and 4 spruce cones (30 deg, LAD 1.5), non-overlapping crowns of radius 1.1-1.35 m, over an understorey of LAI
0.5 up to 0.5 m (spherical).  Sun at sza 30 deg, max_order 30.

Timing (:mod:`_timing`): ``trace_paths`` is traced/lowered and XLA-compiled ahead of time (both timed apart, with the
persistent compilation cache off unless ``LEAFJAX_COMPILATION_CACHE`` is set); every timed call is
``jax.block_until_ready``-ed; the contenders of each part run interleaved, order rotated per repeat; median
[min-max] over the repeats.  Each trace repeat uses new random numbers, so the variation includes that of the
path-length tail (the loop runs until the last photon of the batch has escaped or made ``max_order`` scatterings).

Usage::

    python benchmarks/voxel.py                  # CPU: batches 2^14, 2^16, f32, f64 (crowns f64: 2^14), 3 repeats
    python benchmarks/voxel.py --quick          # smoke: batch 2^12, hom f32/f64 and crowns f32
    python benchmarks/voxel.py --gpu            # accelerator: batches 2^14, 2^16, 2^18; tallies of 2^18 photons
    python benchmarks/voxel.py --json out.json  # also write the results (with the machine) to a JSON file
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

# benchmarks/prosail.py must not shadow PyPI prosail: this folder goes to the end of the path (_timing still found).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]
os.environ.setdefault("LEAFJAX_COMPILATION_CACHE", "0")  # compile times below are real compiles

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # entry point: float64 available; float32 runs are explicit

import _timing as tm  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from leafjax.physics import voxel as vx  # noqa: E402
from leafjax.physics.canopy import CanopyParams, sail  # noqa: E402
from leafjax.physics.voxel import _engine  # noqa: E402
from leafjax.physics.voxel._tally import image_rows  # noqa: E402

SZA, MAX_ORDER, PIXEL = 30.0, 30, 0.25
DTYPES = {"f32": jnp.float32, "f64": jnp.float64}
TWO_VIEWS = ((0.0, 0.0), (30.0, 90.0))


def hom_scene(dt):
    return vx.homogeneous_scene(3.0, 1.0, shape=(10, 10, 10), extent=(1.0, 1.0), dtype=dt)


def crowns_scene(dt):
    rng = np.random.default_rng(0)
    h, trees = 7.0, []
    for i, (x, y, _) in enumerate(vx.random_spheres(0, 8, 1.35, (10.0, 10.0), (1.0, 1.0))):
        birch = i % 2 == 0
        top, r = rng.uniform(0.75 * h, 0.95 * h), rng.uniform(1.1, 1.35)
        base = top * (1.0 - rng.uniform(0.4, 0.55)) if birch else rng.uniform(0.8, 1.2)
        trees.append(vx.Tree(x, y, base, top, r, "ellipsoid" if birch else "cone", "birch" if birch else "spruce",
                             1.0 if birch else 1.5))
    return vx.crowns_scene(trees, extent=(10.0, 10.0), height=h, shape=(40, 40, 20),
                           species_lidf={"birch": 57.0, "spruce": 30.0}, understorey_lai=0.5,
                           understorey_height=0.5, dtype=dt)


SCENES = {"hom": hom_scene, "crowns": crowns_scene}


def trace_contender(scene, label: str, n: int) -> tuple[tm.Contender, dict]:
    """An AOT-compiled ``trace_paths`` batch of ``n`` photons; lowering and compilation timed here."""
    key = jax.random.key(0)
    t0 = time.perf_counter()
    lowered = vx.trace_paths.lower(scene, key, n_photons=n, sza=SZA, max_order=MAX_ORDER)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    calls = iter(range(1, 1 << 30))
    run = lambda: jax.block_until_ready(compiled(scene, jax.random.fold_in(key, next(calls))))  # noqa: E731
    return tm.Contender(label, run, n), {"lower_s": t1 - t0, "compile_s": t2 - t1}


def summary(c: tm.Contender, unit: str, **extra) -> dict:
    rates = c.rates()
    return {"name": c.name, f"{unit}_median": float(np.median(rates)), f"{unit}_min": float(rates.min()),
            f"{unit}_max": float(rates.max()), "wall_s": c.wall, "cpu_s": c.cpu, "items": c.items, **extra}


def part_trace(args, report):
    print(f"\n1. trace_paths: paths/s (sza {SZA:g}, max_order {MAX_ORDER}; compile apart)")
    cons, info = [], []
    for sname in args.scenes:
        for dname in args.dtypes:
            scene = SCENES[sname](DTYPES[dname])
            for b in args.batches:
                if f"{sname}:{dname}:{b}" in args.skip or (args.quick and sname == "crowns" and dname == "f64"):
                    continue
                c, comp = trace_contender(scene, f"{sname} {dname} 2^{b}", 1 << b)
                cons.append(c)
                info.append(dict(scene=sname, dtype=dname, batch=1 << b, **comp))
    before, after = tm.run_interleaved(cons, args.repeats)
    print(f"load before {tm.fmt_load(before)}, after {tm.fmt_load(after)}; {args.repeats} interleaved repeats")
    print(tm.table(cons, unit="paths/s"))
    for c, d in zip(cons, info, strict=True):
        ev, kind = c.result, np.asarray(c.result.kind)
        d.update(unfinished=int(ev.unfinished), mean_scatterings=float(np.mean(np.sum((kind == 1) | (kind == 2), 1))))
        c.result = None
        print(f"  {c.name:<18} lower {d['lower_s']:6.2f} s  XLA compile {d['compile_s']:6.2f} s  "
              f"mean scatterings {d['mean_scatterings']:5.2f}  unfinished {d['unfinished']} (first repeat)")
        report["trace"].append(summary(c, "paths_per_s", **d))


def part_tallies(args, report):
    n, bs = args.tally_photons, min(args.tally_batch, args.tally_photons)
    print(f"\n2. monte_carlo_tallies: photons/s, {n} photons in batches of {bs}, float32, scenes {args.tally_scenes} "
          "(trace: trace_paths alone; replay: the tallies with the traced batches replayed, i.e. all but the trace; "
          "view rows: jitted view_events + transfer; host = replay - view rows: NumPy energy rows, counts and the "
          "np.unique aggregation)")
    return {k: v for sname in args.scenes for k, v in scene_tallies(args, sname, n, bs, report).items()}


def scene_tallies(args, sname: str, n: int, bs: int, report) -> dict:
    """Tallies of one scene (1 view x 1 px, 2 views at PIXEL), timed if the scene is in ``args.tally_scenes``."""
    out = {}
    scene, key, timed = SCENES[sname](jnp.float32), jax.random.key(1), sname in args.tally_scenes
    cases = {"1 view, 1 px": {"views": ((0.0, 0.0),), "pixel_size": None},
             f"2 views, {PIXEL:g} m": {"views": TWO_VIEWS, "pixel_size": PIXEL}}
    batches = [jax.random.fold_in(key, b) for b in range(-(-n // bs))]
    trace = lambda k: jax.block_until_ready(vx.trace_paths(  # noqa: E731  (as monte_carlo_tallies calls it)
        scene, k, n_photons=bs, sza=SZA, saa=0.0, max_order=MAX_ORDER, max_steps=None))
    t0 = time.perf_counter()
    events = [trace(k) for k in batches]
    print(f"  {sname}: first trace of {len(batches)} batch(es), compile included: {time.perf_counter() - t0:.1f} s")
    tally = lambda kw: vx.monte_carlo_tallies(  # noqa: E731
        scene, key, n_photons=n, sza=SZA, max_order=MAX_ORDER, batch_size=bs, **kw)

    def replay(kw):  # monte_carlo_tallies minus tracing: its trace_paths calls return the batches above
        it, orig = iter(events), _engine.trace_paths
        _engine.trace_paths = lambda *a, **k: next(it)
        try:
            return tally(kw)
        finally:
            _engine.trace_paths = orig

    for label, kw in cases.items():
        out[(sname, label)] = replay(kw)
    if not timed:
        return out
    cons = {"trace": tm.Contender(f"{sname} trace only", lambda: [trace(k) for k in batches], n)}
    for label, kw in cases.items():
        cons[label] = tm.Contender(f"{sname} tallies {label}", lambda kw=kw: tally(kw), n)
        cons["replay " + label] = tm.Contender(f"{sname} replay {label}", lambda kw=kw: replay(kw), n)
        cons["rows " + label] = tm.Contender(f"{sname} view rows {label}", lambda kw=kw: [
            image_rows(scene, ev, vza=v, vaa=a, pixel_size=kw["pixel_size"]) for ev in events
            for v, a in kw["views"]], n)
    before, after = tm.run_interleaved(list(cons.values()), args.repeats)
    print(f"load before {tm.fmt_load(before)}, after {tm.fmt_load(after)}")
    print(tm.table(list(cons.values()), unit="photons/s"))
    tr = np.asarray(cons["trace"].wall)
    for label in cases:
        tot, rp, vr = (np.asarray(cons[k].wall) for k in (label, "replay " + label, "rows " + label))
        host, tal = rp - vr, cons[label].result
        terms = [int(p.coeff.shape[0]) for p in tal.images]
        print(f"  {sname} {label}: median s: tallies {np.median(tot):.3f}; trace {np.median(tr):.3f} + view rows "
              f"{np.median(vr):.3f} + host {np.median(host):.3f} (host {np.median(host / (tr + rp)):.0%} of "
              f"trace + replay); image {tal.image_shape}, terms per view {terms}, unfinished {tal.unfinished}")
        report["tallies"].append(summary(cons[label], "photons_per_s", scene=sname, trace_s=list(tr),
                                         replay_s=list(rp), view_rows_s=list(vr), host_s=list(host), terms=terms))
    return out


def calibrated(name, fn, per_call: int, target_s: float, **meta) -> tm.Contender:
    """A contender looping ``fn`` enough times for ~``target_s`` (after a compiling call and a timed one);
    ``per_call`` evaluations per call; ``meta`` goes to the JSON."""
    jax.block_until_ready(fn())
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    k = int(min(max(1, math.ceil(target_s / max(time.perf_counter() - t0, 1e-7))), 100_000))

    def loop():
        for _ in range(k - 1):
            fn()
        return jax.block_until_ready(fn())

    c = tm.Contender(f"{name} ({k} calls)", loop, k * per_call)
    c.calls, c.meta, c.key = k, meta, name
    return c


def part_render(args, tallies, report):
    print("\n3./4. render: spectral evaluations (pixels x wavelengths)/s, float32, jax.jit over the spectra (tallies "
          "passed as an argument); grad = jax.grad of sum(image^2) w.r.t. the spectra; view 0 (nadir); peers: "
          "leafjax 4SAIL (batch 1, LAI 3, Campbell 57.3 deg, sza 30, vza 0) and PyPI prosail run_sail")
    try:
        import prosail
    except ImportError:
        prosail = None
    fwd = jax.jit(lambda t, s: vx.render(t, s, 0))
    grad = jax.jit(jax.grad(lambda s, t: jnp.sum(vx.render(t, s, 0) ** 2)))
    params = CanopyParams(lai=3.0, lidf_a=57.2958, sza=SZA, vza=0.0, raa=0.0)
    sail_f = jax.jit(lambda r, t, s: sail(r, t, s, params).rsot)
    sail_g = jax.jit(jax.grad(lambda r, t, s: jnp.sum(sail(r, t, s, params).rsot ** 2), argnums=(0, 1, 2)))
    rng = np.random.default_rng(2)
    uniform = lambda lo, hi, shape: jnp.asarray(rng.uniform(lo, hi, shape), jnp.float32)  # noqa: E731
    for wl in args.wavelengths:
        cons = []
        for (sname, label), tal in tallies.items():
            c, px, poly = tal.images[0].exponents.shape[1] // 2, math.prod(tal.image_shape), tal.images[0]
            sp = vx.ComponentSpectra(uniform(0.03, 0.5, (c, wl)), uniform(0.02, 0.4, (c, wl)), uniform(0.05, 0.3, wl))
            meta = {"scene": sname, "case": label, "pixels": px, "terms": int(poly.coeff.shape[0]),
                    "monomials": int(poly.exponents.shape[0])}
            cons += [calibrated(f"voxel {sname} {label} fwd", lambda t=tal, s=sp: fwd(t, s), px * wl, args.target_s,
                                kind="fwd", **meta),
                     calibrated(f"voxel {sname} {label} grad", lambda t=tal, s=sp: grad(s, t), px * wl, args.target_s,
                                kind="grad", **meta)]
        r, t, s = uniform(0.03, 0.5, wl), uniform(0.02, 0.4, wl), uniform(0.05, 0.3, wl)
        cons += [calibrated(f"leafjax 4SAIL {k}", lambda f=f, r=r, t=t, s=s: f(r, t, s), wl, args.target_s, kind=k,
                            pixels=1) for k, f in (("fwd", sail_f), ("grad", sail_g))]
        if prosail is not None:
            rn, tn, sn = (np.asarray(x, np.float64) for x in (r, t, s))
            cons.append(calibrated("PyPI prosail run_sail", lambda rn=rn, tn=tn, sn=sn: prosail.run_sail(
                rn, tn, 3.0, 57.2958, 0.01, SZA, 0.0, 0.0, typelidf=2, rsoil0=sn), wl, args.target_s, pixels=1))
        before, after = tm.run_interleaved(cons, args.repeats)
        print(f"\n{wl} wavelength(s): load before {tm.fmt_load(before)}, after {tm.fmt_load(after)}")
        print(tm.table(cons, unit="evals/s"))
        by = {c.key: c for c in cons}
        per_call = lambda c: np.asarray(c.wall) / c.calls  # noqa: E731
        for c in cons:
            terms = f"  terms {c.meta['terms']} ({c.meta['monomials']} monomials)" if "terms" in c.meta else ""
            print(f"  {c.name:<46} {1e6 * np.median(per_call(c)):10.1f} us/call{terms}")
            report["render"].append(summary(c, "evals_per_s", wavelengths=wl, calls=c.calls,
                                            s_per_call_median=float(np.median(per_call(c))), **c.meta))
        for k in ("fwd", "grad"):
            for peer in ("leafjax 4SAIL fwd", "PyPI prosail run_sail"):
                a = by.get(f"voxel hom 1 view, 1 px {k}")
                if a is None or peer not in by:
                    continue
                q = per_call(a) / per_call(by[peer])
                print(f"  ratio voxel hom 1-px {k} time / {peer} time, {wl} wl: {tm.spread(q)}x (per repeat)")
                report["ratios"].append({"wavelengths": wl, "voxel": k, "peer": peer, "median": float(np.median(q)),
                                         "min": float(q.min()), "max": float(q.max())})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: batch 2^12, hom f32/f64 and crowns f32")
    ap.add_argument("--gpu", action="store_true", help="accelerator sizes: batches 2^14, 2^16, 2^18")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats per part (default 3)")
    ap.add_argument("--batches", type=int, nargs="+", default=None, help="log2 of the trace batch sizes")
    ap.add_argument("--scenes", nargs="+", default=list(SCENES), choices=list(SCENES))
    ap.add_argument("--dtypes", nargs="+", default=list(DTYPES), choices=list(DTYPES))
    ap.add_argument("--skip", nargs="*", default=None, help="trace configs scene:dtype:log2batch to leave out "
                    "(default crowns:f64:16 on the CPU, none with --gpu)")
    ap.add_argument("--tally-scenes", nargs="+", default=None, choices=list(SCENES),
                    help="scenes whose tallies are timed (default hom; all with --gpu); the others' are made untimed")
    ap.add_argument("--tally-photons", type=int, default=None, help="photons per monte_carlo_tallies call")
    ap.add_argument("--tally-batch", type=int, default=None, help="photons per traced batch of the tallies")
    ap.add_argument("--wavelengths", type=int, nargs="+", default=[1, 211, 2101])
    ap.add_argument("--target-s", type=float, default=None, help="seconds per timed render call loop")
    ap.add_argument("--json", default=None, help="also write the results (and the machine) to this JSON file")
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress visible when the output goes to a file
    big = args.gpu and not args.quick
    args.batches = args.batches or ([12] if args.quick else [14, 16, 18] if big else [14, 16])
    args.skip = ([] if big or args.quick else ["crowns:f64:16"]) if args.skip is None else args.skip
    args.tally_scenes = args.tally_scenes or (list(SCENES) if big else ["hom"])
    args.tally_batch = args.tally_batch or (1 << (12 if args.quick else 16 if big else 14))
    args.tally_photons = args.tally_photons or (1 << (12 if args.quick else 18 if big else 15))
    args.target_s = args.target_s or (0.05 if args.quick else 0.2)
    dev = jax.devices()[0]
    print(header := tm.header(f"voxel Monte Carlo, sza {SZA:g}, max_order {MAX_ORDER}"))
    report = {"machine": {"cpu": tm.cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                          "numpy": np.__version__, "jax": jax.__version__, "backend": dev.platform,
                          "device_kind": dev.device_kind, "devices": jax.device_count(), "header": header},
              "args": {k: v for k, v in vars(args).items() if k != "json"}, "trace": [], "tallies": [],
              "render": [], "ratios": []}
    for sname in args.scenes:
        sc = SCENES[sname](jnp.float32)
        print(f"scene {sname}: shape {sc.shape}, voxel {tuple(round(v, 4) for v in sc.voxel_size)} m, components "
              f"{sc.components}, LAI {[round(float(x), 3) for x in sc.lai()]}")
    t0 = time.perf_counter()
    part_trace(args, report)
    tallies = part_tallies(args, report)
    part_render(args, tallies, report)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
