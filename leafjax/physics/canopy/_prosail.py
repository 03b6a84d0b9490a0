"""PROSAIL: a PROSPECT leaf model coupled to 4SAIL over a soil model.

:func:`prosail` is the pure functional form (leaf parameters → PROSPECT → 4SAIL with a given soil spectrum);
:class:`Prosail` bundles a leaf model and a soil model on one wavelength grid; :func:`simulate_prosail` runs a
table of canonical parameters (one row per simulation, mixed ``lidf_type`` allowed), the entry point for the
command-line interface.

References:
    Jacquemoud, S. et al. (2009) PROSPECT + SAIL models: a review of use for vegetation characterization.
    Remote Sens. Environ. 113:S56–S66, doi:10.1016/j.rse.2008.01.026.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..._parameters import MODELS, ParameterSpec
from ...core import AbstractForwardModel, jit_if_concrete
from .. import AbstractLeafModel, AbstractLeafParams, get_leaf_model
from ._inputs import ProsailParams, SunViewGeometry
from ._sail import CanopyParams, CanopyReflectance, sail
from ..soil._soil import AbstractSoilModel, DryWetSoil, DryWetSoilParams

#: The four top-of-canopy reflectance factors, in the order used by tables and files.
REFLECTANCE_FACTORS: tuple[str, ...] = ("rsot", "rddt", "rsdt", "rdot")


def prosail(leaf_params: AbstractLeafParams, canopy_params: CanopyParams, soil: Float[ArrayLike, "*batch wl"],
            leaf_model: AbstractLeafModel, *, block_size: int | None | str = "auto") -> CanopyReflectance:
    """PROSAIL canopy reflectance: ``sail(*leaf_model(leaf_params), soil, canopy_params)``.

    **Arguments:**
    - ``leaf_params``: parameters of ``leaf_model`` (e.g. :class:`~leafjax.physics.ProspectDParams`).
    - ``canopy_params``: :class:`CanopyParams`.
    - ``soil``: soil reflectance on the leaf model's grid, ``(*batch, wl)`` (e.g. ``DryWetSoil(...)(params)``).
    - ``leaf_model``: a PROSPECT model (:class:`~leafjax.physics.ProspectD` / ``ProspectPro``).
    - ``block_size``: passed to the leaf model and to :func:`sail` (row blocks on CPU; ``None``: all at once;
      ``"auto"``: each picks its own CPU block size, none on other backends).

    **Returns:** :class:`CanopyReflectance` with batch shape the broadcast of all inputs' batch shapes.

    Example:
        >>> from leafjax.physics import ProspectD, ProspectDParams
        >>> wl = range(400, 2401)
        >>> leaf = ProspectDParams(n_struct=1.5, chl=40.0, car=8.0, ewt=0.01, lma=0.005)
        >>> soil = DryWetSoil(wl)(DryWetSoilParams(soil_brightness=1.0, soil_dryness=0.5))
        >>> out = prosail(leaf, CanopyParams(lai=3.0, lidf_a=57.0, hotspot=0.1, sza=30.0, vza=0.0, raa=0.0),
        ...               soil, ProspectD(wl))
        >>> out.rsot.shape
        (2001,)
    """
    optics = leaf_model(leaf_params, block_size=block_size)
    return sail(optics.reflectance, optics.transmittance, soil, canopy_params, block_size=block_size)


class Prosail(AbstractForwardModel):
    """A leaf model and a soil model on one wavelength grid; ``__call__`` runs PROSAIL.

    An :class:`~leafjax.core.AbstractForwardModel`: ``model(ProsailParams(leaf, canopy, soil), conditions)``
    with optional :class:`SunViewGeometry` conditions; the original form ``model(leaf, canopy, soil)`` stays
    valid.  ``specs`` lists every PROSAIL parameter of the registry (leaf parameters of both PROSPECT versions);
    :attr:`parameter_names` those of this instance's leaf model.

    **Arguments:**
    - ``leaf_model``: a model name (``"prospect-d"``, ``"prospect-pro"``) or an :class:`AbstractLeafModel`.
    - ``soil_model``: an :class:`AbstractSoilModel` on the same grid; default :class:`DryWetSoil`.
    - ``wavelengths``: grid (nm, 1-nm steps within 400–2500) when models are built by name; ``dtype``.

    Example:
        >>> from leafjax.physics import ProspectDParams
        >>> model = Prosail("prospect-d", wavelengths=range(400, 2401), dtype=jnp.float32)
        >>> out = model(ProspectDParams(n_struct=1.5, chl=40.0, car=8.0),
        ...             CanopyParams(lai=2.0, lidf_a=-0.35, lidf_b=-0.15, lidf_type="verhoef"),
        ...             DryWetSoilParams(soil_brightness=1.0, soil_dryness=0.5))
        >>> out.rsot.dtype
        dtype('float32')
    """

    leaf_model: AbstractLeafModel
    soil_model: AbstractSoilModel
    params_type: ClassVar[type] = ProsailParams
    specs: ClassVar[tuple[ParameterSpec, ...]] = MODELS["prosail"]

    def __init__(self, leaf_model: str | AbstractLeafModel = "prospect-d", soil_model: AbstractSoilModel | None = None,
                 *, wavelengths=None, dtype=None):
        if isinstance(leaf_model, str):
            leaf_model = get_leaf_model(leaf_model, wavelengths=wavelengths, dtype=dtype)
        grid = np.asarray(leaf_model.wavelengths)
        if soil_model is None:
            soil_model = DryWetSoil(grid, dtype=leaf_model.wavelengths.dtype)
        if soil_model.wavelengths.shape != leaf_model.wavelengths.shape or not np.allclose(
                np.asarray(soil_model.wavelengths), grid):
            raise ValueError("leaf and soil models must share one wavelength grid")
        self.leaf_model = leaf_model
        self.soil_model = soil_model

    @property
    def wavelengths(self) -> Float[Array, "wl"]:
        return self.leaf_model.wavelengths

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Leaf-model, canopy and soil parameter names of this instance."""
        soil = getattr(self.soil_model, "params_type", None)
        return (*self.leaf_model.params_type.names, *CanopyParams.names, *(soil.names if soil else ()))

    @jit_if_concrete
    def __call__(self, params: ProsailParams | AbstractLeafParams,
                 conditions: SunViewGeometry | CanopyParams | None = None, soil_params=None, *,
                 block_size: int | None | str = "auto") -> CanopyReflectance:
        """PROSAIL reflectance factors.

        **Call forms:**
        - ``model(ProsailParams(leaf, canopy, soil), conditions=None)``: ``conditions`` an optional
          :class:`SunViewGeometry` replacing the canopy parameters' ``sza``, ``vza``, ``raa``;
        - ``model(leaf_params, canopy_params, soil_params)`` (the original form).

        ``block_size``: as in :func:`prosail`.

        **Returns:** :class:`CanopyReflectance`, batch shape the broadcast of the inputs'.
        """
        if isinstance(params, ProsailParams):
            if soil_params is not None or isinstance(conditions, CanopyParams):
                raise TypeError("pass either ProsailParams (and optional SunViewGeometry conditions) or "
                                "(leaf_params, canopy_params, soil_params)")
            leaf, canopy, soil = params.leaf, params.canopy, params.soil
        else:
            if not isinstance(conditions, CanopyParams) or soil_params is None:
                raise TypeError("Prosail takes ProsailParams, or leaf_params, canopy_params and soil_params")
            leaf, canopy, soil, conditions = params, conditions, soil_params, None
        if conditions is not None:
            if not isinstance(conditions, SunViewGeometry):
                raise TypeError(f"conditions must be a SunViewGeometry, got {type(conditions).__name__}")
            canopy = conditions.apply(canopy)
        return prosail(leaf, canopy, self.soil_model(soil), self.leaf_model, block_size=block_size)


