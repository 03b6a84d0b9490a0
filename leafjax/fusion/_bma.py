"""Bayesian model averaging with weights and per-model error variances fitted to the target sample."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp

from ._base import AbstractFuser, check_inputs
from ._stacking import _standardise, minimise


class BMAFuser(AbstractFuser):
    r"""Bayesian model averaging (Raftery et al. 2005): the predictive density is the mixture

    .. math:: p(y \mid \mu_1..\mu_m) = \sum_i w_i\, \mathcal N(y;\ \mu_i,\ \sigma_i^2),
              \quad w = \operatorname{softmax}(\theta),

    with :math:`\theta` and :math:`\log\sigma_i` maximising the log-likelihood of the k target samples (Adam,
    in units of the target sample's standard deviation; :math:`\sigma_i \ge` ``sigma_floor`` of that unit).
    Predictive mean and variance:

    .. math:: \hat y = \sum_i w_i \mu_i, \qquad
              \operatorname{Var} = \sum_i w_i (\sigma_i^2 + \mu_i^2) - \hat y^2.

    Weights ``{"w": (m,), "sigma2_models": (m,)}`` (variances in trait units²).  Stated per-sample
    ``variances`` are not used (the error variances are learned).

    References: Raftery, A. E., Gneiting, T., Balabdaoui, F. & Polakowski, M. (2005) Using Bayesian model
    averaging to calibrate forecast ensembles, Monthly Weather Review 133:1155–1174.
    """

    steps: int = 3000
    learning_rate: float = 0.05
    sigma_floor: float = 1e-3

    def _sigma(self, log_sigma):
        return self.sigma_floor + jnp.exp(log_sigma)

    @eqx.filter_jit  # one compilation per (n, m): repeated fits on k samples reuse it
    def fit(self, preds, y, variances=None):
        preds, y, _ = check_inputs(preds, y)
        p, z, _, scale = _standardise(preds, y)

        def nll(params):
            sigma = self._sigma(params["log_sigma"])
            logw = jax.nn.log_softmax(params["theta"])
            r = (z[:, None] - p) / sigma[None, :]
            comp = logw[None, :] - 0.5 * r ** 2 - jnp.log(sigma)[None, :] - 0.5 * jnp.log(2 * jnp.pi)
            return -jnp.mean(logsumexp(comp, axis=1))

        rmse = jnp.sqrt(jnp.mean((p - z[:, None]) ** 2, axis=0))
        init = {"theta": jnp.zeros(preds.shape[1]),
                "log_sigma": jnp.log(jnp.maximum(rmse - self.sigma_floor, 1e-3))}
        params = minimise(nll, init, steps=self.steps, learning_rate=self.learning_rate)
        return {"w": jax.nn.softmax(params["theta"]),
                "sigma2_models": (self._sigma(params["log_sigma"]) * scale) ** 2}

    def predict(self, weights, preds, variances=None):
        preds, _, _ = check_inputs(preds)
        w, s2 = weights["w"], weights["sigma2_models"]
        mean = preds @ w
        var = (s2[None, :] + preds ** 2) @ w - mean ** 2
        return mean, jnp.maximum(var, 0.0)
