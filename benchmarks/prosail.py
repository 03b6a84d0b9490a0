"""PROSAIL forward throughput: leafjax (jit, batched; float32 and float64) vs a Python loop over PyPI ``prosail``.

Both simulate top-of-canopy bidirectional reflectance (``rsot``) from PROSPECT-D + 4SAIL with the Campbell LIDF
and the dry/wet soil; leafjax on 400–2400 nm (2001 bands), ``prosail`` on its fixed 400–2500 nm grid (2101 bands,
so the baseline does ~5 % more work per spectrum).  Inputs are drawn uniformly in typical ranges; the same random
rows feed both (the baseline runs on the first ``--n-baseline`` of them).  Timings exclude compilation (one
warm-up call) and use ``block_until_ready``.

Usage::

    python benchmarks/prosail.py            # batch 10 000, baseline 500 spectra
    python benchmarks/prosail.py --quick    # batch 2 000, baseline 100 spectra
    python benchmarks/prosail.py --devices 2   # shard the batch over 2 host CPU devices (one per core)

The machine is reported with the results; record the printout in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

# This file is itself called prosail.py: drop its folder from the path so that ``import prosail`` finds PyPI prosail.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


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

from leafjax.physics.canopy import CanopyParams, Prosail  # noqa: E402
from leafjax.physics.soil import DryWetSoilParams  # noqa: E402
from leafjax.physics import ProspectDParams  # noqa: E402

RANGES = {  # uniform sampling ranges, canonical names and units
    "n_struct": (1.0, 2.5), "chl": (10.0, 80.0), "car": (2.0, 20.0), "ant": (0.0, 3.0), "brown": (0.0, 0.5),
    "ewt": (0.005, 0.04), "lma": (0.002, 0.02), "lai": (0.1, 7.0), "lidf_a": (10.0, 80.0), "hotspot": (0.01, 0.5),
    "sza": (0.0, 60.0), "vza": (0.0, 50.0), "raa": (0.0, 180.0), "soil_brightness": (0.5, 1.5),
    "soil_dryness": (0.0, 1.0),
}


def sample(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(lo, hi, n) for k, (lo, hi) in RANGES.items()}


def leafjax_throughput(p: dict[str, np.ndarray], dtype, chunk: int, repeats: int) -> tuple[float, np.ndarray]:
    model = Prosail("prospect-d", wavelengths=range(400, 2401), dtype=dtype)

    @jax.jit
    def run(x):
        leaf = ProspectDParams(**{k: x[k] for k in ProspectDParams.names})
        canopy = CanopyParams(**{k: x[k] for k in CanopyParams.names if k in x}, lidf_type="campbell")
        soil = DryWetSoilParams(x["soil_brightness"], x["soil_dryness"])
        return model(leaf, canopy, soil).rsot

    n = len(p["lai"])
    if n % chunk:
        raise ValueError("batch must be a multiple of the chunk size")
    devices = jax.devices()
    if len(devices) > 1:  # shard each chunk's batch axis over the devices (e.g. host CPU cores)
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        where = NamedSharding(Mesh(np.asarray(devices), ("batch",)), PartitionSpec("batch"))
    else:
        where = devices[0]
    chunks = [{k: jax.device_put(jnp.asarray(v[i:i + chunk], dtype=dtype), where) for k, v in p.items()}
              for i in range(0, n, chunk)]
    out = [run(c).block_until_ready() for c in chunks]  # compile + warm-up
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = [run(c) for c in chunks]
        jax.block_until_ready(out)
        best = min(best, time.perf_counter() - t0)
    return n / best, np.concatenate([np.asarray(o) for o in out])


def breakdown(p: dict[str, np.ndarray], dtype, chunk: int, repeats: int) -> tuple[float, float]:
    """Spectra/s of the leaf model alone and of 4SAIL alone (leaf spectra given), on one chunk."""
    from leafjax.physics.canopy import sail

    model = Prosail("prospect-d", wavelengths=range(400, 2401), dtype=dtype)
    x = {k: jnp.asarray(v[:chunk], dtype=dtype) for k, v in p.items()}
    leaf = ProspectDParams(**{k: x[k] for k in ProspectDParams.names})
    canopy = CanopyParams(**{k: x[k] for k in CanopyParams.names if k in x}, lidf_type="campbell")
    soil = model.soil_model(DryWetSoilParams(x["soil_brightness"], x["soil_dryness"]))
    f_leaf = jax.jit(lambda lp: model.leaf_model(lp))
    f_sail = jax.jit(lambda r, t, s, c: sail(r, t, s, c).rsot)
    optics = jax.block_until_ready(f_leaf(leaf))
    rates = []
    for f, a in ((f_leaf, (leaf,)), (f_sail, (optics.reflectance, optics.transmittance, soil, canopy))):
        jax.block_until_ready(f(*a))
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(f(*a))
            best = min(best, time.perf_counter() - t0)
        rates.append(chunk / best)
    return rates[0], rates[1]


def prosail_throughput(p: dict[str, np.ndarray], n: int) -> tuple[float, np.ndarray]:
    import prosail

    def one(i):
        return prosail.run_prosail(
            p["n_struct"][i], p["chl"][i], p["car"][i], p["brown"][i], p["ewt"][i], p["lma"][i], p["lai"][i],
            p["lidf_a"][i], p["hotspot"][i], p["sza"][i], p["vza"][i], p["raa"][i], ant=p["ant"][i],
            prospect_version="D", typelidf=2, rsoil=p["soil_brightness"][i], psoil=p["soil_dryness"][i])

    one(0)  # numba compilation / caches
    t0 = time.perf_counter()
    out = [one(i) for i in range(n)]
    return n / (time.perf_counter() - t0), np.stack(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small batch and baseline (smoke test)")
    ap.add_argument("--batch", type=int, default=None, help="leafjax batch size (default 10000; quick 2000)")
    ap.add_argument("--chunk", type=int, default=2000, help="spectra per jitted call (bounds memory)")
    ap.add_argument("--n-baseline", type=int, default=None, help="prosail loop length (default 500; quick 100)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--devices", type=int, default=1,
                    help="shard the batch over this many host CPU devices (XLA_FLAGS, set before jax starts)")
    ap.add_argument("--no-baseline", action="store_true", help="skip PyPI prosail (e.g. on an accelerator host)")
    args = ap.parse_args(argv)
    batch = args.batch or (2000 if args.quick else 10000)
    n_base = args.n_baseline or (100 if args.quick else 500)
    chunk = min(args.chunk, batch)
    p = sample(batch)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, "
          f"jax {jax.__version__} on {len(jax.devices())} x {jax.devices()[0].platform}: "
          f"{jax.devices()[0].device_kind}")
    print(f"leafjax PROSAIL (PROSPECT-D + 4SAIL, Campbell LIDF), 400–2400 nm, batch {batch} in chunks of {chunk}")
    results = {}
    for name, dt in (("float32", jnp.float32), ("float64", jnp.float64)):
        rate, out = leafjax_throughput(p, dt, chunk, args.repeats)
        results[name] = (rate, out)
        print(f"  leafjax {name}: {rate:12,.0f} spectra/s")
    r_leaf, r_sail = breakdown(p, jnp.float32, chunk, args.repeats)
    print(f"  breakdown float32: PROSPECT-D alone {r_leaf:,.0f} spectra/s, 4SAIL alone {r_sail:,.0f} spectra/s")
    if args.no_baseline:
        return
    rate_ref, ref = prosail_throughput(p, n_base)
    print(f"PyPI prosail 2.0.5 loop (run_prosail, 400–2500 nm), {n_base} spectra: {rate_ref:12,.0f} spectra/s")
    for name, (rate, out) in results.items():
        err = np.abs(out[:n_base] - ref[:, :2001]).max()
        print(f"  speed-up leafjax {name} / prosail: {rate / rate_ref:8.1f}x   (max |Δ rsot| = {err:.1e})")


if __name__ == "__main__":
    main()
