r"""Spectral axes: positions in nanometres, micrometres or wavenumbers, and conversions between them.

.. math:: \lambda_{\mu m} = 10^{-3}\,\lambda_{nm}, \qquad \tilde\nu_{cm^{-1}} = \frac{10^{7}}{\lambda_{nm}}

Only *positions* are converted (band centres, grid points, FWHM via the band edges); densities per unit of the
axis (e.g. a spectrum per cm⁻¹) would also need the Jacobian :math:`|d\lambda/d\tilde\nu|`, which is not applied.
Reflectance and transmittance are ratios, so they need none.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

#: Canonical unit names and accepted spellings.
UNITS: tuple[str, ...] = ("nm", "um", "cm-1")
_ALIASES: dict[str, str] = {"nm": "nm", "nanometre": "nm", "nanometer": "nm", "um": "um", "µm": "um",
                            "μm": "um", "micron": "um", "micrometre": "um", "micrometer": "um", "cm-1": "cm-1",
                            "cm^-1": "cm-1", "cm⁻¹": "cm-1", "1/cm": "cm-1", "wavenumber": "cm-1"}
#: Nanometres per micrometre.
NM_PER_UM: float = 1.0e3
#: Wavenumber (cm⁻¹) times wavelength (nm): 1 cm = 10⁷ nm.
NM_CM1: float = 1.0e7


def canonical_unit(unit: str) -> str:
    """The canonical name (``"nm"``, ``"um"`` or ``"cm-1"``) of a unit spelling.

    Raises:
        ValueError: for an unknown unit.
    """
    key = unit if unit in _ALIASES else str(unit).strip().lower()
    try:
        return _ALIASES[key]
    except KeyError:
        raise ValueError(f"unknown spectral unit {unit!r}; use one of {', '.join(UNITS)}") from None


def _np_or_jnp(x):
    return np if isinstance(x, (np.ndarray, float, int, list, tuple)) else jnp


def _as_array(values):
    xp = _np_or_jnp(values)
    return xp.asarray(values, dtype=float) if xp is np else jnp.asarray(values)


def to_nm(values: Float[ArrayLike, "*n"], unit: str) -> Float[ArrayLike, "*n"]:
    """Positions in ``unit`` converted to wavelengths in nm (numpy in → numpy out, JAX in → JAX out)."""
    unit, x = canonical_unit(unit), _as_array(values)
    return x if unit == "nm" else x * NM_PER_UM if unit == "um" else NM_CM1 / x


def from_nm(values: Float[ArrayLike, "*n"], unit: str) -> Float[ArrayLike, "*n"]:
    """Wavelengths in nm converted to positions in ``unit``."""
    unit, x = canonical_unit(unit), _as_array(values)
    return x if unit == "nm" else x / NM_PER_UM if unit == "um" else NM_CM1 / x


def convert(values: Float[ArrayLike, "*n"], from_unit: str, to_unit: str) -> Float[ArrayLike, "*n"]:
    """Spectral positions converted between ``"nm"``, ``"um"`` and ``"cm-1"``.

    Example:
        >>> float(convert(10.0, "um", "cm-1")), float(convert(1000.0, "cm-1", "nm"))
        (1000.0, 10000.0)
    """
    if canonical_unit(from_unit) == canonical_unit(to_unit):
        xp = _np_or_jnp(values)
        return xp.asarray(values, dtype=float) if xp is np else jnp.asarray(values)
    return from_nm(to_nm(values, from_unit), to_unit)


class SpectralAxis(eqx.Module):
    """Positions of a spectral grid with their unit.

    **Fields:** ``values`` ``(n,)`` (positions in ``unit``); ``unit`` (static: ``"nm"``, ``"um"`` or ``"cm-1"``).

    Example:
        >>> axis = SpectralAxis([8.0, 10.0, 12.0], "um")
        >>> [round(v, 3) for v in axis.to("cm-1").values.tolist()]
        [1250.0, 1000.0, 833.333]
    """

    values: Float[Array, "n"]
    unit: str = eqx.field(static=True, default="nm")

    def __init__(self, values: Float[ArrayLike, "n"] | Sequence[float], unit: str = "nm"):
        self.unit = canonical_unit(unit)
        v = jnp.asarray(values)
        self.values = v if jnp.issubdtype(v.dtype, jnp.floating) else v.astype(jnp.result_type(float))
        if self.values.ndim != 1:
            raise ValueError(f"a spectral axis is one-dimensional, got shape {self.values.shape}")

    def to(self, unit: str) -> "SpectralAxis":
        """The same positions in another unit (order unchanged: wavenumbers decrease where wavelengths grow)."""
        return SpectralAxis(convert(self.values, self.unit, unit), unit)

    @property
    def nm(self) -> Float[Array, "n"]:
        """Positions as wavelengths in nm."""
        return to_nm(self.values, self.unit)

    @property
    def size(self) -> int:
        return int(self.values.shape[0])
