"""Input/output helpers: spectral column naming and streaming parquet writing."""

from ._columns import (
    format_wavelength as format_wavelength,
    parse_spectral_columns as parse_spectral_columns,
    spectral_columns as spectral_columns,
)
from ._parquet import ParquetStreamWriter as ParquetStreamWriter
