r"""Green fraction of ground cover seen from nadir (fCover) from canopy structure.

:math:`f_{cover} = 1 - e^{-K(0)\,L}` with :math:`K(0) = G(0)` the LIDF-averaged projection at nadir (Weiss &
Baret 2016, S2 ToolBox Level-2 ATBD, define FCOVER the same way).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._geometry import canopy_geometry
from ._lidf import lidf as _lidf


@functools.partial(jax.jit, static_argnames=("lidf_type",))
def fcover(lai: Float[Array, "*batch"], lidf_a: Float[Array, "*batch"], lidf_b=0.0, lidf_type: str = "campbell"
           ) -> Float[Array, "*batch"]:
    r"""Fraction of ground covered by green leaves seen from nadir, :math:`1 - e^{-G(0)\,L}` (dimensionless).

    Example:
        >>> round(float(fcover(jnp.asarray(3.0), jnp.asarray(57.0))), 3)
        0.79
    """
    lai = jnp.asarray(lai)
    dist = _lidf(lidf_type, jnp.asarray(lidf_a, lai.dtype), jnp.asarray(lidf_b, lai.dtype), dtype=lai.dtype)
    zero = jnp.zeros(dist.shape[:-1], lai.dtype)
    ko = canopy_geometry(dist, zero, zero, zero).ko
    return 1.0 - jnp.exp(-ko * lai)
