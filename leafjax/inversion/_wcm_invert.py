r"""Physical per-pixel inversion of the water-cloud model: LAI and soil moisture from one date's Sentinel-1 VH
and VV backscatter (dB), the physics-only baseline of the multi-temporal LAI study.

For every pixel the observation is :math:`(\sigma^0_{VH}, \sigma^0_{VV})` in dB at its incidence angle
:math:`\theta` (context), predicted by :func:`~leafjax.physics.radar.backscatter_db` with scalar coefficients
(e.g. :func:`~leafjax.simulation.scene_radar_coefficients` of :func:`~leafjax.inversion.fit_water_cloud`).  The
free parameters are ``lai`` (m² m⁻²) and ``soil_moisture`` (m³ m⁻³) in the bounds given; two observations fix
two unknowns only where the model is invertible, so a weak Gaussian prior on the soil moisture (mean and σ, the
soil's climatology) regularises the saturated canopies (where the soil term is attenuated away) and the bare
soils (where LAI and moisture trade off).  Observations are weighted by :math:`1/\sigma_{dB}` with
:math:`\sigma_{dB}` the residual scatter of the fitted model (2.6–3 dB on the real sample,
:mod:`leafjax.inversion._wcm_fit`), so the reported ``std`` reflects how little one date's radar fixes LAI.

Each pixel starts at the best point of a (LAI, moisture) grid evaluated at its own incidence angle.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ..physics.radar import RadarCoefficients, backscatter_db
from ._bounds import bounded_jacobian
from ._invert import invert
from ._problem import AbstractProblem
from ._result import InversionResult
from ._solver_lm import BatchedLevenbergMarquardt

#: Free parameters of a :class:`WaterCloudProblem`.
WCM_FREE: tuple[str, ...] = ("lai", "soil_moisture")
#: Plausible backscatter (dB): observations outside are flagged ``out_of_range`` and not inverted.
BACKSCATTER_RANGE_DB: tuple[float, float] = (-45.0, 10.0)
#: Default bounds of LAI (m² m⁻²) and soil moisture (m³ m⁻³).
DEFAULT_LAI_BOUNDS: tuple[float, float] = (0.0, 8.0)
DEFAULT_SOIL_MOISTURE_BOUNDS: tuple[float, float] = (0.02, 0.50)
#: Default residual scatter of the model per polarisation (dB, [vh, vv]): the fitted RMSE on the real sample.
DEFAULT_SIGMA_DB: tuple[float, float] = (2.96, 2.61)
#: Grid of the initial guess (points along LAI, along soil moisture).
GRID: tuple[int, int] = (33, 9)


class WaterCloudProblem(AbstractProblem):
    """LAI and soil moisture from VH/VV backscatter in dB (final; module docstring).

    **Fields:** ``coefficients`` (scalar :class:`~leafjax.physics.radar.RadarCoefficients`), ``low``/``high``
    ``(2,)`` (LAI m² m⁻², moisture m³ m⁻³), ``band_weight`` ``(2,)`` (1/σ dB⁻¹, [vh, vv]), ``moisture_prior``
    ``(2,)`` (mean, σ in m³ m⁻³), ``free`` (static).  Context: ``incidence_deg`` per row (``fixed=``).
    """

    coefficients: RadarCoefficients
    low: Array
    high: Array
    band_weight: Array
    moisture_prior: Array
    free: tuple[str, ...] = eqx.field(static=True)

    def predict(self, theta, context):
        return backscatter_db(theta[:, 0], theta[:, 1], context["incidence_deg"], self.coefficients).stack(-1)

    def prior_residuals(self, z):
        mv = self.to_bounded(z)[:, 1:]
        return (mv - self.moisture_prior[0]) / self.moisture_prior[1]

    def prior_jacobian(self, z):
        d = bounded_jacobian(z, self.low, self.high)[:, 1:] / self.moisture_prior[1]  # (b, 1)
        return d[:, :, None] * jnp.eye(2, dtype=z.dtype)[1:][None]

    def estimates(self, theta, context):
        return {n: theta[:, i] for i, n in enumerate(self.free)}

    def observation_range(self):
        """Backscatter in dB: :data:`BACKSCATTER_RANGE_DB`."""
        return BACKSCATTER_RANGE_DB

    def initial_guess(self, obs, weight, context, n_starts):
        """The ``n_starts`` best points of a :data:`GRID` (LAI × moisture) at each row's incidence angle."""
        dt = self.dtype
        lai = jnp.linspace(self.low[0], self.high[0], GRID[0], dtype=dt)
        mv = jnp.linspace(self.low[1], self.high[1], GRID[1], dtype=dt)
        grid = jnp.stack(jnp.meshgrid(lai, mv, indexing="ij"), -1).reshape(-1, 2)  # (G, 2)
        pred = backscatter_db(grid[None, :, 0], grid[None, :, 1], context["incidence_deg"][:, None],
                              self.coefficients).stack(-1)  # (b, G, 2)
        cost = jnp.sum(((pred - obs[:, None]) * weight[:, None]) ** 2, -1)
        cost = cost + ((grid[None, :, 1] - self.moisture_prior[0]) / self.moisture_prior[1]) ** 2
        best = jnp.argsort(cost, axis=-1)[:, :n_starts]
        margin = 1e-3 * (self.high - self.low)
        theta = jnp.clip(grid[best], (self.low + margin)[None, None], (self.high - margin)[None, None])
        return self.to_unconstrained(theta)

    def context(self, fixed, size, batch):
        """``{"incidence_deg": (size,)}`` from ``fixed`` (a scalar or a ``batch``-shaped array, degrees)."""
        fixed = dict(fixed or {})
        unknown = sorted(set(fixed) - {"incidence_deg"})
        if "incidence_deg" not in fixed or unknown:
            raise ValueError(f"a water-cloud problem takes fixed={{incidence_deg}}; got {sorted(fixed)}")
        theta = jnp.broadcast_to(jnp.asarray(fixed["incidence_deg"], self.dtype), batch)
        return {"incidence_deg": theta.reshape(size)}

    def default_expected_rmse(self):
        """The RMS model scatter (dB): ``poor_fit`` when the misfit exceeds 3 σ."""
        return jnp.sqrt(jnp.mean(1.0 / self.band_weight**2))

    def default_solver(self):
        return BatchedLevenbergMarquardt(rtol=1e-8, max_steps=40)


