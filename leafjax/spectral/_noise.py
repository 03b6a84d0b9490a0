"""Band-level noise models (the :class:`~leafjax.core.AbstractNoise` interface, Gaussian family)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..core import AbstractGaussianNoise

#: Former name of the band-level noise base class (a model given by ``std(signal)``); kept as an alias.  The one
#: noise interface is :class:`leafjax.core.AbstractNoise`, which every noise model of leafjax implements.
AbstractNoise = AbstractGaussianNoise


class GaussianNoise(AbstractGaussianNoise):
    r"""Independent Gaussian noise per band: :math:`\sigma = \sqrt{\sigma_a^2 + (\sigma_m x)^2}`.

    **Fields:** ``additive`` (reflectance units) and ``multiplicative`` (relative, e.g. 0.05 = 5 %), each a scalar
    or one value per band ``(band,)``.  The two terms are independent, so the sum is Gaussian with this σ.

    Example:
        >>> import jax
        >>> noise = GaussianNoise(additive=0.01, multiplicative=0.05)
        >>> noise(jax.random.key(0), jnp.full((4, 10), 0.3)).shape
        (4, 10)
    """

    additive: Float[Array, "*band"] = eqx.field(converter=jnp.asarray, default=0.0)
    multiplicative: Float[Array, "*band"] = eqx.field(converter=jnp.asarray, default=0.0)

    def std(self, signal):
        x = jnp.asarray(signal)
        a = jnp.broadcast_to(self.additive.astype(x.dtype), x.shape)
        m = jnp.broadcast_to(self.multiplicative.astype(x.dtype), x.shape)
        return jnp.sqrt(a * a + (m * x) ** 2)
