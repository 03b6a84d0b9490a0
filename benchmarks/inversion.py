"""Inversion throughput and accuracy: leafjax batch LM vs ``scipy.optimize.least_squares`` looping over PyPI
``prosail`` 2.0.5, on the same simulated spectra (PROSPECT-D, R+T, 400–2400 nm, 0.5 % multiplicative noise,
5 free parameters: n_struct, chl, car, ewt, lma; ant = brown = 0).

Run:  python benchmarks/inversion.py [--n 1000] [--scipy-n 40]
The scipy baseline starts from the centre of the bounds and uses the same bounds and residuals (R and T over
400–2400 nm); prosail computes 400–2500 nm and the extra bands are dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a script named prosail.py: keep it from shadowing the PyPI package of that name
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

import leafjax as lj
from leafjax.simulation import Fixed, Prior, Uniform, make_noise, simulate

FREE = ["n_struct", "chl", "car", "ewt", "lma"]
PRIOR = Prior({"n_struct": Uniform(1.0, 2.5), "chl": Uniform(5.0, 100.0), "car": Uniform(2.0, 20.0),
               "ant": Fixed(0.0), "brown": Fixed(0.0), "ewt": Uniform(0.002, 0.03), "lma": Uniform(0.002, 0.02)})


def errors(est: dict, truth: dict, idx) -> str:
    return "  ".join(f"{k} {np.median(np.abs(np.asarray(est[k])[idx] - truth[k][idx]) / truth[k][idx]):.3%}"
                     for k in FREE)


def scipy_invert(r, t, n):
    import prosail
    from scipy.optimize import least_squares

    warnings.simplefilter("ignore")
    lo = np.array([lj.bounds(k)[0] for k in FREE])
    hi = np.array([lj.bounds(k)[1] for k in FREE])
    scale = hi - lo
    out, evals = [], []
    for i in range(n):
        def res(u):
            x = lo + u * scale
            _, rr, tt = prosail.run_prospect(x[0], x[1], x[2], 0.0, x[3], x[4], ant=0.0, prospect_version="D")
            return np.concatenate([rr[:2001] - r[i], tt[:2001] - t[i]])
        sol = least_squares(res, np.full(5, 0.5), bounds=(0, 1), method="trf")
        out.append(lo + sol.x * scale)
        evals.append(sol.nfev)
    return {k: np.array([o[j] for o in out]) for j, k in enumerate(FREE)}, float(np.median(evals))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--scipy-n", type=int, default=40)
    args = ap.parse_args()
    model = lj.ProspectD(wavelengths=np.arange(400, 2401), dtype=jnp.float32)
    truth, r, t = simulate(model, PRIOR, args.n, jax.random.key(0), noise=make_noise(multiplicative=0.005))
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}; {args.n} spectra, 2001 bands, R+T")
    problem = lj.make_problem(model, free=FREE)
    jax.block_until_ready(lj.invert(problem, r, t).cost)  # compile for this batch shape
    t0 = time.perf_counter()
    res = lj.invert(problem, r, t)
    jax.block_until_ready(res.cost)
    dt = time.perf_counter() - t0
    conv = float(np.mean(np.asarray(res.status) == lj.Status.CONVERGED))
    print(f"leafjax float32 LM : {args.n / dt:9.1f} spectra/s, converged {conv:.1%}, median rel. errors: "
          f"{errors(res.estimates, truth, slice(None))}")
    if args.scipy_n > 0:
        k = min(args.scipy_n, args.n)
        t0 = time.perf_counter()
        est, nfev = scipy_invert(np.asarray(r, np.float64), np.asarray(t, np.float64), k)
        dts = time.perf_counter() - t0
        print(f"scipy + prosail    : {k / dts:9.1f} spectra/s ({1000 * dts / k:.0f} ms/spectrum, median {nfev:.0f} "
              f"model evaluations), median rel. errors: {errors(est, truth, slice(0, k))}")
        print(f"leafjax errors on the same {k} spectra: {errors(res.estimates, truth, slice(0, k))}")
        print(f"speed ratio leafjax / scipy: {(args.n / dt) / (k / dts):.1f}x   (target >= 20x on the 2-core CPU)")


if __name__ == "__main__":
    main()
