"""Shape- and dtype-annotated type aliases used across leafjax (jaxtyping)."""

from __future__ import annotations

from jaxtyping import Array, ArrayLike, Float, Int, Bool

#: A scalar or array broadcastable to a batch of parameter values.
ParamLike = Float[ArrayLike, "*batch"]
#: One spectrum on a wavelength grid.
Spectrum = Float[Array, "wl"]
#: Spectra with any leading batch shape.
Spectra = Float[Array, "*batch wl"]
#: A wavelength grid in nanometres.
Wavelengths = Float[Array, "wl"]
#: Boolean mask over a batch.
BatchMask = Bool[Array, "*batch"]
#: Per-band weights.
BandWeights = Float[Array, "wl"]

__all__ = ["Array", "ArrayLike", "Float", "Int", "Bool", "ParamLike", "Spectrum", "Spectra", "Wavelengths",
           "BatchMask", "BandWeights"]
