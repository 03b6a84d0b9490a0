r"""Multiplicative speckle of multi-look SAR intensity, and the equivalent number of looks (ENL).

Fully developed speckle in an :math:`L`-look intensity image is multiplicative, :math:`I = \sigma^0\,n`, with
:math:`n` Gamma-distributed of shape :math:`L` and scale :math:`1/L` (Oliver & Quegan 1998, *Understanding
Synthetic Aperture Radar Images*, Artech House, ch. 4; Goodman 1976, J. Opt. Soc. Am. 66:1145):

.. math:: p(n) = \frac{L^L n^{L-1} e^{-L n}}{\Gamma(L)}, \qquad E[n] = 1, \qquad \mathrm{Var}[n] = 1/L.

:math:`L` need not be an integer (multi-looked and filtered products have a non-integer *equivalent* number of
looks).  Over a homogeneous area (constant :math:`\sigma^0`) the ENL is estimated from the linear intensity as

.. math:: \widehat{\mathrm{ENL}} = \frac{\bar I^2}{s_I^2}

(sample mean and unbiased sample variance).  Over a textured area the estimate is lower than the true :math:`L`
(texture adds variance), so windows should be homogeneous.  Speckle acts on *linear* intensity: convert dB with
:func:`~leafjax.physics.radar.db_to_linear` first.  Randomness is explicit (a JAX PRNG key).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray


def _check_looks(looks) -> None:
    if isinstance(looks, jax.core.Tracer):
        return
    v = np.asarray(looks, dtype=np.float64)
    if not np.all(np.isfinite(v) & (v > 0)):
        raise ValueError(f"looks must be finite and > 0, got {looks}")


def gamma_speckle(key: PRNGKeyArray, shape: tuple[int, ...], looks: Float[ArrayLike, "..."], *,
                  dtype=None) -> Float[Array, "..."]:
    """Multiplicative speckle factors ``(*shape)``: Gamma(shape ``looks``, scale ``1/looks``), mean 1, variance
    ``1/looks``.

    **Arguments:** ``key`` (JAX PRNG key); ``shape`` (output shape); ``looks`` (number of looks L > 0, a scalar or
    an array broadcastable to ``shape``); ``dtype`` (floating; default: the dtype of ``looks`` if floating, else
    JAX's default float).

    Raises:
        ValueError: for concrete ``looks`` ≤ 0 or non-finite.
    """
    _check_looks(looks)
    if dtype is None:
        lk = jnp.asarray(looks)
        dtype = lk.dtype if jnp.issubdtype(lk.dtype, jnp.floating) else jnp.result_type(float)
    shape = tuple(int(s) for s in shape)
    big = jnp.broadcast_to(jnp.asarray(looks, dtype), shape)
    return jax.random.gamma(key, big, shape, dtype) / big


def apply_speckle(key: PRNGKeyArray, intensity: Float[ArrayLike, "*batch"],
                  looks: Float[ArrayLike, "..."]) -> Float[Array, "*batch"]:
    """``intensity`` (linear σ⁰, m² m⁻², any shape) times independent :func:`gamma_speckle` factors of ``looks``
    looks, in the intensity's floating dtype.  Differentiable in ``intensity`` (the factors do not depend on it).

    Example:
        >>> import jax
        >>> noisy = apply_speckle(jax.random.key(0), jnp.full((64, 64), 0.02), 4.4)
        >>> noisy.shape
        (64, 64)
    """
    x = jnp.asarray(intensity)
    x = x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))
    return x * gamma_speckle(key, x.shape, looks, dtype=x.dtype)


def equivalent_number_of_looks(intensity: Float[ArrayLike, "..."], axis=None) -> Float[Array, "..."]:
    """ENL = mean² / variance (unbiased) of linear ``intensity`` over ``axis`` (``None``: all values); NaN values
    are ignored (``nanmean``/``nanvar``).  Meant for a homogeneous area; the result has the remaining axes.

    Example:
        >>> import jax
        >>> n = gamma_speckle(jax.random.key(1), (200_000,), 5.0, dtype=jnp.float64)
        >>> round(float(equivalent_number_of_looks(n)), 1)
        5.0
    """
    x = jnp.asarray(intensity)
    x = x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))
    mean = jnp.nanmean(x, axis=axis)
    return mean**2 / jnp.nanvar(x, axis=axis, ddof=1)


def block_enl(intensity: Float[ArrayLike, "*batch y x"], block: int) -> Float[Array, "*batch by bx"]:
    """ENL of every non-overlapping ``block`` × ``block`` window of the last two axes of ``intensity`` (linear);
    rows/columns beyond a whole number of blocks are dropped.  **Returns:** ``(*batch, y // block, x // block)``.

    Raises:
        ValueError: if ``block`` < 2 or larger than the image.
    """
    x = jnp.asarray(intensity)
    if not isinstance(block, (int, np.integer)) or block < 2 or x.ndim < 2 or min(x.shape[-2:]) < block:
        raise ValueError(f"block must be an integer >= 2 and at most the image size {x.shape[-2:]}, got {block!r}")
    ny, nx = x.shape[-2] // block, x.shape[-1] // block
    tiles = x[..., :ny * block, :nx * block].reshape(*x.shape[:-2], ny, block, nx, block)
    return equivalent_number_of_looks(jnp.swapaxes(tiles, -3, -2), axis=(-2, -1))


def speckle_std_db(looks: float) -> float:
    """Standard deviation (dB) of ``10 log10 n`` for Gamma speckle of ``looks`` looks:
    ``(10 / ln 10) · sqrt(ψ'(L))`` (ψ' the trigamma function; Oliver & Quegan 1998, ch. 4), e.g. 5.57 dB at L = 1.

    Example:
        >>> round(speckle_std_db(1.0), 2)
        5.57
    """
    from scipy.special import polygamma

    if not (math.isfinite(looks) and looks > 0):
        raise ValueError(f"looks must be finite and > 0, got {looks}")
    return float(10.0 / math.log(10.0) * math.sqrt(float(polygamma(1, looks))))