def _build(cls, table: Mapping[str, np.ndarray], names, index):
    kwargs = {n: jnp.asarray(table[n][index]) for n in names if n in table}
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"missing parameter column(s) for {cls.__name__}: {err}") from None


@eqx.filter_jit
def _run(model: Prosail, leaf, canopy, soil) -> CanopyReflectance:
    return model(leaf, canopy, soil)


def simulate_prosail(table: Mapping[str, Any], model: Prosail | None = None, *, leaf_model: str = "prospect-d",
                     wavelengths=None, dtype=None) -> CanopyReflectance:
    """Run PROSAIL for every row of a table of canonical parameters (host-level; rows grouped by ``lidf_type``).

    **Arguments:**
    - ``table``: mapping (e.g. a ``pandas.DataFrame`` or dict of 1-D arrays) with the leaf-model parameter names
      (e.g. ``n_struct, chl, car, ant, brown, ewt, lma``), the canopy names ``lai, lidf_type, lidf_a, lidf_b,
      hotspot, sza, vza, raa`` and the soil names ``soil_brightness, soil_dryness``; optional columns take the
      defaults of :class:`CanopyParams` and the leaf parameter class. ``lidf_type`` may be a column of strings
      (``campbell`` / ``verhoef``) or absent (Campbell).
    - ``model``: a :class:`Prosail`; default ``Prosail(leaf_model, wavelengths=wavelengths, dtype=dtype)``.

    **Returns:** :class:`CanopyReflectance` with batch shape ``(rows,)``, rows in table order.

    Raises:
        ValueError: for a missing required column or an unknown ``lidf_type``.
    """
    model = Prosail(leaf_model, wavelengths=wavelengths, dtype=dtype) if model is None else model
    dt = model.wavelengths.dtype
    cols = {k: np.asarray(table[k]) for k in table.keys()}
    n = len(next(iter(cols.values())))
    types = np.asarray(cols.pop("lidf_type", np.full(n, "campbell")), dtype=str)
    table_f = {k: v.astype(np.dtype(dt)) for k, v in cols.items() if v.dtype.kind in "fiub"}
    leaf_cls = model.leaf_model.params_type
    parts, order = [], []
    for t in sorted(set(types.tolist())):
        index = np.flatnonzero(types == t)
        leaf = _build(leaf_cls, table_f, leaf_cls.names, index)
        canopy = _build(lambda **kw: CanopyParams(**kw, lidf_type=t), table_f, CanopyParams.names, index)
        soil = _build(DryWetSoilParams, table_f, DryWetSoilParams.names, index)
        parts.append(_run(model, leaf, canopy, soil))
        order.append(index)
    inverse = np.argsort(np.concatenate(order))
    return jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=0)[inverse], *parts)
