"""PROSPECT optical constants as a differentiable pytree, and their packaged table.

The table ``data/prospect_coefficients.csv`` (400–2500 nm, 1 nm) comes from the PROSPECT R package by
J.-B. Féret (MIT licence), ``data-raw/dataSpec_PRO_v2.txt`` at commit 0df0f4fa6dab1ca659e3c72b52800bf470503733;
it is identical to the tables of PyPI ``prosail`` 2.0.5.  Sources of the individual constants: Féret et al. 2017,
RSE 193:204 (PROSPECT-D: nr, chlorophylls, carotenoids, anthocyanins, water, dry matter); Féret et al. 2021,
RSE 252:112173 (PROSPECT-PRO: proteins, carbon-based constituents); brown pigments by F. Baret (INRA), used with
his authorisation.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._constants import WAVELENGTH_MAX_NM, WAVELENGTH_MIN_NM

#: SHA-256 of the packaged coefficient table, checked on load.
COEFFICIENTS_SHA256 = "a4139183a82bc66680028b430796ecc4fb29dadb3e4aa9fcdd8ad65edfafbd77"
_COLUMNS = ("nr", "k_cab", "k_car", "k_anth", "k_brown", "k_cw", "k_cm", "k_prot", "k_cbc")


class OpticalConstants(eqx.Module):
    """Specific absorption coefficients and refractive index of PROSPECT on a wavelength grid.

    All fields are arrays of shape ``(wl,)``; the object is a pytree, so a model built on user-supplied or
    trainable constants is differentiable with respect to them (e.g. to recalibrate ``k_cw`` by gradient).

    **Fields** (units):
    - ``wavelengths``: band centres (nm).
    - ``nr``: refractive index of the leaf material (dimensionless).
    - ``k_cab``, ``k_car``, ``k_anth``: chlorophyll a+b, carotenoid, anthocyanin (cm²/µg).
    - ``k_brown``: brown pigments (per arbitrary unit).
    - ``k_cw``: water (cm⁻¹, i.e. per g/cm²); ``k_cm``: dry matter; ``k_prot``: proteins; ``k_cbc``:
      carbon-based constituents (cm²/g).
    """

    wavelengths: Float[Array, "wl"]
    nr: Float[Array, "wl"]
    k_cab: Float[Array, "wl"]
    k_car: Float[Array, "wl"]
    k_anth: Float[Array, "wl"]
    k_brown: Float[Array, "wl"]
    k_cw: Float[Array, "wl"]
    k_cm: Float[Array, "wl"]
    k_prot: Float[Array, "wl"]
    k_cbc: Float[Array, "wl"]

    def __check_init__(self):
        n = self.wavelengths.shape
        for name in _COLUMNS:
            if getattr(self, name).shape != n:
                raise ValueError(f"OpticalConstants.{name} has shape {getattr(self, name).shape}, expected {n}")

    @property
    def n_bands(self) -> int:
        return int(self.wavelengths.shape[0])

    def astype(self, dtype) -> "OpticalConstants":
        """Return a copy with every array cast to ``dtype`` (e.g. ``jnp.float32``)."""
        return OpticalConstants(**{f: getattr(self, f).astype(dtype) for f in ("wavelengths",) + _COLUMNS})

    def take(self, index: Sequence[int] | np.ndarray) -> "OpticalConstants":
        """Return the constants at the given band indices (static integers)."""
        idx = np.asarray(index, dtype=np.int64)
        return OpticalConstants(**{f: getattr(self, f)[idx] for f in ("wavelengths",) + _COLUMNS})

    def select(self, wavelengths: Sequence[float] | np.ndarray) -> "OpticalConstants":
        """Return the constants at the given wavelengths (nm); each must be on this grid.

        Raises:
            ValueError: if a wavelength is not on the grid.
        """
        wl = np.asarray(wavelengths, dtype=np.float64).reshape(-1)
        grid = np.asarray(self.wavelengths, dtype=np.float64)
        pos = np.searchsorted(grid, wl)
        pos = np.clip(pos, 0, grid.size - 1)
        bad = np.abs(grid[pos] - wl) > 1e-6
        if bad.any():
            raise ValueError(
                f"wavelengths not on the optical-constant grid ({grid[0]:g}–{grid[-1]:g} nm): "
                f"{wl[bad][:5].tolist()}{' ...' if bad.sum() > 5 else ''}"
            )
        return self.take(pos)


#: The packaged optical-constant tables: ``published`` (Féret et al. 2017, 2021; module docstring) and
#: ``recalibrated`` (the published table with the corrections learned by
#: :func:`leafjax.inversion.recalibrate` on the CC BY 4.0 leaf datasets of the Global Spectra-Trait Initiative;
#: provenance in ``data/prospect_coefficients_recalibrated.json``, written by
#: ``experiments/leaf_traits/recalibration.py --export-table``).
CONSTANT_TABLES = {"published": "data/prospect_coefficients.csv",
                   "recalibrated": "data/prospect_coefficients_recalibrated.csv"}


def _table_path(table: str = "published"):
    if table not in CONSTANT_TABLES:
        raise ValueError(f"unknown optical-constant table {table!r}; choose one of: {', '.join(CONSTANT_TABLES)}")
    return resources.files("leafjax.physics.leaf").joinpath(CONSTANT_TABLES[table])


def table_provenance(table: str = "recalibrated") -> dict:
    """The provenance record (JSON) of a packaged table other than ``published``."""
    import json

    if table == "published":
        return {"description": __doc__.strip(), "sha256": COEFFICIENTS_SHA256}
    return json.loads(_table_path(table).with_suffix(".json").read_text())


def _read_table(table: str = "published") -> dict[str, np.ndarray]:
    raw = _table_path(table).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    expected = COEFFICIENTS_SHA256 if table == "published" else table_provenance(table).get("sha256")
    if digest != expected:
        raise RuntimeError(f"packaged PROSPECT coefficient table {table!r} is corrupt (sha256 {digest})")
    import io

    arr = np.genfromtxt(io.BytesIO(raw), delimiter=",", names=True, dtype=np.float64)
    return {name: np.asarray(arr[name]) for name in arr.dtype.names}


def wavelength_grid(start: float = WAVELENGTH_MIN_NM, stop: float = WAVELENGTH_MAX_NM, step: float = 1.0
                    ) -> np.ndarray:
    """Regular wavelength grid in nm, inclusive of ``stop``, validated against the model range 400–2500 nm."""
    if step <= 0:
        raise ValueError("step must be positive")
    if start < WAVELENGTH_MIN_NM or stop > WAVELENGTH_MAX_NM or start > stop:
        raise ValueError(f"wavelength range {start}–{stop} nm outside {WAVELENGTH_MIN_NM}–{WAVELENGTH_MAX_NM} nm")
    return np.arange(start, stop + step / 2, step, dtype=np.float64)


def load_optical_constants(wavelengths: Sequence[float] | np.ndarray | None = None, dtype=None,
                           table: str = "published") -> OpticalConstants:
    """Load the packaged PROSPECT-D/PRO optical constants.

    **Arguments:**
    - ``wavelengths``: optional wavelengths (nm, on the 1-nm grid 400–2500) to keep; default all 2101 bands.
    - ``dtype``: array dtype; default JAX's default float (float32, or float64 with ``jax_enable_x64``).
    - ``table``: ``"published"`` (default) or ``"recalibrated"`` (:data:`CONSTANT_TABLES`).

    Raises:
        ValueError: for an unknown table.

    **Returns:** an :class:`OpticalConstants` pytree.

    Example:
        >>> c = load_optical_constants(range(400, 2401))
        >>> c.n_bands
        2001
    """
    table = _read_table(table)
    dtype = jnp.result_type(float) if dtype is None else dtype
    consts = OpticalConstants(
        wavelengths=jnp.asarray(table["wavelength"], dtype=dtype),
        **{name: jnp.asarray(table[name], dtype=dtype) for name in _COLUMNS},
    )
    if wavelengths is not None:
        consts = consts.select(wavelengths)
    return consts