def make_water_cloud_problem(coefficients: RadarCoefficients, *, sigma_db: float | ArrayLike = DEFAULT_SIGMA_DB,
                             moisture_prior: tuple[float, float] = (0.2, 0.1),
                             lai_bounds: tuple[float, float] = DEFAULT_LAI_BOUNDS,
                             soil_moisture_bounds: tuple[float, float] = DEFAULT_SOIL_MOISTURE_BOUNDS,
                             dtype=None) -> WaterCloudProblem:
    """A :class:`WaterCloudProblem`.

    **Arguments:** ``coefficients``: scalar coefficients of both polarisations (a per-scene-date ``c`` must be
    reduced first, e.g. by :func:`~leafjax.simulation.scene_radar_coefficients`); ``sigma_db``: model scatter per
    polarisation ([vh, vv] or one value, dB); ``moisture_prior``: (mean, σ) m³ m⁻³; bounds; ``dtype`` (default JAX's default float).
    """
    sig = np.broadcast_to(np.asarray(sigma_db, np.float64), (2,))
    mp = np.asarray(moisture_prior, np.float64)
    lo = np.array([lai_bounds[0], soil_moisture_bounds[0]], np.float64)
    hi = np.array([lai_bounds[1], soil_moisture_bounds[1]], np.float64)
    if not (np.all(sig > 0) and np.all(np.isfinite(sig))) or mp.shape != (2,) or not mp[1] > 0:
        raise ValueError("sigma_db must be finite and > 0, moisture_prior a (mean, sd > 0) pair")
    if not np.all(hi > lo) or lo[0] < 0 or lo[1] < 0 or hi[1] > 1:
        raise ValueError(f"invalid bounds: LAI {lai_bounds}, soil moisture {soil_moisture_bounds}")
    for pol in ("vh", "vv"):
        if np.size(getattr(coefficients, pol).c) != 1:
            raise ValueError("the inversion needs scalar coefficients (reduce a per-scene-date C first)")
    dt = jnp.dtype(dtype) if dtype is not None else jnp.result_type(float)
    arr = lambda x: jnp.asarray(x, dt)  # noqa: E731
    co = jax.tree.map(lambda v: arr(np.reshape(np.asarray(v, np.float64), ())), coefficients)
    return WaterCloudProblem(coefficients=co, low=arr(lo), high=arr(hi), band_weight=arr(1.0 / sig),
                             moisture_prior=arr(mp), free=WCM_FREE)


