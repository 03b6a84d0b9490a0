r"""Baseline: a plain vectorised NumPy PROSPECT-D over a whole batch at once (float32 or float64).

The algorithm is PROSPECT-D as PyPI ``prosail`` 2.0.5 computes it for one spectrum (Jacquemoud & Baret 1990;
Féret et al. 2017), written here independently for a batch ``(B, wl)``:

1. absorption of the elementary layer :math:`k = \sum_i C_i K_i / N`;
2. layer transmissivity :math:`\tau = (1-k)e^{-k} + k^2 E_1(k)` (``tau = 1`` at ``k = 0``);
3. interface transmissivities :math:`t_{av}(40°, n)` and :math:`t_{av}(90°, n)` by Stern's (1964) closed form
   (per band: computed once per batch, in float64, then cast);
4. one layer (Allen et al. 1969), Stokes' (1862) solution for the other ``N - 1`` layers with
   :math:`b^{N-1}`, the non-absorbing case ``r + t >= 1`` handled separately, and the combination of both.

Two E1 variants (``e1=``):

* ``"scipy"``: ``scipy.special.exp1`` (what ``prosail`` uses, as ``-expi(-k)``);
* ``"leafjax"``: leafjax's own E1/tau algorithm as of issue 13 (``leafjax/physics/leaf/_expint.py`` before the
  rewrite), in NumPy: power series (A&S 5.1.11, Horner) for ``k <= 2`` and the backwards-evaluated even
  continued fraction (A&S 5.1.22) for ``k > 2``, both branches evaluated for every element and combined with
  ``np.where`` exactly as the JAX code does; orders (series, fraction) = (26, 32) in float64, (16, 14) in float32.

The optical constants are ``prosail``'s own table (400–2500 nm) restricted to the requested bands, so the result
can be checked against ``prosail.run_prospect`` (:func:`check_against_prosail`).  Shapes: parameters ``(B,)``,
outputs ``(B, wl)``.  Units: chl/car/ant µg cm⁻², brown arbitrary, ewt/lma g cm⁻², N dimensionless.
"""

from __future__ import annotations

import math

import numpy as np

EULER_GAMMA = 0.5772156649015329
#: leafjax's (series order, continued-fraction depth) per dtype at the time of issue 13, and its branch split.
LEAFJAX_E1_ORDERS = {np.dtype("float64"): (26, 32), np.dtype("float32"): (16, 14)}
LEAFJAX_E1_SPLIT = 2.0
PARAMS = ("n_struct", "chl", "car", "ant", "brown", "ewt", "lma")


def constants(wavelengths=None, dtype=np.float64) -> dict[str, np.ndarray]:
    """``prosail``'s PROSPECT-D table (nr, kab, kcar, kant, kbrown, kw, km) on ``wavelengths`` (nm, 400–2500),
    plus the interface terms ``talf``, ``t12`` (Stern's closed form in float64), all cast to ``dtype``."""
    from prosail import spectral_lib

    lib = spectral_lib.prospectd
    grid = np.arange(400, 2501)
    idx = slice(None) if wavelengths is None else np.searchsorted(grid, np.asarray(wavelengths))
    c = {k: np.asarray(getattr(lib, k), np.float64)[idx] for k in ("nr", "kab", "kcar", "kant", "kbrown", "kw", "km")}
    c["talf"] = stern_tav(40.0, c["nr"])
    c["t12"] = stern_tav(90.0, c["nr"])
    return {k: v.astype(dtype) for k, v in c.items()}


def stern_tav(alpha_deg: float, nr: np.ndarray) -> np.ndarray:
    """Average transmissivity of a dielectric surface for incidence up to ``alpha_deg`` (Stern 1964, closed form;
    at 90° the square-root term is exactly 0 and is set so, as ``prosail`` does, to avoid a rounding NaN)."""
    n2 = nr * nr
    s, d = n2 + 1.0, n2 - 1.0
    a = 0.5 * (nr + 1.0) ** 2
    q = -0.25 * d * d
    sin2 = math.sin(math.radians(alpha_deg)) ** 2
    root = 0.0 if alpha_deg == 90.0 else np.sqrt((sin2 - 0.5 * s) ** 2 + q)
    b = root - (sin2 - 0.5 * s)

    def ts_part(x):
        return q * q / (6.0 * x ** 3) + q / x - 0.5 * x

    ts = ts_part(b) - ts_part(a)
    tp = (-2.0 * n2 * (b - a) / s ** 2 - 2.0 * n2 * s * np.log(b / a) / d ** 2 + 0.5 * n2 * (1.0 / b - 1.0 / a)
          + 16.0 * n2 ** 2 * (n2 ** 2 + 1.0) * np.log((2.0 * s * b - d * d) / (2.0 * s * a - d * d)) / (s ** 3 * d * d)
          + 16.0 * n2 ** 3 * (1.0 / (2.0 * s * b - d * d) - 1.0 / (2.0 * s * a - d * d)) / s ** 3)
    return (ts + tp) / (2.0 * sin2)


def tau_scipy(k: np.ndarray) -> np.ndarray:
    """:math:`\\tau(k)` with ``scipy.special.exp1`` (``tau = 1`` where ``k = 0``)."""
    from scipy.special import exp1

    pos = k > 0
    kk = np.where(pos, k, 1.0).astype(k.dtype)
    tau = (1.0 - kk) * np.exp(-kk) + kk * kk * exp1(kk)
    return np.where(pos, tau, 1.0).astype(k.dtype)


