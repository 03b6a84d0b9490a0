"""``SpectralDataset``: leaf spectra on an explicit wavelength grid, with traits and metadata.

The container is immutable in spirit: every method returns a new dataset and never modifies arrays in place.
Reflectance/transmittance are fractions (0–1); NaN marks a band a spectrum lacks (e.g. 400–499 nm for two of
the shared datasets).  Traits use the canonical names and units of :data:`leafjax.TRAITS`, NaN where not
measured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from .._constants import TRAITS
from ._abstract import AbstractDataset

#: Metadata columns every dataset carries (filled with ``"unknown"`` by readers when the source lacks them).
META_COLUMNS: tuple[str, ...] = ("dataset", "sample_id", "species", "instrument", "site")


@dataclasses.dataclass(frozen=True, eq=False)
class SpectralDataset(AbstractDataset):
    """Leaf spectra, traits and metadata, row-aligned; the ``spectra-table`` kind of
    :class:`~leafjax.data.AbstractDataset` (targets are traits, groups are ``meta`` columns).

    **Fields:**
    - ``wavelengths``: band centres, nm, float64, shape ``(wl,)``, strictly increasing.
    - ``reflectance``: float64 ``(n, wl)``, fraction; NaN for bands a spectrum lacks.
    - ``transmittance``: float64 ``(n, wl)`` or ``None``.
    - ``traits``: DataFrame ``(n, ·)`` whose columns are canonical trait names (:data:`leafjax.TRAITS`) in
      canonical units; NaN where not measured.
    - ``meta``: DataFrame ``(n, ·)`` with at least :data:`META_COLUMNS`; may hold more (e.g. ``ewt_source``).

    Example:
        >>> import numpy as np, pandas as pd
        >>> ds = SpectralDataset.from_arrays(np.array([500.0, 600.0]), np.array([[0.1, 0.2]]), lma=[0.01])
        >>> len(ds), ds.traits_available()
        (1, ['lma'])
    """

    wavelengths: np.ndarray
    reflectance: np.ndarray
    traits: pd.DataFrame
    meta: pd.DataFrame
    transmittance: np.ndarray | None = None
    kind: ClassVar[str] = "spectra-table"

    def __post_init__(self):
        wl = np.asarray(self.wavelengths, dtype=np.float64)
        r = np.asarray(self.reflectance, dtype=np.float64)
        object.__setattr__(self, "wavelengths", wl)
        object.__setattr__(self, "reflectance", r)
        if wl.ndim != 1 or wl.size == 0:
            raise ValueError(f"wavelengths must be a non-empty 1-D array, got shape {wl.shape}")
        if np.any(np.diff(wl) <= 0) or not np.all(np.isfinite(wl)):
            raise ValueError("wavelengths must be finite and strictly increasing")
        if r.ndim != 2 or r.shape[1] != wl.size:
            raise ValueError(f"reflectance has shape {r.shape}, expected (n, {wl.size})")
        if self.transmittance is not None:
            t = np.asarray(self.transmittance, dtype=np.float64)
            object.__setattr__(self, "transmittance", t)
            if t.shape != r.shape:
                raise ValueError(f"transmittance has shape {t.shape}, expected {r.shape}")
        n = r.shape[0]
        for name in ("traits", "meta"):
            frame = getattr(self, name)
            if not isinstance(frame, pd.DataFrame) or len(frame) != n:
                raise ValueError(f"{name} must be a DataFrame with {n} rows")
            object.__setattr__(self, name, frame.reset_index(drop=True))
        unknown = [c for c in self.traits.columns if c not in TRAITS]
        if unknown:
            raise ValueError(f"non-canonical trait columns {unknown}; known: {', '.join(TRAITS)}")
        missing = [c for c in META_COLUMNS if c not in self.meta.columns]
        if missing:
            raise ValueError(f"meta lacks columns {missing} (required: {META_COLUMNS})")

    # --- construction ----------------------------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, wavelengths, reflectance, *, transmittance=None, dataset: str = "array",
                    meta: pd.DataFrame | None = None, **traits) -> SpectralDataset:
        """Build a dataset from arrays; ``traits`` are canonical-name keyword arrays of length ``n``."""
        r = np.atleast_2d(np.asarray(reflectance, dtype=np.float64))
        n = r.shape[0]
        m = pd.DataFrame({"dataset": [dataset] * n, "sample_id": [f"{dataset}_{i}" for i in range(n)],
                          "species": ["unknown"] * n, "instrument": ["unknown"] * n, "site": ["unknown"] * n})
        if meta is not None:
            for c in meta.columns:
                m[c] = meta[c].to_numpy()
        tr = pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in traits.items()}, index=range(n))
        return cls(np.asarray(wavelengths, dtype=np.float64), r, tr, m,
                   None if transmittance is None else np.atleast_2d(transmittance))

    def replace(self, **changes) -> SpectralDataset:
        """Return a copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    # --- queries ---------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.reflectance.shape[0]

    def __repr__(self) -> str:
        return (f"SpectralDataset(n={len(self)}, wavelengths={self.wavelengths[0]:g}–{self.wavelengths[-1]:g} nm "
                f"({self.wavelengths.size} bands), datasets={self.dataset_names()}, "
                f"traits={self.traits_available()}, transmittance={self.transmittance is not None})")

    def dataset_names(self) -> list[str]:
        """Names in ``meta['dataset']``, in order of first appearance."""
        return list(pd.unique(self.meta["dataset"]))

    def traits_available(self, min_count: int = 1) -> list[str]:
        """Canonical traits with at least ``min_count`` measured (non-NaN) values."""
        return [c for c in self.traits.columns if int(self.traits[c].notna().sum()) >= min_count]

    def trait(self, name: str) -> np.ndarray:
        """Values of trait ``name`` (canonical unit), float64 ``(n,)``; all-NaN if never measured."""
        if name not in TRAITS:
            raise ValueError(f"unknown trait {name!r}; known: {', '.join(TRAITS)}")
        if name not in self.traits.columns:
            return np.full(len(self), np.nan)
        return self.traits[name].to_numpy(dtype=np.float64, na_value=np.nan)

    def spectra(self) -> np.ndarray:
        """Features ``(n, wl)`` or ``(n, 2·wl)``: reflectance, followed by transmittance when present."""
        if self.transmittance is None:
            return self.reflectance
        return np.concatenate([self.reflectance, self.transmittance], axis=1)

    def valid_bands(self) -> np.ndarray:
        """Boolean ``(wl,)``: bands finite in every row (reflectance and transmittance)."""
        ok = np.all(np.isfinite(self.reflectance), axis=0)
        if self.transmittance is not None:
            ok &= np.all(np.isfinite(self.transmittance), axis=0)
        return ok

    # --- AbstractDataset -------------------------------------------------------------------------------------
    def groups(self, unit: str) -> np.ndarray:
        """Group labels ``(n,)`` (strings) from ``meta[unit]``, e.g. ``"dataset"`` or ``"site"``."""
        if unit not in self.meta.columns:
            raise ValueError(f"no grouping column {unit!r} in meta (columns: {', '.join(map(str, self.meta.columns))})")
        return self.meta[unit].astype(str).to_numpy(dtype=object)

    def target(self, name: str) -> np.ndarray:
        """Trait ``name`` as a target: :meth:`trait`."""
        return self.trait(name)

    def sample_ids(self) -> np.ndarray:
        """``meta['sample_id']`` as strings ``(n,)``."""
        return self.meta["sample_id"].to_numpy().astype(str)

    def row_flag(self, name: str) -> np.ndarray:
        """Boolean ``meta[name]`` ``(n,)`` (e.g. ``flag_white_background``); all ``False`` without that column."""
        if name not in self.meta.columns:
            return np.zeros(len(self), dtype=bool)
        return self.meta[name].to_numpy(dtype=bool)

    def harmonise(self, rows) -> tuple[SpectralDataset, bytes]:
        """All rows on the bands finite in every row of ``rows`` (:meth:`valid_bands` of that subset); the key is
        the packed band mask."""
        bands = self.subset(rows).valid_bands()
        return self.select_wavelengths(bands), np.packbits(bands).tobytes()

    # --- selection -------------------------------------------------------------------------------------------
    def subset(self, index) -> SpectralDataset:
        """Rows selected by integer positions or a boolean mask of length ``n``."""
        idx = np.asarray(index)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"boolean index has shape {idx.shape}, expected ({len(self)},)")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        return SpectralDataset(
            self.wavelengths, self.reflectance[idx], self.traits.iloc[idx], self.meta.iloc[idx],
            None if self.transmittance is None else self.transmittance[idx],
        )

    def where_dataset(self, name: str | Sequence[str]) -> SpectralDataset:
        """Rows whose ``meta['dataset']`` is ``name`` (or in the sequence ``name``)."""
        names = [name] if isinstance(name, str) else list(name)
        return self.subset(self.meta["dataset"].isin(names).to_numpy())

    def select_wavelengths(self, selector) -> SpectralDataset:
        """Keep some bands: ``selector`` is ``(low_nm, high_nm)`` (inclusive), a boolean mask ``(wl,)`` or an
        array of wavelengths present in the grid (nm)."""
        if isinstance(selector, tuple) and len(selector) == 2:
            keep = (self.wavelengths >= selector[0]) & (self.wavelengths <= selector[1])
        else:
            sel = np.asarray(selector)
            if sel.dtype == bool:
                if sel.shape != self.wavelengths.shape:
                    raise ValueError(f"band mask has shape {sel.shape}, expected {self.wavelengths.shape}")
                keep = sel
            else:
                keep = np.isin(self.wavelengths, sel.astype(np.float64))
                if keep.sum() != np.unique(sel).size:
                    raise ValueError("some requested wavelengths are not on the dataset's grid; resample first")
        if not keep.any():
            raise ValueError("wavelength selection keeps no band")
        return SpectralDataset(
            self.wavelengths[keep], self.reflectance[:, keep], self.traits, self.meta,
            None if self.transmittance is None else self.transmittance[:, keep],
        )


def concat(datasets: Sequence[SpectralDataset]) -> SpectralDataset:
    """Stack datasets row-wise.  All must share one wavelength grid (resample first); traits and metadata
    columns are unioned (NaN/missing where a dataset lacks them); transmittance is kept only if all have it."""
    if not datasets:
        raise ValueError("concat needs at least one dataset")
    wl = datasets[0].wavelengths
    for d in datasets[1:]:
        if not np.array_equal(d.wavelengths, wl):
            raise ValueError("cannot concat datasets on different wavelength grids; resample them first")
    has_t = all(d.transmittance is not None for d in datasets)
    trait_cols = [c for c in TRAITS if any(c in d.traits.columns for d in datasets)]
    traits = pd.concat([d.traits.reindex(columns=trait_cols).astype(np.float64) for d in datasets],
                       ignore_index=True)
    meta = pd.concat([d.meta for d in datasets], ignore_index=True)
    return SpectralDataset(
        wl, np.concatenate([d.reflectance for d in datasets]), traits, meta,
        np.concatenate([d.transmittance for d in datasets]) if has_t else None,
    )
