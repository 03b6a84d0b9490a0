"""PROSPECT-D and PROSPECT-PRO leaf models (final classes) and their functional forms."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from jaxtyping import Array, Float

from ..._parameters import PROSPECT_D, PROSPECT_PRO, ParameterSpec
from ._base import AbstractLeafModel, LeafOptics, _weighted_sum, resolve_constants
from ._coefficients import OpticalConstants
from ._params import ProspectDParams, ProspectProParams


class ProspectD(AbstractLeafModel):
    """PROSPECT-D (Féret et al. 2017, RSE 193:204): chlorophylls, carotenoids, anthocyanins, brown pigments,
    water and dry matter (``lma``).

    **Arguments:**
    - ``wavelengths``: optional wavelengths (nm, on the 1-nm grid 400–2500) at which to simulate; only those
      bands are computed. Default: all 2101 bands.
    - ``constants``: optional :class:`OpticalConstants` (e.g. trainable or traced), or the name of a packaged
      table (``"published"``, the default, or ``"recalibrated"``; see :data:`CONSTANT_TABLES`).
    - ``dtype``: optional dtype of the constants (``jnp.float32`` / ``jnp.float64``).

    Example:
        >>> import jax.numpy as jnp
        >>> model = ProspectD(wavelengths=range(400, 2401))
        >>> p = ProspectDParams(n_struct=1.5, chl=40.0, car=8.0, ant=0.5, brown=0.0, ewt=0.012, lma=0.005)
        >>> model(p).reflectance.shape
        (2001,)
    """

    constants: OpticalConstants
    name: ClassVar[str] = "prospect-d"
    params_type: ClassVar[type] = ProspectDParams
    specs: ClassVar[tuple[ParameterSpec, ...]] = PROSPECT_D

    def __init__(self, wavelengths=None, *, constants: OpticalConstants | str | None = None, dtype=None):
        self.constants = resolve_constants(wavelengths, constants, dtype)

    def absorption(self, params: ProspectDParams) -> Float[Array, "*batch wl"]:
        c = self.constants
        return _weighted_sum(params, (("chl", c.k_cab), ("car", c.k_car), ("ant", c.k_anth),
                                      ("brown", c.k_brown), ("ewt", c.k_cw), ("lma", c.k_cm)))


class ProspectPro(AbstractLeafModel):
    """PROSPECT-PRO (Féret et al. 2021, RSE 252:112173): as PROSPECT-D with dry matter split into proteins
    (``prot``) and carbon-based constituents (``cbc``); ``lma = prot + cbc``.

    Arguments as :class:`ProspectD`.
    """

    constants: OpticalConstants
    name: ClassVar[str] = "prospect-pro"
    params_type: ClassVar[type] = ProspectProParams
    specs: ClassVar[tuple[ParameterSpec, ...]] = PROSPECT_PRO

    def __init__(self, wavelengths=None, *, constants: OpticalConstants | str | None = None, dtype=None):
        self.constants = resolve_constants(wavelengths, constants, dtype)

    def absorption(self, params: ProspectProParams) -> Float[Array, "*batch wl"]:
        c = self.constants
        return _weighted_sum(params, (("chl", c.k_cab), ("car", c.k_car), ("ant", c.k_anth),
                                      ("brown", c.k_brown), ("ewt", c.k_cw), ("prot", c.k_prot),
                                      ("cbc", c.k_cbc)))


def prospect_d(params: ProspectDParams, constants: OpticalConstants) -> LeafOptics:
    """Functional PROSPECT-D: leaf R and T, shape ``(*batch, wl)``, on the grid of ``constants``."""
    return ProspectD(constants=constants)(params)


def prospect_pro(params: ProspectProParams, constants: OpticalConstants) -> LeafOptics:
    """Functional PROSPECT-PRO: leaf R and T, shape ``(*batch, wl)``, on the grid of ``constants``."""
    return ProspectPro(constants=constants)(params)


LEAF_MODELS: dict[str, type[AbstractLeafModel]] = {"prospect-d": ProspectD, "prospect-pro": ProspectPro}


def get_leaf_model(name: str, wavelengths=None, dtype=None, constants: str = "published") -> AbstractLeafModel:
    """Build a leaf model by name (``"prospect-d"`` or ``"prospect-pro"``) on the packaged optical-constant
    table ``constants`` (``"published"`` or ``"recalibrated"``).

    Raises:
        ValueError: for an unknown name.
    """
    key = name.lower().replace("_", "-")
    if key not in LEAF_MODELS:
        raise ValueError(f"unknown leaf model {name!r}; choose one of: {', '.join(LEAF_MODELS)}")
    return LEAF_MODELS[key](wavelengths=None if wavelengths is None else np.asarray(wavelengths), dtype=dtype,
                            constants=constants)
