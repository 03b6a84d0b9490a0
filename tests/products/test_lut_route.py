"""The look-up-table route on simulated pixels (inverse crime: the tables use the model that simulated the
pixels; small tables, n = 2000, so the accuracy bounds are loose)."""

import jax
import numpy as np
import pytest

from leafjax._flags import Quality
from leafjax.inversion import Status
from leafjax.products import PRODUCTS, LUTRoute, retrieve_products

ROUTE = LUTRoute(n=2000, k=20, prior="atbd")  # the prior of the simulated pixels


@pytest.fixture(scope="module")
def prepared(s2, atbd_scene):
    srf, model = s2
    bands, geometry, _ = atbd_scene
    state = ROUTE.prepare(srf, model, jax.random.key(3))
    return state, retrieve_products(bands, geometry, srf, ROUTE, state=state)


def test_lut_recovers_lai_with_finite_positive_sigma(prepared, atbd_scene):
    state, res = prepared
    _, _, truth = atbd_scene
    assert res.products == PRODUCTS and np.all(res.status == Status.CONVERGED)
    lai, true = res.values["lai"], truth["lai"]
    moderate = true < 6.0  # beyond ~6 the bands saturate
    assert np.median(np.abs(lai - true)[moderate]) < 1.0
    assert np.corrcoef(lai, true)[0, 1] > 0.6
    for p in PRODUCTS:
        assert np.all(np.isfinite(res.std[p])) and np.all(res.std[p] > 0), p
    assert np.all((res.values["fapar"] >= 0) & (res.values["fapar"] <= 1))
    assert np.all(np.isfinite(res.rmse)) and res.rmse.max() < 0.05
    assert len(state["tables"]) == 2  # one table per distinct geometry


def test_k1_ccc_is_lai_times_chl_of_the_best_entry(prepared, s2, atbd_scene):
    state, _ = prepared
    srf, _ = s2
    bands, geometry, _ = atbd_scene
    res = retrieve_products(bands[:1], {k: v[:1] for k, v in geometry.items()}, srf, LUTRoute(n=2000, k=1),
                            state=state)
    assert len(state["tables"]) == 2  # the cached table of this geometry was reused
    lut = state["tables"][(35.0, 5.0, 60.0)]
    j = int(np.argmin(np.abs(np.asarray(lut.values["lai"]) - res.values["lai"][0])))
    np.testing.assert_allclose(res.values["ccc"][0],
                               0.01 * float(lut.values["lai"][j]) * float(lut.values["chl"][j]), rtol=1e-5)
    np.testing.assert_allclose(res.values["cwc"][0],
                               1e4 * float(lut.values["lai"][j]) * float(lut.values["ewt"][j]), rtol=1e-5)
    assert res.std["lai"][0] == 0.0  # one entry: no spread


def test_split_calls_match_one_call_and_key_determinism(prepared, s2, atbd_scene):
    _, res = prepared
    srf, model = s2
    bands, geometry, _ = atbd_scene
    fresh = ROUTE.prepare(srf, model, jax.random.key(3))  # same key: the same tables
    halves = [retrieve_products(bands[s], {k: v[s] for k, v in geometry.items()}, srf, ROUTE, state=fresh)
              for s in (slice(0, 12), slice(12, None))]
    for p in PRODUCTS:
        np.testing.assert_array_equal(np.concatenate([h.values[p] for h in halves]), res.values[p])
        np.testing.assert_array_equal(np.concatenate([h.std[p] for h in halves]), res.std[p])
    other = retrieve_products(bands[:4], {k: v[:4] for k, v in geometry.items()}, srf, ROUTE, model=model,
                              key=jax.random.key(4))
    assert not np.array_equal(other.values["lai"], res.values["lai"][:4])


def test_nan_pixels_subset_products_and_band_subset(prepared, s2, atbd_scene):
    from leafjax.spectral import load_srf

    state, res = prepared
    srf, model = s2
    bands, geometry, _ = atbd_scene
    x = bands[:4].copy()
    x[0] = np.nan  # no valid band: not retrieved
    x[1, 3] = np.nan  # one missing band: retrieved from the others
    sub = retrieve_products(x, {k: v[:4] for k, v in geometry.items()}, srf, ROUTE, products=("fcover", "lai"),
                            state=state)
    assert sub.products == ("fcover", "lai")
    assert sub.status[0] == Status.INVALID_INPUT and np.isnan(sub.values["lai"][0]) and np.isnan(sub.rmse[0])
    assert sub.quality[0] & Quality.NO_VALID_BAND
    assert sub.status[1] == Status.CONVERGED and sub.quality[1] & Quality.MISSING_BANDS
    np.testing.assert_array_equal(sub.values["lai"][2:], res.values["lai"][2:4])
    # Sentinel-2 without B8 (the bands of the validation tables)
    names = [b for b in srf.band_names if b != "B8"]
    srf9 = load_srf("sentinel-2a", np.asarray(srf.wavelengths), bands=names)
    keep = [srf.band_names.index(b) for b in names]
    nine = retrieve_products(bands[:, keep], geometry, srf9, LUTRoute(n=2000, k=20), model=model,
                             key=jax.random.key(3))
    assert np.all(nine.status == Status.CONVERGED)
    assert np.corrcoef(nine.values["lai"], atbd_scene[2]["lai"])[0, 1] > 0.6
