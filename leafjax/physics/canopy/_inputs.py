"""Inputs of the PROSAIL forward model as one pytree, and its observation conditions (sun/view geometry)."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..leaf import AbstractLeafParams
from ._sail import CanopyParams

_asarray = jnp.asarray


class SunViewGeometry(eqx.Module):
    """Observation conditions of a canopy model: solar zenith ``sza``, view zenith ``vza`` (degrees, in [0, 90))
    and relative azimuth ``raa`` (degrees; 0 = backscatter/hotspot side).  Fields broadcast against each other.

    Passed as ``conditions`` to :class:`~leafjax.physics.canopy.Prosail`, it replaces the geometry fields of the
    canopy parameters (known per observation, not estimated).
    """

    sza: Float[Array, "*batch"] = eqx.field(converter=_asarray)
    vza: Float[Array, "*batch"] = eqx.field(converter=_asarray)
    raa: Float[Array, "*batch"] = eqx.field(converter=_asarray)

    names: ClassVar[tuple[str, ...]] = ("sza", "vza", "raa")

    def apply(self, canopy: CanopyParams) -> CanopyParams:
        """``canopy`` with its ``sza``, ``vza``, ``raa`` replaced by these."""
        return eqx.tree_at(lambda c: (c.sza, c.vza, c.raa), canopy, (self.sza, self.vza, self.raa))


class ProsailParams(eqx.Module):
    """All PROSAIL parameters as one pytree: ``leaf`` (e.g. :class:`~leafjax.physics.ProspectDParams`),
    ``canopy`` (:class:`CanopyParams`) and ``soil`` (the soil model's parameters, e.g. ``DryWetSoilParams``).
    Units: see each part (and :mod:`leafjax._parameters`)."""

    leaf: AbstractLeafParams
    canopy: CanopyParams
    soil: eqx.Module
