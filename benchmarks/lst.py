"""Land-surface-temperature system: band-model fit time, pre-training simulation and physical-inversion throughput.

    python benchmarks/lst.py [--data DIR] [--n 100000] [--pixels 4096] [--gpu]

The issue names no speed peer for this system (MODTRAN and LBLRTM, the references, cannot run here), so the
figures are absolute: seconds and samples (pixels) per second on this machine, second call (compiled).  The band
model is fitted from the shared LBLRTM file in a temporary cache folder (a cold fit), as every fresh install does.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("LEAFJAX_SHARED_DATA", "../shared/data")) / "thermal")
    ap.add_argument("--n", type=int, default=100_000, help="pre-training samples to simulate")
    ap.add_argument("--pixels", type=int, default=4096, help="pixels for the physical inversion")
    ap.add_argument("--gpu", action="store_true", help="print the device list (the run uses the default device)")
    args = ap.parse_args(argv)
    os.environ.setdefault("LEAFJAX_CACHE_DIR", tempfile.mkdtemp(prefix="leafjax-lst-bench-"))

    import jax
    import numpy as np

    from leafjax.data import load_lwir_truth, load_tigr
    from leafjax.inversion import cached_band_model, invert_lst
    from leafjax.physics.thermal import vimi_response
    from leafjax.simulation import LstPrior, emissivity_library, pretraining_pool, simulate_lst, split_emissivities

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, devices {jax.devices()}")
    t0 = time.perf_counter()
    band_model = cached_band_model(args.data)
    print(f"band model fit (cold cache): {time.perf_counter() - t0:.1f} s")
    tigr, truth = load_tigr(args.data), load_lwir_truth(args.data)
    pool = pretraining_pool(tigr, truth)
    pre, _ = split_emissivities(truth)
    nu = np.asarray(band_model.wavenumber)
    library = emissivity_library(truth, pre, nu)
    srf = vimi_response(nu)
    model32 = band_model.astype(np.float32)
    profiles = jax.tree.map(lambda x: np.asarray(x, np.float32), tigr.atmospheres[pool])
    prior = LstPrior()
    for label, n in (("warm-up", 8192), ("timed", args.n)):
        t0 = time.perf_counter()
        sim = simulate_lst(jax.random.key(0), n, model32, profiles, library, srf, prior)
        dt = time.perf_counter() - t0
        if label == "timed":
            print(f"simulate_lst float32: {n} samples in {dt:.1f} s = {n / dt:,.0f} samples/s")
    m = min(args.pixels, args.n)
    atm = tigr.atmospheres[np.asarray(pool)[np.asarray(sim["profile"][:m], int)]]  # "profile": index into the pool
    bt = np.stack([sim[f"bt_b{k}"][:m] for k in range(1, 5)], -1)
    eps = np.stack([sim[f"emissivity_b{k}"][:m] for k in range(1, 5)], -1)
    vza = sim["vza"][:m]
    for label in ("compile + run", "timed"):
        t0 = time.perf_counter()
        res = invert_lst(band_model, atm, vza, bt, eps)
        np.asarray(res.estimates["lst"])
        dt = time.perf_counter() - t0
    err = np.asarray(res.estimates["lst"]) - sim["lst"][:m]
    print(f"invert_lst float64 (LM, 5 unknowns): {m} pixels in {dt:.2f} s = {m / dt:,.0f} pixels/s; "
          f"noise-free RMSE {np.sqrt(np.mean(err**2)):.3f} K (same model: an inverse-crime check, not validation)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
