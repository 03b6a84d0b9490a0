"""Inversion results and per-spectrum status codes."""

from __future__ import annotations

import enum

import equinox as eqx
from jaxtyping import Array, Float, Int


class Status(enum.IntEnum):
    """Per-spectrum outcome of an inversion (stored as int8 in results)."""

    #: relative cost decrease and step both below tolerance.
    CONVERGED = 0
    #: the iteration limit was reached first (estimate usable but not certified); raise ``max_steps``.
    MAX_STEPS = 1
    #: the spectrum had no valid band, or the model/cost became non-finite.
    INVALID_INPUT = 2
    NONFINITE = 3

    @property
    def message(self) -> str:
        return {0: "converged", 1: "maximum number of steps reached; try increasing max_steps",
                2: "no valid band in the spectrum (all masked, NaN or out of range)",
                3: "non-finite model output or cost"}[int(self)]


class InversionResult(eqx.Module):
    """Estimates and per-spectrum diagnostics of a batch inversion (leading shape ``*b`` = input batch).

    **Fields:**
    - ``estimates``: ``{name: (*b,)}`` estimated parameters in canonical units (free and fixed ones; for
      PROSPECT-PRO also ``lma`` and ``nitrogen`` derived from ``prot`` and ``cbc``).
    - ``std``: ``{name: (*b,)}`` 1-σ uncertainty of the free parameters from the Gauss–Newton (Laplace)
      covariance at the optimum, mapped to physical units (delta method); derived traits by error propagation.
    - ``rmse``: residual root-mean-square error over the used bands (reflectance units), ``(*b,)``.
    - ``cost``: final objective ``0.5 * sum(residual²)`` including priors, ``(*b,)``.
    - ``iterations``: LM iterations taken, ``(*b,)``; ``status``: :class:`Status` codes, ``(*b,)``.
    """

    estimates: dict[str, Float[Array, "*b"]]
    std: dict[str, Float[Array, "*b"]]
    rmse: Float[Array, "*b"]
    cost: Float[Array, "*b"]
    iterations: Int[Array, "*b"]
    status: Int[Array, "*b"]

    @property
    def converged(self):
        return self.status == Status.CONVERGED
