"""Gradient-based batch inversion of leaf models (vectorised Levenberg–Marquardt)."""

from ._bounds import to_bounded as to_bounded, to_unconstrained as to_unconstrained
from ._invert import InversionProblem as InversionProblem, invert as invert, make_problem as make_problem
from ._lm import levenberg_marquardt as levenberg_marquardt
from ._result import InversionResult as InversionResult, Status as Status
