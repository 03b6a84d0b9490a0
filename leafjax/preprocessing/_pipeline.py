"""Composition of preprocessing steps, collecting their reports."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._report import StepReport

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: A preprocessing step: a pure function of a dataset returning the new dataset and a report.  Bind options
#: with ``functools.partial``, e.g. ``partial(savgol, window=11)``.
Step = Callable[["SpectralDataset"], tuple["SpectralDataset", StepReport]]


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """Apply steps in order: ``Pipeline((to_fraction, partial(resample, target_wavelengths=grid)))(ds)`` returns
    ``(dataset, [report, ...])``."""

    steps: tuple[Step, ...]

    def __call__(self, ds: SpectralDataset) -> tuple[SpectralDataset, list[StepReport]]:
        reports = []
        for step in self.steps:
            ds, report = step(ds)
            if not isinstance(report, StepReport):
                raise TypeError(f"step {step!r} returned {type(report).__name__}, expected StepReport")
            reports.append(report)
        return ds, reports


def compose(*steps: Step) -> Pipeline:
    """``compose(f, g)(ds)`` applies ``f`` then ``g``; see :class:`Pipeline`."""
    return Pipeline(tuple(steps))
