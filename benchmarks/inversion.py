"""Inversion throughput and accuracy, measured fairly: leafjax batch LM vs ``scipy.optimize.least_squares`` + ``prosail``.

Problem (both sides): PROSPECT-D, reflectance and transmittance over 400–2400 nm (2001 bands each), 5 free
parameters (n_struct, chl, car, ewt, lma; ant = brown = 0), spectra simulated by leafjax float32 with 0.5 %
multiplicative noise from a uniform prior inside the inversion bounds.

* ``leafjax``: ``lj.invert(lj.make_problem(model, free=FREE), R, T)`` on ``--n`` spectra in float32 (its default
  solver and initial guesses from its look-up table), outputs ``block_until_ready``; compiled before timing.
* ``scipy``: per spectrum ``least_squares(method="trf")`` over ``prosail.run_prospect`` (float64; bands
  2401–2500 nm dropped), variables scaled to [0, 1] within the *same* bounds as leafjax's problem, started at the
  centre, on the first ``--scipy-n`` spectra.  ``import prosail``/``scipy`` and a numba warm-up call are done
  before timing.  Every call of the residual function is counted, including the finite-difference Jacobian's
  (``sol.nfev`` counts only the others): the true number of model evaluations per spectrum.

Contenders are interleaved within each repeat (order rotated), the speed ratio (spectra/s) is computed per
repeat and reported as median [min-max]; wall and process CPU time and the load average are printed
(:mod:`_timing`).  Accuracy: median relative error per parameter on the *same* spectra for both sides.

Run (2-core CPU, ~1-2 min):   python benchmarks/inversion.py [--n 1000] [--scipy-n 40] [--repeats 3]
Smoke run (~30 s):             python benchmarks/inversion.py --quick
GPU (leafjax on the accelerator; scipy stays on the host):   python benchmarks/inversion.py --gpu
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
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import _timing as tm  # noqa: E402
import leafjax as lj  # noqa: E402
from leafjax.simulation import Fixed, Prior, Uniform, make_noise, simulate  # noqa: E402

FREE = ["n_struct", "chl", "car", "ewt", "lma"]
PRIOR = Prior({"n_struct": Uniform(1.0, 2.5), "chl": Uniform(5.0, 100.0), "car": Uniform(2.0, 20.0),
               "ant": Fixed(0.0), "brown": Fixed(0.0), "ewt": Uniform(0.002, 0.03), "lma": Uniform(0.002, 0.02)})
N_BANDS = 2001


def rel_errors(est: dict, truth: dict, k: int) -> dict[str, float]:
    """Median |estimate - truth| / truth per free parameter over the first ``k`` spectra."""
    return {n: float(np.median(np.abs(np.asarray(est[n])[:k] - truth[n][:k]) / truth[n][:k])) for n in FREE}


def fmt_errors(e: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.3%}" for k, v in e.items())


def leafjax_contender(problem, r: np.ndarray, t: np.ndarray) -> tm.Contender:
    jax.block_until_ready(lj.invert(problem, r, t).cost)  # compile for this batch shape

    def go():
        res = lj.invert(problem, r, t)
        jax.block_until_ready((res.cost, res.estimates))
        return res

    return tm.Contender("leafjax LM f32", go, len(r))


def scipy_contender(r: np.ndarray, t: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tm.Contender:
    import prosail
    from scipy.optimize import least_squares

    warnings.simplefilter("ignore")
    prosail.run_prospect(1.5, 40.0, 8.0, 0.0, 0.01, 0.005, ant=0.0, prospect_version="D")  # numba warm-up
    scale = hi - lo

    def fit_one(ri, ti):
        calls = [0]

        def res(u):
            calls[0] += 1
            x = lo + u * scale
            _, rr, tt = prosail.run_prospect(x[0], x[1], x[2], 0.0, x[3], x[4], ant=0.0, prospect_version="D")
            return np.concatenate([rr[:N_BANDS] - ri, tt[:N_BANDS] - ti])

        sol = least_squares(res, np.full(len(FREE), 0.5), bounds=(0.0, 1.0), method="trf")
        return lo + sol.x * scale, calls[0], sol.nfev, sol.njev

    def go():
        out = [fit_one(r[i], t[i]) for i in range(len(r))]
        est = {n: np.array([o[0][j] for o in out]) for j, n in enumerate(FREE)}
        return est, np.array([o[1] for o in out]), np.array([o[2] for o in out]), np.array([o[3] for o in out])

    return tm.Contender("scipy+prosail", go, len(r))


def leafjax_evaluations(res, p: int) -> str:
    """Iterations and model passes per spectrum from the result (passes from a field if the result has one)."""
    it = np.asarray(res.iterations)
    for field in ("model_evaluations", "n_evals", "nfev", "evaluations"):
        v = getattr(res, field, None)
        if v is not None:
            v = np.asarray(v)
            per = f"median {np.median(v):.1f}" if v.ndim else f"{float(v) / it.size:.1f} (total {float(v):.0f} / rows)"
            return (f"iterations median {np.median(it):.0f} (max {it.max()}); result field {field!r} per spectrum "
                    f"{per} (each a linearisation: 1 primal + tangent passes)")
    return (f"iterations median {np.median(it):.0f} [min {it.min()}, max {it.max()}]; the result has no evaluation "
            f"count: if each LM iteration costs 1 primal + {p} tangent passes (the dense Jacobian of the block LM "
            f"before issue 13; a structured one needs fewer) that is ~{np.median(it) * (p + 1):.0f} model passes "
            f"per spectrum, counting each row's own iterations only")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="spectra inverted by leafjax")
    ap.add_argument("--scipy-n", type=int, default=40, help="spectra inverted by scipy (the first of the --n)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="~30 s smoke run (n 200, scipy-n 8, 2 repeats)")
    ap.add_argument("--gpu", action="store_true", help="GPU sizes: n 100000, scipy-n 40, 5 repeats")
    args = ap.parse_args()
    if args.quick:
        args.n, args.scipy_n, args.repeats = 200, 8, 2
    if args.gpu:
        args.n, args.repeats = 100_000, 5
    k = min(args.scipy_n, args.n)
    model = lj.ProspectD(wavelengths=np.arange(400, 400 + N_BANDS), dtype=jnp.float32)
    truth, r, t = simulate(model, PRIOR, args.n, jax.random.key(0), noise=make_noise(multiplicative=0.005))
    problem = lj.make_problem(model, free=FREE)
    lo = np.asarray(problem.low, np.float64).reshape(-1)
    hi = np.asarray(problem.high, np.float64).reshape(-1)
    print(tm.header())
    print(f"PROSPECT-D inversion, R+T, {N_BANDS} bands each, 5 free ({', '.join(FREE)}), 0.5 % noise; leafjax "
          f"{args.n} spectra, scipy {k}; {args.repeats} interleaved repeats; bounds "
          + ", ".join(f"{n} [{a:g}, {b:g}]" for n, a, b in zip(FREE, lo, hi)))
    cs = [leafjax_contender(problem, r, t),
          scipy_contender(np.asarray(r[:k], np.float64), np.asarray(t[:k], np.float64), lo, hi) if k > 0 else None]
    cs = [c for c in cs if c is not None]
    before, after = tm.run_interleaved(cs, args.repeats)
    print(tm.table(cs))
    print(f"load before {tm.fmt_load(before)}, after {tm.fmt_load(after)}")
    res = cs[0].result
    conv = float(np.mean(np.asarray(res.status) == lj.Status.CONVERGED))
    print(f"leafjax: converged {conv:.1%}; {leafjax_evaluations(res, len(FREE))}")
    print(f"leafjax median rel. errors (all {args.n}): {fmt_errors(rel_errors(res.estimates, truth, args.n))}")
    if k > 0:
        est, calls, nfev, njev = cs[1].result
        print(f"scipy: median {np.median(calls):.0f} residual calls per spectrum incl. finite-difference Jacobians "
              f"[min {calls.min()}, max {calls.max()}] (sol.nfev median {np.median(nfev):.0f}, "
              f"njev {np.median(njev):.0f})")
        e_lj, e_sp = rel_errors(res.estimates, truth, k), rel_errors(est, truth, k)
        print(f"same {k} spectra, median rel. errors: leafjax {fmt_errors(e_lj)}")
        print(f"                                     scipy   {fmt_errors(e_sp)}")
        # "equal" allows 10 % relative slack: medians over a few dozen spectra are noisy
        ok = {n: e_lj[n] <= 1.1 * e_sp[n] + 1e-7 for n in FREE}
        print("leafjax accuracy equal or better (<= 1.1 x scipy's): "
              + ", ".join(f"{n} {'yes' if v else 'NO'}" for n, v in ok.items()))
        print("ratio (per repeat, median [min-max]):")
        print("  " + tm.ratio_line("leafjax / scipy+prosail spectra/s", cs[0], cs[1], 40))
    print(f"load at end {tm.fmt_load(tm.load())}")


if __name__ == "__main__":
    main()
