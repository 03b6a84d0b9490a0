r"""Leaf inclination distribution functions (LIDF) over the 4SAIL angle classes.

The canopy is described by the fraction of leaf area in each inclination class.  leafjax uses the 18 classes of
5° (centres 2.5°, 7.5°, …, 87.5°) of the PyPI ``prosail`` implementation of 4SAIL, so that results agree with that
reference to rounding error.  (Verhoef's original SAIL code used 13 classes: 10° steps to 80° then 2° steps; the
18-class grid is the one used by the reference data of this project.)

Two families are provided, both smooth in their parameters and free of Python branching on traced values:

- ``"campbell"``: the ellipsoidal distribution of Campbell (1986, 1990), parametrised by the mean leaf angle
  ``lidf_a`` (degrees) through the eccentricity fit of Campbell (1990);
- ``"verhoef"``: the bimodal distribution of Verhoef (1998), whose cumulative leaf-area fraction below the
  inclination :math:`\theta` is :math:`F(\theta) = (2y + x_0)/\pi` with :math:`x_0 = 2\theta`,
  :math:`x = x_0 + y` and :math:`y = a\sin x + \tfrac{b}{2}\sin 2x` (an implicit equation in :math:`x`);
  parameters ``lidf_a`` (average slope *a*), ``lidf_b`` (bimodality *b*), :math:`|a| + |b| < 1`.

References:
    Campbell, G. S. (1986) Agric. For. Meteorol. 36:317–321, doi:10.1016/0168-1923(86)90010-9.
    Campbell, G. S. (1990) Agric. For. Meteorol. 49:173–176, doi:10.1016/0168-1923(90)90030-A.
    Verhoef, W. (1998) Theory of radiative transfer models applied in optical remote sensing of vegetation
    canopies, PhD thesis, Wageningen University, ch. 6.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

#: Number of leaf-inclination classes (5° each), as in PyPI ``prosail`` 2.0.5 ``foursail``.
N_ANGLE_CLASSES: int = 18
#: Width of one inclination class (degrees).
ANGLE_STEP_DEG: float = 90.0 / N_ANGLE_CLASSES
#: Class edges (degrees), shape ``(19,)``.
ANGLE_EDGES_DEG: np.ndarray = np.arange(N_ANGLE_CLASSES + 1) * ANGLE_STEP_DEG
#: Class centres (degrees), shape ``(18,)``: the inclinations at which 4SAIL evaluates scattering.
ANGLE_CENTRES_DEG: np.ndarray = ANGLE_EDGES_DEG[:-1] + 0.5 * ANGLE_STEP_DEG

#: Coefficients of Campbell's (1990) fit of the ellipsoid eccentricity to the mean leaf angle α (degrees):
#: ``e = exp(c3 α³ + c2 α² + c1 α + c0)``; Campbell (1990), eq. 16, as used by SAIL/PROSAIL.
CAMPBELL_ECCENTRICITY_FIT: tuple[float, float, float, float] = (-1.6184e-5, 2.1145e-3, -1.2390e-1, 3.2491)

#: Newton iterations for the (non-differentiated) root of Verhoef's implicit cumulative; quadratic convergence
#: from the start value 2θ makes 30 far more than enough for |a| + |b| ≤ 0.999.
_VERHOEF_NEWTON_STEPS: int = 30
#: |s| below which the Campbell cumulative uses its Taylor series in s = 1 − 1/e² (e ≈ 1, spherical).
_CAMPBELL_SERIES_THRESHOLD: float = 1e-3

LIDF_TYPES: tuple[str, ...] = ("campbell", "verhoef")


def _campbell_cumulant(x: Array, s: Array) -> Array:
    r"""Antiderivative (up to a constant factor) of the ellipsoidal area density in the variable ``x``.

    With :math:`s = 1 - 1/e^2`, :math:`G(x) = x\sqrt{1 + s x^2} + \operatorname{asinh}(\sqrt{s}x)/\sqrt{s}` for
    ``s > 0`` and :math:`x\sqrt{1 + s x^2} + \arcsin(\sqrt{-s}x)/\sqrt{-s}` for ``s < 0``; both tend smoothly to
    ``2x`` as ``s → 0`` (sphere), where a series is used (double-``where`` for safe gradients).
    """
    small = jnp.abs(s) < _CAMPBELL_SERIES_THRESHOLD
    s_safe = jnp.where(small, _CAMPBELL_SERIES_THRESHOLD, s)
    root = jnp.sqrt(jnp.abs(s_safe))
    oblate = s_safe > 0  # e > 1
    pos = jnp.arcsinh(jnp.where(oblate, root * x, 0.0)) / root
    neg = jnp.arcsin(jnp.where(oblate, 0.0, root * x)) / root  # |√-s x| ≤ 1 for e < 1
    h_exact = jnp.where(oblate, pos, neg)
    # asinh(√s x)/√s = arcsin(√-s x)/√-s = x − s x³/6 + 3 s² x⁵/40 − 5 s³ x⁷/112 + O(s⁴)
    x2 = x * x
    h_series = x * (1.0 + s * x2 * (-1.0 / 6.0 + s * x2 * (3.0 / 40.0 - s * x2 * 5.0 / 112.0)))
    h = jnp.where(small, h_series, h_exact)
    return x * jnp.sqrt(1.0 + s * x2) + h


def campbell_lidf(mean_angle: Float[ArrayLike, "*batch"], dtype=None) -> Float[Array, "*batch 18"]:
    r"""Campbell (1990) ellipsoidal LIDF: leaf-area fraction per 5° inclination class.

    **Arguments:**
    - ``mean_angle``: mean leaf inclination angle (degrees, 0–90; 57.3° ≈ spherical), any batch shape.
    - ``dtype``: optional output dtype (default: that of ``mean_angle``).

    **Returns:** fractions summing to one over the last axis, shape ``(*batch, 18)``.

    The ellipsoid eccentricity is :math:`e = \exp(\sum_k c_k\alpha^k)` (Campbell 1990); the area fraction between
    inclinations :math:`\theta_1 < \theta_2` is :math:`G(x_1) - G(x_2)` normalised, with
    :math:`x = e\cos\theta/\sqrt{\cos^2\theta + e^2\sin^2\theta}` (see :func:`_campbell_cumulant`).

    Example:
        >>> campbell_lidf(57.0).shape
        (18,)
    """
    alpha = jnp.asarray(mean_angle, dtype=dtype)
    if not jnp.issubdtype(alpha.dtype, jnp.floating):
        alpha = alpha.astype(jnp.result_type(float))
    c3, c2, c1, c0 = CAMPBELL_ECCENTRICITY_FIT
    e = jnp.exp(((c3 * alpha + c2) * alpha + c1) * alpha + c0)[..., None]
    edges = jnp.asarray(np.deg2rad(ANGLE_EDGES_DEG), dtype=alpha.dtype).reshape((1,) * alpha.ndim + (-1,))
    c, sn = jnp.cos(edges), jnp.sin(edges)
    x = e * c / jnp.sqrt(c * c + e * e * sn * sn)
    s = 1.0 - 1.0 / (e * e)
    g = _campbell_cumulant(x, s)
    freq = g[..., :-1] - g[..., 1:]
    return freq / jnp.sum(freq, axis=-1, keepdims=True)


def _verhoef_root(a: Array, b: Array, x0: Array) -> Array:
    """Solve ``x = x0 + a sin x + (b/2) sin 2x`` for ``x``; differentiable via one implicit-function step."""

    def g(x, a, b):
        return x - x0 - a * jnp.sin(x) - 0.5 * b * jnp.sin(2.0 * x)

    def dg(x, a, b):
        return 1.0 - a * jnp.cos(x) - b * jnp.cos(2.0 * x)

    a0, b0 = jax.lax.stop_gradient(a), jax.lax.stop_gradient(b)

    def body(_, x):
        return x - g(x, a0, b0) / dg(x, a0, b0)

    xs = jax.lax.stop_gradient(jax.lax.fori_loop(0, _VERHOEF_NEWTON_STEPS, body, jax.lax.stop_gradient(x0)))
    # g(xs) = 0, so this Newton step leaves the value unchanged and carries dx/dθ = -(∂g/∂θ)/(∂g/∂x).
    return xs - g(xs, a, b) / dg(xs, a0, b0)


def verhoef_lidf(a: Float[ArrayLike, "*batch"], b: Float[ArrayLike, "*batch"], dtype=None
                 ) -> Float[Array, "*batch 18"]:
    r"""Verhoef (1998) bimodal LIDF: leaf-area fraction per 5° inclination class.

    **Arguments:**
    - ``a`` (``lidf_a``): average leaf slope parameter; ``b`` (``lidf_b``): bimodality parameter;
      dimensionless, :math:`|a| + |b| < 1`, broadcastable.  Planophile (1, 0), erectophile (−1, 0), plagiophile
      (0, −1), extremophile (0, 1), spherical (−0.35, −0.15), uniform (0, 0).
    - ``dtype``: optional output dtype.

    **Returns:** fractions summing to one over the last axis, shape ``(*batch, 18)``.

    The cumulative :math:`F(\theta) = (2y + 2\theta)/\pi`, where :math:`x = 2\theta + y` and
    :math:`y = a\sin x + \tfrac{b}{2}\sin 2x`, is evaluated at the class edges; the root is found by Newton's
    method outside the gradient tape and differentiated by the implicit function theorem.
    """
    a = jnp.asarray(a, dtype=dtype)
    b = jnp.asarray(b, dtype=dtype)
    dt = jnp.result_type(a, b, float) if dtype is None else dtype
    a, b = a.astype(dt), b.astype(dt)
    shape = jnp.broadcast_shapes(a.shape, b.shape)
    a = jnp.broadcast_to(a, shape)[..., None]
    b = jnp.broadcast_to(b, shape)[..., None]
    x0 = jnp.broadcast_to(jnp.asarray(2.0 * np.deg2rad(ANGLE_EDGES_DEG), dtype=dt), shape + (ANGLE_EDGES_DEG.size,))
    x = _verhoef_root(a, b, x0)
    cum = (2.0 * (x - x0) + x0) / np.pi
    return cum[..., 1:] - cum[..., :-1]


def lidf(lidf_type: str, lidf_a: Float[ArrayLike, "*batch"], lidf_b: Float[ArrayLike, "*batch"] = 0.0, dtype=None
         ) -> Float[Array, "*batch 18"]:
    """LIDF by (static) type name: ``"campbell"`` uses ``lidf_a`` as the mean leaf angle (degrees) and ignores
    ``lidf_b``; ``"verhoef"`` uses both.

    Raises:
        ValueError: for an unknown ``lidf_type``.
    """
    if lidf_type == "campbell":
        out = campbell_lidf(lidf_a, dtype=dtype)
        shape = jnp.broadcast_shapes(jnp.shape(lidf_a), jnp.shape(lidf_b))
        return jnp.broadcast_to(out, shape + out.shape[-1:])
    if lidf_type == "verhoef":
        return verhoef_lidf(lidf_a, lidf_b, dtype=dtype)
    raise ValueError(f"unknown lidf_type {lidf_type!r}; choose one of: {', '.join(LIDF_TYPES)}")
