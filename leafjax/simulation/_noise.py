"""Measurement-noise models applied to simulated spectra (explicit PRNG keys).

They implement the one noise interface, :class:`leafjax.core.AbstractNoise` (re-exported here under its old
name), as do the band-level models of :mod:`leafjax.spectral` (e.g. ``GaussianNoise``).
"""

from __future__ import annotations

import jax

from ..core import AbstractNoise


class AdditiveGaussian(AbstractNoise):
    """``x + σ·ε``, ε ~ N(0, 1) independently per band; ``std`` in reflectance units (fraction)."""

    std: float

    def __call__(self, key, spectra):
        return spectra + self.std * jax.random.normal(key, spectra.shape, spectra.dtype)


class MultiplicativeGaussian(AbstractNoise):
    """``x·(1 + σ·ε)``, ε ~ N(0, 1) per band; ``rel_std`` is the relative standard deviation (e.g. 0.01 = 1 %)."""

    rel_std: float

    def __call__(self, key, spectra):
        return spectra * (1.0 + self.rel_std * jax.random.normal(key, spectra.shape, spectra.dtype))


class ComposedNoise(AbstractNoise):
    """Apply several noise models in order, each with its own key."""

    parts: tuple[AbstractNoise, ...]

    def __call__(self, key, spectra):
        for k, part in zip(jax.random.split(key, len(self.parts)), self.parts):
            spectra = part(k, spectra)
        return spectra


def make_noise(additive: float = 0.0, multiplicative: float = 0.0) -> AbstractNoise | None:
    """Noise model from standard deviations (``additive`` in reflectance units, ``multiplicative`` relative).

    Returns ``None`` when both are zero. Raises ``ValueError`` for negative values.
    """
    if additive < 0 or multiplicative < 0:
        raise ValueError("noise standard deviations must be >= 0")
    parts = []
    if multiplicative > 0:
        parts.append(MultiplicativeGaussian(float(multiplicative)))
    if additive > 0:
        parts.append(AdditiveGaussian(float(additive)))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ComposedNoise(tuple(parts))
