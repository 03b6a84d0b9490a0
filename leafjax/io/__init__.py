"""Input/output helpers: spectral column naming and streaming parquet writing."""

from ._columns import (
    format_wavelength as format_wavelength,
    parse_spectral_columns as parse_spectral_columns,
    spectral_columns as spectral_columns,
)
from ._parquet import ParquetStreamWriter as ParquetStreamWriter
from ._outputs import (
    OUTPUT_FORMATS as OUTPUT_FORMATS,
    OutputLock as OutputLock,
    TableStreamWriter as TableStreamWriter,
    check_output as check_output,
    output_format as output_format,
)

#: Table readers (:mod:`leafjax.io._readers`), loaded on first use: they need pandas, which the layers that
#: import only the writers (simulation, inversion) must not load (import-linter contract).
_READERS: tuple[str, ...] = ("TableError", "TableInfo", "inspect_table", "iter_table", "read_table", "short",
                             "table_columns")
#: Scene readers and map writers (:mod:`leafjax.io._raster`, :mod:`leafjax.io._raster_write`), loaded on first
#: use; they import xarray/rioxarray (the optional ``imagery`` extra) only when called.
_RASTER: dict[str, str] = {"Scene": "_raster", "open_scene": "_raster", "scene_format": "_raster",
                           "write_maps": "_raster_write", "read_maps": "_raster_write", "map_format": "_raster_write",
                           "MAP_FORMATS": "_raster_write", "product_info": "_raster_names"}


def __getattr__(name: str):
    if name in _READERS:
        import importlib

        return getattr(importlib.import_module(f"{__name__}._readers"), name)
    if name in _RASTER:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_RASTER[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_READERS) | set(_RASTER))
