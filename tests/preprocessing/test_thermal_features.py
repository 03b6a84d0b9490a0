"""LST features from band brightness temperatures, water vapour, emissivities and view angle: shape, names,
values, switches and one-line input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leafjax.preprocessing import LST_TARGET, lst_feature_names, lst_features


def _table(n: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    bt = 280.0 + 20.0 * rng.random((n, 4))
    cols = {f"bt_b{i + 1}": bt[:, i] for i in range(4)}
    cols["wvc"] = 5.0 * rng.random(n)
    cols.update({f"emissivity_b{i + 1}": 0.9 + 0.1 * rng.random(n) for i in range(4)})
    cols["vza"] = 60.0 * rng.random(n)
    cols[LST_TARGET] = 300.0 + rng.random(n)
    return cols


def test_shape_names_and_values():
    cols = _table()
    x, names = lst_features(cols)
    assert x.shape == (6, 12) and x.dtype == np.float64 and len(names) == 12
    assert names == ("bt_b1", "bt_b2", "bt_b3", "bt_b4", "dbt", "wvc", "wvc_dbt", "emissivity_b1",
                     "emissivity_b2", "emissivity_b3", "emissivity_b4", "sec_vza_m1")
    col = dict(zip(names, x.T))
    dbt = cols["bt_b3"] - cols["bt_b4"]
    np.testing.assert_array_equal(col["bt_b2"], cols["bt_b2"])
    np.testing.assert_array_equal(col["dbt"], dbt)
    np.testing.assert_array_equal(col["wvc_dbt"], cols["wvc"] * dbt)
    np.testing.assert_array_equal(col["emissivity_b4"], cols["emissivity_b4"])
    np.testing.assert_allclose(col["sec_vza_m1"], 1.0 / np.cos(np.radians(cols["vza"])) - 1.0, rtol=1e-12)
    assert LST_TARGET == "lst"


def test_nadir_view_term_is_zero_and_60_degrees_is_one():
    cols = _table(2)
    cols["vza"] = np.array([0.0, 60.0])
    x, names = lst_features(cols)
    np.testing.assert_allclose(x[:, names.index("sec_vza_m1")], [0.0, 1.0], atol=1e-12)


@pytest.mark.parametrize("switches,k", [({"interaction": False}, 11), ({"emissivity": False}, 8),
                                        ({"view": False}, 11),
                                        ({"interaction": False, "emissivity": False, "view": False}, 6)])
def test_switches_drop_columns(switches, k):
    cols = _table()
    x, names = lst_features(cols, **switches)
    assert x.shape == (6, k) and names == lst_feature_names(**switches)
    full, full_names = lst_features(cols)
    for j, name in enumerate(names):  # every kept column equals the one of the full matrix
        np.testing.assert_array_equal(x[:, j], full[:, full_names.index(name)])


def test_columns_not_needed_by_the_switches_may_be_absent():
    cols = {k: v for k, v in _table().items() if not k.startswith("emissivity") and k != "vza"}
    x, _ = lst_features(cols, emissivity=False, view=False)
    assert x.shape == (6, 7)


def test_dataframe_input():
    cols = _table()
    x_dict, _ = lst_features(cols)
    x_df, _ = lst_features(pd.DataFrame(cols))
    np.testing.assert_array_equal(x_df, x_dict)


@pytest.mark.parametrize("edit,match", [
    (lambda c: c.pop("wvc"), "wvc"),
    (lambda c: [c.pop("bt_b3"), c.pop("vza")], "bt_b3, vza"),
    (lambda c: c.__setitem__("bt_b1", np.where(np.arange(6) == 2, np.nan, c["bt_b1"])), "NaN.*bt_b1"),
    (lambda c: c.__setitem__("wvc", c["wvc"][:5]), "unequal lengths"),
    (lambda c: c.__setitem__("bt_b2", c["bt_b2"] - 273.15), "in K"),
    (lambda c: c.__setitem__("emissivity_b2", c["emissivity_b2"] + 0.2), "emissivit"),
    (lambda c: c.__setitem__("vza", c["vza"] + 40.0), "vza"),
    (lambda c: c.__setitem__("wvc", -c["wvc"] - 0.1), "wvc"),
    (lambda c: c.__setitem__("wvc", c["wvc"][:, None]), "1-D"),
])
def test_one_line_errors(edit, match):
    cols = _table()
    edit(cols)
    with pytest.raises(ValueError, match=match) as err:
        lst_features(cols)
    assert "\n" not in str(err.value)
