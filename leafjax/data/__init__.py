"""Leaf spectra datasets: the :class:`SpectralDataset` container and readers (shared parquet, EcoSIS CSV,
generic tables with a column mapping, embedded demo)."""

from ._columns import (
    ColumnError as ColumnError,
    ecosis_spectral_columns as ecosis_spectral_columns,
    gsti_spectral_columns as gsti_spectral_columns,
)
from ._describe import describe as describe
from ._dataset import META_COLUMNS as META_COLUMNS, SpectralDataset as SpectralDataset, concat as concat
from ._readers import (
    KNOWN_QUIRKS as KNOWN_QUIRKS,
    LEAF_PARQUET_TRAITS as LEAF_PARQUET_TRAITS,
    ColumnMapping as ColumnMapping,
    load_demo as load_demo,
    load_shared_datasets as load_shared_datasets,
    read_ecosis_csv as read_ecosis_csv,
    read_leaf_parquet as read_leaf_parquet,
    read_table as read_table,
)
