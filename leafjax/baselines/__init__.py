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
from ._split_window import (
    DEFAULT_WV_BINS as DEFAULT_WV_BINS,
    SplitWindow as SplitWindow,
    fit_split_window as fit_split_window,
)


from ._trees import (  # noqa: E402  (optional extras: scikit-learn, lightgbm; imported when a model is built)
    TREE_MODELS as TREE_MODELS,
    TreeModel as TreeModel,
    finetune_tree as finetune_tree,
    fit_tree as fit_tree,
)
