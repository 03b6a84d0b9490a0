"""Leaf-model parameter pytrees with canonical names and units.

Every field is an array (or anything ``jnp.asarray`` accepts); fields broadcast against each other, and the
broadcast shape is the batch shape of the simulation.  Units, physical bounds, defaults and sources are declared
once in the parameter registry (:mod:`leafjax._parameters`, tables ``PROSPECT_D`` and ``PROSPECT_PRO``):

========== ========= ===========================================
name       unit      meaning
========== ========= ===========================================
n_struct   –         leaf structure parameter N
chl        µg/cm²    chlorophyll a+b
car        µg/cm²    carotenoids
ant        µg/cm²    anthocyanins
brown      –         brown pigments (arbitrary units)
ewt        g/cm²     equivalent water thickness
lma        g/cm²     leaf mass per area (PROSPECT-D dry matter)
prot       g/cm²     proteins (PROSPECT-PRO)
cbc        g/cm²     carbon-based constituents (PROSPECT-PRO)
========== ========= ===========================================
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ..._constants import PROTEIN_TO_NITROGEN
from ..._parameters import defaults

_asarray = jnp.asarray
#: Canonical defaults of the optional leaf parameters (registry): ant = brown = 0, ewt = 0.01, lma = 0.005.
_D = defaults("prospect-d")
_PRO = defaults("prospect-pro")


class AbstractLeafParams(eqx.Module):
    """Base class of leaf-model parameter pytrees; subclasses list their fields in ``names``."""

    names: eqx.AbstractClassVar[tuple[str, ...]]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of all fields."""
        return jnp.broadcast_shapes(*(jnp.shape(getattr(self, n)) for n in self.names))

    def to_dict(self) -> dict[str, Array]:
        """Fields as a ``{name: array}`` dict, broadcast to the batch shape."""
        shape = self.batch_shape
        return {n: jnp.broadcast_to(getattr(self, n), shape) for n in self.names}

    def broadcast(self):
        """Return a copy whose fields all have the full batch shape."""
        return type(self)(**self.to_dict())


class ProspectDParams(AbstractLeafParams):
    """Parameters of PROSPECT-D (Féret et al. 2017). Units as in the module docstring."""

    names: ClassVar[tuple[str, ...]] = ("n_struct", "chl", "car", "ant", "brown", "ewt", "lma")
    n_struct: Float[ArrayLike, "*batch"] = eqx.field(converter=_asarray)
    chl: Float[ArrayLike, "*batch"] = eqx.field(converter=_asarray)
    car: Float[ArrayLike, "*batch"] = eqx.field(converter=_asarray)
    ant: Float[ArrayLike, "*batch"] = eqx.field(converter=_asarray, default=_D["ant"])
    brown: Float[ArrayLike, "*batch"] = eqx.field(converter=_asarray, default=_D["brown"])
    ewt: Float[ArrayLike, "*batch"] = eqx.field(converter=_asarray, default=_D["ewt"])
    lma: Float[ArrayLike, "*batch"] = eqx.field(converter=_asarray, default=_D["lma"])


class ProspectProParams(AbstractLeafParams):
    """Parameters of PROSPECT-PRO (Féret et al. 2021): dry matter is split into ``prot`` + ``cbc``.

    ``lma`` is derived (``prot + cbc``) and may not be passed together with them.
    """

    names: ClassVar[tuple[str, ...]] = ("n_struct", "chl", "car", "ant", "brown", "ewt", "prot", "cbc")
    n_struct: Float[Array, "*batch"]
    chl: Float[Array, "*batch"]
    car: Float[Array, "*batch"]
    ant: Float[Array, "*batch"]
    brown: Float[Array, "*batch"]
    ewt: Float[Array, "*batch"]
    prot: Float[Array, "*batch"]
    cbc: Float[Array, "*batch"]

    def __init__(self, n_struct, chl, car, ant=_PRO["ant"], brown=_PRO["brown"], ewt=_PRO["ewt"], prot=None, cbc=None,
                 *, lma=None):
        if lma is not None:
            raise ValueError(
                "PROSPECT-PRO takes prot and cbc (g/cm²) and derives lma = prot + cbc; "
                "do not pass lma to PROSPECT-PRO (use PROSPECT-D for lma)"
            )
        if prot is None or cbc is None:
            raise ValueError("PROSPECT-PRO needs both prot and cbc (g/cm²)")
        self.n_struct = _asarray(n_struct)
        self.chl = _asarray(chl)
        self.car = _asarray(car)
        self.ant = _asarray(ant)
        self.brown = _asarray(brown)
        self.ewt = _asarray(ewt)
        self.prot = _asarray(prot)
        self.cbc = _asarray(cbc)

    @property
    def lma(self) -> Array:
        """Leaf mass per area, ``prot + cbc`` (g/cm²)."""
        return self.prot + self.cbc

    @property
    def nitrogen(self) -> Array:
        """Mass-based nitrogen (% of dry mass), see :func:`nitrogen_from_protein`."""
        return nitrogen_from_protein(self.prot, self.cbc)


def nitrogen_from_protein(prot: ArrayLike, cbc: ArrayLike) -> Array:
    r"""Mass-based leaf nitrogen (% of dry mass) from PROSPECT-PRO constituents.

    .. math:: N_{mass} = 100 \cdot \frac{\mathrm{prot} / 4.43}{\mathrm{prot} + \mathrm{cbc}}

    **Arguments:** ``prot``, ``cbc``: protein and carbon-based constituents (g/cm²), broadcastable.

    **Returns:** nitrogen in % of dry mass.

    References: Féret et al. (2021) RSE 252:112173; protein-to-nitrogen factor 4.43 (Féret et al. 2021).
    """
    prot = jnp.asarray(prot)
    return 100.0 * (prot / PROTEIN_TO_NITROGEN) / (prot + jnp.asarray(cbc))


def nitrogen_area_from_protein(prot: ArrayLike) -> Array:
    """Area-based leaf nitrogen (g/m²) from protein content ``prot`` (g/cm²): ``1e4 · prot / 4.43``."""
    return 1.0e4 * jnp.asarray(prot) / PROTEIN_TO_NITROGEN
