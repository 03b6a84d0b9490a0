"""The SpectralDataset container."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leafjax.data import SpectralDataset, concat


def _ds(n=4, name="a", wl=(500.0, 600.0, 700.0)):
    r = np.arange(n * len(wl), dtype=float).reshape(n, len(wl)) / 100
    return SpectralDataset.from_arrays(np.array(wl), r, dataset=name, lma=np.linspace(0.01, 0.02, n))


def test_subset_and_queries():
    ds = _ds()
    s = ds.subset([3, 1])
    np.testing.assert_array_equal(s.reflectance, ds.reflectance[[3, 1]])
    np.testing.assert_array_equal(s.trait("lma"), ds.trait("lma")[[3, 1]])
    assert list(s.meta["sample_id"]) == ["a_3", "a_1"]
    assert len(ds.subset(np.array([True, False, True, False]))) == 2
    assert ds.traits_available() == ["lma"] and np.isnan(ds.trait("ewt")).all()
    with pytest.raises(ValueError, match="unknown trait"):
        ds.trait("LMA")


def test_concat_unions_traits_and_checks_grid():
    a = _ds(2, "a")
    b = SpectralDataset.from_arrays(a.wavelengths, np.ones((3, 3)) * 0.2, dataset="b", ewt=[0.01, np.nan, 0.02])
    c = concat([a, b])
    assert len(c) == 5 and c.dataset_names() == ["a", "b"]
    assert list(c.traits.columns) == ["ewt", "lma"]
    assert np.isnan(c.trait("lma")[2:]).all() and np.isnan(c.trait("ewt")[:2]).all()
    assert c.traits_available(min_count=2) == ["ewt", "lma"]
    with pytest.raises(ValueError, match="resample"):
        concat([a, _ds(2, "z", wl=(500.0, 600.0, 710.0))])


def test_select_wavelengths():
    ds = _ds()
    assert list(ds.select_wavelengths((550, 700)).wavelengths) == [600, 700]
    assert list(ds.select_wavelengths(np.array([True, False, True])).wavelengths) == [500, 700]
    with pytest.raises(ValueError, match="not on the dataset's grid"):
        ds.select_wavelengths(np.array([505.0]))


def test_validation():
    with pytest.raises(ValueError, match="strictly increasing"):
        SpectralDataset.from_arrays(np.array([600.0, 500.0]), np.ones((1, 2)))
    with pytest.raises(ValueError, match="non-canonical"):
        SpectralDataset(np.array([500.0]), np.ones((1, 1)), pd.DataFrame({"LMA": [1.0]}),
                        _ds(1).meta)
    with pytest.raises(ValueError, match="meta lacks"):
        SpectralDataset(np.array([500.0]), np.ones((1, 1)), pd.DataFrame(index=[0]), pd.DataFrame({"x": [1]}))
