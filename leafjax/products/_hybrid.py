r"""The hybrid route (:class:`HybridRoute`): an ensemble of networks trained on PROSAIL simulations.

**Training** (:meth:`HybridRoute.prepare`, once): ``n`` parameter sets of the prior (the ATBD's co-distributed
prior by default, geometry uniform in the route's ranges) are simulated as sensor bands seen under direct sun +
diffuse sky light with the ATBD band noise (:func:`leafjax.transfer.simulate_band_training_set`); the inputs are
the bands and the cosines of ``sza``, ``vza``, ``raa`` (:func:`leafjax.transfer.hybrid_features`).  **One
multi-output network** per ensemble member predicts all five products *and* the PROSAIL parameters the prior
varies (``chl``, ``ewt``, ``lma``, ``lidf_a``, ``n_struct``, soil, ...), every target standardised
(:func:`leafjax.networks.make_regressor`); ``ensemble`` members differ in initialisation and shuffling and train
at once (:func:`leafjax.transfer.train_hybrid_ensemble`).  The ATBD trains one network per product; one
multi-output network shares the representation (one training instead of five) and gives the parameters needed
for the forward check below.

**Estimate and σ:** the ensemble mean; :math:`\sigma^2 = \mathrm{Var}_{ens} + s^2`, the ensemble variance plus the
held-out residual variance ``s²`` of the product (20 % of the simulations held out; see
:class:`leafjax.transfer.HybridEnsemble`).

**Flags:** ``out_of_domain`` (as the ATBD's "input out of range" / "output out of range" flags) when an input
feature (band or angle cosine) lies outside the training range widened by ``domain_margin`` of its width on
both sides, or a product estimate outside its training range so widened; estimates are then clipped to their
physical range (``≥ 0``; fAPAR and fCover ``≤ 1``).  ``rmse``: the forward model (PROSAIL with the predicted
parameters, ``lai`` the predicted LAI) against the observed bands, so that ``poor_fit`` means the same for every
route.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from .._flags import Quality
from ..inversion._canopy import CANOPY_SIGMA
from ..inversion._canopy_problem import forward_bands
from ..inversion._result import Status
from ..physics.canopy import CanopyParams
from ..physics.soil._soil import DryWetSoilParams
from ..transfer._hybrid import (hybrid_features, predict_hybrid_ensemble, simulate_band_training_set,
                                train_hybrid_ensemble)
from ._derive import complete_parameters, padded_chunks
from ._result import PRODUCTS, fit_bits, finite_status, make_result
from ._routes import AbstractRoute, base_state, check_config, check_state, make_noise, make_prior

#: Physical range of each product (estimates are clipped to it).
PHYSICAL_RANGE: dict[str, tuple[float, float]] = {"lai": (0.0, np.inf), "ccc": (0.0, np.inf),
                                                  "cwc": (0.0, np.inf), "fapar": (0.0, 1.0), "fcover": (0.0, 1.0)}


#: Network sizes used when ``network_kwargs`` is empty (others: the network's own defaults).
NETWORK_SIZES: dict[str, dict[str, int]] = {"resnet": {"d": 64, "n_blocks": 2}}


def _as_items(kw) -> tuple:
    return tuple(sorted(dict(kw).items()))


_forward_chunk = eqx.filter_jit(forward_bands)


def forward_rmse(model, srf, sky, values: dict[str, np.ndarray], bands: np.ndarray) -> np.ndarray:
    """Band RMSE ``(n,)`` of PROSAIL at parameters ``values`` (completed, see
    :func:`~leafjax.products._derive.complete_parameters`) against ``bands (n, band)``, NaN bands left out
    (padded chunks: :func:`~leafjax.products._derive.padded_chunks`)."""
    n = bands.shape[0]
    full = complete_parameters(model, values, n)
    out = [np.asarray(_forward_chunk(model, srf, block, sky), np.float64)[:rows.stop - rows.start]
           for rows, block in padded_chunks(full, n, np.dtype(model.wavelengths.dtype))]
    sq = (np.concatenate(out) - bands) ** 2
    return np.sqrt(np.nanmean(sq, axis=-1))


class HybridRoute(AbstractRoute):
    """Hybrid retrieval by a network ensemble trained on simulations (final).

    **Fields** (static): ``network`` (a :data:`leafjax.networks.NETWORKS` name: ``"resnet"``, ``"glm"``, ...),
    ``network_kwargs`` (its sizes; empty: :data:`NETWORK_SIZES`, e.g. ResNet ``d=64, n_blocks=2``), ``n``
    (simulations), ``prior`` (``"atbd"`` | ``"uniform"``), ``noise`` (``"atbd"`` | ``"none"``), ``sky``, ``aot550``,
    ``epochs``,
    ``ensemble`` (members), ``batch_size``, ``learning_rate``, ``held_out`` (fraction of the simulations for
    the residual variance), ``sza``/``vza``/``raa`` (training ranges of the angles, degrees), ``domain_margin``
    (fraction of a range added on both sides before ``out_of_domain``), ``expected_rmse`` (``poor_fit`` above 3×).
    """

    network: str = eqx.field(static=True, default="resnet")
    network_kwargs: tuple = eqx.field(static=True, default=(), converter=_as_items)
    n: int = eqx.field(static=True, default=50_000)
    prior: str = eqx.field(static=True, default="atbd")
    noise: str = eqx.field(static=True, default="atbd")
    sky: bool = eqx.field(static=True, default=True)
    aot550: float = eqx.field(static=True, default=0.1)
    epochs: int = eqx.field(static=True, default=30)
    ensemble: int = eqx.field(static=True, default=5)
    batch_size: int = eqx.field(static=True, default=256)
    learning_rate: float = eqx.field(static=True, default=3e-3)
    held_out: float = eqx.field(static=True, default=0.2)
    sza: tuple[float, float] = eqx.field(static=True, default=(0.0, 70.0), converter=tuple)
    vza: tuple[float, float] = eqx.field(static=True, default=(0.0, 12.0), converter=tuple)
    raa: tuple[float, float] = eqx.field(static=True, default=(0.0, 360.0), converter=tuple)
    domain_margin: float = eqx.field(static=True, default=0.1)
    expected_rmse: float = eqx.field(static=True, default=CANOPY_SIGMA)

    name = "hybrid"
    handles_missing_bands = False

    def __check_init__(self):
        from ..networks import NETWORKS

        check_config(self)
        if self.network not in NETWORKS:
            raise ValueError(f"unknown network {self.network!r}; known: {', '.join(NETWORKS)}")
        for field in ("n", "epochs", "ensemble", "batch_size"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{field} must be an integer >= 1, got {v!r}")
        if not 0.0 < self.held_out < 1.0:
            raise ValueError(f"held_out must be in (0, 1), got {self.held_out!r}")
        for field in ("sza", "vza", "raa"):
            lo, hi = getattr(self, field)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(f"{field} range must be (low, high) degrees with low <= high, got {(lo, hi)}")
        if not (np.isfinite(self.domain_margin) and self.domain_margin >= 0):
            raise ValueError(f"domain_margin must be >= 0, got {self.domain_margin!r}")

    def prepare(self, srf, model, key):
        """Simulate ``n`` training rows and train the ensemble; the state holds it as ``"ensemble"``."""
        st = base_state(self, srf, model, key, self.sky, self.aot550)
        k_sim, k_fit = jax.random.split(st["key"])
        prior = make_prior(self.prior, self.sza, self.vza, self.raa, model.leaf_model.name)
        x, y_products, cols = simulate_band_training_set(model, srf, self.n, k_sim, prior=prior,
                                                         noise=make_noise(self.noise, srf), traits=PRODUCTS,
                                                         sky=st["sky"])
        candidates = (*model.leaf_model.params_type.names, *CanopyParams.names, *DryWetSoilParams.names)
        skip = {"lai", "sza", "vza", "raa"}
        varied = [c for c in candidates if c not in skip and c in cols and np.ptp(cols[c]) > 0]
        st["fixed"] = {c: float(np.asarray(cols[c])[0]) for c in candidates if c not in skip and c not in varied
                       and c in cols and np.asarray(cols[c]).dtype.kind == "f"}
        y = np.concatenate([y_products, np.stack([np.asarray(cols[c], np.float64) for c in varied], -1)], -1)
        st["ensemble"] = train_hybrid_ensemble(
            x, y, k_fit, names=(*PRODUCTS, *varied), members=self.ensemble, network=self.network,
            epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
            held_out=self.held_out, **dict(self.network_kwargs or NETWORK_SIZES.get(self.network, {})))
        return st

    def retrieve(self, state, bands, geometry, products):
        st = check_state(self, state)
        ens = st["ensemble"]
        x = hybrid_features(bands, geometry)
        mean, var = predict_hybrid_ensemble(ens, x, include_residual=True)
        m = self.domain_margin
        width = ens.feature_high - ens.feature_low
        outside = np.any((x < ens.feature_low - m * width) | (x > ens.feature_high + m * width), axis=-1)
        col = {name: j for j, name in enumerate(ens.names)}
        values, std = {}, {}
        for p in products:
            j = col[p]
            v, w = mean[:, j], ens.target_high[j] - ens.target_low[j]
            outside |= (v < ens.target_low[j] - m * w) | (v > ens.target_high[j] + m * w)
            values[p], std[p] = np.clip(v, *PHYSICAL_RANGE[p]), np.sqrt(var[:, j])
        params = {name: np.clip(mean[:, j], ens.target_low[j], ens.target_high[j]) for name, j in col.items()
                  if name not in PRODUCTS}
        params["lai"] = np.clip(mean[:, col["lai"]], ens.target_low[col["lai"]], ens.target_high[col["lai"]])
        params.update({k: np.full(len(x), v) for k, v in st["fixed"].items()})
        params.update({k: np.asarray(geometry[k], np.float64) for k in ("sza", "vza", "raa")})
        rmse = forward_rmse(st["model"], st["srf"], st["sky"], params, bands)
        quality = np.where(outside, np.int32(int(Quality.OUT_OF_DOMAIN)), np.int32(0)) | fit_bits(
            rmse, self.expected_rmse)
        status = finite_status(values, np.full(len(x), int(Status.CONVERGED), np.int8))
        return make_result(values, std, status, quality, rmse)
