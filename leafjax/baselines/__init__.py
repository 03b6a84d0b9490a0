"""Baselines: PLSR (component count by inner CV) trained three ways, and a trait-mean predictor."""

from ._methods import (
    PLSRCombined as PLSRCombined,
    PLSRSourceOnly as PLSRSourceOnly,
    PLSRTargetOnly as PLSRTargetOnly,
    TraitMean as TraitMean,
)
from ._physical import INVERSION_TRAITS as INVERSION_TRAITS, ProspectInversion as ProspectInversion
from ._plsr import PLSRModel as PLSRModel, fit_plsr as fit_plsr, pls1_coefficients as pls1_coefficients


def default_baselines() -> tuple:
    """The four baselines of the LODO protocol, with default settings."""
    return (PLSRTargetOnly(), PLSRSourceOnly(), PLSRCombined(), TraitMean())
