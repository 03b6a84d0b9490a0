"""Cross-fitting inside the target sample: folds, no test row ever reaches ``fit``, no target row is predicted
by a model that saw its label, and a memorising method gets no stacking weight once its predictions of the
target rows are out-of-fold."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pytest

from leafjax.data import SpectralDataset
from leafjax.evaluation import AbstractTraitMethod, cross_fit, fold_ids, rmse
from leafjax.fusion import StackingFuser


def _dataset(n: int, seed: int, name: str, noise: float = 0.05) -> SpectralDataset:
    """Band 0 = LMA (g/cm²) + small noise; 40 further bands of large noise unrelated to LMA."""
    rng = np.random.default_rng(seed)
    lma = rng.normal(0.01, 0.003, n)
    x = np.concatenate([lma[:, None] + noise * 0.003 * rng.normal(size=(n, 1)), rng.normal(0.0, 1.0, (n, 40))], 1)
    return SpectralDataset.from_arrays(np.arange(400.0, 400.0 + 10 * x.shape[1], 10.0), x, dataset=name, lma=lma)


@dataclasses.dataclass
class Recorder(AbstractTraitMethod):
    """Records the sample ids of every fit; predicts, per row, 1 if that row's label was seen by the fit."""

    name: str = "recorder"
    fits: list = dataclasses.field(default_factory=list)

    def fit(self, train, trait, target_sample=None):
        seen = set(train.meta["sample_id"]) | (set(target_sample.meta["sample_id"]) if target_sample else set())
        self.fits.append(seen)
        return seen

    def predict(self, fitted, test):
        return np.array([float(i in fitted) for i in test.meta["sample_id"]])


@dataclasses.dataclass(frozen=True)
class MemorisingNN(AbstractTraitMethod):
    """1-nearest-neighbour lookup among the target-sample spectra: exact on the rows it was fitted on, a random
    other row's value elsewhere (the spectra carry almost no information on the trait at this distance)."""

    name: str = "memorise"
    uses_train: ClassVar[bool] = False
    requires_target_sample: ClassVar[bool] = True

    def fit(self, train, trait, target_sample=None):
        return target_sample.spectra(), target_sample.trait(trait)

    def predict(self, fitted, test):
        x, y = fitted
        d = ((test.spectra()[:, None, :] - x[None, :, :]) ** 2).sum(-1)
        return y[np.argmin(d, axis=1)]


@dataclasses.dataclass(frozen=True)
class Band0(AbstractTraitMethod):
    """A good target-free method: reads band 0."""

    name: str = "band0"
    uses_train: ClassVar[bool] = False
    uses_target_sample: ClassVar[bool] = False

    def fit(self, train, trait, target_sample=None):
        return None

    def predict(self, fitted, test):
        return test.reflectance[:, 0].copy()


@pytest.mark.parametrize(("k", "n_folds"), [(20, 5), (7, 5), (3, 3), (2, 2)])
def test_fold_ids(k, n_folds):
    ids = fold_ids(k)
    assert ids.shape == (k,) and set(ids) == set(range(n_folds))
    sizes = np.bincount(ids)
    assert sizes.max() - sizes.min() <= 1
    np.testing.assert_array_equal(ids, fold_ids(k))  # deterministic
    assert not np.array_equal(fold_ids(20, seed=0), fold_ids(20, seed=1))


def test_no_test_row_reaches_fit_and_no_target_row_is_predicted_in_sample():
    train, target, test = _dataset(50, 0, "src"), _dataset(20, 1, "tgt"), _dataset(30, 2, "tst")
    rec = Recorder()
    out = cross_fit(rec, train, "lma", target, test)
    assert len(rec.fits) == 5 + 1  # 5 fold fits + the full-k fit
    test_ids = set(test.meta["sample_id"])
    target_ids = set(target.meta["sample_id"])
    assert all(not (seen & test_ids) for seen in rec.fits)
    assert rec.fits[0] >= target_ids  # the full fit saw all k target rows …
    assert all(len(seen & target_ids) == 16 for seen in rec.fits[1:])  # … each fold fit 16 of them
    np.testing.assert_array_equal(out.target, 0.0)  # every target row predicted by a model blind to it
    np.testing.assert_array_equal(out.test, 0.0)
    assert out.target.shape == (20,) and out.test.shape == (30,)
    np.testing.assert_array_equal(np.bincount(out.folds), [4] * 5)


def test_target_free_method_is_fitted_once():
    train, target, test = _dataset(50, 0, "src"), _dataset(20, 1, "tgt"), _dataset(30, 2, "tst")

    @dataclasses.dataclass
    class FreeRecorder(Recorder):
        uses_target_sample: ClassVar[bool] = False

    rec = FreeRecorder()
    out = cross_fit(rec, train, "lma", target, test)
    assert len(rec.fits) == 1
    np.testing.assert_array_equal(out.folds, 0)


def test_memorising_method_gets_no_stacking_weight_when_cross_fitted():
    train, target, test = _dataset(10, 0, "src"), _dataset(40, 1, "tgt"), _dataset(200, 2, "tst")
    y_t, y_test = target.trait("lma"), test.trait("lma")
    good = cross_fit(Band0(), train, "lma", target, test)
    memo = cross_fit(MemorisingNN(), train, "lma", target, test)
    in_sample = MemorisingNN().predict(MemorisingNN().fit(train, "lma", target), target)
    np.testing.assert_allclose(in_sample, y_t)  # perfect in-sample …
    assert rmse(y_test, memo.test) > 2 * rmse(y_test, good.test)  # … useless out of sample

    fuser = StackingFuser()
    naive = fuser.fit(np.c_[good.target, in_sample], y_t)
    crossed = fuser.fit(np.c_[good.target, memo.target], y_t)
    assert float(naive["w"][1]) > 0.9  # in-sample predictions fool the stacker
    assert float(crossed["w"][1]) < 0.05  # out-of-fold predictions do not
    p_test = np.c_[good.test, memo.test]
    assert rmse(y_test, np.asarray(fuser.predict(crossed, p_test)[0])) < 0.5 * rmse(
        y_test, np.asarray(fuser.predict(naive, p_test)[0]))


def test_too_small_target_sample():
    train, test = _dataset(10, 0, "src"), _dataset(5, 2, "tst")
    with pytest.raises(ValueError, match="at least 2"):
        cross_fit(MemorisingNN(), train, "lma", _dataset(1, 1, "tgt"), test)
