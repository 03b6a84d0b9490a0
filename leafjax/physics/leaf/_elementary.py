r"""Vectorisable ``log``, ``log1p`` and ``(exp, expm1)`` for the PROSPECT kernel (float32 and float64).

XLA:CPU evaluates float64 ``log``/``log1p`` by scalar library calls (~10-16 ns per element on the reference
2-core Zen 5, 20-80x a multiply) and ``expm1``/``log1p`` at ~2 ns even in float32, which dominated the plate
model.  These versions are branch-free polynomial kernels that XLA fuses and vectorises:

* ``log``: ``x = 2^e m`` with ``m`` in ``[1/sqrt2, sqrt2)`` from the IEEE bits, ``log m = 2 atanh(s)``,
  ``s = (m-1)/(m+1)``, by its series in ``s^2`` (``|s| <= 0.172``); ``log1p`` uses ``s = u/(2+u)`` when ``1+u``
  is already in range, so it keeps full relative precision for small ``u``;
* ``exp_expm1``: Cody–Waite reduction ``y = n ln2 + r`` (``|r| <= ln2/2``), ``expm1(r)`` by its Taylor series,
  then both ``e^y = 2^n (1 + p)`` and ``e^y - 1 = 2^n p + (2^n - 1)``, each with full relative precision.

Truncation orders give a relative error below ~3 ulp (float64 ~5e-16, float32 ~3e-7; tested against NumPy in
``tests/physics/test_physics_expint.py``).  Domain: ``log``: positive normal numbers; ``log1p``: ``u > -1``
with ``1 + u`` normal; ``exp_expm1``: ``y <= 0`` (clamped below at ``_EXP_MIN``, where ``e^y`` is below
``1e-300`` / ``1e-37``).  Other floating dtypes are evaluated in float32.  Each function has a closed-form JVP.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Float

# per dtype: (integer type, mantissa bits, exponent bias, log-series terms, expm1 Taylor degree, exp lower clamp)
_FORMAT = {jnp.dtype("float64"): (jnp.int64, 52, 1023, 10, 13, -708.0),
           jnp.dtype("float32"): (jnp.int32, 23, 127, 5, 7, -87.0)}
#: Cody–Waite split of ln 2 (the high part has trailing zero bits, so n * hi is exact).
_LN2_HI = {jnp.dtype("float64"): 6.93147180369123816490e-01, jnp.dtype("float32"): 0.693359375}
_LN2_LO = {jnp.dtype("float64"): 1.90821492927058770002e-10, jnp.dtype("float32"): -2.12194440e-4}
_SQRT2 = math.sqrt(2.0)


def _native(x: Array) -> Array:
    """Promote float16/bfloat16 to float32 (the kernels are written for the IEEE single/double layouts)."""
    return x if x.dtype in _FORMAT else x.astype(jnp.float32)


def _frexp(w: Array) -> tuple[Array, Array]:
    """``w = 2^e m`` with ``m`` in ``[1/sqrt2, sqrt2)`` (``e`` as a float of ``w``'s dtype); ``w`` normal, > 0."""
    itype, mbits, bias, *_ = _FORMAT[w.dtype]
    bits = lax.bitcast_convert_type(w, itype)
    e = (bits >> mbits) - bias
    m = lax.bitcast_convert_type((bits & ((1 << mbits) - 1)) | (bias << mbits), w.dtype)  # in [1, 2)
    big = m > _SQRT2
    return jnp.where(big, 0.5 * m, m), (e + big.astype(itype)).astype(w.dtype)


def _log_from_parts(f: Array, e: Array) -> Array:
    """``e ln2 + log(1 + f)`` with ``1 + f`` in ``[1/sqrt2, sqrt2)``: ``log(1+f) = 2s (1 + s^2/3 + ...)``."""
    terms = _FORMAT[f.dtype][3]
    s = f / (2.0 + f)
    z = s * s
    acc = jnp.full_like(z, 1.0 / (2 * terms - 1))
    for j in range(terms - 2, -1, -1):
        acc = acc * z + 1.0 / (2 * j + 1)
    return e * _LN2_HI[f.dtype] + (e * _LN2_LO[f.dtype] + 2.0 * s * acc)


@jax.custom_jvp
def log(x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """Natural logarithm of positive normal ``x`` (same shape and dtype)."""
    x0 = jnp.asarray(x)
    x = _native(x0)
    m, e = _frexp(x)
    return _log_from_parts(m - 1.0, e).astype(x0.dtype)


@log.defjvp
def _log_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return log(x), dx / x


@jax.custom_jvp
def log1p(u: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``log(1 + u)`` for ``u > -1``, with full relative precision as ``u -> 0``."""
    u0 = jnp.asarray(u)
    u = _native(u0)
    m, e = _frexp(1.0 + u)
    return _log_from_parts(jnp.where(e == 0.0, u, m - 1.0), e).astype(u0.dtype)


@log1p.defjvp
def _log1p_jvp(primals, tangents):
    (u,), (du,) = primals, tangents
    return log1p(u), du / (1.0 + u)


@jax.custom_jvp
def exp_expm1(y: Float[Array, "*shape"]) -> tuple[Float[Array, "*shape"], Float[Array, "*shape"]]:
    """``(e^y, e^y - 1)`` for ``y <= 0``, both with full relative precision (one range reduction for both)."""
    y0 = jnp.asarray(y)
    y = _native(y0)
    itype, mbits, bias, _, degree, lowest = _FORMAT[y.dtype]
    y = jnp.maximum(y, lowest)
    n = jnp.floor(y * (1.0 / math.log(2.0)) + 0.5)
    r = (y - n * _LN2_HI[y.dtype]) - n * _LN2_LO[y.dtype]
    acc = jnp.full_like(r, 1.0 / math.factorial(degree))
    for j in range(degree - 1, 0, -1):
        acc = acc * r + 1.0 / math.factorial(j)
    p = acc * r  # expm1(r)
    scale = lax.bitcast_convert_type((n.astype(itype) + bias) << mbits, y.dtype)  # 2^n
    return (scale + scale * p).astype(y0.dtype), (scale * p + (scale - 1.0)).astype(y0.dtype)


@exp_expm1.defjvp
def _exp_expm1_jvp(primals, tangents):
    (y,), (dy,) = primals, tangents
    e, em = exp_expm1(y)
    return (e, em), (e * dy, e * dy)


@jax.custom_jvp
def materialize(values: tuple[Array, ...]) -> tuple[Array, ...]:
    """Return ``values`` unchanged, computed once into memory (a fusion boundary for XLA).

    XLA:CPU duplicates cheap elementwise producers into every consumer fusion (and ignores
    ``lax.optimization_barrier`` for fusion), so a value used by several consumers is recomputed in each; the
    polynomial kernels above are "cheap" by its cost model and were recomputed up to 6x.  A variadic reduction
    over a length-2 axis (``v + 0``: exact) is a fusion root that XLA neither duplicates nor fuses into its
    consumers, so each value is computed once per element, in one multi-output fusion.  Tangents pass through.
    (Measured alternatives: ``lax.cond`` and ``dynamic_update_slice`` barriers also stop the duplication but were
    slower in the full model; the reduce runs its fused producer ~3x slower per op than a loop fusion, which is
    the largest remaining overhead of the kernel.)
    """
    stacked = tuple(jnp.stack([v, jnp.zeros_like(v)]) for v in values)
    init = tuple(jnp.zeros((), v.dtype) for v in values)
    return tuple(lax.reduce(stacked, init, lambda a, b: tuple(x + y for x, y in zip(a, b)), (0,)))


@materialize.defjvp
def _materialize_jvp(primals, tangents):
    (values,), (dvalues,) = primals, tangents
    return materialize(values), dvalues
