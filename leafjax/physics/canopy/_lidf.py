r"""Leaf inclination distribution functions (LIDF) over the 4SAIL angle classes.

The canopy is described by the fraction of leaf area in each inclination class.  leafjax uses the 18 classes of
5° (centres 2.5°, 7.5°, …, 87.5°) of the PyPI ``prosail`` implementation of 4SAIL, so that results agree with that
reference to rounding error.  Verhoef's original SAIL codes use 13 classes (10° steps to 80°, then 2° steps);
they are available as ``angle_classes="sail"`` (static), but the default 18-class grid is the one used by the
reference data of this project.

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
#: Inclination-class sets by name (edges in degrees): ``"prosail"`` — 18 classes of 5° (PyPI ``prosail``, the
#: project's reference data; default); ``"sail"`` — the 13 classes of Verhoef's SAIL/SAILH/4SAIL Fortran and
#: SCOPE codes (10° to 80°, then 2°; centres 5, 15, …, 75, 81, 83, …, 89°).
ANGLE_CLASS_EDGES_DEG: dict[str, np.ndarray] = {
    "prosail": ANGLE_EDGES_DEG,
    "sail": np.concatenate([np.arange(0.0, 80.0, 10.0), np.arange(80.0, 90.1, 2.0)]),
}


def angle_class_edges(angle_classes: str) -> np.ndarray:
    """Edges (degrees) of a named inclination-class set (see :data:`ANGLE_CLASS_EDGES_DEG`).

    Raises:
        ValueError: for an unknown name.
    """
    try:
        return ANGLE_CLASS_EDGES_DEG[angle_classes]
    except KeyError:
        raise ValueError(f"unknown angle_classes {angle_classes!r}; choose one of: "
                         f"{', '.join(ANGLE_CLASS_EDGES_DEG)}") from None


def angle_class_centres(angle_classes: str) -> np.ndarray:
    """Centres (degrees) of a named inclination-class set: the midpoints of its edges."""
    e = angle_class_edges(angle_classes)
    return 0.5 * (e[:-1] + e[1:])


#: Coefficients of Campbell's (1990) fit of the ellipsoid eccentricity to the mean leaf angle α (degrees):
#: ``e = exp(c3 α³ + c2 α² + c1 α + c0)``; Campbell (1990), eq. 16, as used by SAIL/PROSAIL.
CAMPBELL_ECCENTRICITY_FIT: tuple[float, float, float, float] = (-1.6184e-5, 2.1145e-3, -1.2390e-1, 3.2491)

#: Bisection steps for the root of Verhoef's implicit cumulative: the bracket has width ≤ 2 rad, and 2·2⁻⁶⁰ is
#: below float64 resolution.
_VERHOEF_BISECTIONS: int = 60
#: Slope of the implicit equation below which the implicit-function gradient step is skipped.
_VERHOEF_MIN_SLOPE: float = 1e-12
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


def campbell_lidf(mean_angle: Float[ArrayLike, "*batch"], dtype=None, angle_classes: str = "prosail"
                  ) -> Float[Array, "*batch n"]:
    r"""Campbell (1990) ellipsoidal LIDF: leaf-area fraction per 5° inclination class.

    **Arguments:**
    - ``mean_angle``: mean leaf inclination angle (degrees, 0–90; 57.3° ≈ spherical), any batch shape.
    - ``dtype``: optional output dtype (default: that of ``mean_angle``).
    - ``angle_classes``: static name of the inclination classes (default 18 × 5°; ``"sail"``: 13 classes).

    **Returns:** fractions summing to one over the last axis, shape ``(*batch, n_classes)``.

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
    edges = jnp.asarray(np.deg2rad(angle_class_edges(angle_classes)), dtype=alpha.dtype)
    edges = edges.reshape((1,) * alpha.ndim + (-1,))
    c, sn = jnp.cos(edges), jnp.sin(edges)
    x = e * c / jnp.sqrt(c * c + e * e * sn * sn)
    s = 1.0 - 1.0 / (e * e)
    g = _campbell_cumulant(x, s)
    freq = g[..., :-1] - g[..., 1:]
    return freq / jnp.sum(freq, axis=-1, keepdims=True)


