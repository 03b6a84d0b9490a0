r"""Op-mix lower bound ("roofline" for compute) of leafjax's forward models on this CPU, and the distance from it.

Method:

(a) **Cost per element-op** (throughput, one core).  For each elementwise op class (add, mul, fma, div, sqrt,
    exp, log, expm1, log1p, pow, tanh, sin, cos, max, compare+select) and dtype, a jitted ``lax.fori_loop``
    iterates ``x <- s * sum_i g(x, a_i, b_i)`` over a cache-resident block of ``--block`` elements, with ``L``
    *independent* terms ``g`` per iteration (pairwise-summed), so the CPU overlaps them as it does the many
    independent ops of a model's fusion (a dependent chain would measure latency instead, ~5x more for exp).
    The cost per term is the slope ``(t(L2) - t(L1)) / ((L2 - L1) R B)`` (loop overhead, the scaling and memory
    traffic cancel), fastest of ``--micro-best-of`` alternating short runs (robust to the shared machine's
    load).  ``a_i, b_i`` are runtime arrays so XLA cannot fold or CSE the terms (checked: the compiled HLO must
    hold ``L`` ops of the class per iteration, else the class is flagged).  Each term is the op plus known
    helpers, whose measured costs are subtracted: ``add`` = half of ``x + b_i`` plus its sum-add; ``mul`` =
    ``x * a_i`` minus the sum-add; unary ``u`` = ``u(x a_i + b_i)`` minus fma and add; ``div`` = ``a_i / (x +
    b_i)`` minus two adds; compare and select share ``where(x > b_i, x a_i, x + b_i)`` minus mul and two adds,
    half each.  A difference is floored at 10 % of its term's cost: LLVM contracts a mul feeding an add into
    one FMA, so such a mul is nearly free (the model's HLO is full of these pairs, e.g. Horner steps).
(b) **Op counts per output element** (one spectrum band), two ways:
    *jaxpr* — ``jax.make_jaxpr`` of the model, every primitive weighted by its output size / number of output
    elements, sub-jaxprs (jit, custom_jvp/vjp, scan × length, while × a trip count, cond: the costliest branch)
    walked recursively: the formulation as written, each op once;
    *HLO* — the optimised HLO of the very executable that is timed (``jit(f).lower(..).compile().as_text()``),
    walking from ENTRY into fusions and while bodies (× XLA's ``known_trip_count``): ops as executed, including
    the ops XLA duplicates into several consumer fusions.  Data movement (broadcast, reshape, slice, copy,
    concatenate, bitcast-convert) costs 0; integer/bit ops (shifts, floor, and/or, convert) are costed as an
    add or a compare; reductions count one add per input element; dot one mul+add per multiply-accumulate.
(c) **Bound** = Σ count × cost per band × bands per spectrum, spread over ``--cores`` cores ⇒ spectra/s.  The
    printout gives, per model, measured spectra/s (wall; CPU/wall shows how many cores XLA used; the
    "CPU-time equivalent" ``items × cores / CPU s`` is what the run would give with every CPU second on our
    cores), the jaxpr and HLO bounds, the distances measured/bound (by wall and by CPU time), the HLO/jaxpr
    duplication factor and the op classes that dominate the HLO time.

This is a compute-only lower bound: it ignores memory traffic, loop overheads and imperfect vectorisation, so a
distance of 1 is unreachable.  The micro-benchmarks take the fastest of many short runs, the model timings the
fastest of ``--best-of`` long ones, so on a loaded machine the wall distance grows; the CPU-time distance is the
load-robust figure (the load is printed; the cheap classes add/mul/select vary by up to ~2x between runs at a
load of ~6 on 2 cores, the transcendental ones by ~30 %).  Since a mul feeding an add is costed as nearly
free (FMA contraction), the bound assumes perfect pairing: an unpaired mul really costs about an add.

What dominates (2-core Zen 5, December 2026, printed per model): with the kernel before the issue-13 rewrite the
HLO held ~760-1060 element-ops per band for PROSPECT-D f32 (~85 % mul/add: Horner steps of E1 that XLA
duplicated into several consumer fusions, HLO/jaxpr ≈ 4x; exp/expm1/div ~6 % of the time each); with the
rewritten kernel (no duplicated E1, leafjax's own exp/log polynomials) ~330 per band, HLO/jaxpr ≈ 1.1-1.3x, and
the time is ~55-65 % add, ~15 % compare/select, ~10-17 % div (f64: more), exp only in 4SAIL.

Models: PROSPECT-D float32/float64 (batch 10^4, 2001 bands), PROSAIL (``leafjax.physics.canopy.Prosail``,
PROSPECT-D + 4SAIL, Campbell LIDF, dry/wet soil; batch ``--prosail-batch``), and the model work of one LM
iteration per row (one primal + p = 5 forward tangents of R and T, as ``leafjax/inversion/_lm.py`` linearises),
compared with ``lj.invert``'s wall time per row-iteration (which also holds the LM algebra, the look-up-table
start, the finaliser and the work of rows that wait for others).

Run (2-core CPU, ~2-4 min):  python benchmarks/roofline.py
Smoke run (~30 s):            python benchmarks/roofline.py --quick
GPU: the micro-benchmark and bound are CPU-specific; on an accelerator only the op counts are meaningful
(``python benchmarks/roofline.py --counts-only``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

import _timing as tm  # noqa: E402
from _opcount import hlo_counts, jaxpr_counts, ns_per_element  # noqa: E402

WAVELENGTHS = np.arange(400, 2401)
FREE = ("n_struct", "chl", "car", "ewt", "lma")

# ---------------------------------------------------------------- (a) micro-benchmarks
# name: (term g(x, a_i, b_i), x0, a, b, HLO opcode that must appear L times per iteration, classes to subtract).
# Every term also costs one add of the (pairwise) sum; "add" itself has two adds per term.
MICRO = {
    "add": (lambda x, a, b: x + b, 1.0, -1.0, 1e-3, "add", ()),
    "mul": (lambda x, a, b: x * a, 1.0, -1.0, 0.0, "multiply", ("add",)),
    "fma": (lambda x, a, b: x * a + b, 1.0, -1.0, 0.0, "multiply", ("add",)),
    "div": (lambda x, a, b: a / (x + b), 1.0, 1.5, 0.5, "divide", ("add", "add")),
    "select": (lambda x, a, b: jnp.where(x > b, x * a, x + b), 1.0, -1.0, 0.0, "select", ("mul", "add", "add")),
    "max": (lambda x, a, b: jnp.maximum(x, b), 1.0, -1.0, -2.0, "maximum", ("add",)),
    "sqrt": (lambda x, a, b: jnp.sqrt(x * a + b), 1.0, 1.0, 0.5, "sqrt", ("fma", "add")),
    "exp": (lambda x, a, b: jnp.exp(x * a + b), -0.5, -1.0, 0.0, "exponential", ("fma", "add")),
    "log": (lambda x, a, b: jnp.log(x * a + b), 3.0, 1.0, 2.0, "log", ("fma", "add")),
    "expm1": (lambda x, a, b: jnp.expm1(x * a + b), -0.4, -1.0, -0.5, "exponential-minus-one", ("fma", "add")),
    "log1p": (lambda x, a, b: jnp.log1p(x * a + b), 1.0, 1.0, 0.5, "log-plus-one", ("fma", "add")),
    "pow": (lambda x, a, b: jnp.power(x, b), 1.0, 1.0, 0.7, "power", ("add",)),
    "tanh": (lambda x, a, b: jnp.tanh(x * a + b), 1.0, 1.0, 0.5, "tanh", ("fma", "add")),
    "sin": (lambda x, a, b: jnp.sin(x * a + b), 1.0, 1.0, 0.5, "sine", ("fma", "add")),
    "cos": (lambda x, a, b: jnp.cos(x * a + b), 1.0, 1.0, 0.5, "cosine", ("fma", "add")),
}


def _pairwise_sum(xs: list):
    while len(xs) > 1:
        xs = [xs[i] + xs[i + 1] if i + 1 < len(xs) else xs[i] for i in range(0, len(xs), 2)]
    return xs[0]


def _terms(term, length: int):
    """``x <- s * sum_i term(x, a_i, b_i)`` iterated ``reps`` times: the ``length`` terms are independent
    (throughput, not latency, as in a model's fusion); a, b are runtime ``(length,)`` arrays so XLA cannot fold."""
    def f(x, a, b, s, reps):
        def body(_, x):
            return _pairwise_sum([term(x, a[i], b[i]) for i in range(length)]) * s
        return lax.fori_loop(0, reps, body, x)
    return f


def micro_costs(dtype, block: int, best_of: int, l1: int = 4, l2_: int = 32, target_s: float = 1e-3):
    """ns per element-op (one core) of each class in :data:`MICRO` for ``dtype``; prints a table."""
    raw, cost, flags = {}, {}, {}
    for name, (term, x0, a, b, opcode, minus) in MICRO.items():
        x = jnp.full((block,), x0, dtype)
        exes, argss = [], []
        cheap = name in ("add", "mul", "fma", "div", "select", "max")  # small differences: longer, more samples
        l2 = 4 * l2_ if cheap else l2_
        for length in (l1, l2):
            args = [x, jnp.full((length,), a, dtype), jnp.full((length,), b, dtype), jnp.asarray(1.0 / length, dtype),
                    jnp.asarray(2, jnp.int32)]
            exes.append(jax.jit(_terms(term, length)).lower(*args).compile())
            argss.append(args)
        ok = hlo_counts(exes[1].as_text(), trip=1)[0].get(opcode, 0) >= l2 * block
        wall, _ = time_exe(exes[1], argss[1], 1, unpack=True)  # pilot at 2 repeats: size the loop to ~target_s
        reps = int(max(2, min(10_000, 2 * target_s / max(wall, 1e-6))))
        for args in argss:
            args[-1] = jnp.asarray(reps, jnp.int32)
        best, cpu_wall = [math.inf, math.inf], 0.0
        for _ in range(best_of * (4 if cheap else 1)):  # the two chain lengths alternate; fastest of each
            for j in (0, 1):  # short runs, fastest of many: some run without being descheduled
                w, c = time_exe(exes[j], argss[j], 1, unpack=True, warm=False)
                best[j] = min(best[j], w)
                cpu_wall = max(cpu_wall, c / w)
        raw[name] = max((best[1] - best[0]) / ((l2 - l1) * reps * block) * 1e9, 0.0)
        cost[name] = max(raw[name] - sum(cost[m] for m in minus), 0.1 * raw[name])
        if name == "add":
            cost[name] = raw[name] / 2
        flags[name] = (ok, cpu_wall)
    cost["compare"] = cost["select"] = 0.5 * cost["select"]
    print(f"  {jnp.dtype(dtype).name}: " + ", ".join(f"{k} {v:.3g}" for k, v in cost.items()) + "  ns/element-op")
    print(f"    median CPU/wall of the micro-benchmarks {np.median([v[1] for v in flags.values()]):.2f} (1 = one core; "
          f"process CPU time is coarse for these ms-long runs)")
    bad = [k for k, v in flags.items() if not v[0]]
    if bad:
        print(f"    WARNING: XLA folded the terms of {', '.join(bad)}; their costs are unreliable")
    return cost


# ---------------------------------------------------------------- (c) bounds and measurements
def compiled(fn, *args):
    """(executable, dynamic args) of ``fn(*args)`` with array leaves as arguments (as ``eqx.filter_jit``)."""
    dyn, static = eqx.partition(args, eqx.is_array)
    exe = jax.jit(lambda d: fn(*eqx.combine(d, static))).lower(dyn).compile()
    return exe, dyn


def time_exe(exe, dyn, best_of: int, unpack: bool = False, warm: bool = True) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``best_of`` calls (after one warm-up call if ``warm``)."""
    call = (lambda: exe(*dyn)) if unpack else (lambda: exe(dyn))
    if warm:
        jax.block_until_ready(call())
    walls, cpus = [], []
    for _ in range(best_of):
        c0, t0 = time.process_time(), time.perf_counter()
        jax.block_until_ready(call())
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    i = int(np.argmin(walls))
    return walls[i], cpus[i]


def report(label: str, fn, args, n_items: int, n_out: int, cost: dict, cores: int, best_of: int,
           measured: tuple[float, float] | None = None, trip: float = 1.0, unit: str = "spectra/s") -> None:
    c_jaxpr = jaxpr_counts(jax.make_jaxpr(fn)(*args), trip)
    exe, dyn = compiled(fn, *args)
    per_op, c_hlo = hlo_counts(exe.as_text(), trip)
    unknown = per_op.get("while without known trip count", 0)
    wall, cpu = measured if measured is not None else time_exe(exe, dyn, best_of)
    rate = n_items / wall
    rate_cpu = None if cpu is None else n_items * cores / cpu  # if every CPU second were on our cores
    bands = n_out / n_items
    ns_j, parts_j = ns_per_element(c_jaxpr, n_out, cost)
    ns_h, parts_h = ns_per_element(c_hlo, n_out, cost)
    bound_j, bound_h = cores / (ns_j * bands * 1e-9), cores / (ns_h * bands * 1e-9)
    ops_j, ops_h = sum(c_jaxpr.values()) / n_out, sum(c_hlo.values()) / n_out
    print(f"{label}:" + (f"  ({unknown:.0f} HLO while loop(s) without a known trip count, counted {trip:g}x)"
                         if unknown else ""))
    if cpu is None:
        print(f"  measured {rate:10.4g} {unit} (wall)")
    else:
        print(f"  measured {rate:10.4g} {unit} (wall {wall:.4f} s; CPU {cpu:.4f} s, CPU/wall {cpu / wall:.2f}); "
              f"CPU-time equivalent on {cores} cores {rate_cpu:.4g} {unit}")
    print(f"  jaxpr: {ops_j:7.1f} element-ops/band, {ns_j:7.3f} ns/band on 1 core -> bound {bound_j:10.4g} {unit} "
          f"on {cores} cores; measured is {bound_j / rate:.2f}x slower")
    print(f"  HLO  : {ops_h:7.1f} element-ops/band, {ns_h:7.3f} ns/band on 1 core -> bound {bound_h:10.4g} {unit} "
          f"on {cores} cores; measured is {bound_h / rate:.2f}x slower (HLO/jaxpr ops {ops_h / ops_j:.2f}x, "
          f"time {ns_h / ns_j:.2f}x)")
    if rate_cpu is not None:
        print(f"  distance by CPU time (robust to machine load): jaxpr bound / CPU-time rate {bound_j / rate_cpu:.2f}x, "
              f"HLO bound / CPU-time rate {bound_h / rate_cpu:.2f}x")
    share = ", ".join(f"{k} {v / ns_h:.0%}" for k, v in parts_h[:5])
    counts = ", ".join(f"{k} {c_hlo[k] / n_out:.1f}" for k, _ in parts_h[:8])
    print(f"  dominant (HLO time share): {share}; HLO ops/band: {counts}")


def leaf_models(batch: int, dtype, params: dict):
    import leafjax as lj

    model = lj.ProspectD(wavelengths=WAVELENGTHS, dtype=dtype)
    p = lj.ProspectDParams(**{k: jnp.asarray(v[:batch], dtype) for k, v in params.items()})
    return model, p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--prosail-batch", type=int, default=2000)
    ap.add_argument("--lm-n", type=int, default=1000, help="spectra for the LM per-iteration measurement")
    ap.add_argument("--block", type=int, default=4096, help="micro-benchmark block (elements, cache-resident)")
    ap.add_argument("--micro-best-of", type=int, default=25, help="micro-benchmark: fastest of this many")
    ap.add_argument("--best-of", type=int, default=5)
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--quick", action="store_true", help="~30 s smoke run")
    ap.add_argument("--counts-only", action="store_true", help="op counts only (no timing; e.g. on a GPU host)")
    ap.add_argument("--no-prosail", action="store_true")
    ap.add_argument("--no-lm", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.batch, args.micro_best_of, args.best_of = 2000, 11, 3
        args.no_prosail = args.no_lm = True
    import leafjax as lj
    from leafjax.simulation import default_prior

    print(tm.header())
    raw = default_prior("prospect-d").sample(jax.random.key(0), args.batch, dtype=jnp.float64)
    params = {k: np.asarray(raw.get(k, jnp.zeros(args.batch))) for k in lj.ProspectDParams.names}
    dtypes = (jnp.float32,) if args.quick else (jnp.float32, jnp.float64)
    if args.counts_only:
        cost = {d: {k: 1.0 for k in (*MICRO, "compare")} for d in dtypes}
        print("counts only: every op class costs 1 ns (the bounds are element-op counts, not times)")
    else:
        print(f"(a) micro-benchmark, block {args.block} elements, fastest of {args.micro_best_of}:")
        cost = {d: micro_costs(d, args.block, args.micro_best_of) for d in dtypes}

    def leaf_rt(m, p):
        o = m(p)
        return o.reflectance, o.transmittance

    for d in dtypes:
        model, p = leaf_models(args.batch, d, params)
        report(f"PROSPECT-D {jnp.dtype(d).name}, batch {args.batch}, {len(WAVELENGTHS)} bands", leaf_rt,
               (model, p), args.batch, args.batch * len(WAVELENGTHS), cost[d], args.cores, args.best_of,
               measured=(1.0, 1.0) if args.counts_only else None)
    if not args.no_prosail:
        from leafjax.physics.canopy import CanopyParams, Prosail
        from leafjax.physics.soil import DryWetSoilParams

        n = args.prosail_batch
        rng = np.random.default_rng(0)
        can = {"lai": rng.uniform(0.1, 7, n), "lidf_a": rng.uniform(10, 80, n), "hotspot": rng.uniform(0.01, 0.5, n),
               "sza": rng.uniform(0, 60, n), "vza": rng.uniform(0, 50, n), "raa": rng.uniform(0, 180, n)}
        soil = (rng.uniform(0.5, 1.5, n), rng.uniform(0, 1, n))
        for d in dtypes:
            model = Prosail("prospect-d", wavelengths=WAVELENGTHS, dtype=d)
            _, leaf = leaf_models(n, d, params)
            cp = CanopyParams(**{k: jnp.asarray(v, d) for k, v in can.items()}, lidf_type="campbell")
            sp = DryWetSoilParams(*(jnp.asarray(v, d) for v in soil))
            report(f"PROSAIL (PROSPECT-D + 4SAIL) {jnp.dtype(d).name}, batch {n}, {len(WAVELENGTHS)} bands",
                   lambda m, a, b, c: m(a, b, c).rsot, (model, leaf, cp, sp), n, n * len(WAVELENGTHS), cost[d],
                   args.cores, args.best_of, measured=(1.0, 1.0) if args.counts_only else None)
    if not args.no_lm:
        lm_iteration(args, params, cost[jnp.float32])
    print(f"load at end {tm.fmt_load(tm.load())}")


def lm_iteration(args, params: dict, cost: dict) -> None:
    """Bound on the model work of one LM iteration per row (primal + 5 tangents) vs lj.invert's time."""
    import leafjax as lj
    from leafjax.simulation import make_noise, simulate

    n = args.lm_n
    model, p = leaf_models(n, jnp.float32, params)
    fixed = {k: getattr(p, k) for k in lj.ProspectDParams.names if k not in FREE}

    def linearised(m, z):
        def resid(z):
            q = lj.ProspectDParams(**{k: z[:, i] for i, k in enumerate(FREE)}, **fixed)
            o = m(q)
            return jnp.concatenate([o.reflectance, o.transmittance], axis=-1)
        r, lin = jax.linearize(resid, z)
        return r, jax.vmap(lambda e: lin(jnp.broadcast_to(e, z.shape)))(jnp.eye(len(FREE), dtype=z.dtype))

    z = jnp.stack([getattr(p, k) for k in FREE], axis=-1)
    if args.counts_only:
        measured = (1.0, 1.0)
    else:
        truth, r, t = simulate(model, lj.simulation.default_prior("prospect-d"), n, jax.random.key(1),
                               noise=make_noise(multiplicative=0.005))
        problem = lj.make_problem(model, free=list(FREE))
        jax.block_until_ready(lj.invert(problem, r, t).cost)
        walls = []
        for _ in range(args.best_of):
            t0 = time.perf_counter()
            res = lj.invert(problem, r, t)
            jax.block_until_ready(res.cost)
            walls.append(time.perf_counter() - t0)
        iters = float(np.sum(np.asarray(res.iterations)))
        print(f"lj.invert of {n} spectra (R+T, 5 free, f32): best wall {min(walls):.3f} s, "
              f"{iters / n:.2f} iterations per row (own); per row-iteration {1e6 * min(walls) / iters:.1f} us")
        measured = (min(walls) * n / iters, None)  # seconds for n row-iterations
    report("one LM iteration's model work per row (primal + 5 tangents of R and T), f32", linearised,
           (model, z), n, n * 2 * len(WAVELENGTHS), cost, args.cores, args.best_of, measured=measured,
           unit="row-iterations/s")


if __name__ == "__main__":
    main()
