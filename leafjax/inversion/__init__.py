"""Gradient-based batch inversion of leaf models (vectorised Levenberg–Marquardt)."""

from ._bounds import to_bounded as to_bounded, to_unconstrained as to_unconstrained
from ._invert import InversionProblem as InversionProblem, invert as invert, make_problem as make_problem
from ._lm import levenberg_marquardt as levenberg_marquardt
from ._result import InversionResult as InversionResult, Status as Status
from ._strategies import (
    N_PRIOR_BANDS as N_PRIOR_BANDS,
    SUBDOMAINS as SUBDOMAINS,
    invert_spectra as invert_spectra,
    n_struct_prior as n_struct_prior,
)
from ._archive import (
    ArchiveSettings as ArchiveSettings,
    invert_archive as invert_archive,
    open_archive as open_archive,
    row_flags as row_flags,
)