def _verhoef_root(a: Array, b: Array, x0: Array) -> Array:
    r"""Solve ``x = x0 + a sin x + (b/2) sin 2x`` for ``x``; differentiable via one implicit-function step.

    ``g(x) = x − x0 − a sin x − (b/2) sin 2x`` is non-decreasing for :math:`|a| + |b| \le 1` and changes sign on
    ``[x0 − s, x0 + s]`` with ``s = |a| + |b|``, so bisection (outside the gradient tape) always converges, also
    for planophile/erectophile canopies (|a| + |b| = 1) where ``g'`` vanishes at the class edges.
    """

    def g(x, a, b):
        return x - x0 - a * jnp.sin(x) - 0.5 * b * jnp.sin(2.0 * x)

    a0, b0 = jax.lax.stop_gradient(a), jax.lax.stop_gradient(b)
    s = jnp.abs(a0) + jnp.abs(b0)
    x0c = jax.lax.stop_gradient(x0)

    def body(_, lohi):
        lo, hi = lohi
        mid = 0.5 * (lo + hi)
        up = g(mid, a0, b0) > 0
        return jnp.where(up, lo, mid), jnp.where(up, mid, hi)

    lo, hi = jax.lax.fori_loop(0, _VERHOEF_BISECTIONS, body, (x0c - s, x0c + s))
    xs = 0.5 * (lo + hi)
    # Where the start value already solves the equation to rounding (e.g. the 45° edge for a = 0, a triple root
    # when b = −1, which bisection resolves only to ~1e-5), keep it.
    tol = 4.0 * jnp.finfo(x0c.dtype).eps * jnp.maximum(1.0, jnp.abs(x0c))
    xs = jax.lax.stop_gradient(jnp.where(jnp.abs(g(x0c, a0, b0)) <= tol, x0c, xs))
    # Implicit-function step: value unchanged (g(xs) ≈ 0), derivative −(∂g/∂θ)/(∂g/∂x); where ∂g/∂x = 0 (x = 0 or
    # π at the end edges, |a| + |b| = 1) the root does not move with the parameters, so the step is zero.
    dg = 1.0 - a0 * jnp.cos(xs) - b0 * jnp.cos(2.0 * xs)
    ok = dg > _VERHOEF_MIN_SLOPE
    return xs - jnp.where(ok, g(xs, a, b) / jnp.where(ok, dg, 1.0), 0.0)


def verhoef_lidf(a: Float[ArrayLike, "*batch"], b: Float[ArrayLike, "*batch"], dtype=None,
                 angle_classes: str = "prosail") -> Float[Array, "*batch n"]:
    r"""Verhoef (1998) bimodal LIDF: leaf-area fraction per 5° inclination class.

    **Arguments:**
    - ``a`` (``lidf_a``): average leaf slope parameter; ``b`` (``lidf_b``): bimodality parameter;
      dimensionless, :math:`|a| + |b| < 1`, broadcastable.  Planophile (1, 0), erectophile (−1, 0), plagiophile
      (0, −1), extremophile (0, 1), spherical (−0.35, −0.15), uniform (0, 0).
    - ``dtype``: optional output dtype; ``angle_classes``: as :func:`campbell_lidf`.

    **Returns:** fractions summing to one over the last axis, shape ``(*batch, n_classes)``.

    The cumulative :math:`F(\theta) = (2y + 2\theta)/\pi`, where :math:`x = 2\theta + y` and
    :math:`y = a\sin x + \tfrac{b}{2}\sin 2x`, is evaluated at the class edges; the root is found by
    bisection outside the gradient tape and differentiated by the implicit function theorem.
    """
    a = jnp.asarray(a, dtype=dtype)
    b = jnp.asarray(b, dtype=dtype)
    dt = jnp.result_type(a, b, float) if dtype is None else dtype
    a, b = a.astype(dt), b.astype(dt)
    shape = jnp.broadcast_shapes(a.shape, b.shape)
    a = jnp.broadcast_to(a, shape)[..., None]
    b = jnp.broadcast_to(b, shape)[..., None]
    edges = angle_class_edges(angle_classes)
    x0 = jnp.broadcast_to(jnp.asarray(2.0 * np.deg2rad(edges), dtype=dt), shape + (edges.size,))
    x = _verhoef_root(a, b, x0)
    cum = (2.0 * (x - x0) + x0) / np.pi
    # F(0°) = 0 and F(90°) = 1 exactly (x = 0, π); there the root is a triple one when |a| + |b| = 1 and the
    # bisection is only accurate to ~1e-5, so the known end values are used.
    cum = cum.at[..., 0].set(0.0).at[..., -1].set(1.0)
    return cum[..., 1:] - cum[..., :-1]


def lidf(lidf_type: str, lidf_a: Float[ArrayLike, "*#batch"], lidf_b: Float[ArrayLike, "*#batch"] = 0.0, dtype=None,
         angle_classes: str = "prosail") -> Float[Array, "*#batch n"]:
    """LIDF by (static) type name: ``"campbell"`` uses ``lidf_a`` as the mean leaf angle (degrees) and ignores
    ``lidf_b``; ``"verhoef"`` uses both.  ``angle_classes``: see :data:`ANGLE_CLASS_EDGES_DEG`.

    Raises:
        ValueError: for an unknown ``lidf_type`` or ``angle_classes``.
    """
    if lidf_type == "campbell":
        out = campbell_lidf(lidf_a, dtype=dtype, angle_classes=angle_classes)
        shape = jnp.broadcast_shapes(jnp.shape(lidf_a), jnp.shape(lidf_b))
        return jnp.broadcast_to(out, shape + out.shape[-1:])
    if lidf_type == "verhoef":
        return verhoef_lidf(lidf_a, lidf_b, dtype=dtype, angle_classes=angle_classes)
    raise ValueError(f"unknown lidf_type {lidf_type!r}; choose one of: {', '.join(LIDF_TYPES)}")
