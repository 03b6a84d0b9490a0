"""The one noise interface: ``noise(key, signal) -> noisy signal`` with explicit PRNG keys.

Two families implement it: spectrum-level models in :mod:`leafjax.simulation` (``AdditiveGaussian``,
``MultiplicativeGaussian``, ``ComposedNoise``) and band-level models in :mod:`leafjax.spectral`
(``GaussianNoise``, a :class:`AbstractGaussianNoise`).  Any of them can be passed wherever a noise model is
taken (``simulate``, ``write_prosail_parquet``, ...).
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray


class AbstractNoise(eqx.Module):
    """A noise model: ``__call__(key, signal)`` returns a noisy copy of ``signal`` (same shape and dtype).

    ``signal`` is e.g. reflectance (fraction) of shape ``(*batch, wl)`` or ``(*batch, band)``; the same key gives
    the same noise.
    """

    @abc.abstractmethod
    def __call__(self, key: PRNGKeyArray, signal: Float[Array, "*batch n"]) -> Float[Array, "*batch n"]:
        """``signal`` plus one draw of noise."""


class AbstractGaussianNoise(AbstractNoise):
    r"""Zero-mean Gaussian noise given by its standard deviation: :math:`x + \sigma(x)\,\varepsilon`,
    :math:`\varepsilon \sim N(0, 1)` independently per element.  Subclasses implement :meth:`std`."""

    @abc.abstractmethod
    def std(self, signal: Float[Array, "*batch n"]) -> Float[Array, "*batch n"]:
        """Standard deviation of the noise at ``signal`` (units of the signal)."""

    def __call__(self, key: PRNGKeyArray, signal: Float[ArrayLike, "*batch n"]) -> Float[Array, "*batch n"]:
        """``signal`` plus one draw of zero-mean Gaussian noise with standard deviation :meth:`std`."""
        x = jnp.asarray(signal)
        return x + self.std(x) * jax.random.normal(key, x.shape, dtype=x.dtype)