def tau_leafjax(k: np.ndarray) -> np.ndarray:
    """:math:`\\tau(k)` by leafjax's series/continued-fraction algorithm, both branches everywhere."""
    order, depth = LEAFJAX_E1_ORDERS[k.dtype]
    one = k.dtype.type(1.0)
    small = k <= LEAFJAX_E1_SPLIT
    pos = k > 0
    ks = np.where(small & pos, k, one)
    kl = np.where(small, k.dtype.type(2.0 * LEAFJAX_E1_SPLIT), k)
    acc = np.zeros_like(ks)  # series: E1 = -gamma - ln x + sum_{n>=1} (-1)^(n+1) x^n / (n n!)
    for n in range(order, 0, -1):
        acc = (acc + k.dtype.type((-1.0) ** (n + 1) / (n * math.factorial(n)))) * ks
    e1 = k.dtype.type(-EULER_GAMMA) - np.log(ks) + acc
    tau_s = (one - ks) * np.exp(-ks) + ks * ks * e1
    f = kl + k.dtype.type(2 * depth + 1)  # continued fraction for q = e^x E1(x)
    for n in range(depth, 0, -1):
        f = kl + k.dtype.type(2 * n - 1) - k.dtype.type(n * n) / f
    q = one / f
    tau_l = np.exp(-kl) * (one - kl + kl * kl * q)
    return np.where(small, np.where(pos, tau_s, one), tau_l)


def prospect_d(p: dict[str, np.ndarray], c: dict[str, np.ndarray], e1: str = "scipy") -> tuple[np.ndarray, np.ndarray]:
    """Leaf reflectance and transmittance ``(B, wl)`` for parameters ``p`` (``(B,)`` each, names as
    :data:`PARAMS`) on the constants ``c`` of :func:`constants`; the dtype is that of ``c``."""
    dt = c["nr"].dtype
    col = {k: np.asarray(p[k], dt)[:, None] for k in PARAMS}
    n = col["n_struct"]
    k = (col["chl"] * c["kab"] + col["car"] * c["kcar"] + col["ant"] * c["kant"] + col["brown"] * c["kbrown"]
         + col["ewt"] * c["kw"] + col["lma"] * c["km"]) / n
    tau = tau_scipy(k) if e1 == "scipy" else tau_leafjax(k)
    nr, talf, t12 = c["nr"], c["talf"], c["t12"]
    ralf, r12 = 1.0 - talf, 1.0 - t12
    t21 = t12 / (nr * nr)
    r21 = 1.0 - t21
    # one elementary layer: top surface (40 degrees) and hemispherical
    denom = 1.0 - r21 * r21 * tau * tau
    ta = talf * tau * t21 / denom
    ra = ralf + r21 * tau * ta
    t = t12 * tau * t21 / denom
    r = r12 + r21 * tau * t
    # Stokes' solution for the remaining N - 1 layers
    d = np.sqrt((1.0 + r + t) * (1.0 + r - t) * (1.0 - r + t) * np.maximum((1.0 - r - t), 0.0))
    rq, tq = r * r, t * t
    a = (1.0 + rq - tq + d) / (2.0 * r)
    b = (1.0 - rq + tq + d) / (2.0 * t)
    bnm1 = np.power(b, n - 1.0)
    bn2 = bnm1 * bnm1
    a2 = a * a
    den = a2 * bn2 - 1.0
    rsub = a * (bn2 - 1.0) / den
    tsub = bnm1 * (a2 - 1.0) / den
    lossless = r + t >= 1.0  # zero absorption
    if lossless.any():
        tl = t / (t + (1.0 - t) * (n - 1.0))
        tsub = np.where(lossless, tl, tsub)
        rsub = np.where(lossless, 1.0 - tl, rsub)
    den = 1.0 - rsub * r
    return ra + ta * rsub * t / den, ta * tsub / den


def check_against_prosail(p: dict[str, np.ndarray], wavelengths, rows: int = 20) -> dict[str, float]:
    """Max |difference| of R and T against ``prosail.run_prospect`` over the first ``rows`` spectra, for
    ``{float32, float64} x {scipy, leafjax}`` E1 variants (keys like ``"float64/scipy"``)."""
    import prosail

    wl = np.asarray(wavelengths)
    sel = wl - 400
    ref_r, ref_t = [], []
    for i in range(rows):
        _, rr, tt = prosail.run_prospect(*(float(p[k][i]) for k in ("n_struct", "chl", "car", "brown", "ewt", "lma")),
                                         ant=float(p["ant"][i]), prospect_version="D")
        ref_r.append(rr[sel])
        ref_t.append(tt[sel])
    ref_r, ref_t = np.asarray(ref_r), np.asarray(ref_t)
    sub = {k: np.asarray(v)[:rows] for k, v in p.items()}
    out = {}
    for dt in (np.float64, np.float32):
        c = constants(wl, dt)
        for e1 in ("scipy", "leafjax"):
            with np.errstate(all="ignore"):
                r, t = prospect_d(sub, c, e1)
            out[f"{np.dtype(dt).name}/{e1}"] = float(max(np.abs(r - ref_r).max(), np.abs(t - ref_t).max()))
    return out
