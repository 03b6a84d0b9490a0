"""The method interface is generic: leave-one-group-out evaluation and cross-fitting of a split-window
regressor on a (non-spectral) thermal table grouped by site, and of PLSR on leaf spectra grouped by site."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from leafjax.baselines import PLSRSourceOnly, TraitMean, fit_plsr
from leafjax.data import AbstractDataset, SpectralDataset, load_demo
from leafjax.evaluation import cross_fit, k_target_splits, lodo_splits, run_evaluation
from leafjax.methods import AbstractMethod, AbstractTraitMethod, Task, as_task


@dataclasses.dataclass(frozen=True, eq=False)
class ThermalTable(AbstractDataset):
    """Brightness temperatures (K) at 11 and 12 µm per sample, surface temperature ``lst`` (K) and emissivity
    (dimensionless) where measured, and the site of each sample."""

    bt: np.ndarray  # (n, 2), K
    values: dict  # target name -> (n,) float64, NaN where unmeasured
    site: np.ndarray  # (n,) str
    kind: ClassVar[str] = "thermal-table"

    def __len__(self):
        return self.bt.shape[0]

    def subset(self, rows):
        idx = np.asarray(rows)
        idx = np.flatnonzero(idx) if idx.dtype == bool else idx.astype(np.int64)
        return ThermalTable(self.bt[idx], {k: v[idx] for k, v in self.values.items()}, self.site[idx])

    def groups(self, unit):
        if unit != "site":
            raise ValueError(f"no grouping column {unit!r}")
        return self.site.astype(str)

    def target(self, name):
        if name not in self.values:
            raise ValueError(f"unknown target {name!r}")
        return np.asarray(self.values[name], dtype=np.float64)

    def sample_ids(self):
        return np.array([f"s{i}" for i in range(len(self))])  # not unique after subset: only used in tables


def thermal_table(seed: int = 0) -> ThermalTable:
    """Four sites; LST = 1.0·T11 + 2.0·(T11 − T12) + site-independent noise; emissivity linear in T11 − T12."""
    rng = np.random.default_rng(seed)
    sizes = {"A": 30, "B": 25, "C": 20, "D": 6}
    site = np.concatenate([[s] * n for s, n in sizes.items()])
    t11 = rng.uniform(280.0, 310.0, site.size)
    t12 = t11 - rng.uniform(0.5, 3.0, site.size)
    lst = 1.0 * t11 + 2.0 * (t11 - t12) + 0.05 * rng.normal(size=site.size)
    emis = 0.99 - 0.01 * (t11 - t12) + 1e-4 * rng.normal(size=site.size)
    lst[::9] = np.nan  # some unmeasured
    return ThermalTable(np.c_[t11, t12], {"lst": lst, "emissivity": emis}, site)


def _design(ds: ThermalTable) -> np.ndarray:
    t11, t12 = ds.bt[:, 0], ds.bt[:, 1]
    return np.c_[np.ones(len(ds)), t11, t11 - t12]


@dataclasses.dataclass(eq=False)
class SplitWindow(AbstractMethod):
    """Least-squares split-window regression of the task's targets on (1, T11, T11 − T12), fitted on the
    training groups plus the target sample; records the rows (site, position in site) it was fitted on."""

    name: str = "split_window"
    fits: list = dataclasses.field(default_factory=list)

    def fit(self, train, task, target_sample=None):
        parts = [p for p in (train, target_sample) if p is not None and len(p)]
        x = np.concatenate([_design(p) for p in parts])
        y = np.column_stack([np.concatenate([p.target(t) for p in parts]) for t in task.targets])
        self.fits.append((task, np.concatenate([p.bt[:, 0] for p in parts])))
        return np.linalg.lstsq(x, y, rcond=None)[0], len(task.targets)

    def predict(self, fitted, test):
        coef, n_t = fitted
        pred = _design(test) @ coef
        return pred[:, 0] if n_t == 1 else pred


def test_leave_one_site_out_on_a_thermal_table():
    ds = thermal_table()
    task = Task("lst", kind="thermal-table", unit="site")
    method = SplitWindow()
    preds = run_evaluation(ds, [method], [task], ks=(5,), seeds=(0, 1), min_test=10)
    # site D has 6 rows (< min_test): never held out; k = 5 leaves ≥ 10 test rows in A, B and C
    assert sorted(preds["held_out"].unique()) == ["A", "B", "C"]
    assert set(preds["k"]) == {0, 5} and (preds["trait"] == "lst").all()
    labelled = np.isfinite(ds.target("lst"))
    for (held_out, k, seed), g in preds.groupby(["held_out", "k", "seed"]):
        rows = g["row"].to_numpy()
        assert (ds.site[rows] == held_out).all() and labelled[rows].all()
        np.testing.assert_array_equal(g["measured"], ds.target("lst")[rows])
    # LOGO predictions equal least squares on the labelled rows of the other sites (D included)
    for held_out in "ABC":
        train = labelled & (ds.site != held_out)
        coef = np.linalg.lstsq(_design(ds)[train], ds.target("lst")[train], rcond=None)[0]
        g = preds[(preds["held_out"] == held_out) & (preds["k"] == 0)]
        np.testing.assert_allclose(g["predicted"], _design(ds)[g["row"].to_numpy()] @ coef, rtol=1e-12)
    # no fit ever saw a test row (brightness temperatures are continuous, so they identify rows)
    k_splits = list(k_target_splits(ds, task, (5,), (0, 1), min_test=10))
    assert len(method.fits) == 3 + len(k_splits)
    for split, (_, seen) in zip(list(lodo_splits(ds, task, min_test=10)) + k_splits, method.fits):
        assert not np.isin(ds.bt[split.test, 0], seen).any()
        assert np.isin(ds.bt[split.target, 0], seen).all()
    # the regressor recovers the split-window relation out of site
    assert float(np.sqrt(np.mean((preds["predicted"] - preds["measured"]) ** 2))) < 0.1


def test_multi_target_task_and_cross_fit_on_a_thermal_table():
    ds = thermal_table(1)
    task = Task(("lst", "emissivity"), kind="thermal-table", unit="site")
    preds = run_evaluation(ds, [SplitWindow()], [task], ks=(), lodo=True, min_test=10)
    assert set(preds["trait"]) == {"lst", "emissivity"}
    both = np.isfinite(ds.target("lst")) & np.isfinite(ds.target("emissivity"))
    for (held_out, target), g in preds.groupby(["held_out", "trait"]):
        assert both[g["row"].to_numpy()].all() and len(g) == int((both & (ds.site == held_out)).sum())
    assert np.abs(preds.loc[preds["trait"] == "emissivity", "predicted"]
                  - preds.loc[preds["trait"] == "emissivity", "measured"]).max() < 1e-3

    a = np.flatnonzero(ds.site == "A")
    train, target, test = ds.subset(ds.site != "A"), ds.subset(a[:10]), ds.subset(a[10:])
    method = SplitWindow()
    cf = cross_fit(method, train, task, target, test)
    assert cf.target.shape == (10, 2) and cf.test.shape == (len(test), 2)
    for f in range(5):  # each fold predicted by a fit that never saw its rows
        seen = method.fits[1 + f][1]
        assert not np.isin(target.bt[cf.folds == f, 0], seen).any()


def test_tasks_from_names_and_kind_checks():
    ds = thermal_table()
    assert as_task("lst", ds) == Task("lst", kind="thermal-table")
    with pytest.raises(ValueError, match="posed on 'spectra-table'"):
        as_task(Task("lst", unit="site"), ds)
    # a leaf-trait method refuses a thermal task before anything is fitted
    with pytest.raises(ValueError, match="spectra-table"):
        run_evaluation(ds, [TraitMean()], [Task("lst", kind="thermal-table", unit="site")])
    with pytest.raises(ValueError, match="grouping column"):
        list(lodo_splits(ds, "lst"))  # ThermalTable has no 'dataset' column
    with pytest.raises(ValueError, match="unknown data kind"):
        Task("lst", kind="thermal")
    with pytest.raises(ValueError, match="distinct"):
        Task(("lst", "lst"))
    with pytest.raises(ValueError, match="expected one"):
        Task(("lst", "emissivity")).target
    assert Task("lst", unit="parcel", group_column="parcel_id").group_column == "parcel_id"
    assert isinstance(TraitMean(), AbstractMethod) and issubclass(AbstractTraitMethod, AbstractMethod)


def test_leave_one_site_out_on_leaf_spectra():
    ds = load_demo()
    assert isinstance(ds, AbstractDataset) and ds.kind == "spectra-table"
    plsr = PLSRSourceOnly(max_components=5)
    preds = run_evaluation(ds, [plsr, TraitMean()], [Task("lma", unit="site")], ks=(5,), seeds=(0,))
    sites = ds.meta["site"].to_numpy()
    assert sorted(preds["held_out"].unique()) == sorted(pd.unique(sites))  # 3 sites in 2 datasets
    for held_out, g in preds.groupby("held_out"):
        assert (sites[g["row"].to_numpy()] == held_out).all()
    held = "SLZ"
    train = np.isfinite(ds.trait("lma")) & (sites != held)
    model = fit_plsr(ds.spectra()[train], ds.trait("lma")[train], max_components=5)
    g = preds[(preds["held_out"] == held) & (preds["k"] == 0) & (preds["method"] == plsr.name)]
    np.testing.assert_allclose(g["predicted"], model.predict(ds.spectra()[g["row"].to_numpy()]), rtol=1e-12)
    # grouping by dataset (the default) gives the two datasets instead
    by_dataset = run_evaluation(ds, [TraitMean()], ["lma"], ks=(), min_test=10)
    assert sorted(by_dataset["held_out"].unique()) == sorted(ds.dataset_names())


def test_spectral_dataset_implements_the_interface():
    ds = SpectralDataset.from_arrays(np.array([500.0, 600.0, 700.0]),
                                     np.array([[0.1, np.nan, 0.3], [0.1, 0.2, 0.3], [0.2, 0.2, 0.2]]),
                                     dataset="x", lma=[0.01, np.nan, 0.02])
    np.testing.assert_array_equal(ds.groups("dataset"), ["x", "x", "x"])
    np.testing.assert_array_equal(ds.target("lma"), ds.trait("lma"))
    np.testing.assert_array_equal(ds.sample_ids(), ["x_0", "x_1", "x_2"])
    assert not ds.row_flag("flag_white_background").any()
    view, key = ds.harmonise([0, 2])
    np.testing.assert_array_equal(view.wavelengths, [500.0, 700.0])
    assert len(view) == 3 and key == ds.harmonise(np.array([True, False, True]))[1] != ds.harmonise([1, 2])[1]
    with pytest.raises(ValueError, match="grouping column"):
        ds.groups("parcel")
