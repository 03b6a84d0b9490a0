r"""The abstract inversion problem shared by the leaf (PROSPECT R/T) and canopy (PROSAIL bands) inversions.

A problem maps ``p`` bounded physical parameters :math:`\theta` (canonical units, bounds ``low``/``high``) of
every row (spectrum or pixel) to a predicted observation vector of length ``n_obs``, through the smooth
bijection :math:`\theta = \mathrm{low} + (\mathrm{high} - \mathrm{low})\,\sigma(z)`
(:func:`leafjax.inversion.to_bounded`).  With band weights :math:`w` (0 = masked) the residuals of a row are

.. math:: r(z) = \big[(F(\theta(z)) - y)\odot w,\; (\theta(z) - \mu)\odot\pi\big],

the second block being optional Gaussian priors (mean :math:`\mu`, precision-root :math:`\pi = 1/\sigma`).
Per-row known values (fixed parameters, geometry) travel in ``context``, a dict of ``(b,)`` arrays.

:func:`leafjax.inversion.invert` solves any final subclass with any
:class:`~leafjax.inversion.AbstractBatchedSolver`.
"""

from __future__ import annotations

import abc
from typing import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._bounds import to_bounded, to_unconstrained
from ._lm import linearise
from ._solver import AbstractBatchedSolver

#: Per-row known values: ``{name: (b, ...)}`` (a scalar per row, or a per-row array such as atmospheric terms).
Context = dict[str, Float[Array, "b *rest"]]


