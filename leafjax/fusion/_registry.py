"""Fusers by name."""

from __future__ import annotations

from ._base import AbstractFuser
from ._bma import BMAFuser
from ._simple import InverseVarianceFuser, MeanFuser
from ._stacking import StackingFuser

#: Fuser classes by registry name.
FUSERS: dict[str, type[AbstractFuser]] = {
    "mean": MeanFuser, "ivw": InverseVarianceFuser, "stacking": StackingFuser, "bma": BMAFuser}


def make_fuser(name: str, **kwargs) -> AbstractFuser:
    """Fuser ``name`` (one of :data:`FUSERS`) with its settings ``kwargs``."""
    try:
        return FUSERS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown fuser {name!r}; known: {', '.join(FUSERS)}") from None
