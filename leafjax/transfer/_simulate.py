"""A small PROSPECT-PRO training set with noise, drawn from ``leafjax.physics`` (for the hybrid strategy's
tests and examples; large runs use the project's simulator)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._parameters import preset
from ..physics import ProspectPro, ProspectProParams, nitrogen_from_protein

#: Traits returned, in order (units as ``leafjax._constants.TRAITS``: g/cm², g/cm², % dry mass, µg/cm², µg/cm²).
SIMULATED_TRAITS: tuple[str, ...] = ("lma", "ewt", "nitrogen", "chl", "car")

#: Uniform prior ranges of PROSPECT-PRO inputs: realistic sub-ranges of the reference bounds
#: (``leafjax._constants.TRAITS``), covering broadleaf and needle-leaf samples of the leaf-trait literature: the
#: registry preset ``preset("prospect-pro", "training-set")`` (units in :mod:`leafjax._parameters`).
PRIOR_RANGES: dict[str, tuple[float, float]] = preset("prospect-pro", "training-set")


def simulate_training_set(key: jax.Array, n: int, wavelengths=None, *, noise_std: float = 0.005,
                          relative_noise: float = 0.01, chunk: int = 2000,
                          ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    r"""Simulate ``n`` PROSPECT-PRO reflectance spectra with traits drawn uniformly in :data:`PRIOR_RANGES`.

    Noise: :math:`R' = R\,(1 + \epsilon_r) + \epsilon_a`, :math:`\epsilon_r \sim N(0, \text{relative\_noise}^2)`
    per spectrum, :math:`\epsilon_a \sim N(0, \text{noise\_std}^2)` per band.

    **Arguments:** ``key`` (PRNG key), ``n``, ``wavelengths`` (nm; default 400–2400 nm at 1 nm), noise levels,
    ``chunk`` (spectra per physics call).

    **Returns:** ``X (n, wl)`` float64 reflectance, ``Y (n, 5)`` float64 traits in the order of
    :data:`SIMULATED_TRAITS`, and the trait names.
    """
    wavelengths = np.arange(400, 2401) if wavelengths is None else np.asarray(wavelengths)
    model = ProspectPro(wavelengths=wavelengths)
    k_traits, k_rel, k_abs = jax.random.split(key, 3)
    keys = jax.random.split(k_traits, len(PRIOR_RANGES))
    draws = {name: jax.random.uniform(k, (n,), minval=lo, maxval=hi)
             for k, (name, (lo, hi)) in zip(keys, PRIOR_RANGES.items())}
    reflectance = jax.jit(lambda d: model(ProspectProParams(**d)).reflectance)
    spectra = []
    for start in range(0, n, chunk):
        spectra.append(np.asarray(reflectance({name: v[start:start + chunk] for name, v in draws.items()})))
    r = jnp.asarray(np.concatenate(spectra))
    rel = 1.0 + relative_noise * jax.random.normal(k_rel, (n, 1), dtype=r.dtype)
    x = r * rel + noise_std * jax.random.normal(k_abs, r.shape, dtype=r.dtype)
    lma = draws["prot"] + draws["cbc"]
    y = jnp.stack([lma, draws["ewt"], nitrogen_from_protein(draws["prot"], draws["cbc"]), draws["chl"],
                   draws["car"]], axis=1)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), list(SIMULATED_TRAITS)
