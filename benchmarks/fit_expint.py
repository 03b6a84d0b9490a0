"""Fit the rational approximations behind ``leafjax.physics.leaf._expint`` (E1 and PROSPECT's tau(k)).

Run:  python benchmarks/fit_expint.py            # fit, print max relative errors
      python benchmarks/fit_expint.py --write    # ... and regenerate leafjax/physics/leaf/_e1_coefficients.py

Truth is mpmath at 40 digits.  Every function is split at ``x = s`` (``SPLIT``: 2 in float64, 1 in float32) into a
small branch, a rational ``P(x)/Q(x)`` on ``[0, s]``, and a large branch, ``t P(t)/Q(t)`` with ``t = 1/x`` on
``[0, 1/s]``, which is stored as the rational in ``x`` with reversed coefficients
``x^n P(1/x) / (x^(n+1) Q(1/x))`` (so that the kernel evaluates ONE rational in ``x`` per element, its coefficients
selected per branch, with no ``1/x``):

===========  ===================================  ============================================
name         small branch (x <= s)                large branch (x > s)
===========  ===================================  ============================================
``omt``      1 - tau = x (P/Q + x ln x)            tau = e^-x P/Q
``dtau``     tau' = -2 (P/Q + x ln x)              tau' = -2 e^-x P/Q
``e1``       E1 = -gamma - ln x + x P/Q            E1 = e^-x P/Q
===========  ===================================  ============================================

with ``tau(x) = (1 - x) e^-x + x^2 E1(x)`` (Allen et al. 1969).  The fits are linearised least squares in a
Chebyshev basis (Sanathanan-Koerner iteration with Lawson reweighting towards minimax relative error), solved in
mpmath, then converted to monomials in mpmath and rounded to the target dtype.  Errors are measured after
rounding, by Horner evaluation in the target dtype (numpy) on a dense grid.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import mpmath as mp
import numpy as np

mp.mp.dps = 40
#: Branch boundary per dtype (float32: 1, where 1 - tau loses less to cancellation than at 2).
SPLIT = {"float64": 2, "float32": 1}
#: (small-branch degree, large-branch degree) per dtype.
DEGREES = {"float64": (6, 8), "float32": (3, 4)}
OUT = Path(__file__).resolve().parent.parent / "leafjax" / "physics" / "leaf" / "_e1_coefficients.py"


def _tau_e(x):
    return 1 - x + x * x * mp.e**x * mp.e1(x)  # tau e^x


# small-branch targets f(x) on [0, SPLIT] and large-branch targets f(t) on [0, 1/SPLIT]
SMALL = {
    "omt": lambda x: mp.mpf(2) if x == 0 else (1 - (1 - x) * mp.e**-x - x * x * mp.e1(x)) / x - x * mp.log(x),
    "dtau": lambda x: mp.mpf(1) if x == 0 else mp.e**-x - x * mp.e1(x) - x * mp.log(x),
    "e1": lambda x: mp.mpf(1) if x == 0 else (mp.e1(x) + mp.euler + mp.log(x)) / x,
}
#: the error that matters is relative to the final quantity: |d quantity / d r| / |quantity| per unit error in r
SMALL_SCALE = {
    "omt": lambda x, r: abs(r + x * mp.log(x)) if x else mp.mpf(2),
    "dtau": lambda x, r: abs(r + x * mp.log(x)) if x else mp.mpf(1),
    "e1": lambda x, r: abs(mp.e1(x)) / x if x else mp.inf,
}
LARGE = {
    "omt": lambda t: mp.mpf(2) if t == 0 else _tau_e(1 / t) / t,
    "dtau": lambda t: mp.mpf(1) if t == 0 else 1 - _tau_e(1 / t),
    "e1": lambda t: mp.mpf(1) if t == 0 else mp.e ** (1 / t) * mp.e1(1 / t) / t,
}


def _cheb(u, n):
    out = [mp.mpf(1), u]
    for _ in range(2, n + 1):
        out.append(2 * u * out[-1] - out[-2])
    return out[: n + 1]


def fit(f, lo, hi, n, scale=None, iters=10, npts=160):
    """Rational ``P/Q`` (degrees n, n) to ``f`` on ``[lo, hi]`` minimising the max relative error.

    Returns monomial coefficients (mpf lists, lowest first) of P and Q with Q(0) = 1.
    """
    lo, hi = mp.mpf(lo), mp.mpf(hi)
    xs = [(lo + hi) / 2 - (hi - lo) / 2 * mp.cos(mp.pi * (i + mp.mpf(0.5)) / npts) for i in range(npts)]
    fv = [f(x) for x in xs]
    sc = [abs(v) if scale is None else scale(x, v) for x, v in zip(xs, fv)]
    basis = [_cheb((2 * x - lo - hi) / (hi - lo), n) for x in xs]
    w, qprev, best = [mp.mpf(1)] * npts, [mp.mpf(1)] * npts, None
    for it in range(iters):
        m, rhs = mp.matrix(npts, 2 * n + 1), mp.matrix(npts, 1)
        for i in range(npts):
            s = w[i] / abs(sc[i] * qprev[i])
            for j in range(n + 1):
                m[i, j] = basis[i][j] * s
            for j in range(1, n + 1):
                m[i, n + j] = -fv[i] * basis[i][j] * s
            rhs[i] = fv[i] * s
        sol, _ = mp.qr_solve(m, rhs)
        pc = [sol[j] for j in range(n + 1)]
        qc = [mp.mpf(1)] + [sol[n + 1 + j] for j in range(n)]
        q = [mp.fsum(c * b for c, b in zip(qc, bs)) for bs in basis]
        err = [(mp.fsum(c * b for c, b in zip(pc, bs)) / qi - fi) / si for bs, qi, fi, si in zip(basis, q, fv, sc)]
        worst = max(abs(e) for e in err)
        if best is None or worst < best[0]:
            best = (worst, pc, qc)
        qprev = q
        if it >= 2:
            w = [wi * abs(e) for wi, e in zip(w, err)]
            w = [wi / max(w) for wi in w]
    _, pc, qc = best
    return _to_monomial(pc, lo, hi), _to_monomial(qc, lo, hi)


def _to_monomial(c, lo, hi):
    """Chebyshev coefficients on [lo, hi] -> monomial coefficients in x (mpmath, exact to working precision)."""
    a, b = 2 / (hi - lo), -(lo + hi) / (hi - lo)  # u = a x + b
    n = len(c) - 1
    t_prev, t_cur = [mp.mpf(1)], [b, a]  # T_0(u(x)), T_1(u(x)) as polynomials in x
    out = [mp.mpf(0)] * (n + 1)
    out[0] += c[0]
    if n >= 1:
        for i, v in enumerate(t_cur):
            out[i] += c[1] * v
    for k in range(2, n + 1):
        nxt = [mp.mpf(0)] * (k + 1)
        for i, v in enumerate(t_cur):  # 2 u T_k - T_{k-1}
            nxt[i] += 2 * b * v
            nxt[i + 1] += 2 * a * v
        for i, v in enumerate(t_prev):
            nxt[i] -= v
        t_prev, t_cur = t_cur, nxt
        for i, v in enumerate(t_cur):
            out[i] += c[k] * v
    return out


def _pad(c, n):
    return list(c) + [mp.mpf(0)] * (n + 1 - len(c))


def coefficient_table(name, dtype):
    """``(num, den)``: arrays of shape (2, deg+1), row 0 small branch, row 1 large branch, lowest power first."""
    ns, nl = DEGREES[dtype]
    ps, qs = fit(SMALL[name], 0, SPLIT[dtype], ns, SMALL_SCALE[name])
    pl, ql = fit(LARGE[name], 0, mp.mpf(1) / SPLIT[dtype], nl)
    # large branch in x: t P(t) / Q(t) = x^nl P(1/x) / (x^(nl+1) Q(1/x))
    num_l = list(reversed(pl))
    den_l = [mp.mpf(0)] + list(reversed(ql))
    scale = den_l[-1]  # normalise the leading coefficient (keeps numbers O(1))
    num_l, den_l = [v / scale for v in num_l], [v / scale for v in den_l]
    nn, nd = max(ns, nl), max(ns, nl + 1)
    num = np.array([[float(v) for v in _pad(ps, nn)], [float(v) for v in _pad(num_l, nn)]])
    den = np.array([[float(v) for v in _pad(qs, nd)], [float(v) for v in _pad(den_l, nd)]])
    return num.astype(dtype), den.astype(dtype)


def _horner(c, x):
    acc = np.full_like(x, c[-1])
    for v in c[-2::-1]:
        acc = acc * x + v
    return acc


def max_errors(name, dtype, num, den):
    """Max relative error, in the final quantity (1 - tau or tau, tau', E1), of each branch's rational evaluated
    in ``dtype`` on a dense grid (x = 0 excluded for E1)."""
    out = []
    for row, (lo, hi) in enumerate([(0.0, SPLIT[dtype]), (SPLIT[dtype], 700.0)]):
        dense = np.linspace(lo, min(hi, 20.0), 1500)[int(name == 'e1'):]
        x = np.unique(np.concatenate([dense, np.geomspace(max(lo, 1e-3), hi, 500)]))
        x = x.astype(dtype)
        got = (_horner(num[row], x) / _horner(den[row], x)).astype(np.float64)
        xm = [mp.mpf(float(v)) for v in x]
        ref = [SMALL[name](v) if row == 0 else LARGE[name](1 / v) / v for v in xm]
        sc = np.array([float(SMALL_SCALE[name](v, r) if row == 0 and v else abs(r)) for v, r in zip(xm, ref)])
        out.append(float(np.max(np.abs(got - np.array([float(r) for r in ref])) / sc)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"regenerate {OUT.name}")
    args = ap.parse_args()
    lines = []
    for dtype in ("float64", "float32"):
        for name in SMALL:
            num, den = coefficient_table(name, dtype)
            es, el = max_errors(name, dtype, num, den)
            print(f"{dtype} {name:5s} degrees {DEGREES[dtype]}: max rel. error small {es:.2e}, large {el:.2e}")
            lines.append(f"    ({name!r}, {dtype!r}): (\n        {_lit(num)},\n        {_lit(den)}),")
    if args.write:
        OUT.write_text(HEADER.replace("{SPLIT!r}", repr(SPLIT)) + "\n".join(lines) + "\n}\n")
        print(f"wrote {OUT}")


def _lit(a):
    """Rows of floats as a wrapped tuple literal (lines <= 120 characters)."""
    rows = [textwrap.fill(", ".join(repr(float(v)) for v in row), 108, initial_indent=" " * 9,
                          subsequent_indent=" " * 9).strip() for row in a]
    return "(" + ",\n         ".join("(" + r + ")" for r in rows) + ")"


HEADER = '''"""Rational-approximation coefficients for E1 and tau(k): GENERATED by benchmarks/fit_expint.py.

``COEFFICIENTS[(name, dtype)] = (num, den)``: each a tuple of two rows (small branch x <= SPLIT[dtype], large branch)
of monomial coefficients in x, lowest power first; see benchmarks/fit_expint.py for the functions fitted.
"""

SPLIT = {SPLIT!r}

COEFFICIENTS = {
'''

if __name__ == "__main__":
    main()
