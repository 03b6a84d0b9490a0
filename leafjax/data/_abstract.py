"""``AbstractDataset``: the small interface that methods and evaluation need from any collection of samples.

Leaf spectra (:class:`~leafjax.data.SpectralDataset`), image tiles or thermal tables all take part in the method
interface (:mod:`leafjax.methods`) and in leave-one-group-out evaluation (:mod:`leafjax.evaluation`) by
implementing four methods — ``__len__``, ``subset(rows)``, ``groups(unit)``, ``target(name)`` — and declaring
their data ``kind``.  Three further hooks have defaults that suit a dataset whose rows all share one feature
space: ``sample_ids()``, ``row_flag(name)`` and ``harmonise(rows)``.

It lives in :mod:`leafjax.data` (not in :mod:`leafjax.methods`) so that the concrete datasets, which sit in this
layer, can subclass it without importing upwards; :mod:`leafjax.methods` re-exports it.
"""

from __future__ import annotations

import abc
from collections.abc import Hashable
from typing import ClassVar

import numpy as np

#: Data kinds a dataset may declare (``AbstractDataset.kind``) and a :class:`~leafjax.methods.Task` may ask for:
#: ``spectra-table`` (one spectrum per row: :class:`~leafjax.data.SpectralDataset`), ``image-tiles`` (one
#: image tile per row, e.g. for a U-Net) and ``thermal-table`` (one row of thermal-band brightness
#: temperatures per sample, e.g. for a split-window regressor).  Add a kind here when a new dataset type needs one.
DATA_KINDS: tuple[str, ...] = ("spectra-table", "image-tiles", "thermal-table")


class AbstractDataset(abc.ABC):
    """Row-aligned samples with grouping columns and (possibly missing) targets.

    **Class attribute:** ``kind``, one of :data:`DATA_KINDS`.

    **Abstract methods** (every implementation):

    - ``__len__()``: number of rows ``n``.
    - ``subset(rows)``: a dataset of the same type holding ``rows`` (integer positions or a boolean mask of
      length ``n``), in the given order.
    - ``groups(unit)``: the group label of every row for the grouping column ``unit`` (``"dataset"``,
      ``"site"``, ``"parcel"`` …), an array ``(n,)`` of strings; ``ValueError`` for an unknown ``unit``.
    - ``target(name)``: values of target ``name``, float64 ``(n,)``, in the target's canonical unit, NaN where
      unlabelled; ``ValueError`` for an unknown ``name``.

    **Hooks with defaults:** :meth:`sample_ids`, :meth:`row_flag`, :meth:`harmonise`.

    A dataset is immutable in spirit: no method modifies it in place.
    """

    kind: ClassVar[str]

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of rows."""

    @abc.abstractmethod
    def subset(self, rows) -> AbstractDataset:
        """The rows ``rows`` (integer positions ``(m,)`` or boolean mask ``(n,)``), as a new dataset."""

    @abc.abstractmethod
    def groups(self, unit: str) -> np.ndarray:
        """Group label of each row for grouping column ``unit``: strings ``(n,)``."""

    @abc.abstractmethod
    def target(self, name: str) -> np.ndarray:
        """Values of target ``name``: float64 ``(n,)``, canonical unit, NaN where not labelled."""

    def sample_ids(self) -> np.ndarray:
        """A label per row, strings ``(n,)`` (reported in prediction tables).  Default: the row positions."""
        return np.arange(len(self)).astype(str)

    def row_flag(self, name: str) -> np.ndarray:
        """Boolean ``(n,)``: rows carrying flag ``name`` (e.g. ``flag_white_background``; evaluation keeps
        flagged rows out of training sets).  Default: a dataset without that flag, all ``False``."""
        return np.zeros(len(self), dtype=bool)

    def harmonise(self, rows) -> tuple[AbstractDataset, Hashable]:
        """Restrict the whole dataset to the features usable by every row of ``rows`` (e.g. the wavelength
        bands finite in all of them), so that models fitted on some of those rows apply to the others.

        **Returns:** ``(view, key)``: ``view`` has the same ``n`` rows; ``key`` is hashable and equal for two
        calls whose views are interchangeable.  Default: ``(self, None)`` (all rows share one feature space).
        """
        del rows
        return self, None
