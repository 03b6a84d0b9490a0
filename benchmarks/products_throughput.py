"""Throughput of the three product routes (LM, hybrid, LUT) on simulated Sentinel-2A pixels.

``--pixels`` pixels are drawn from the ATBD prior (``leafjax.simulation.atbd_prior``) at one acquisition geometry
(sza 35°, vza 5°, raa 60°, each pixel jittered by less than ±0.2° so that the LUT route rounds them to a few
tables), simulated under direct + diffuse sky light on the default 1-nm float32 PROSAIL grid and given the ATBD
band noise.  For every route: ``prepare`` (training / nothing) and the first ``retrieve`` (compilation and, for
the LUT, the tables) are timed apart from a second, warm ``retrieve`` on the same pixels (steady state: what
every further tile of a scene costs).  The LAI RMSE against the simulated truth is printed as a sanity check
(not a validation: the same model simulated the pixels; the LM route fixes n_struct, hotspot, brown and soil
dryness at its defaults while the prior varies them).

Run:  python benchmarks/products_throughput.py [--pixels 10000] [--routes lut,hybrid,lm] [--step 1] [--products lai,...]
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np


def scene(n: int, step: int, key):
    from leafjax.physics.sky import SkyIllumination
    from leafjax.products import default_model
    from leafjax.simulation import AtbdNoise, atbd_prior, iter_prosail, sample_prosail_table
    from leafjax.spectral import load_srf

    srf = load_srf("sentinel-2a", np.arange(400, 2401, step))
    model = default_model(srf)
    k_prior, k_geo, k_noise = jax.random.split(key, 3)
    cols = sample_prosail_table(atbd_prior(), n, k_prior, model)
    jitter = np.asarray(jax.random.uniform(k_geo, (3, n), minval=-0.2, maxval=0.2))
    for i, (name, value) in enumerate((("sza", 35.0), ("vza", 5.0), ("raa", 60.0))):
        cols[name] = value + jitter[i]
    bands = np.concatenate([r["rsot"] for _, r in iter_prosail(model, cols, srf=srf, sky=SkyIllumination(aot550=0.1),
                                                                noise=AtbdNoise(), key=k_noise)])
    return srf, model, np.asarray(bands, np.float64), {k: cols[k] for k in ("sza", "vza", "raa")}, cols


def main() -> None:
    from leafjax.products import get_route, retrieve_products

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixels", type=int, default=10_000)
    parser.add_argument("--routes", default="lut,hybrid,lm")
    parser.add_argument("--step", type=int, default=1, help="PROSAIL grid step (nm)")
    parser.add_argument("--products", default="lai,ccc,cwc,fapar,fcover")
    args = parser.parse_args()
    print(f"load before {os.getloadavg()}; jax {jax.__version__}, {os.cpu_count()} CPUs, {jax.default_backend()}")
    t = time.perf_counter()
    srf, model, bands, geometry, truth = scene(args.pixels, args.step, jax.random.key(2024))
    print(f"scene: {args.pixels} pixels simulated in {time.perf_counter() - t:.1f} s")
    for name in args.routes.split(","):
        route = get_route(name)
        t0 = time.perf_counter()
        state = route.prepare(srf, model, jax.random.key(0))
        t1 = time.perf_counter()
        first = retrieve_products(bands, geometry, srf, route, state=state, products=args.products)
        t2 = time.perf_counter()
        retrieve_products(bands, geometry, srf, route, state=state, products=args.products)
        t3 = time.perf_counter()
        ok = np.isfinite(first.values["lai"])
        rmse = float(np.sqrt(np.mean((first.values["lai"][ok] - truth["lai"][ok]) ** 2)))
        extra = f", {len(state['tables'])} table(s)" if "tables" in state else ""
        print(f"{name:>6}: {route}\n        prepare {t1 - t0:.1f} s; first retrieve {t2 - t1:.1f} s{extra}; warm "
              f"retrieve {t3 - t2:.1f} s = {args.pixels / (t3 - t2):,.0f} pixels/s; lai RMSE {rmse:.2f} "
              f"({ok.sum()} retrieved), status counts {np.bincount(first.status, minlength=4).tolist()}")
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
