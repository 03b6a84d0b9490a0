"""retrieve_products: argument validation before any compute (one-line errors), masking of invalid pixels and
route selection."""

import jax
import numpy as np
import pytest

from leafjax._flags import Quality
from leafjax.inversion import Status
from leafjax.products import (DEFAULT_METHOD, METHODS, PRODUCTS, HybridRoute, LMRoute, LUTRoute, get_route,
                              retrieve_products)

GEO = {"sza": 35.0, "vza": 5.0, "raa": 60.0}


def _one_line(err):
    assert "\n" not in str(err.value)


def test_get_route_by_name_and_bad_options():
    assert DEFAULT_METHOD in METHODS and set(METHODS) == {"lm", "hybrid", "lut"}
    assert isinstance(get_route("LM"), LMRoute) and isinstance(get_route("hybrid"), HybridRoute)
    assert get_route("lut", n=100, k=5) == LUTRoute(n=100, k=5)  # static configuration: equal by value
    for call, match in [(lambda: get_route("svm"), "unknown retrieval method 'svm'"),
                        (lambda: get_route("lut", bogus=1), "bad options for method 'lut'"),
                        (lambda: LUTRoute(n=10, k=20), "must not exceed"),
                        (lambda: LUTRoute(prior="flat"), "unknown prior 'flat'"),
                        (lambda: HybridRoute(network="svm"), "unknown network 'svm'"),
                        (lambda: HybridRoute(held_out=1.0), "held_out"),
                        (lambda: LMRoute(free=("chl",)), "needs 'lai'"),
                        (lambda: LMRoute(free=("lai", "colour")), "colour")]:
        with pytest.raises(ValueError, match=match) as err:
            call()
        _one_line(err)


def test_bad_input_raises_one_line_before_compute(s2):
    srf, model = s2
    x = np.full((3, srf.n_bands), 0.2)
    cases = [((x[:, :4], GEO), {}, r"bands must be \(pix, 10\)"),
             ((x, {"sza": 30.0, "vza": 0.0}), {}, "missing raa"),
             ((x, {**GEO, "vza": np.zeros(2)}), {}, r"'vza' has shape \(2,\)"),
             ((x, GEO), {"products": ("lai", "gai")}, "unknown product 'gai'"),
             ((x, GEO), {"products": ()}, "no product requested"),
             ((x, GEO), {"products": ("lai", "lai")}, "twice"),
             ((x * 100, GEO), {}, "look like percent"),
             ((x, GEO), {"route": "nope"}, "unknown retrieval method"),
             ((x, GEO), {"state": {"route": "hybrid"}}, "prepared by route 'hybrid'")]
    for (bands, geometry), kw, match in cases:
        with pytest.raises(ValueError, match=match) as err:
            retrieve_products(bands, geometry, srf, kw.pop("route", LUTRoute(n=50, k=5)), model=model, **kw)
        _one_line(err)


def test_invalid_pixels_are_flagged_and_empty_batches_allowed(s2):
    srf, model = s2
    x = np.full((4, srf.n_bands), 0.2)
    x[:, -3:] = 0.35
    x[0] = np.nan  # no valid band
    x[1, 0] = 2.0  # out of the fraction range
    geo = {"sza": np.array([35.0, 35.0, 95.0, 35.0]), "vza": 5.0, "raa": 60.0}  # pixel 2: sun below the horizon
    route = LUTRoute(n=200, k=5, noise="none", sky=False)
    res = retrieve_products(x, geo, srf, route, model=model, key=jax.random.key(0), products="lai,fapar")
    assert res.products == ("lai", "fapar")
    np.testing.assert_array_equal(res.status[:3], [Status.INVALID_INPUT] * 3)
    assert res.status[3] == Status.CONVERGED and np.isfinite(res.values["lai"][3])
    assert np.isnan(res.values["lai"][:3]).all() and np.isnan(res.std["fapar"][:3]).all()
    assert res.quality[0] & Quality.NO_VALID_BAND and res.quality[1] & Quality.OUT_OF_RANGE
    assert res.quality[2] & Quality.INVALID_GEOMETRY
    empty = retrieve_products(np.zeros((0, srf.n_bands)), GEO, srf, route)
    assert empty.n_pixels == 0 and empty.products == PRODUCTS
    every = retrieve_products(x[:1], GEO, srf, route)  # nothing valid: no state is even prepared
    assert every.status[0] == Status.INVALID_INPUT
