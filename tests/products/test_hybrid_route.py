"""The hybrid route: a 2-member ensemble of small networks trained on 2000 simulations of the ATBD prior, tested on
further simulated pixels (inverse crime: the same model simulated them), so the bounds are loose."""

import jax
import numpy as np
import pytest

from leafjax._flags import Quality
from leafjax.inversion import Status
from leafjax.products import PRODUCTS, HybridRoute, retrieve_products

ROUTE = HybridRoute(n=2000, epochs=30, ensemble=2, network_kwargs={"d": 32, "n_blocks": 1})


@pytest.fixture(scope="module")
def prepared(s2, atbd_scene):
    srf, model = s2
    bands, geometry, _ = atbd_scene
    state = ROUTE.prepare(srf, model, jax.random.key(5))
    return state, retrieve_products(bands, geometry, srf, ROUTE, state=state)


@pytest.mark.slow
def test_hybrid_recovers_lai_with_ensemble_sigma(prepared, atbd_scene):
    state, res = prepared
    _, _, truth = atbd_scene
    ens = state["ensemble"]
    assert ens.names[:5] == PRODUCTS and len(ens.regressors) == 2 and {"chl", "lidf_a"} <= set(ens.names)
    assert np.all(res.status == Status.CONVERGED)
    assert np.corrcoef(res.values["lai"], truth["lai"])[0, 1] > 0.6
    moderate = truth["lai"] < 6.0
    assert np.median(np.abs(res.values["lai"] - truth["lai"])[moderate]) < 1.2
    for j, p in enumerate(PRODUCTS):
        s = res.std[p]
        assert np.all(np.isfinite(s)) and np.all(s > 0), p
        assert np.all(s >= np.sqrt(ens.residual_var[j]) - 1e-12), p  # spread + held-out residual variance
    assert np.all((res.values["fcover"] >= 0) & (res.values["fcover"] <= 1))
    assert np.all(np.isfinite(res.rmse)) and np.all(res.rmse > 0)  # forward model at the predicted parameters


def test_split_calls_match_and_out_of_domain_and_nan(prepared, s2, atbd_scene):
    state, res = prepared
    srf, _ = s2
    bands, geometry, _ = atbd_scene
    halves = [retrieve_products(bands[s], {k: v[s] for k, v in geometry.items()}, srf, ROUTE, state=state)
              for s in (slice(0, 10), slice(10, None))]
    for p in PRODUCTS:
        np.testing.assert_allclose(np.concatenate([h.values[p] for h in halves]), res.values[p], rtol=1e-6)
    x = bands[:3].copy()
    x[0] = 0.95  # far brighter than any simulated canopy: outside the training domain
    x[1, 2] = np.nan  # the networks need every band
    out = retrieve_products(x, {k: v[:3] for k, v in geometry.items()}, srf, ROUTE, products=("lai",),
                            state=state)
    assert out.products == ("lai",)
    assert out.quality[0] & Quality.OUT_OF_DOMAIN and out.status[0] == Status.CONVERGED
    assert out.quality[0] & Quality.POOR_FIT  # the forward model cannot explain it either
    assert out.status[1] == Status.INVALID_INPUT and out.quality[1] & Quality.MISSING_BANDS
    assert np.isnan(out.values["lai"][1])
    assert not out.quality[2] & Quality.OUT_OF_DOMAIN


def test_same_key_same_ensemble(prepared, s2, atbd_scene):
    state, res = prepared
    srf, model = s2
    bands, geometry, _ = atbd_scene
    again = retrieve_products(bands[:4], {k: v[:4] for k, v in geometry.items()}, srf, ROUTE, model=model,
                              key=jax.random.key(5))
    np.testing.assert_allclose(again.values["lai"], res.values["lai"][:4], rtol=1e-6)
