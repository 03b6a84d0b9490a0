r"""Soil reflectance models for canopy simulation: the PROSAIL dry/wet mixture, the seven reference soils, and a
low-dimensional, differentiable empirical basis.

- :class:`DryWetSoil` — the PROSAIL convention
  :math:`r_s(\lambda) = b\,[\,d\,r_{dry}(\lambda) + (1 - d)\,r_{wet}(\lambda)\,]` with brightness
  ``soil_brightness`` (:math:`b`) and dryness ``soil_dryness`` (:math:`d`, weight of the dry spectrum), using the
  dry and wet spectra shipped with PyPI ``prosail`` 2.0.5 (``data/soil_dry_wet.csv``).
- :func:`load_reference_soils` — the seven soil spectra of the S2 biophysical-processor ATBD, as packaged in the
  ``prosail`` R package (``data/soil_spectra_atbd.csv``).
- :class:`BasisSoil` — :math:`r_s = \bar r + \sum_k c_k\,u_k` with an orthogonal basis :math:`u_k` from the
  singular-value decomposition of a set of soil spectra (by default the nine spectra above).  This is an
  *empirical* basis fitted here, not the published GSV (Jiang & Fang 2019) or BSM (Verhoef et al. 2018) model,
  whose coefficients are not vendored; with only nine training spectra it spans their variability and should be
  used with priors on the coefficients (they are scaled so that the training set has unit variance).

See ``data/README.md`` for sources.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..._tables import read_packaged_csv, select_rows

_asarray = jnp.asarray

#: Packaged table of the PROSAIL dry and wet soils (columns ``wavelength, dry, wet``; 400–2500 nm).
SOIL_DRY_WET_FILE: str = "soil_dry_wet.csv"
#: Packaged table of the seven ATBD reference soils (columns ``lambda, soil_01 … soil_07``; 400–2500 nm).
SOIL_ATBD_FILE: str = "soil_spectra_atbd.csv"


def _default_dtype(dtype):
    return jnp.result_type(float) if dtype is None else dtype


class SoilLibrary(eqx.Module):
    """A set of named soil reflectance spectra on a wavelength grid.

    **Fields:** ``wavelengths`` (nm, ``(wl,)``), ``spectra`` (fractions, ``(n, wl)``), ``names`` (static).
    """

    wavelengths: Float[Array, "wl"]
    spectra: Float[Array, "n wl"]
    names: tuple[str, ...] = eqx.field(static=True)

    def __getitem__(self, name: str) -> Float[Array, "wl"]:
        try:
            return self.spectra[self.names.index(name)]
        except ValueError:
            raise KeyError(f"unknown soil {name!r}; known: {', '.join(self.names)}") from None


def _read_library(filename: str, wavelengths) -> tuple[list[str], np.ndarray]:
    """Header and float64 rows (optionally at ``wavelengths``) of a packaged soil table."""
    header, data = read_packaged_csv("leafjax.physics.soil", filename)
    if wavelengths is not None:
        data = data[select_rows(data[:, 0], wavelengths)]
    return header, data


def _load_library(filename: str, wavelengths, dtype) -> SoilLibrary:
    header, data = _read_library(filename, wavelengths)
    dt = _default_dtype(dtype)
    return SoilLibrary(wavelengths=jnp.asarray(data[:, 0], dtype=dt), spectra=jnp.asarray(data[:, 1:].T, dtype=dt),
                       names=tuple(header[1:]))


def load_dry_wet_soils(wavelengths=None, dtype=None) -> SoilLibrary:
    """The PROSAIL dry and wet soil spectra (names ``"dry"``, ``"wet"``), optionally at given wavelengths (nm)."""
    return _load_library(SOIL_DRY_WET_FILE, wavelengths, dtype)


def load_reference_soils(wavelengths=None, dtype=None) -> SoilLibrary:
    """The seven reference soils of the ATBD (names ``"soil_01"`` … ``"soil_07"``), 400–2500 nm by default.

    Example:
        >>> load_reference_soils(range(400, 2401)).spectra.shape
        (7, 2001)
    """
    return _load_library(SOIL_ATBD_FILE, wavelengths, dtype)


class AbstractSoilModel(eqx.Module):
    """A soil reflectance model: calling it on its parameter pytree gives spectra of shape ``(*batch, wl)``."""

    wavelengths: eqx.AbstractVar[Float[Array, "wl"]]

    @abc.abstractmethod
    def __call__(self, params) -> Float[Array, "*batch wl"]:
        """Soil reflectance (fraction) for ``params``."""


class DryWetSoilParams(eqx.Module):
    """Parameters of the PROSAIL soil: ``soil_brightness`` (scale factor, dimensionless, > 0) and
    ``soil_dryness`` (weight of the dry spectrum, 0–1). Fields broadcast against each other.  Units, physical
    bounds and defaults: the registry table :data:`leafjax._parameters.SOIL`."""

    soil_brightness: Float[Array, "*batch"] = eqx.field(converter=_asarray)
    soil_dryness: Float[Array, "*batch"] = eqx.field(converter=_asarray)

    names: ClassVar[tuple[str, ...]] = ("soil_brightness", "soil_dryness")

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return jnp.broadcast_shapes(jnp.shape(self.soil_brightness), jnp.shape(self.soil_dryness))


class DryWetSoil(AbstractSoilModel):
    r"""PROSAIL soil: :math:`r_s = b\,[d\,r_{dry} + (1 - d)\,r_{wet}]`.

    **Arguments:** ``wavelengths`` (nm, optional subset of 400–2500), ``dry``/``wet`` (optional spectra ``(wl,)``
    replacing the packaged ones, e.g. to learn them), ``dtype``.

    Example:
        >>> soil = DryWetSoil(wavelengths=[500, 800])
        >>> soil(DryWetSoilParams(soil_brightness=1.0, soil_dryness=1.0)).shape
        (2,)
    """

    wavelengths: Float[Array, "wl"]
    dry: Float[Array, "wl"]
    wet: Float[Array, "wl"]
    params_type: ClassVar[type] = DryWetSoilParams

    def __init__(self, wavelengths=None, *, dry=None, wet=None, dtype=None):
        lib = load_dry_wet_soils(wavelengths, dtype)
        dt = lib.spectra.dtype
        self.wavelengths = lib.wavelengths
        self.dry = lib["dry"] if dry is None else jnp.asarray(dry, dtype=dt)
        self.wet = lib["wet"] if wet is None else jnp.asarray(wet, dtype=dt)
        if self.dry.shape != self.wavelengths.shape or self.wet.shape != self.wavelengths.shape:
            raise ValueError("dry and wet spectra must have the shape of wavelengths")

    def __call__(self, params: DryWetSoilParams) -> Float[Array, "*batch wl"]:
        shape = params.batch_shape
        nd = len(shape)
        b = jnp.broadcast_to(params.soil_brightness, shape)[..., None]
        d = jnp.broadcast_to(params.soil_dryness, shape)[..., None]
        dry = self.dry.reshape((1,) * nd + (-1,))
        wet = self.wet.reshape((1,) * nd + (-1,))
        return b * (d * dry + (1.0 - d) * wet)


class BasisSoilParams(eqx.Module):
    """Coefficients of :class:`BasisSoil`, shape ``(*batch, k)`` (dimensionless, unit variance over the training
    spectra)."""

    coefficients: Float[Array, "*batch k"] = eqx.field(converter=_asarray)

    names: ClassVar[tuple[str, ...]] = ("coefficients",)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(jnp.shape(self.coefficients)[:-1])


class BasisSoil(AbstractSoilModel):
    r"""Linear soil model :math:`r_s = \bar r + \sum_{k=1}^{K} c_k\,u_k` (an empirical SVD/PCA basis).

    **Fields:** ``wavelengths`` ``(wl,)``, ``mean`` ``(wl,)``, ``components`` ``(K, wl)`` (each row a principal
    direction scaled by the training-set standard deviation along it), ``explained`` ``(K,)`` (fraction of the
    training variance explained by each component).  Build with :meth:`fit` or :func:`default_soil_basis`.
    """

    wavelengths: Float[Array, "wl"]
    mean: Float[Array, "wl"]
    components: Float[Array, "k wl"]
    explained: Float[Array, "k"]
    params_type: ClassVar[type] = BasisSoilParams

    @classmethod
    def fit(cls, spectra, wavelengths, n_components: int = 3, dtype=None) -> "BasisSoil":
        """Fit the basis by SVD of ``spectra`` ``(n, wl)`` (numpy, not traced); ``n_components < n``."""
        x = np.asarray(spectra, dtype=np.float64)
        if x.ndim != 2 or not 1 <= n_components < x.shape[0]:
            raise ValueError(f"need spectra (n, wl) with n > n_components, got {x.shape} and {n_components}")
        mean = x.mean(axis=0)
        u, s, vt = np.linalg.svd(x - mean, full_matrices=False)
        vt = vt * np.sign(vt[np.arange(vt.shape[0]), np.abs(vt).argmax(axis=1)])[:, None]  # deterministic sign
        std = s / np.sqrt(x.shape[0] - 1)
        dt = _default_dtype(dtype)
        return cls(wavelengths=jnp.asarray(wavelengths, dtype=dt), mean=jnp.asarray(mean, dtype=dt),
                   components=jnp.asarray(vt[:n_components] * std[:n_components, None], dtype=dt),
                   explained=jnp.asarray((s**2 / np.sum(s**2))[:n_components], dtype=dt))

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def __call__(self, params: BasisSoilParams) -> Float[Array, "*batch wl"]:
        c = params.coefficients
        if c.shape[-1:] != (self.n_components,):
            raise ValueError(f"expected coefficients (*batch, {self.n_components}), got {c.shape}")
        nd = c.ndim - 1
        return self.mean.reshape((1,) * nd + (-1,)) + c @ self.components

    def project(self, spectra: Float[ArrayLike, "*batch wl"]) -> BasisSoilParams:
        """Least-squares coefficients of ``spectra`` in this basis."""
        resid = jnp.asarray(spectra) - self.mean.reshape((1,) * (jnp.ndim(spectra) - 1) + (-1,))
        gram = self.components @ self.components.T
        coef = jnp.linalg.solve(gram, self.components @ jnp.moveaxis(resid, -1, 0).reshape(resid.shape[-1], -1))
        return BasisSoilParams(jnp.moveaxis(coef, 0, -1).reshape(resid.shape[:-1] + (self.n_components,)))


def default_soil_basis(n_components: int = 3, wavelengths=None, dtype=None) -> BasisSoil:
    """Empirical soil basis fitted to the nine packaged spectra (PROSAIL dry and wet, seven ATBD soils).

    Example:
        >>> basis = default_soil_basis(3, wavelengths=range(400, 2401))
        >>> basis(BasisSoilParams(jnp.zeros(3))).shape
        (2001,)
    """
    _, dw = _read_library(SOIL_DRY_WET_FILE, wavelengths)
    _, atbd = _read_library(SOIL_ATBD_FILE, wavelengths)
    spectra = np.concatenate([dw[:, 1:].T, atbd[:, 1:].T], axis=0)
    return BasisSoil.fit(spectra, dw[:, 0], n_components, dtype=dtype)
