"""Forward-model throughput: leafjax PROSPECT-D (float32, float64) vs a loop over PyPI ``prosail`` 2.0.5.

Run:  python benchmarks/forward.py [--batch 10000] [--prosail-calls 300] [--repeats 5]
On a GPU machine the same script measures the accelerator (use e.g. ``--batch 1000000 --prosail-calls 0``).

Both sides use the same random parameter sets within the default prior.  leafjax computes 400–2400 nm
(2001 bands); ``prosail.run_prospect`` always computes 400–2500 nm (2101 bands, its only option) — reported as
is, which favours neither side by more than 5 %.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a script named prosail.py: keep it from shadowing the PyPI package of that name
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import leafjax as lj  # noqa: E402
from leafjax.simulation import default_prior  # noqa: E402


def _time(fn, repeats: int) -> float:
    fn()  # compile / warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench_leafjax(batch: int, dtype, repeats: int, params_np: dict) -> float:
    model = lj.ProspectD(wavelengths=np.arange(400, 2401), dtype=dtype)
    params = lj.ProspectDParams(**{k: jnp.asarray(v, dtype) for k, v in params_np.items()})
    run = eqx.filter_jit(lambda m, p: (lambda o: (o.reflectance, o.transmittance))(m(p)))

    def go():
        r, t = run(model, params)
        r.block_until_ready()
        t.block_until_ready()

    return batch / _time(go, repeats)


def bench_prosail(calls: int, params_np: dict) -> float:
    import warnings

    import prosail

    warnings.simplefilter("ignore")
    p = {k: np.asarray(v, np.float64) for k, v in params_np.items()}
    prosail.run_prospect(1.5, 40.0, 8.0, 0.0, 0.01, 0.005, ant=1.0, prospect_version="D")  # numba warm-up
    t0 = time.perf_counter()
    for i in range(calls):
        prosail.run_prospect(p["n_struct"][i], p["chl"][i], p["car"][i], p["brown"][i], p["ewt"][i], p["lma"][i],
                             ant=p["ant"][i], prospect_version="D")
    return calls / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--prosail-calls", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    prior = default_prior("prospect-d")
    params = {k: np.asarray(v) for k, v in prior.sample(jax.random.key(0), args.batch, dtype=jnp.float64).items()}
    dev = jax.devices()[0]
    print(f"device: {dev.device_kind} ({dev.platform}), jax {jax.__version__}, {platform.processor() or platform.machine()}")
    print(f"batch {args.batch}, 2001 bands (400-2400 nm), median of {args.repeats} runs")
    f32 = bench_leafjax(args.batch, jnp.float32, args.repeats, params)
    f64 = bench_leafjax(args.batch, jnp.float64, args.repeats, params)
    print(f"leafjax PROSPECT-D float32: {f32:12.4g} spectra/s")
    print(f"leafjax PROSPECT-D float64: {f64:12.4g} spectra/s")
    if args.prosail_calls > 0:
        ps = bench_prosail(min(args.prosail_calls, args.batch), params)
        print(f"prosail 2.0.5 loop        : {ps:12.4g} spectra/s")
        print(f"ratio float32 / prosail   : {f32 / ps:12.1f}x   (target >= 5x on the 2-core CPU)")
        print(f"ratio float64 / prosail   : {f64 / ps:12.1f}x")


if __name__ == "__main__":
    main()
