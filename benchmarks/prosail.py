"""PROSAIL forward throughput, measured fairly: leafjax (jit, batched; float32 and float64) vs a Python loop over
PyPI ``prosail``, with the canopy part (4SAIL alone on precomputed leaf R/T and soil) timed separately.

All contenders simulate top-of-canopy bidirectional reflectance (``rsot``) from PROSPECT-D + 4SAIL with the
Campbell LIDF and the dry/wet soil, from the same random rows (``prosail`` on the first ``--n-baseline``);
leafjax on 400–2400 nm (2001 bands), ``prosail`` on its fixed 400–2500 nm grid (2101 bands, so the baseline does
~5 % more work per spectrum).

Fairness (:mod:`_timing`): ``import prosail``, the numba warm-up call and leafjax's compilation and warm-up are
done before any timed region; within each repeat the contenders (leafjax PROSAIL f32, f64, the ``prosail`` loop,
4SAIL alone f32, f64) run once each, in an order rotated per repeat; the speed-ups are computed per repeat and
printed as median [min-max]; wall and process CPU time (all threads) are printed per contender, and the load
average before and after.  On a shared machine, CPU seconds per spectrum are the steadier figure.

Usage::

    python benchmarks/prosail.py            # batch 10 000, baseline 500 spectra, 5 repeats
    python benchmarks/prosail.py --quick    # batch 2 000, baseline 100 spectra, 3 repeats
    python benchmarks/prosail.py --devices 2   # shard the batch over 2 host CPU devices (one per core)

Record the printout (with its load) in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# This file is itself called prosail.py: its folder goes to the *end* of the path, so that ``import prosail``
# finds PyPI prosail and ``import _timing`` still finds the shared helpers.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]


def _requested_devices(argv: list[str]) -> int:
    """Value of ``--devices`` (host CPU devices to shard the batch over), read before jax is imported."""
    for i, a in enumerate(argv):
        if a == "--devices" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--devices="):
            return int(a.split("=", 1)[1])
    return 1


if __name__ == "__main__" and _requested_devices(sys.argv) > 1:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               f" --xla_force_host_platform_device_count={_requested_devices(sys.argv)}").strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # entry point: float64 available; float32 runs are explicit

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import _timing as tm  # noqa: E402
from leafjax.physics import ProspectDParams  # noqa: E402
from leafjax.physics.canopy import CanopyParams, Prosail, sail  # noqa: E402
from leafjax.physics.soil import DryWetSoilParams  # noqa: E402

WAVELENGTHS = range(400, 2401)
RANGES = {  # uniform sampling ranges, canonical names and units
    "n_struct": (1.0, 2.5), "chl": (10.0, 80.0), "car": (2.0, 20.0), "ant": (0.0, 3.0), "brown": (0.0, 0.5),
    "ewt": (0.005, 0.04), "lma": (0.002, 0.02), "lai": (0.1, 7.0), "lidf_a": (10.0, 80.0), "hotspot": (0.01, 0.5),
    "sza": (0.0, 60.0), "vza": (0.0, 50.0), "raa": (0.0, 180.0), "soil_brightness": (0.5, 1.5),
    "soil_dryness": (0.0, 1.0),
}


def sample(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(lo, hi, n) for k, (lo, hi) in RANGES.items()}


def _placement():
    devices = jax.devices()
    if len(devices) == 1:
        return devices[0]
    from jax.sharding import Mesh, NamedSharding, PartitionSpec  # shard the batch axis over host CPU devices

    return NamedSharding(Mesh(np.asarray(devices), ("batch",)), PartitionSpec("batch"))


def _split(x: dict[str, np.ndarray]):
    leaf = ProspectDParams(**{k: x[k] for k in ProspectDParams.names})
    canopy = CanopyParams(**{k: x[k] for k in CanopyParams.names if k in x}, lidf_type="campbell")
    return leaf, canopy, DryWetSoilParams(x["soil_brightness"], x["soil_dryness"])


def leafjax_contenders(p: dict[str, np.ndarray], dtype, chunk: int, label: str) -> list[tm.Contender]:
    """PROSAIL and 4SAIL-alone contenders for one dtype, compiled and warmed up (untimed)."""
    model = Prosail("prospect-d", wavelengths=WAVELENGTHS, dtype=dtype)
    n = len(p["lai"])
    if n % chunk:
        raise ValueError("batch must be a multiple of the chunk size")
    where = _placement()
    chunks = [{k: jax.device_put(jnp.asarray(v[i:i + chunk], dtype=dtype), where) for k, v in p.items()}
              for i in range(0, n, chunk)]

    @jax.jit
    def run(x):
        return model(*_split(x)).rsot

    @jax.jit
    def inputs(x):  # leaf R/T and soil for the 4SAIL-alone contender
        leaf, canopy, soil = _split(x)
        optics = model.leaf_model(leaf)
        return optics.reflectance, optics.transmittance, model.soil_model(soil), canopy

    @jax.jit
    def canopy_only(r, t, s, canopy):
        return sail(r, t, s, canopy).rsot

    sail_args = [jax.block_until_ready(inputs(c)) for c in chunks]
    jax.block_until_ready([run(c) for c in chunks])  # compile + warm-up
    jax.block_until_ready([canopy_only(*a) for a in sail_args])

    def prosail_batch():
        return np.concatenate([np.asarray(o) for o in jax.block_until_ready([run(c) for c in chunks])])

    def sail_batch():
        return jax.block_until_ready([canopy_only(*a) for a in sail_args])

    return [tm.Contender(f"leafjax PROSAIL {label}", prosail_batch, n),
            tm.Contender(f"leafjax 4SAIL alone {label}", sail_batch, n)]


def prosail_contender(p: dict[str, np.ndarray], n: int) -> tm.Contender:
    """A loop over ``prosail.run_prosail``; import and numba warm-up done here (untimed)."""
    import prosail

    def one(i):
        return prosail.run_prosail(
            p["n_struct"][i], p["chl"][i], p["car"][i], p["brown"][i], p["ewt"][i], p["lma"][i], p["lai"][i],
            p["lidf_a"][i], p["hotspot"][i], p["sza"][i], p["vza"][i], p["raa"][i], ant=p["ant"][i],
            prospect_version="D", typelidf=2, rsoil=p["soil_brightness"][i], psoil=p["soil_dryness"][i])

    one(0)  # numba compilation / caches
    return tm.Contender(f"PyPI prosail loop ({n} spectra)", lambda: np.stack([one(i) for i in range(n)]), n)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small batch and baseline (smoke test)")
    ap.add_argument("--batch", type=int, default=None, help="leafjax batch size (default 10000; quick 2000)")
    ap.add_argument("--chunk", type=int, default=2000, help="spectra per jitted call (bounds memory)")
    ap.add_argument("--n-baseline", type=int, default=None, help="prosail loop length (default 500; quick 100)")
    ap.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default 5; quick 3)")
    ap.add_argument("--devices", type=int, default=1,
                    help="shard the batch over this many host CPU devices (XLA_FLAGS, set before jax starts)")
    ap.add_argument("--no-baseline", action="store_true", help="skip PyPI prosail (e.g. on an accelerator host)")
    args = ap.parse_args(argv)
    batch = args.batch or (2000 if args.quick else 10000)
    n_base = args.n_baseline or (100 if args.quick else 500)
    repeats = args.repeats or (3 if args.quick else 5)
    chunk = min(args.chunk, batch)
    p = sample(batch)

    print(tm.header(f"PROSAIL (PROSPECT-D + 4SAIL, Campbell), 400-2400 nm, batch {batch} in chunks of {chunk}"))
    lj = {name: leafjax_contenders(p, dt, chunk, name) for name, dt in (("f32", jnp.float32), ("f64", jnp.float64))}
    base = None if args.no_baseline else prosail_contender(p, n_base)
    contenders = [lj["f32"][0], lj["f64"][0], *([base] if base else []), lj["f32"][1], lj["f64"][1]]
    before, after = tm.run_interleaved(contenders, repeats)
    print(f"load before {tm.fmt_load(before)}, after {tm.fmt_load(after)}; {repeats} interleaved repeats")
    print(tm.table(contenders))
    for c in contenders:
        print(f"  {c.name}: {1e6 * np.median(c.cpu) / c.items:8.1f} CPU-µs/spectrum, "
              f"{1e6 * np.median(c.wall) / c.items:8.1f} wall-µs/spectrum")
    for name in ("f32", "f64"):
        full, alone = lj[name]
        share = np.median(np.asarray(alone.cpu) / np.asarray(full.cpu))  # per repeat
        print(f"canopy (4SAIL) share of PROSAIL CPU time, {name}: {100 * share:.0f} % (per repeat, median)")
    if base is None:
        return
    ref = np.asarray(base.result)
    for name in ("f32", "f64"):
        full = lj[name][0]
        print(tm.ratio_line(f"speed-up leafjax PROSAIL {name} / prosail loop (per repeat)", full, base))
        err = np.abs(np.asarray(full.result)[:n_base] - ref[:, :2001]).max()
        print(f"  max |Δ rsot| leafjax {name} vs prosail, first {n_base} spectra, 400-2400 nm: {err:.1e}")


if __name__ == "__main__":
    main()
