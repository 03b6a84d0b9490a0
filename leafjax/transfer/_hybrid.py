"""Hybrid canopy-trait retrieval: a :mod:`leafjax.networks` regressor trained on PROSAIL simulations.

:func:`train_hybrid` trains a network with :func:`leafjax.training.fit` on PROSAIL simulations of the default
prior convolved to the sensor bands, with band noise; inputs are the bands and the cosines of the sun/view angles
(:func:`hybrid_features`); :func:`predict_hybrid` applies it.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..inversion._canopy import GEOMETRY_NAMES
from ..networks import make_regressor
from ..physics.canopy._fcover import fcover
from ..physics.canopy._prosail import Prosail
from ..simulation._prosail import default_prosail_prior, iter_prosail, sample_prosail_table
from ..spectral._response import AbstractNoise, SpectralResponse
from ..training import default_optimiser, fit, predict

# --- hybrid ------------------------------------------------------------------------------------------------------

#: Targets of the hybrid network by default.
HYBRID_TRAITS: tuple[str, ...] = ("lai", "chl", "ewt", "fcover")


def hybrid_features(bands: Float[ArrayLike, "pix band"], geometry: Mapping[str, ArrayLike]) -> np.ndarray:
    """Network inputs: the band reflectances then cos(sza), cos(vza), cos(raa) (float64, ``(pix, band + 3)``)."""
    g = [np.cos(np.deg2rad(np.asarray(geometry[k], np.float64))) for k in GEOMETRY_NAMES]
    return np.concatenate([np.asarray(bands, np.float64), np.stack(g, axis=-1)], axis=-1)


def simulate_band_training_set(model: Prosail, srf: SpectralResponse, n: int, key: PRNGKeyArray, *,
                               prior=None, noise: AbstractNoise | None = None,
                               traits: Sequence[str] = HYBRID_TRAITS, chunk_size: int = 2048):
    """``(X (n, band + 3), Y (n, len(traits)), params)`` from PROSAIL simulations of ``prior`` (default
    :func:`~leafjax.simulation.default_prosail_prior`), convolved to ``srf`` bands with ``noise``."""
    k_prior, k_noise = jax.random.split(key)
    prior = default_prosail_prior(model.leaf_model.name) if prior is None else prior
    cols = sample_prosail_table(prior, n, k_prior, model)
    bands = np.concatenate([res["rsot"] for _, res in iter_prosail(model, cols, srf=srf, noise=noise, key=k_noise,
                                                                   chunk_size=chunk_size)])
    cols["fcover"] = np.asarray(fcover(jnp.asarray(cols["lai"]), jnp.asarray(cols["lidf_a"])))
    y = np.stack([cols[t] for t in traits], axis=-1)
    return hybrid_features(bands, cols), y, cols


def train_hybrid(model: Prosail, srf: SpectralResponse, n: int, key: PRNGKeyArray, *, network: str = "resnet",
                 prior=None, noise: AbstractNoise | None = None, traits: Sequence[str] = HYBRID_TRAITS,
                 epochs: int = 50, batch_size: int = 256, learning_rate: float = 3e-3,
                 training_set: tuple | None = None, **size_kwargs):
    """Train a :func:`leafjax.networks.make_regressor` network on ``n`` band-level PROSAIL simulations.

    ``training_set``: an ``(X, Y)`` pair from :func:`simulate_band_training_set` to train on instead of
    simulating ``n`` new rows (e.g. to compare networks on one set); ``Y``'s columns are ``traits``.

    **Returns:** ``(regressor, FitHistory)``; predict with :func:`predict_hybrid`.
    """
    k_sim, k_net = jax.random.split(key)
    if training_set is None:
        x, y, _ = simulate_band_training_set(model, srf, n, k_sim, prior=prior, noise=noise, traits=traits)
    else:
        x, y = (np.asarray(a, np.float64) for a in training_set)
        if y.ndim != 2 or y.shape[1] != len(traits) or len(x) != len(y):
            raise ValueError(f"training_set must be (X (n, band + 3), Y (n, {len(traits)})), got {x.shape}, "
                             f"{y.shape}")
    seed = int(jax.random.randint(k_net, (), 0, 2**31 - 1))
    reg = make_regressor(network, x, y, rngs=nnx.Rngs(seed), trait_names=list(traits), **size_kwargs)
    return fit(reg, (x, y), optimiser=default_optimiser(learning_rate), epochs=epochs, batch_size=batch_size,
               seed=seed)


def predict_hybrid(regressor, bands: Float[ArrayLike, "pix band"], geometry: Mapping[str, ArrayLike]
                   ) -> dict[str, np.ndarray]:
    """Trait predictions ``{trait: (pix,)}`` of a :func:`train_hybrid` regressor."""
    out = predict(regressor, hybrid_features(bands, geometry))
    names = regressor.config.get("trait_names") or [f"y{i}" for i in range(out.shape[1])]
    return {n: out[:, i] for i, n in enumerate(names)}
