"""Streaming, crash-safe writing of tables to parquet (kept for compatibility; see :mod:`._outputs`)."""

from __future__ import annotations

import os

from ._outputs import TableStreamWriter


class ParquetStreamWriter(TableStreamWriter):
    """A :class:`~leafjax.io.TableStreamWriter` that writes Parquet whatever the extension (the former API).

    Example::

        with ParquetStreamWriter("out.parquet") as w:
            w.write({"chl": chl_chunk, "R_400": r400_chunk})
    """

    def __init__(self, path: str | os.PathLike, fmt: str | None = "parquet"):
        super().__init__(path, fmt)
