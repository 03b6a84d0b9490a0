r"""The look-up-table route (:class:`LUTRoute`): the classic LUT inversion, one table per sun/view geometry.

For each distinct geometry of the pixels (``sza``, ``vza`` and the relative azimuth folded to ``[0, 180]`` —
4SAIL depends on ``cos(raa)`` only — rounded to ``geometry_step`` degrees), ``n`` PROSAIL simulations of the
prior (the ATBD's co-distributed prior by default) are convolved to the sensor's bands under direct sun + diffuse
sky light, with the ATBD band noise (:func:`leafjax.inversion.build_lut`).  Each pixel's products are the mean of
the ``k`` entries of smallest band RMSE and their σ the standard deviation of those ``k`` entries
(:func:`leafjax.inversion.query_lut`; Verrelst et al. 2014; Graf et al. 2023 use the same "mean of the best
solutions" estimator).  The tables are built lazily and cached in the route's state (key: the rounded
geometry), so the tiles of one scene reuse them; each table's PRNG key is derived from the state's key and the
rounded geometry alone, so results do not depend on how the pixels are split into calls.

References:
    Verrelst, J., Rivera, J.P., Leonenko, G., Alonso, L., Moreno, J. (2014) Optimizing LUT-based RTM inversion
    for semiautomatic mapping of crop biophysical parameters from Sentinel-2 and -3 data: role of cost
    functions. IEEE TGRS 52:257–269, doi:10.1109/TGRS.2013.2238242.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from ..inversion._canopy import CANOPY_SIGMA
from ..inversion._result import Status
from ._result import fit_bits, finite_status, make_result
from ._routes import AbstractRoute, base_state, check_config, check_state, make_noise, make_prior


def fold_raa(raa: np.ndarray) -> np.ndarray:
    """Relative azimuth folded to ``[0, 180]`` degrees (4SAIL is even and 360°-periodic in it)."""
    r = np.abs(np.asarray(raa, np.float64)) % 360.0
    return np.where(r > 180.0, 360.0 - r, r)


class LUTRoute(AbstractRoute):
    """Look-up-table retrieval (final).

    **Fields** (static): ``n`` (table entries per geometry), ``prior`` (``"crop"`` (default) | ``"atbd"`` | ``"uniform"``;
    see :data:`~leafjax.products._routes.PRIORS`), ``k`` (entries averaged per pixel, default 100), ``sky``, ``aot550`` (aerosol optical thickness of the sky model), ``noise``
    (``"atbd"`` | ``"none"``, added to the table's bands), ``geometry_step`` (degrees), ``max_tables`` (tables kept
    in the state; the oldest is dropped), ``expected_rmse`` (``poor_fit`` above 3×; default 0.01, as the LM route).
    """

    n: int = eqx.field(static=True, default=50_000)
    prior: str = eqx.field(static=True, default="crop")
    k: int = eqx.field(static=True, default=100)
    sky: bool = eqx.field(static=True, default=True)
    aot550: float = eqx.field(static=True, default=0.1)
    noise: str = eqx.field(static=True, default="atbd")
    geometry_step: float = eqx.field(static=True, default=0.5)
    max_tables: int = eqx.field(static=True, default=32)
    expected_rmse: float = eqx.field(static=True, default=CANOPY_SIGMA)
    chunk_size: int = eqx.field(static=True, default=4096)

    name = "lut"
    handles_missing_bands = True

    def __check_init__(self):
        check_config(self)
        for field in ("n", "k", "max_tables", "chunk_size"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{field} must be an integer >= 1, got {v!r}")
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) must not exceed the table size n ({self.n})")
        if not (np.isfinite(self.geometry_step) and self.geometry_step > 0):
            raise ValueError(f"geometry_step must be > 0 degrees, got {self.geometry_step!r}")

    def prepare(self, srf, model, key):
        """The state: ``srf``, ``model``, ``key``, sky, prior, noise and an empty table cache ``"tables"``."""
        state = base_state(self, srf, model, key, self.sky, self.aot550)
        state["noise"] = make_noise(self.noise, srf)
        # the geometry of each table replaces the prior's (build_lut's geometry=); these ranges are placeholders
        state["prior"] = make_prior(self.prior, (0.0, 60.0), (0.0, 10.0), (0.0, 180.0), model.leaf_model.name)
        state["tables"] = {}
        return state

    def table(self, state: dict, geometry: tuple[float, float, float]):
        """The (cached) table of one rounded geometry ``(sza, vza, raa)`` (degrees)."""
        from ..inversion import build_lut

        cache = state["tables"]
        if geometry in cache:
            return cache[geometry]
        key = state["key"]
        for g in geometry:
            key = jax.random.fold_in(key, int(round(g / self.geometry_step)))
        sza, vza, raa = geometry
        lut = build_lut(state["model"], state["srf"], state["prior"], self.n, key,
                        geometry={"sza": sza, "vza": vza, "raa": raa}, sky=state["sky"], noise=state["noise"],
                        chunk_size=self.chunk_size)
        while len(cache) >= self.max_tables:
            cache.pop(next(iter(cache)))
        cache[geometry] = lut
        return lut

    def retrieve(self, state, bands, geometry, products):
        from ..inversion import query_lut

        st = check_state(self, state)
        n, step = bands.shape[0], self.geometry_step
        geo = np.stack([np.round(np.asarray(geometry["sza"], np.float64) / step) * step,
                        np.round(np.asarray(geometry["vza"], np.float64) / step) * step,
                        np.round(fold_raa(geometry["raa"]) / step) * step], axis=-1) + 0.0  # no -0.0
        values = {p: np.full(n, np.nan) for p in products}
        std = {p: np.full(n, np.nan) for p in products}
        rmse = np.full(n, np.nan)
        unique, inverse = np.unique(geo, axis=0, return_inverse=True)
        for i, g in enumerate(unique):
            rows = np.flatnonzero(inverse.reshape(-1) == i)
            lut = self.table(st, tuple(float(v) for v in g))
            est, sd, err = query_lut(lut, bands[rows], k=self.k, names=tuple(products))
            for p in products:
                values[p][rows], std[p][rows] = np.asarray(est[p]), np.asarray(sd[p])
            rmse[rows] = np.asarray(err)
        status = finite_status(values, np.full(n, int(Status.CONVERGED), np.int8))
        return make_result(values, std, status, fit_bits(rmse, self.expected_rmse), rmse)
