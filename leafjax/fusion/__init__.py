"""leafjax.fusion: decision-level fusion of per-trait predictions from any set of methods (physical inversion
included): simple averaging, inverse-variance weighting, stacking and Bayesian model averaging, one interface
(:class:`AbstractFuser`), weights learned from the k target samples only."""

from ._base import AbstractFuser as AbstractFuser, as_numpy as as_numpy
from ._bma import BMAFuser as BMAFuser
from ._simple import InverseVarianceFuser as InverseVarianceFuser, MeanFuser as MeanFuser
from ._registry import FUSERS as FUSERS, make_fuser as make_fuser
from ._stacking import StackingFuser as StackingFuser
