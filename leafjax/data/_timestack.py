"""Raster time stacks: co-registered images at several dates with per-date validity masks, tiled into chips.

A :class:`TimeStack` holds ``data`` ``(time, channel, y, x)``, a ``mask`` ``(time, y, x)`` (True = valid),
``dates`` ``(time,)`` (``datetime64[D]``), channel names, and the georeferencing of the grid (CRS as WKT, affine
``transform`` ``(a, b, c, d, e, f)``: x = a·col + b·row + c, y = d·col + e·row + f, as rasterio/affine).  It is a
plain NumPy container (the data layer); networks get their inputs from it through
:mod:`leafjax.preprocessing`.

* :meth:`TimeStack.tiles` cuts it into chips of ``size × size`` pixels with a ``stride`` (overlap when
  ``stride < size``), each a :class:`TimeStack` with its own transform, in row-major order; an edge that does not
  fill a whole chip is dropped unless ``pad=True`` (padded with NaN data and an invalid mask).
* :func:`stack_from_s1s2` builds the Sentinel-1 and Sentinel-2 stacks of a challenge chip
  (:class:`~leafjax.data.S1S2Chip`, the file naming read directly by :func:`~leafjax.data.read_s1s2_chip`).
* :meth:`TimeStack.to_xarray` gives an ``xarray.DataArray`` (``time, channel, y, x``; imagery extra) for writing
  with rioxarray/zarr.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class TimeStack:
    """Co-registered images at several dates (see the module docstring).

    **Fields:** ``data`` ``(time, channel, y, x)`` (float; NaN allowed where ``mask`` is False); ``mask``
    ``(time, y, x)`` bool; ``dates`` ``(time,)`` ``datetime64[D]`` (NaT allowed for an unknown date);
    ``channels`` (names, one per channel); ``crs`` (WKT or ``None``); ``transform`` (6 affine coefficients, or
    ``()`` when unknown); ``name`` (free text, e.g. the chip name).

    Raises:
        ValueError: for inconsistent shapes, a non-boolean mask or a wrong number of channel names (one line).
    """

    data: np.ndarray
    mask: np.ndarray
    dates: np.ndarray
    channels: tuple[str, ...]
    crs: str | None = None
    transform: tuple[float, ...] = ()
    name: str = ""

    def __post_init__(self):
        data, mask = np.asarray(self.data), np.asarray(self.mask)
        if data.ndim != 4:
            raise ValueError(f"TimeStack data must be (time, channel, y, x), got shape {data.shape}")
        if mask.dtype != bool or mask.shape != (data.shape[0], *data.shape[2:]):
            raise ValueError(f"TimeStack mask must be a bool array of shape {(data.shape[0], *data.shape[2:])}, "
                             f"got {mask.dtype} {mask.shape}")
        dates = np.asarray(self.dates, dtype="datetime64[D]")
        if dates.shape != (data.shape[0],):
            raise ValueError(f"TimeStack needs one date per time step ({data.shape[0]}), got {dates.shape}")
        if len(self.channels) != data.shape[1]:
            raise ValueError(f"TimeStack has {data.shape[1]} channels but {len(self.channels)} channel names")
        if self.transform and len(self.transform) != 6:
            raise ValueError(f"TimeStack transform needs 6 affine coefficients, got {len(self.transform)}")
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "transform", tuple(float(v) for v in self.transform))

    @property
    def shape(self) -> tuple[int, int]:
        """``(y, x)`` pixels."""
        return int(self.data.shape[-2]), int(self.data.shape[-1])

    @property
    def n_times(self) -> int:
        return int(self.data.shape[0])

    def channel(self, name: str) -> np.ndarray:
        """The ``(time, y, x)`` images of one channel.

        Raises:
            KeyError: for an unknown channel name.
        """
        if name not in self.channels:
            raise KeyError(f"no channel {name!r}; channels: {', '.join(self.channels)}")
        return self.data[:, self.channels.index(name)]

    def select_times(self, index: Sequence[int] | np.ndarray) -> "TimeStack":
        """The stack at the time steps ``index`` (in that order)."""
        index = np.asarray(index, dtype=int)
        return dataclasses.replace(self, data=self.data[index], mask=self.mask[index], dates=self.dates[index])

    def window(self, row: int, col: int, height: int, width: int) -> "TimeStack":
        """The pixels ``[row:row+height, col:col+width]`` with the matching transform (no padding).

        Raises:
            ValueError: for a window outside the grid.
        """
        ny, nx = self.shape
        if row < 0 or col < 0 or height < 1 or width < 1 or row + height > ny or col + width > nx:
            raise ValueError(f"window rows {row}:{row + height}, cols {col}:{col + width} is outside the "
                             f"{ny} x {nx} grid")
        transform = self.transform
        if transform:
            a, b, c, d, e, f = transform
            transform = (a, b, a * col + b * row + c, d, e, d * col + e * row + f)
        return dataclasses.replace(self, data=self.data[..., row:row + height, col:col + width],
                                   mask=self.mask[..., row:row + height, col:col + width], transform=transform,
                                   name=f"{self.name}[{row}:{row + height},{col}:{col + width}]")

    def tile_origins(self, size: int, stride: int | None = None, *, pad: bool = False) -> list[tuple[int, int]]:
        """Row-major ``(row, col)`` origins of the chips :meth:`tiles` yields."""
        stride = size if stride is None else int(stride)
        if size < 1 or stride < 1:
            raise ValueError(f"chip size and stride must be positive, got {size} and {stride}")
        ny, nx = self.shape

        def starts(n):
            last = n - size if not pad else n - 1
            return list(range(0, max(last, -1) + 1, stride)) if (n >= size or pad) else []

        return [(r, c) for r in starts(ny) for c in starts(nx)]

    def tiles(self, size: int, stride: int | None = None, *, pad: bool = False) -> Iterator["TimeStack"]:
        """Chips of ``size × size`` pixels every ``stride`` pixels (default ``size``: no overlap), row-major.

        An incomplete edge chip is dropped, or with ``pad=True`` kept and padded (NaN data, invalid mask).

        Raises:
            ValueError: for a non-positive size or stride.
        """
        ny, nx = self.shape
        for r, c in self.tile_origins(size, stride, pad=pad):
            h, w = min(size, ny - r), min(size, nx - c)
            chip = self.window(r, c, h, w)
            if (h, w) != (size, size):
                data = np.full((*chip.data.shape[:2], size, size), np.nan, dtype=np.result_type(chip.data, np.float32))
                mask = np.zeros((chip.n_times, size, size), bool)
                data[..., :h, :w], mask[..., :h, :w] = chip.data, chip.mask
                chip = dataclasses.replace(chip, data=data, mask=mask)
            yield chip

    def to_xarray(self):
        """An ``xarray.DataArray`` ``(time, channel, y, x)`` with pixel-centre coordinates from the transform and
        the mask as a ``(time, y, x)`` coordinate (imagery extra: ``pip install "leafjax[imagery]"``)."""
        import xarray as xr

        ny, nx = self.shape
        coords = {"time": self.dates, "channel": list(self.channels), "mask": (("time", "y", "x"), self.mask)}
        if self.transform:
            a, b, c, d, e, f = self.transform
            if b == 0 and d == 0:  # north-up grid: 1-D coordinates
                coords["x"] = c + a * (np.arange(nx) + 0.5)
                coords["y"] = f + e * (np.arange(ny) + 0.5)
        out = xr.DataArray(self.data, dims=("time", "channel", "y", "x"), coords=coords, name=self.name or None)
        if self.crs:
            out.attrs["crs_wkt"] = self.crs
        if self.transform:
            out.attrs["transform"] = self.transform
        return out


def stack_from_s1s2(chip, dates: Sequence | None = None) -> tuple[TimeStack, TimeStack]:
    """The Sentinel-1 and Sentinel-2 stacks of a challenge chip (:class:`~leafjax.data.S1S2Chip`).

    **Arguments:** ``chip``; ``dates``: the acquisition date of each of the 3 time steps (t−2, t−1, t), when known
    (the challenge names carry only the triplet's window; default: NaT at t−2 and t−1, ``date_to`` at t).

    **Returns:** ``(s1, s2)``: ``s1`` with channels ``("vh", "vv")`` in dB, valid where finite; ``s2`` with the one
    channel ``"lai"`` (m² m⁻²), valid where :attr:`~leafjax.data.S1S2Chip.valid` (SCL 2–6, intact file).
    """
    if dates is None:
        dates = [np.datetime64("NaT"), np.datetime64("NaT"), chip.name.date_to]
    s1 = TimeStack(np.asarray(chip.s1, np.float32), np.all(np.isfinite(chip.s1), axis=1), np.asarray(dates),
                   ("vh", "vv"), chip.crs, chip.transform, f"s1:{chip.name.chip}")
    s2 = TimeStack(np.asarray(chip.lai)[:, None], np.asarray(chip.valid), np.asarray(dates), ("lai",), chip.crs,
                   chip.transform, f"s2:{chip.name.chip}")
    return s1, s2
