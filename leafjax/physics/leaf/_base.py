"""Abstract leaf model and the leaf-optics container."""

from __future__ import annotations

import abc
from typing import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ...core import AbstractForwardModel, jit_if_concrete
from ._coefficients import OpticalConstants, load_optical_constants
from ._params import AbstractLeafParams
from ._plate import interfaces, plate_model_from_interfaces

#: Spectra per block when a large batch is evaluated on CPU: keeps every materialised intermediate of the plate
#: model in L2 (XLA:CPU does not fuse the whole model into one loop). 16 measured best of 8..64 in float32 and
#: float64 on the 2-core Zen 5 (benchmarks/forward.py; 32 within ~5-10 %).
CPU_BLOCK_SIZE = 16


def _default_block_size() -> int | None:
    return CPU_BLOCK_SIZE if jax.default_backend() == "cpu" else None


class LeafOptics(eqx.Module):
    """Leaf directional-hemispherical reflectance and transmittance.

    **Fields:** ``reflectance``, ``transmittance``: fractions, shape ``(*batch, wl)``; ``wavelengths``: nm,
    shape ``(wl,)``.
    """

    reflectance: Float[Array, "*batch wl"]
    transmittance: Float[Array, "*batch wl"]
    wavelengths: Float[Array, "wl"]

    @property
    def absorptance(self) -> Float[Array, "*batch wl"]:
        """``1 - R - T``."""
        return 1.0 - self.reflectance - self.transmittance


class AbstractLeafModel(AbstractForwardModel):
    """A PROSPECT-family leaf model bound to a set of optical constants on a wavelength grid.

    Subclasses define the absorption coefficient of the elementary layer; the plate model is shared.  Calling a
    model on a parameter pytree returns :class:`LeafOptics` with shape ``(*batch, wl)``.  A leaf model is a
    :class:`~leafjax.core.AbstractForwardModel` without observation conditions; its ``specs`` (units, physical
    bounds, defaults) come from :mod:`leafjax._parameters`.
    """

    constants: eqx.AbstractVar[OpticalConstants]
    name: eqx.AbstractClassVar[str]
    params_type: eqx.AbstractClassVar[type[AbstractLeafParams]]

    @abc.abstractmethod
    def absorption(self, params: AbstractLeafParams) -> Float[Array, "*batch wl"]:
        """Absorption coefficient of the elementary layer, :math:`\\sum_i C_i K_i / N` (dimensionless)."""

    @jit_if_concrete
    def __call__(self, params: AbstractLeafParams, conditions: object = None, *,  # must be None: checked below
                 block_size: int | None | str = "auto") -> LeafOptics:
        """Leaf optics for a batch of parameters.

        **Arguments:**
        - ``params``: the model's parameter pytree (fields broadcast to the batch shape).
        - ``conditions``: must be ``None`` (a leaf model has no observation conditions; the argument exists for
          the :class:`~leafjax.core.AbstractForwardModel` interface).
        - ``block_size``: evaluate the flattened batch in blocks of this many spectra (``lax.map``), which is
          ~2-3x faster on CPU for large batches; ``None`` evaluates everything at once (best on GPU);
          ``"auto"``: blocks on the CPU backend, none otherwise. Results are identical either way.

        **Returns:** :class:`LeafOptics` with arrays of shape ``(*batch, wl)``.
        """
        if not isinstance(params, self.params_type):
            raise TypeError(f"{type(self).__name__} takes {self.params_type.__name__}, got {type(params).__name__}")
        if conditions is not None:
            raise TypeError(f"{type(self).__name__} takes no observation conditions, got {type(conditions).__name__}")
        iface = interfaces(self.constants.nr)
        shape = params.batch_shape
        if block_size == "auto":
            block_size = _default_block_size()
        size = int(np.prod(shape)) if shape else 1
        if block_size is None or size <= block_size:
            refl, tran = self._optics(params, iface)
        else:
            flat = type(params)(**{k: jnp.reshape(v, (size,)) for k, v in params.to_dict().items()})

            def block(p):
                return self._optics(type(params)(**{k: getattr(p, k) for k in params.names}), iface)

            refl, tran = jax.lax.map(block, flat, batch_size=block_size)
            refl = jnp.reshape(refl, shape + refl.shape[-1:])
            tran = jnp.reshape(tran, shape + tran.shape[-1:])
        return LeafOptics(refl, tran, self.constants.wavelengths)

    def _optics(self, params: AbstractLeafParams, iface) -> tuple[Array, Array]:
        k = self.absorption(params)
        n = jnp.broadcast_to(jnp.asarray(params.n_struct), k.shape[:-1])[..., None]
        return plate_model_from_interfaces(k, n, iface)

    @property
    def wavelengths(self) -> Float[Array, "wl"]:
        return self.constants.wavelengths

    @property
    def n_bands(self) -> int:
        return self.constants.n_bands


def _weighted_sum(params: AbstractLeafParams, pairs: Sequence[tuple[str, Array]]) -> Array:
    """``sum_i params.<name_i>[..., None] * coef_i`` over ``(*batch, wl)`` with explicit broadcasting."""
    shape = params.batch_shape
    nd = len(shape)
    inv_n = 1.0 / jnp.broadcast_to(jnp.asarray(params.n_struct), shape)[..., None]  # once per spectrum
    total = None
    for name, coef in pairs:
        c = jnp.broadcast_to(jnp.asarray(getattr(params, name)), shape)[..., None] * inv_n
        term = c * jnp.reshape(coef, (1,) * nd + coef.shape)
        total = term if total is None else total + term
    return total


def resolve_constants(wavelengths, constants: OpticalConstants | str | None, dtype) -> OpticalConstants:
    """Shared constructor logic: packaged constants unless given (``None``: the published table; a string: the
    packaged table of that name, see :data:`~leafjax.physics.leaf.CONSTANT_TABLES`), then optional wavelength
    selection/cast."""
    if constants is None or isinstance(constants, str):
        constants = load_optical_constants(dtype=dtype, table=constants or "published")
    elif dtype is not None:
        constants = constants.astype(dtype)
    if wavelengths is not None:
        constants = constants.select(np.asarray(wavelengths))
    return constants
