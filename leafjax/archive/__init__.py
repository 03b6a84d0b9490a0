"""Archive engine: chunked, resumable, Dask-distributable inversion of spectral tables (parquet/CSV/.npy)."""

from ._engine import (
    ArchiveSettings as ArchiveSettings,
    invert_archive as invert_archive,
    open_archive as open_archive,
    row_flags as row_flags,
)