class AbstractProblem(eqx.Module):
    """What to estimate and how (abstract; subclasses are final).

    **Attributes** (abstract):
    - ``free``: names of the ``p`` estimated parameters (static).
    - ``low``, ``high``: their bounds ``(p,)`` (canonical units).
    - ``band_weight``: non-negative weights ``(n_obs,)`` of the observation vector (e.g. ``1/σ`` per band).
    """

    free: eqx.AbstractVar[tuple[str, ...]]
    low: eqx.AbstractVar[Float[Array, " p"]]
    high: eqx.AbstractVar[Float[Array, " p"]]
    band_weight: eqx.AbstractVar[Float[Array, " n_obs"]]

    # ---- the model -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def predict(self, theta: Float[Array, "b p"], context: Context) -> Float[Array, "b n_obs"]:
        """Predicted observation of every row from its bounded free parameters ``theta`` (canonical units)."""

    def forward(self, z: Float[Array, "b p"], context: Context) -> Float[Array, "b n_obs"]:
        """Predicted observation from the unconstrained variables ``z``: ``predict(to_bounded(z), context)``."""
        return self.predict(self.to_bounded(z), context)

    def to_bounded(self, z: Float[Array, "*b p"]) -> Float[Array, "*b p"]:
        """Unconstrained ``z`` → bounded ``theta`` (canonical units)."""
        return to_bounded(z, self.low, self.high)

    def to_unconstrained(self, theta: Float[Array, "*b p"]) -> Float[Array, "*b p"]:
        """Bounded ``theta`` → unconstrained ``z`` (clipped just inside the bounds)."""
        return to_unconstrained(theta, self.low, self.high)

    def forward_and_jacobian(self, z: Float[Array, "b p"], context: Context
                             ) -> tuple[Float[Array, "b n_obs"], Float[Array, "b n_obs p"]]:
        """:meth:`forward` and its Jacobian with respect to ``z``; default: one primal pass plus ``p`` forward
        tangents (``jax.linearize``).  Problems with structure (e.g. PROSPECT's ``k``, ``N``) override it."""
        return linearise(lambda zz: self.forward(zz, context), z)

    def prior_residuals(self, z: Float[Array, "b p"]) -> Float[Array, "b q"] | None:
        """Residuals of the priors at ``z`` (``None``: no priors)."""
        return None

    def prior_jacobian(self, z: Float[Array, "b p"]) -> Float[Array, "b q p"] | None:
        """Jacobian of :meth:`prior_residuals` with respect to ``z``."""
        return None

    # ---- reporting -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def estimates(self, theta: Float[Array, "b p"], context: Context) -> dict[str, Float[Array, " b"]]:
        """Reported parameter values ``{name: (b,)}`` (free and fixed, canonical units)."""

    def derived(self, theta: Float[Array, "b p"], context: Context) -> dict[str, Float[Array, " b"]]:
        """Quantities derived from the parameters (e.g. ``lma``, ``nitrogen``, ``fcover``); their 1-σ is
        propagated from the covariance of ``theta`` by ``jax.jacfwd``.  Default: none."""
        return {}

    # ---- inputs ----------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def initial_guess(self, obs: Float[Array, "b n_obs"], weight: Float[Array, "b n_obs"], context: Context,
                      n_starts: int) -> Float[Array, "b s p"]:
        """``n_starts`` unconstrained starting points per row (e.g. the best look-up-table matches)."""

    def observation(self, observed, **kwargs) -> Float[Array, "*b n_obs"]:
        """The observation vector ``(*b, n_obs)`` from the user's input (default: ``observed`` as given)."""
        if kwargs and any(v is not None for v in kwargs.values()):
            raise ValueError(f"{type(self).__name__} takes the observations as `observed`, not {sorted(kwargs)}")
        if observed is None:
            raise ValueError("pass the observations")
        obs = jnp.asarray(observed, self.dtype)
        if obs.ndim < 1 or obs.shape[-1] != self.n_obs:
            raise ValueError(f"observations have {obs.shape[-1:]} bands but the problem expects {self.n_obs}")
        return obs

    def expand_mask(self, mask, batch: tuple[int, ...]) -> Array:
        """A boolean band mask ``(*b, n)`` or ``(n,)`` (``n = n_obs``, or a divisor of it, tiled: e.g. one mask
        for R and T) as ``(*b, n_obs)``."""
        m = jnp.asarray(mask, bool)
        if m.shape[-1] != self.n_obs:
            if m.ndim == 0 or self.n_obs % m.shape[-1]:
                raise ValueError(f"mask has {m.shape[-1:]} bands; expected {self.n_obs}")
            m = jnp.concatenate([m] * (self.n_obs // m.shape[-1]), -1)
        return jnp.broadcast_to(m, batch + (self.n_obs,))

    @abc.abstractmethod
    def context(self, fixed: Mapping[str, Array] | None, size: int, batch: tuple[int, ...]) -> Context:
        """Per-row known values ``{name: (size,)}`` from the problem's defaults and ``fixed`` (scalars or
        ``batch``-shaped arrays); raises ``ValueError`` for a free name or a missing required value."""

    def default_solver(self) -> AbstractBatchedSolver:
        """The solver used when :func:`invert` is given none."""
        from ._solver_lm import BatchedLevenbergMarquardt

        return BatchedLevenbergMarquardt()

    # ---- fit quality (leafjax.inversion._quality) ------------------------------------------------------------
    def default_expected_rmse(self) -> float | Array | None:
        """RMSE (observation units) expected from instrument noise and model error: the reference of the
        ``poor_fit`` and ``suspected_wavelength_shift`` flags when :func:`invert` is given neither
        ``expected_rmse`` nor ``noise_std`` (default ``None``: those two checks are off)."""
        return None

    def observation_range(self) -> tuple[float, float] | None:
        """Plausible range of the observations, or ``None`` for fractions (reflectance, transmittance: the input
        checks of :mod:`leafjax.inversion._quality` then flag negative, above-one and percent values).  A problem
        observing another quantity (e.g. brightness temperatures in K) returns its ``(low, high)``: values
        outside are flagged ``out_of_range`` (not inverted) and the fraction checks are off."""
        return None

    def observation_wavelengths(self) -> Float[Array, " n_obs"] | None:
        """Wavelength (nm) of every observation, for the wavelength-shift check (default ``None``: unknown)."""
        return None

    @property
    def n_spectra(self) -> int:
        """Spectra side by side in the observation vector, each checked on its own by the input checks (1)."""
        return 1

    # ---- sizes -----------------------------------------------------------------------------------------------
    @property
    def n_obs(self) -> int:
        return int(self.band_weight.shape[-1])

    @property
    def dtype(self):
        return self.low.dtype


def residuals(problem: AbstractProblem, z: Float[Array, "b p"], data) -> Float[Array, "b m"]:
    """Weighted residuals (and prior residuals) of every row; ``data = (obs, weight, context)``."""
    obs, weight, context = data
    res = (problem.forward(z, context) - obs) * weight
    pr = problem.prior_residuals(z)
    return res if pr is None else jnp.concatenate([res, pr], axis=-1)


def residuals_and_jacobian(problem: AbstractProblem, z: Float[Array, "b p"], data):
    """:func:`residuals` and their Jacobian ``(b, m, p)`` (:meth:`AbstractProblem.forward_and_jacobian`)."""
    obs, weight, context = data
    pred, jac = problem.forward_and_jacobian(z, context)
    res = (pred - obs) * weight
    jac = jac * weight[..., None]
    pr = problem.prior_residuals(z)
    if pr is None:
        return res, jac
    return jnp.concatenate([res, pr], axis=-1), jnp.concatenate([jac, problem.prior_jacobian(z)], axis=-2)


def lut_top_k(obs: Float[Array, "b n"], weight: Float[Array, "b n"], lut_obs: Float[Array, "L n"], n_starts: int,
              stride: int = 1) -> Int[Array, "b s"]:
    """Indices of the ``n_starts`` look-up-table rows closest to each observation (weighted squared error over
    every ``stride``-th band), by one matrix product."""
    o, w, lut = obs[:, ::stride], weight[:, ::stride], lut_obs[:, ::stride]
    wo = o * w
    d = jnp.sum(wo * o, -1, keepdims=True) - 2.0 * wo @ lut.T + w @ (lut**2).T  # (b, L)
    return jax.lax.top_k(-d, n_starts)[1]


def batch_size(batch: tuple[int, ...]) -> int:
    return int(np.prod(batch)) if batch else 1
