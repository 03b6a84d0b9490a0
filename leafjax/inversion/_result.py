"""Inversion results and per-row status codes."""

from __future__ import annotations

import enum

import equinox as eqx
from jaxtyping import Array, Bool, Float, Int


class Status(enum.IntEnum):
    """Per-spectrum outcome of an inversion (stored as int8 in results)."""

    #: relative cost decrease and step both below tolerance.
    CONVERGED = 0
    #: the iteration limit was reached first (estimate usable but not certified); raise ``max_steps``.
    MAX_STEPS = 1
    #: the row was not inverted: no valid band, or an input quality flag of ``leafjax._flags.NOT_INVERTED``
    #: (out of range, all zero, suspected percent, ...; see ``InversionResult.quality``); estimates are NaN.
    INVALID_INPUT = 2
    #: the model or the cost became non-finite during the solve.
    NONFINITE = 3

    @property
    def message(self) -> str:
        return {0: "converged", 1: "maximum number of steps reached; try increasing max_steps",
                2: "not inverted: no valid band, or values out of range / all zero / in percent (see quality)",
                3: "non-finite model output or cost"}[int(self)]


class InversionResult(eqx.Module):
    """Estimates and per-row diagnostics of a batch inversion (leading shape ``*b`` = input batch).

    **Fields:**
    - ``estimates``: ``{name: (*b,)}`` estimated parameters in canonical units (free and fixed ones) and the
      problem's derived quantities (PROSPECT-PRO: ``lma``, ``nitrogen``; canopy: ``fcover``).  Differentiable
      with respect to the observations and the problem's arrays (implicit-function theorem).
    - ``std``: ``{name: (*b,)}`` 1-σ uncertainty of the free parameters from the Gauss–Newton (Laplace)
      covariance at the optimum, mapped to physical units (delta method), and of the derived quantities
      (``jax.jacfwd`` of the problem's ``derived`` through that covariance).
    - ``rmse``: residual root-mean-square error over the used bands (observation units), ``(*b,)``.
    - ``cost``: final objective ``0.5 * sum(residual²)`` including priors, ``(*b,)``.
    - ``iterations``: solver iterations taken, ``(*b,)``; ``status``: :class:`Status` codes, ``(*b,)``.
    - ``quality``: ``int32`` bit mask ``(*b,)`` of :class:`leafjax._flags.Quality` (names and meanings in
      ``leafjax._flags.QUALITY_MEANINGS``; ``leafjax._flags.quality_names(int(q))`` lists them): the input checks
      of the observation and the fit checks (not converged, at a bound, poor fit, suspected wavelength shift),
      see :mod:`leafjax.inversion._quality`.
    - ``at_bound``: ``{free name: bool (*b,)}``: the estimate lies within 0.1 % of its range from a bound.
    - ``fitted``: the model's observation at the estimates ``(*b, n_obs)`` when requested, else ``None``.

    ``params`` and ``iters`` are the names used by the former ``CanopyInversionResult``.
    """

    estimates: dict[str, Float[Array, "*b"]]
    std: dict[str, Float[Array, "*b"]]
    rmse: Float[Array, "*b"]
    cost: Float[Array, "*b"]
    iterations: Int[Array, "*b"]
    status: Int[Array, "*b"]
    quality: Int[Array, "*b"]
    at_bound: dict[str, Bool[Array, "*b"]]
    fitted: Float[Array, "*b n_obs"] | None = None

    @property
    def converged(self):
        return self.status == Status.CONVERGED

    @property
    def params(self) -> dict[str, Float[Array, "*b"]]:
        """Alias of ``estimates`` (canopy results)."""
        return self.estimates

    @property
    def iters(self) -> Int[Array, "*b"]:
        """Alias of ``iterations`` (canopy results)."""
        return self.iterations
