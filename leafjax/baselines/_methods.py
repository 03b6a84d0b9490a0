"""Baseline trait-retrieval methods implementing :class:`~leafjax.methods.AbstractTraitMethod`.

- :class:`PLSRTargetOnly` ("SST" of the reference study): PLSR trained on the k target samples only.
- :class:`PLSRSourceOnly` ("SOT"): PLSR trained on the other datasets only.
- :class:`PLSRCombined` ("CSTT"): PLSR trained on the other datasets plus the k target samples.
- :class:`TraitMean`: predicts the mean trait of the target sample (or of the source data when k = 0).

Spectra enter PLSR as the dataset's features (reflectance, then transmittance when present).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..methods import AbstractTraitMethod
from ._plsr import CV_FOLDS, MAX_COMPONENTS, PLSRModel, fit_plsr

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset


def _xy(ds: SpectralDataset, trait: str) -> tuple[np.ndarray, np.ndarray]:
    y = ds.trait(trait)
    ok = np.isfinite(y)
    return ds.spectra()[ok], y[ok]


@dataclasses.dataclass(frozen=True)
class _PLSRBase(AbstractTraitMethod):
    name: str = "plsr"
    max_components: int = MAX_COMPONENTS
    folds: int = CV_FOLDS
    scale: bool = True
    one_se: bool = False
    seed: int = 0

    def _fit(self, x, y) -> PLSRModel:
        return fit_plsr(x, y, max_components=self.max_components, folds=self.folds, scale=self.scale,
                        one_se=self.one_se, seed=self.seed)

    def predict(self, fitted: PLSRModel, test: SpectralDataset) -> np.ndarray:
        return fitted.predict(test.spectra())


@dataclasses.dataclass(frozen=True)
class PLSRTargetOnly(_PLSRBase):
    """PLSR on the k labelled target samples only (component count by inner CV on those k)."""

    name: str = "plsr_target"
    uses_train: ClassVar[bool] = False
    requires_target_sample: ClassVar[bool] = True

    def fit(self, train, trait, target_sample=None) -> PLSRModel:
        if target_sample is None:
            raise ValueError("PLSRTargetOnly needs a target sample")
        return self._fit(*_xy(target_sample, trait))


@dataclasses.dataclass(frozen=True)
class PLSRSourceOnly(_PLSRBase):
    """PLSR on the other datasets only; the target sample is ignored."""

    name: str = "plsr_source"
    uses_target_sample: ClassVar[bool] = False

    def fit(self, train, trait, target_sample=None) -> PLSRModel:
        return self._fit(*_xy(train, trait))


@dataclasses.dataclass(frozen=True)
class PLSRCombined(_PLSRBase):
    """PLSR on the other datasets pooled with the k target samples (each target sample repeated
    ``target_weight`` times, 1 = plain pooling)."""

    name: str = "plsr_combined"
    target_weight: int = 1
    requires_target_sample: ClassVar[bool] = True

    def fit(self, train, trait, target_sample=None) -> PLSRModel:
        if target_sample is None:
            raise ValueError("PLSRCombined needs a target sample")
        xs, ys = _xy(train, trait)
        xt, yt = _xy(target_sample, trait)
        rep = max(int(self.target_weight), 1)
        return self._fit(np.concatenate([xs] + [xt] * rep), np.concatenate([ys] + [yt] * rep))


@dataclasses.dataclass(frozen=True)
class TraitMean(AbstractTraitMethod):
    """Predicts a constant: the target-sample mean when a target sample is given, else the source mean."""

    name: str = "mean"
    uses_train: ClassVar[bool] = False

    def fit(self, train, trait, target_sample=None) -> float:
        src = target_sample if target_sample is not None and len(target_sample) else train
        y = src.trait(trait)
        if not np.isfinite(y).any():
            raise ValueError(f"TraitMean: no measured {trait} to average")
        return float(np.nanmean(y))

    def predict(self, fitted: float, test) -> np.ndarray:
        return np.full(len(test), fitted)
