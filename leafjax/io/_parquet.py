"""Streaming, crash-safe writing of tables with spectral columns to parquet."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


class ParquetStreamWriter:
    """Append column blocks to a parquet file; the file appears under its final name only when closed.

    Rows are written as row groups as they arrive (memory bounded by one chunk).  On an exception inside a
    ``with`` block the temporary file is removed, so a half-written file never masquerades as a result.

    Example::

        with ParquetStreamWriter("out.parquet") as w:
            w.write({"chl": chl_chunk, "R_400": r400_chunk})
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.is_dir():
            raise OSError(f"cannot write {self.path}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise OSError(f"cannot write {self.path}: folder {parent} is not writable")
        if self.path.is_dir():
            raise OSError(f"cannot write {self.path}: it is a folder")
        self._tmp = self.path.with_name(f".{self.path.name}.partial")
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, columns: Mapping[str, np.ndarray]) -> None:
        table = pa.table({k: (v if isinstance(v, pa.Array) else np.asarray(v)) for k, v in columns.items()})
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is None:
            raise ValueError(f"nothing was written to {self.path}")
        self._writer.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False
