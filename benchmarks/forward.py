"""Forward PROSPECT-D throughput, measured fairly: leafjax (float32, float64) vs vectorised NumPy and a ``prosail`` loop.

Contenders (all on the same parameter sets, drawn from ``leafjax.simulation.default_prior("prospect-d")``):

* ``leafjax f32`` / ``leafjax f64``: ``lj.ProspectD(wavelengths=400..2400, dtype=...)`` under ``eqx.filter_jit``,
  outputs ``block_until_ready``; compiled before timing;
* ``numpy plain f32/f64``: :mod:`_numpy_prospect` with ``scipy.special.exp1`` (PROSPECT-D as PyPI ``prosail``
  computes it, the whole batch at once, or in ``--numpy-chunk`` rows at a time);
* ``numpy lj-E1 f32/f64``: the same with leafjax's own E1/tau algorithm (series + continued fraction) in NumPy;
* ``prosail loop``: ``prosail.run_prospect`` per spectrum over ``--prosail-calls`` rows (numba JIT warmed up;
  it always computes 400–2500 nm, 2101 bands: 5 % more than the others, reported as is);
* ``torchrtm`` if importable (optional).

Imports, set-up, compilation and warm-up are outside the timed regions; contenders run interleaved within each
repeat (order rotated) and every ratio is computed per repeat (median [min-max]); wall and process CPU time
(both cores summed) and the load average are printed (:mod:`_timing`).  Before timing, the NumPy
transcriptions are checked against ``prosail.run_prospect`` and leafjax against NumPy float64 (max |ΔR|, |ΔT|).
Finally the batch-1 latency of one jitted leafjax call (``eqx.filter_jit`` and ``jax.jit``) is compared with one
``prosail.run_prospect`` call (median of many).

Run (2-core CPU, a few minutes):   python benchmarks/forward.py
Smoke run (~30 s):                 python benchmarks/forward.py --quick
GPU (leafjax on the accelerator at batch 10^6; NumPy/prosail stay on the host at batch 10^4):
                                   python benchmarks/forward.py --gpu
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a script named prosail.py: keep it from shadowing the PyPI package (helpers are found last)
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import warnings  # noqa: E402

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import _numpy_prospect as npp  # noqa: E402
import _timing as tm  # noqa: E402
import leafjax as lj  # noqa: E402
from leafjax.simulation import default_prior  # noqa: E402

WAVELENGTHS = np.arange(400, 2401)  # 2001 bands


def _outputs(m, p):
    o = m(p)
    return o.reflectance, o.transmittance


def leafjax_contender(name: str, dtype, params: dict[str, np.ndarray]) -> tm.Contender:
    model = lj.ProspectD(wavelengths=WAVELENGTHS, dtype=dtype)
    p = lj.ProspectDParams(**{k: jnp.asarray(v, dtype) for k, v in params.items()})
    run = eqx.filter_jit(_outputs)
    jax.block_until_ready(run(model, p))  # compile + warm-up

    def go():
        return jax.block_until_ready(run(model, p))

    return tm.Contender(name, go, len(params["chl"]))


def numpy_contender(name: str, dtype, e1: str, params: dict[str, np.ndarray], chunk: int) -> tm.Contender:
    c = npp.constants(WAVELENGTHS, dtype)
    p = {k: np.asarray(v, dtype) for k, v in params.items()}
    n = len(p["chl"])
    step = chunk if chunk > 0 else n

    def go():
        with np.errstate(all="ignore"):
            out = [npp.prospect_d({k: v[i:i + step] for k, v in p.items()}, c, e1) for i in range(0, n, step)]
        return out[0]

    with np.errstate(all="ignore"):
        npp.prospect_d({k: v[:8] for k, v in p.items()}, c, e1)  # warm-up (scipy import, ufunc caches)
    return tm.Contender(name, go, n)


def prosail_contender(params: dict[str, np.ndarray], calls: int) -> tm.Contender:
    import prosail

    warnings.simplefilter("ignore")
    rows = [tuple(float(params[k][i]) for k in ("n_struct", "chl", "car", "brown", "ewt", "lma", "ant"))
            for i in range(calls)]
    prosail.run_prospect(1.5, 40.0, 8.0, 0.0, 0.01, 0.005, ant=1.0, prospect_version="D")  # numba warm-up

    def go():
        for n, chl, car, brown, ewt, lma, ant in rows:
            out = prosail.run_prospect(n, chl, car, brown, ewt, lma, ant=ant, prospect_version="D")
        return out

    return tm.Contender("prosail loop", go, calls)


def torchrtm_contender(params: dict[str, np.ndarray]) -> tm.Contender | None:
    try:
        import torch  # noqa: F401
        import torchrtm  # noqa: F401
    except ImportError:
        print("torchrtm: not importable here; skipped (optional contender)")
        return None
    print("torchrtm: importable, but its API is not wired into this benchmark yet; skipped")
    return None


def check(params: dict[str, np.ndarray], rows: int) -> None:
    """Print max |difference| of each NumPy variant against prosail, and of leafjax against NumPy float64."""
    sub = {k: v[:rows] for k, v in params.items()}
    diffs = npp.check_against_prosail(sub, WAVELENGTHS, rows=rows)
    print("check vs prosail.run_prospect (max |dR|,|dT| over", rows, "spectra): " +
          ", ".join(f"numpy {k} {v:.2g}" for k, v in diffs.items()))
    with np.errstate(all="ignore"):
        ref = npp.prospect_d(sub, npp.constants(WAVELENGTHS, np.float64), "scipy")
    for dtype in (jnp.float32, jnp.float64):
        model = lj.ProspectD(wavelengths=WAVELENGTHS, dtype=dtype)
        r, t = eqx.filter_jit(_outputs)(model, lj.ProspectDParams(**{k: jnp.asarray(v, dtype) for k, v in sub.items()}))
        d = max(np.abs(np.asarray(r, np.float64) - ref[0]).max(), np.abs(np.asarray(t, np.float64) - ref[1]).max())
        print(f"check leafjax {jnp.dtype(dtype).name} vs numpy float64: max |dR|,|dT| = {d:.2g}")


def batch1_latency(params: dict[str, np.ndarray], calls: int) -> None:
    import prosail

    model = lj.ProspectD(wavelengths=WAVELENGTHS, dtype=jnp.float32)
    p1 = lj.ProspectDParams(**{k: jnp.asarray(v[:1], jnp.float32) for k, v in params.items()})
    f_eqx = eqx.filter_jit(_outputs)
    f_jax = jax.jit(_outputs)
    row = tuple(float(params[k][0]) for k in ("n_struct", "chl", "car", "brown", "ewt", "lma", "ant"))
    lat = {
        "leafjax f32, eqx.filter_jit": tm.median_latency(lambda: jax.block_until_ready(f_eqx(model, p1)), calls),
        "leafjax f32, jax.jit": tm.median_latency(lambda: jax.block_until_ready(f_jax(model, p1)), calls),
        "prosail.run_prospect": tm.median_latency(
            lambda: prosail.run_prospect(*row[:6], ant=row[6], prospect_version="D"), calls),
    }
    print(f"batch-1 latency (one spectrum, median [min-max] of {calls} calls, ms):")
    for k, (med, lo, hi) in lat.items():
        print(f"  {k:<30} {1e3 * med:8.3f} [{1e3 * lo:.3f}-{1e3 * hi:.3f}]")
    ref = lat["prosail.run_prospect"][0]
    print(f"  leafjax jax.jit / prosail latency: {lat['leafjax f32, jax.jit'][0] / ref:.2f}x "
          f"(<= 1 means leafjax is not slower at batch 1)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=10_000, help="leafjax batch (spectra)")
    ap.add_argument("--numpy-batch", type=int, default=None, help="NumPy batch (default: --batch)")
    ap.add_argument("--numpy-chunk", type=int, default=0, help="NumPy rows per call (0: whole batch at once)")
    ap.add_argument("--prosail-calls", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--latency-calls", type=int, default=300)
    ap.add_argument("--quick", action="store_true", help="~30 s smoke run (batch 1000, 2 repeats)")
    ap.add_argument("--gpu", action="store_true", help="GPU sizes: leafjax batch 10^6, NumPy 10^4, 5 repeats")
    ap.add_argument("--no-numpy", action="store_true", help="skip the NumPy contenders")
    args = ap.parse_args()
    if args.quick:
        args.batch, args.prosail_calls, args.repeats, args.latency_calls = 1000, 100, 2, 50
    if args.gpu:
        args.batch, args.numpy_batch, args.repeats = 1_000_000, args.numpy_batch or 10_000, 5
    nb = min(args.numpy_batch or args.batch, args.batch)
    prior = default_prior("prospect-d")
    params = {k: np.asarray(v, np.float64)
              for k, v in prior.sample(jax.random.key(0), args.batch, dtype=jnp.float64).items()}
    params = {k: params.get(k, np.zeros(args.batch)) for k in npp.PARAMS}
    np_params = {k: v[:nb] for k, v in params.items()}
    print(tm.header())
    print(f"PROSPECT-D, 2001 bands (400-2400 nm); leafjax batch {args.batch}, NumPy batch {nb} "
          f"({'whole batch' if args.numpy_chunk <= 0 else f'{args.numpy_chunk} rows'} per call), "
          f"prosail {args.prosail_calls} calls; {args.repeats} interleaved repeats")
    check(params, rows=min(20, args.batch))

    cs = [leafjax_contender("leafjax f32", jnp.float32, params), leafjax_contender("leafjax f64", jnp.float64, params)]
    if not args.no_numpy:
        cs += [numpy_contender("numpy plain f32", np.float32, "scipy", np_params, args.numpy_chunk),
               numpy_contender("numpy plain f64", np.float64, "scipy", np_params, args.numpy_chunk),
               numpy_contender("numpy lj-E1 f32", np.float32, "leafjax", np_params, args.numpy_chunk),
               numpy_contender("numpy lj-E1 f64", np.float64, "leafjax", np_params, args.numpy_chunk)]
    if args.prosail_calls > 0:
        cs.append(prosail_contender(params, min(args.prosail_calls, args.batch)))
    extra = torchrtm_contender(params)
    if extra is not None:
        cs.append(extra)
    before, after = tm.run_interleaved(cs, args.repeats)
    by = {c.name: c for c in cs}
    print(tm.table(cs))
    print(f"load before {tm.fmt_load(before)}, after {tm.fmt_load(after)}")
    print("ratios (per repeat, median [min-max]):")
    if not args.no_numpy:
        print("  " + tm.ratio_line("leafjax f32 / numpy plain f32", by["leafjax f32"], by["numpy plain f32"], 12))
    if "prosail loop" in by:
        print("  " + tm.ratio_line("leafjax f32 / prosail loop   ", by["leafjax f32"], by["prosail loop"], 30))
    if not args.no_numpy:
        print("  " + tm.ratio_line("leafjax f64 / numpy plain f64", by["leafjax f64"], by["numpy plain f64"], 3))
        print("  " + tm.ratio_line("leafjax f32 / numpy lj-E1 f32", by["leafjax f32"], by["numpy lj-E1 f32"]))
        print("  " + tm.ratio_line("leafjax f64 / numpy lj-E1 f64", by["leafjax f64"], by["numpy lj-E1 f64"]))
    if "prosail loop" in by:
        print("  " + tm.ratio_line("leafjax f64 / prosail loop   ", by["leafjax f64"], by["prosail loop"]))
    if args.latency_calls > 0:
        batch1_latency(params, args.latency_calls)
    print(f"load at end {tm.fmt_load(tm.load())}")


if __name__ == "__main__":
    main()
