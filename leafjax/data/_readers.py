"""Readers: the shared leaf-spectra parquet format, EcoSIS-style CSV and generic tables with a column mapping.

All readers return a :class:`SpectralDataset` with fraction reflectance: spectra in percent are detected per row
and divided by 100 with a ``UserWarning`` naming the file (``scale="auto"``), or the reader is told the scale.
Errors about columns (missing, misnamed, non-numeric) are :class:`ColumnError` and name the file and column.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .._constants import TRAITS
from ._columns import ColumnError, ecosis_spectral_columns, gsti_spectral_columns, numeric_block, numeric_column
from ._dataset import META_COLUMNS, SpectralDataset, concat
from ._percent import detect_percent

#: Trait columns of the shared ``leaf_spectra/*.parquet`` format (canonical names and units).
LEAF_PARQUET_TRAITS: tuple[str, ...] = ("chl", "car", "ewt", "lma", "nitrogen", "nitrogen_area")

#: Known quirks of the shared datasets (``shared/data/README.md``), attached to ``meta`` by
#: :func:`load_shared_datasets` so that code can act on them rather than pool silently:
#: ``ewt_source`` (``measured`` / ``derived_lwc`` = lma·LWC/(1−LWC) / ``none``) and ``background``
#: (``white`` = reflectance measured over a white backing, NIR plateau ~0.93; ``black`` otherwise).
KNOWN_QUIRKS: dict[str, dict[str, str]] = {
    "ely2019_ngee_arctic": {"ewt_source": "measured", "redistributable": "no"},
    "sexton2021_tobacco_chl": {"background": "white"},
    "gsti_ting2023_rice": {"note": "imaging spectrometer interpolated to 1 nm (not a leaf clip)"},
    "gsti_serbin2015_wisc_ag": {"note": "source folder marked 'to verify'"},
}


@dataclasses.dataclass(frozen=True)
class ColumnMapping:
    """How a generic table maps onto a :class:`SpectralDataset`.

    **Fields:**
    - ``traits``: ``{canonical_trait: column}`` or ``{canonical_trait: (column, factor)}``; the source value
      times ``factor`` is in the canonical unit (e.g. LMA in g/m² → g/cm²: factor ``1e-4``).
    - ``meta``: ``{meta_name: column}``, e.g. ``{"species": "Latin Species"}``; unmapped :data:`META_COLUMNS`
      are filled with ``"unknown"``; ``sample_id`` defaults to ``<dataset>_<row>``.
    - ``spectra``: ``"gsti"`` (``R_<nm>``/``T_<nm>`` columns) or ``"ecosis"`` (column name = wavelength in nm).
    - ``dataset``: the dataset name when the table has no ``dataset`` column (default: the file stem).
    - ``scale``: ``"auto"`` (detect percent per spectrum), ``"fraction"`` or ``"percent"``.
    """

    traits: Mapping[str, str | tuple[str, float]] = dataclasses.field(default_factory=dict)
    meta: Mapping[str, str] = dataclasses.field(default_factory=dict)
    spectra: str = "gsti"
    dataset: str | None = None
    scale: str = "auto"

    def __post_init__(self):
        unknown = [t for t in self.traits if t not in TRAITS]
        if unknown:
            raise ValueError(f"ColumnMapping: unknown traits {unknown}; known: {', '.join(TRAITS)}")
        if self.spectra not in ("gsti", "ecosis"):
            raise ValueError(f"ColumnMapping.spectra must be 'gsti' or 'ecosis', got {self.spectra!r}")
        if self.scale not in ("auto", "fraction", "percent"):
            raise ValueError(f"ColumnMapping.scale must be 'auto', 'fraction' or 'percent', got {self.scale!r}")


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path, dtype=str, keep_default_na=True, skipinitialspace=True)
    if suffix == ".tsv":
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=True)
    raise ValueError(f"{path}: unsupported file type {suffix!r} (use .parquet, .csv or .tsv)")


def _scaled(x: np.ndarray, scale: str, source: str) -> np.ndarray:
    if scale == "percent":
        return x / 100.0
    pct = detect_percent(x, source=source)
    if scale == "fraction":
        if pct.any():
            raise ValueError(f"{source}: scale='fraction' but row {int(np.flatnonzero(pct)[0])} looks like percent")
        return x
    if pct.any():
        warnings.warn(f"{source}: {int(pct.sum())} of {len(pct)} spectra look like percent; divided by 100",
                      UserWarning, stacklevel=3)
        return np.where(pct[:, None], x / 100.0, x)
    return x


def _build(frame: pd.DataFrame, mapping: ColumnMapping, path: Path) -> SpectralDataset:
    src = path.name
    if mapping.spectra == "gsti":
        cols = gsti_spectral_columns(list(frame.columns), src)
        wl, rnames = cols["R"]
        tnames = cols["T"][1] if "T" in cols else None
    else:
        wl, rnames = ecosis_spectral_columns(list(frame.columns), src)
        tnames = None
    refl = _scaled(numeric_block(frame, rnames, src), mapping.scale, f"{src} (reflectance)")
    trans = None if tnames is None else _scaled(numeric_block(frame, tnames, src), mapping.scale,
                                                f"{src} (transmittance)")
    traits = {}
    for name, spec in mapping.traits.items():
        column, factor = (spec, 1.0) if isinstance(spec, str) else spec
        traits[name] = numeric_column(frame, column, src) * float(factor)
    n = len(frame)
    dataset = mapping.dataset or path.stem
    meta = {}
    for name, column in mapping.meta.items():
        if column not in frame.columns:
            raise ColumnError(f"{src}: metadata column {column!r} (for {name!r}) not found")
        col = frame[column]
        if pd.api.types.is_numeric_dtype(col) and name not in META_COLUMNS:
            meta[name] = col.to_numpy(dtype=np.float64, na_value=np.nan)  # e.g. LWC_percent stays numeric
        else:
            meta[name] = col.astype("string").fillna("unknown").to_numpy(dtype=object)
    if "dataset" not in meta:
        meta["dataset"] = (frame["dataset"].astype(str).to_numpy(dtype=object) if "dataset" in frame.columns
                           else np.full(n, dataset, dtype=object))
    if "sample_id" not in meta:
        meta["sample_id"] = np.array([f"{dataset}_{i}" for i in range(n)], dtype=object)
    for c in META_COLUMNS:
        meta.setdefault(c, np.full(n, "unknown", dtype=object))
    meta_df = pd.DataFrame(meta)[list(META_COLUMNS) + [c for c in meta if c not in META_COLUMNS]]
    return SpectralDataset(wl, refl, pd.DataFrame(traits, index=range(n)), meta_df, trans)


def read_table(path: str | Path, mapping: ColumnMapping) -> SpectralDataset:
    """Read a generic CSV/TSV/parquet table of spectra and traits as described by ``mapping``.

    Example:
        ``read_table("my.csv", ColumnMapping(traits={"lma": ("LMA_g_m2", 1e-4)}, meta={"species": "Species"},
        spectra="ecosis"))``
    """
    path = Path(path)
    return _build(_read_frame(path), mapping, path)


def read_ecosis_csv(path: str | Path, traits: Mapping[str, str | tuple[str, float]],
                    meta: Mapping[str, str] | None = None, *, dataset: str | None = None,
                    scale: str = "auto") -> SpectralDataset:
    """Read an EcoSIS-style CSV (wavelength-named columns such as ``400``…``2400``).

    ``traits`` maps canonical trait names to source columns (and optional unit factors), as in
    :class:`ColumnMapping`; a missing or non-numeric trait column raises :class:`ColumnError`.
    """
    return read_table(path, ColumnMapping(traits=traits, meta=meta or {}, spectra="ecosis",
                                          dataset=dataset, scale=scale))


def read_leaf_parquet(path: str | Path, *, scale: str = "auto") -> SpectralDataset:
    """Read one file in the shared ``leaf_spectra/*.parquet`` format.

    Required columns: ``dataset, sample_id, species``, the traits :data:`LEAF_PARQUET_TRAITS` (canonical
    units, NaN where unmeasured) and ``R_<nm>`` bands (optionally ``T_<nm>``).  Every other column (e.g.
    ``instrument``, ``site``, ``LWC_percent``) is kept in ``meta`` (numeric columns as float64, others as text).
    """
    path = Path(path)
    frame = _read_frame(path)
    for c in ("dataset", "sample_id", "species") + LEAF_PARQUET_TRAITS:
        if c not in frame.columns:
            raise ColumnError(f"{path.name}: required column {c!r} not found")
    spectral = {c for c in frame.columns if str(c).startswith(("R_", "T_"))}
    extra = [c for c in frame.columns if c not in spectral and c not in LEAF_PARQUET_TRAITS]
    mapping = ColumnMapping(traits={t: t for t in LEAF_PARQUET_TRAITS}, meta={c: c for c in extra},
                            spectra="gsti", dataset=path.stem, scale=scale)
    return _build(frame, mapping, path)


def _with_quirks(ds: SpectralDataset) -> SpectralDataset:
    meta = ds.meta.copy()
    names = meta["dataset"].to_numpy()
    has_ewt = np.isfinite(ds.trait("ewt"))
    lwc = meta["LWC_percent"].notna().to_numpy() if "LWC_percent" in meta.columns else np.zeros(len(ds), bool)
    q = [KNOWN_QUIRKS.get(n, {}) for n in names]
    ewt_src = [qi.get("ewt_source", "derived_lwc" if l else "unknown") for qi, l in zip(q, lwc)]
    meta["ewt_source"] = np.where(has_ewt, np.array(ewt_src, dtype=object), "none")
    meta["background"] = [qi.get("background", "black") for qi in q]
    meta["quirk_note"] = [qi.get("note", "") for qi in q]
    return ds.replace(meta=meta)


def load_shared_datasets(folder: str | Path, datasets: Sequence[str] | None = None) -> SpectralDataset:
    """Read every ``*.parquet`` of ``folder`` (the shared ``leaf_spectra`` folder) into one dataset.

    ``datasets`` restricts to those names (file stems).  Adds the :data:`KNOWN_QUIRKS` metadata columns
    ``ewt_source``, ``background`` and ``quirk_note``.  All files must share one wavelength grid.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.parquet"))
    if datasets is not None:
        missing = sorted(set(datasets) - {f.stem for f in files})
        if missing:
            raise FileNotFoundError(f"{folder}: no parquet file for datasets {missing}")
        files = [f for f in files if f.stem in set(datasets)]
    if not files:
        raise FileNotFoundError(f"{folder}: no *.parquet file")
    return concat([_with_quirks(read_leaf_parquet(f)) for f in files])


def load_demo() -> SpectralDataset:
    """The small embedded demo dataset (subset of two CC BY 4.0 GSTI datasets, 400–2400 nm; see
    ``leafjax/data/demo/README.md`` for sources and citation)."""
    ref = resources.files("leafjax.data").joinpath("demo", "demo_leaf_spectra.parquet")
    with resources.as_file(ref) as p:
        return _with_quirks(read_leaf_parquet(p))