def invert_water_cloud(s1_db: ArrayLike, incidence_deg: ArrayLike,
                       coefficients: RadarCoefficients, *, solver="lm", **kwargs) -> InversionResult:
    """LAI and soil moisture per pixel from ``s1_db (b, 2)`` ([vh, vv], dB) at ``incidence_deg`` (``(b,)`` or
    one value, degrees) with scalar water-cloud ``coefficients``.  ``kwargs``: :func:`make_water_cloud_problem`'s
    (``sigma_db``, ``moisture_prior``, bounds) and :func:`~leafjax.inversion.invert`'s (default ``n_starts=4``:
    the backscatter first falls then rises with LAI where the canopy attenuates the soil more than it scatters,
    so one start can end in the wrong branch).

    **Returns:** :class:`~leafjax.inversion.InversionResult`: ``estimates["lai"]`` (m² m⁻²),
    ``estimates["soil_moisture"]`` (m³ m⁻³), ``std`` (Gauss–Newton with the stated σ and prior), ``rmse`` (dB),
    ``status``, ``quality`` (``at_bound`` where LAI is pinned: saturated or bare).

    Example:
        >>> import numpy as np
        >>> from leafjax.physics.radar import backscatter_db, default_radar_coefficients
        >>> co = default_radar_coefficients(dtype=np.float64)
        >>> obs = np.asarray(backscatter_db(np.array([1.0, 3.0]), 0.2, 39.0, co).stack(-1))
        >>> res = invert_water_cloud(obs, 39.0, co, sigma_db=0.5)
        >>> np.round(np.asarray(res.estimates["lai"]), 2).tolist()
        [1.0, 3.0]
    """
    keys = ("sigma_db", "moisture_prior", "lai_bounds", "soil_moisture_bounds", "dtype")
    problem = make_water_cloud_problem(coefficients, **{k: kwargs.pop(k) for k in keys if k in kwargs})
    obs = jnp.asarray(s1_db, problem.dtype)
    if obs.ndim != 2 or obs.shape[-1] != 2:
        raise ValueError(f"s1_db must have shape (b, 2) ([vh, vv] dB), got {obs.shape}")
    theta = np.asarray(incidence_deg, np.float64)
    if theta.ndim not in (0, 1) or (theta.ndim == 1 and theta.shape[0] != obs.shape[0]):
        raise ValueError(f"incidence_deg must be one value or ({obs.shape[0]},), got {theta.shape}")
    if np.any(~np.isfinite(theta)) or np.any((theta < 0) | (theta >= 89)):
        raise ValueError("incidence_deg must be finite and in [0, 89) degrees")
    kwargs.setdefault("noise_std", 1.0)
    kwargs.setdefault("n_starts", 4)  # the model is not monotonic in LAI at low LAI: several grid starts
    return invert(problem, obs, solver=solver, fixed={"incidence_deg": np.broadcast_to(theta, obs.shape[:1])},
                  **kwargs)
