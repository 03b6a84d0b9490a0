"""Gradient-based batch inversion (vectorised Levenberg–Marquardt): leaf spectra, canopy bands, and leaf/soil
spectra from canopy reflectance."""

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
from ._canopy import (
    CanopyInversionResult as CanopyInversionResult,
    invert_canopy as invert_canopy,
)
from ._retrieval import (
    SpectraRetrieval as SpectraRetrieval,
    free_to_spectra as free_to_spectra,
    retrieve_free_spectra as retrieve_free_spectra,
    retrieve_prospect_soil as retrieve_prospect_soil,
    second_difference_penalty as second_difference_penalty,
    spectra_to_free as spectra_to_free,
)
