r"""Decibels ↔ linear backscatter (power ratios), the convention of calibrated SAR products.

.. math:: \sigma^0_{\mathrm{dB}} = 10\log_{10}\sigma^0, \qquad \sigma^0 = 10^{\sigma^0_{\mathrm{dB}}/10}

:math:`\sigma^0` is the backscattering coefficient (m² m⁻², a power ratio, dimensionless).  Both functions keep
the input's floating dtype (float32 or float64), broadcast elementwise and are differentiable.
:func:`linear_to_db` clamps its argument at a floor (:data:`DB_FLOOR_LINEAR`, −100 dB) so that zero or negative
intensities (e.g. after subtracting noise) give a finite value and a zero gradient instead of ``-inf``/NaN.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

#: Smallest linear backscatter :func:`linear_to_db` resolves (m² m⁻²): 1e-10 = −100 dB, far below the noise
#: floor of Sentinel-1 IW (about −22 to −25 dB noise-equivalent σ⁰), and representable in float32.
DB_FLOOR_LINEAR: float = 1e-10
#: dB per natural-log unit of power: 10 / ln 10.
_DB_PER_NEPER: float = 10.0 / math.log(10.0)


def _float(x) -> Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def db_to_linear(x_db: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    """Linear power ratio (m² m⁻²) from decibels: ``10 ** (x_db / 10)``, same shape and floating dtype.

    Example:
        >>> float(db_to_linear(-10.0))
        0.1
    """
    return jnp.exp(_float(x_db) / _DB_PER_NEPER)


def linear_to_db(x: Float[ArrayLike, "..."], floor: float = DB_FLOOR_LINEAR) -> Float[Array, "..."]:
    """Decibels from a linear power ratio (m² m⁻²): ``10 log10(max(x, floor))``, same shape and floating dtype.

    **Arguments:** ``x`` (linear backscatter, any shape); ``floor`` (> 0, linear; default
    :data:`DB_FLOOR_LINEAR` = −100 dB): values below it map to ``10 log10(floor)`` with a zero gradient.

    Raises:
        ValueError: if ``floor`` is not a positive finite number.

    Example:
        >>> float(linear_to_db(0.01)), float(linear_to_db(0.0))
        (-20.0, -100.0)
    """
    if not (isinstance(floor, (int, float)) and math.isfinite(floor) and floor > 0):
        raise ValueError(f"floor must be a positive finite linear value, got {floor!r}")
    x = _float(x)
    return _DB_PER_NEPER * jnp.log(jnp.maximum(x, floor))
