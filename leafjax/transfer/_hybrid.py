"""Hybrid canopy-trait retrieval: a :mod:`leafjax.networks` regressor trained on PROSAIL simulations.

:func:`train_hybrid` trains a network with :func:`leafjax.training.fit` on PROSAIL simulations of the default
prior convolved to the sensor bands, with band noise; inputs are the bands and the cosines of the sun/view angles
(:func:`hybrid_features`); :func:`predict_hybrid` applies it.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..core import AbstractNoise
from ..inversion._canopy import GEOMETRY_NAMES
from ..networks import make_regressor
from ..physics.canopy._fcover import fcover
from ..physics.canopy._prosail import Prosail
from ..simulation._prosail import default_prosail_prior, iter_prosail, sample_prosail_table
from ..spectral._response import SpectralResponse
from ..training import default_optimiser, fit, fit_many, predict

# --- hybrid ------------------------------------------------------------------------------------------------------

#: Targets of the hybrid network by default.
HYBRID_TRAITS: tuple[str, ...] = ("lai", "chl", "ewt", "fcover")


def hybrid_features(bands: Float[ArrayLike, "pix band"], geometry: Mapping[str, ArrayLike]) -> np.ndarray:
    """Network inputs: the band reflectances then cos(sza), cos(vza), cos(raa) (float64, ``(pix, band + 3)``)."""
    g = [np.cos(np.deg2rad(np.asarray(geometry[k], np.float64))) for k in GEOMETRY_NAMES]
    return np.concatenate([np.asarray(bands, np.float64), np.stack(g, axis=-1)], axis=-1)


def simulate_band_training_set(model: Prosail, srf: SpectralResponse, n: int, key: PRNGKeyArray, *,
                               prior=None, noise: AbstractNoise | None = None,
                               traits: Sequence[str] = HYBRID_TRAITS, chunk_size: int = 2048, sky=None):
    """``(X (n, band + 3), Y (n, len(traits)), params)`` from PROSAIL simulations of ``prior`` (default
    :func:`~leafjax.simulation.default_prosail_prior`; also e.g. :func:`~leafjax.simulation.atbd_prior`),
    convolved to ``srf`` bands with ``noise`` (e.g. :class:`~leafjax.simulation.AtbdNoise`).  ``sky``: a
    :class:`leafjax.physics.sky.SkyIllumination` for bands seen under direct sun + diffuse sky light (default
    ``None``: direct sun only, the bidirectional ``rsot``).  ``traits`` may name parameters, ``fcover`` and the
    products ``ccc``, ``cwc`` (g/m²) and ``fapar`` (black-sky; from the same PROSAIL runs,
    :func:`~leafjax.simulation._prosail.canopy_products`), which are then also columns of ``params``."""
    k_prior, k_noise = jax.random.split(key)
    prior = default_prosail_prior(model.leaf_model.name) if prior is None else prior
    cols = sample_prosail_table(prior, n, k_prior, model)
    extra = {} if sky is None else {"sky": sky}
    derived = [t for t in ("fapar", "ccc", "cwc") if t in traits]
    if derived:
        extra["products"] = True
    parts = [res for _, res in iter_prosail(model, cols, srf=srf, noise=noise, key=k_noise, chunk_size=chunk_size,
                                            **extra)]
    bands = np.concatenate([res["rsot"] for res in parts])
    cols.update({t: np.concatenate([np.asarray(res[t], np.float64) for res in parts]) for t in derived})
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


# --- ensembles with predictive uncertainty ------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class HybridEnsemble:
    r"""``M`` regressors trained on one simulated set from different initialisations and shuffles, with the
    residual variance of the ensemble mean measured on held-out simulations (:func:`train_hybrid_ensemble`).

    Predictive variance of target ``j`` (:func:`predict_hybrid_ensemble`):
    :math:`\sigma_j^2(x) = \mathrm{Var}_m[\hat y_{m,j}(x)] + s_j^2`, the ensemble spread (model uncertainty,
    Lakshminarayanan et al. 2017) plus :math:`s_j^2 = \max(\overline{(\bar y_j - y_j)^2} -
    \overline{\mathrm{Var}_m[\hat y_{m,j}]}, 0)` on the held-out set: the part of the held-out squared error the
    spread does not explain (noise and ill-posedness), so that the mean predictive variance matches the held-out
    mean squared error.

    **Fields:** ``regressors`` (``M`` :class:`~leafjax.networks.TraitRegressor`), ``names`` (targets),
    ``residual_var`` ``(k,)``, ``feature_low``/``feature_high`` ``(f,)`` and ``target_low``/``target_high``
    ``(k,)`` (ranges of the training features/targets), ``validation_rmse`` ``(k,)`` (held-out RMSE of the mean).
    """

    regressors: tuple
    names: tuple[str, ...]
    residual_var: np.ndarray
    feature_low: np.ndarray
    feature_high: np.ndarray
    target_low: np.ndarray
    target_high: np.ndarray
    validation_rmse: np.ndarray


def train_hybrid_ensemble(x: Float[ArrayLike, "n f"], y: Float[ArrayLike, "n k"], key: PRNGKeyArray, *,
                          names: Sequence[str], members: int = 5, network: str = "resnet", epochs: int = 50,
                          batch_size: int = 256, learning_rate: float = 3e-3, held_out: float = 0.2,
                          **size_kwargs) -> HybridEnsemble:
    """Train ``members`` multi-output regressors (targets standardised by :func:`~leafjax.networks.make_regressor`)
    at once (:func:`~leafjax.training.fit_many`) on ``1 - held_out`` of the rows ``(x, y)`` (e.g. from
    :func:`simulate_band_training_set`); the other rows measure the residual variance (:class:`HybridEnsemble`)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or y.shape[1] != len(names):
        raise ValueError(f"need x (n, f) and y (n, {len(names)}) with the same n, got {x.shape} and {y.shape}")
    if not (isinstance(members, int) and members >= 1):
        raise ValueError(f"members must be an integer >= 1, got {members!r}")
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be in (0, 1), got {held_out!r}")
    n_val = max(1, int(round(held_out * len(x))))
    if len(x) - n_val < 2:
        raise ValueError(f"{len(x)} simulated rows are too few to train and hold out {held_out:.0%}")
    k_split, k_net = jax.random.split(key)
    order = np.asarray(jax.random.permutation(k_split, len(x)))
    val, train = order[:n_val], order[n_val:]
    seeds = [int(s) for s in np.asarray(jax.random.randint(k_net, (members,), 0, 2**31 - 1))]
    models = [make_regressor(network, x[train], y[train], rngs=nnx.Rngs(s), trait_names=list(names), **size_kwargs)
              for s in seeds]
    trained, _ = fit_many(models, (x[train], y[train]), rows=[np.arange(len(train))] * members, seeds=seeds,
                          optimiser=default_optimiser(learning_rate), epochs=epochs, batch_size=batch_size)
    ens = HybridEnsemble(tuple(trained), tuple(names), np.zeros(len(names)), x[train].min(0), x[train].max(0),
                         y[train].min(0), y[train].max(0), np.zeros(len(names)))
    mean, var = predict_hybrid_ensemble(ens, x[val])
    mse = np.mean((mean - y[val]) ** 2, axis=0)
    return dataclasses.replace(ens, residual_var=np.maximum(mse - var.mean(0), 0.0), validation_rmse=np.sqrt(mse))


def predict_hybrid_ensemble(ensemble: HybridEnsemble, x: Float[ArrayLike, "n f"], *, include_residual: bool = False
                            ) -> tuple[np.ndarray, np.ndarray]:
    """``(mean (n, k), variance (n, k))`` of the ensemble's predictions (float64): the spread of the members, plus
    the held-out residual variance when ``include_residual`` (the predictive variance of :class:`HybridEnsemble`)."""
    preds = np.stack([predict(r, np.asarray(x, np.float64)) for r in ensemble.regressors])  # (M, n, k)
    var = preds.var(axis=0) if len(preds) > 1 else np.zeros(preds.shape[1:])
    return preds.mean(axis=0), var + (ensemble.residual_var[None, :] if include_residual else 0.0)
