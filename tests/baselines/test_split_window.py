"""Split-window baselines: exact recovery of known forms, bin blending, input errors, JSON round trip; and, on the
shared thermal data, the fit on simulations and its transfer to truth-generated samples (see the H4 test module
``tests/inversion/test_lst_inversion.py`` for the shared-data figures)."""

from __future__ import annotations

import numpy as np
import pytest

from leafjax.baselines import DEFAULT_WV_BINS, SplitWindow, fit_split_window
from leafjax.baselines._split_window import (
    FORMS,
    bin_weights,
    design_matrix,
    feature_names,
)


def synthetic(n=3000, seed=0, vza=False):
    rng = np.random.default_rng(seed)
    wvc = rng.uniform(0.0, 7.0, n)
    t3 = rng.uniform(250.0, 320.0, n)
    dt = rng.uniform(0.0, 0.6, n) * wvc + rng.normal(0, 0.3, n)
    bt = np.stack([t3 - rng.uniform(0, 4, n), t3 - rng.uniform(0, 3, n), t3, t3 - dt], -1)
    eps = rng.uniform(0.90, 0.995, (n, 4))
    angle = rng.uniform(0.0, 60.0, n) if vza else None
    return bt, eps, wvc, angle


@pytest.mark.parametrize("form", FORMS)
def test_recovers_coefficients_of_its_own_form(form):
    bt, eps, wvc, _ = synthetic()
    x = design_matrix(form, bt, eps, wvc)
    signal = x @ np.random.default_rng(3).normal(0, 1, x.shape[1])
    lst = bt[:, 2] + 3.0 * (signal - signal.mean()) / signal.std()  # in the span of the form (T_i is a term)
    sw = fit_split_window(bt, eps, wvc, lst, form=form)
    np.testing.assert_allclose(sw.predict(bt, eps, wvc), lst, atol=1e-6)
    assert sw.coefficients.shape == (len(sw.bins), len(feature_names(form)))
    assert np.all(sw.rmse < 1e-6) and sw.count.sum() >= len(wvc)


def test_per_bin_coefficients_and_continuous_blend():
    bt, eps, wvc, _ = synthetic(6000)
    # a form whose coefficients jump with water vapour: each bin recovers its own exactly only without overlap
    x = design_matrix("gsw", bt, eps, wvc)
    coef = np.array([1.0, 1.0, 0.1, -0.2, 2.0, 0.5, 0.3, 0.02])
    lst = x @ coef + 0.3 * wvc  # smooth in W: not exactly representable, blends must stay continuous
    sw = fit_split_window(bt, eps, wvc, lst, form="gsw")
    assert sw.bins == DEFAULT_WV_BINS and np.all(sw.rmse < 0.2)
    grid = np.linspace(0.0, 8.0, 8001)
    row = lambda a: np.repeat(a[:1], grid.size, 0)  # noqa: E731
    pred = sw.predict(row(bt), row(eps), grid)
    assert np.max(np.abs(np.diff(pred))) < 1e-3  # no jumps at the bin edges (step 1e-3 g/cm2)
    w = bin_weights(grid, DEFAULT_WV_BINS)
    np.testing.assert_allclose(w.sum(-1), 1.0)
    assert w[grid <= 1.0, 0].min() == 1.0 and w[grid >= 6.0, -1].min() == 1.0  # outer bins beyond the range
    mid = w[np.argmin(np.abs(grid - 1.25))]
    np.testing.assert_allclose(mid[:2], [0.5, 0.5])


def test_view_terms_and_json_round_trip():
    bt, eps, wvc, vza = synthetic(3000, vza=True)
    x = design_matrix("gsw", bt, eps, wvc, vza)
    coef = np.array([1.0, 1.0, 0.1, -0.2, 2.0, 0.5, 0.3, 0.02, 0.4, 0.7])
    lst = x @ coef
    sw = fit_split_window(bt, eps, wvc, lst, vza=vza)
    assert sw.view and sw.names[-2:] == ("v0", "v1")
    np.testing.assert_allclose(sw.coefficients, np.broadcast_to(coef, sw.coefficients.shape), atol=1e-6)
    back = SplitWindow.from_json(sw.to_json())
    np.testing.assert_array_equal(back.predict(bt, eps, wvc, vza), sw.predict(bt, eps, wvc, vza))
    with pytest.raises(ValueError, match="pass vza"):
        sw.predict(bt, eps, wvc)
    with pytest.raises(ValueError, match="split-window JSON"):
        SplitWindow.from_json('{"kind": "other"}')


def test_gsw_wv_is_one_fit_over_the_range():
    bt, eps, wvc, _ = synthetic()
    x = design_matrix("gsw", bt, eps, wvc)
    lst = x @ np.array([1.0, 1.0, 0.1, -0.2, 2.0, 0.5, 0.3, 0.02]) + x[:, 4] * 0.4 * wvc  # ΔT coefficient ∝ W
    sw = fit_split_window(bt, eps, wvc, lst, form="gsw_wv")
    assert len(sw.bins) == 1 and sw.count[0] == len(wvc) and sw.rmse[0] < 1e-6
    assert len(sw.names) == 16 and "B1_w" in sw.names


def test_bad_inputs_raise_one_line_errors():
    bt, eps, wvc, _ = synthetic(2000)
    lst = bt[:, 2]
    cases = [
        (dict(bt=bt[:, :3]), "shape \\(n, 4\\)"),
        (dict(emissivity=eps[:10]), "emissivity must have shape"),
        (dict(bt=bt - 273.15), "kelvin"),
        (dict(emissivity=eps * 100), "emissivity must be in"),
        (dict(wvc=-wvc), ">= 0"),
        (dict(lst=np.where(np.arange(2000) == 5, np.nan, lst)), "NaN"),
        (dict(form="tri"), "unknown split-window form"),
        (dict(bins=((0, 2), (3, 4))), "must start inside"),
        (dict(bins=((0, 2), (1, 3), (1.5, 4))), "must start inside|only neighbouring"),
        (dict(bins=((0, 0.05), (0.04, 10))), "has \\d+ samples"),
    ]
    for change, msg in cases:
        args = dict(bt=bt, emissivity=eps, wvc=wvc, lst=lst, form="gsw", bins=None) | change
        with pytest.raises(ValueError, match=msg) as info:
            fit_split_window(args.pop("bt"), args.pop("emissivity"), args.pop("wvc"), args.pop("lst"), **args)
        assert "\n" not in str(info.value)


@pytest.mark.slow  # band-model fit (cached) + 24k simulated samples
def test_fitted_on_simulations_transfers_to_truth(shared_data):
    """Per-bin RMSE ≤ 1 K for W ≤ 4.5 g/cm² on simulations; on LBLRTM-truth samples within +0.3 K of it."""
    import jax

    inversion = pytest.importorskip("leafjax.inversion")
    data = pytest.importorskip("leafjax.data")
    if not (hasattr(inversion, "cached_band_model") and hasattr(data, "load_tigr")):
        pytest.skip("the band model and thermal readers are not available")
    from lst_truth import truth_samples

    from leafjax.physics.thermal._bands import vimi_response
    from leafjax.simulation._lst import LstPrior, simulate_lst
    from leafjax.simulation._lst_pool import (
        emissivity_library,
        pretraining_pool,
        split_emissivities,
    )

    folder = shared_data / "thermal"
    model = inversion.cached_band_model(folder)
    truth, tigr = data.load_lwir_truth(folder), data.load_tigr(folder)
    pre, _ = split_emissivities(truth)
    grid = np.asarray(model.wavenumber)
    sim = simulate_lst(jax.random.key(0), 24_000, model, tigr.atmospheres[pretraining_pool(tigr, truth)],
                       emissivity_library(truth, pre, grid), vimi_response(grid), LstPrior(), chunk_size=4096)
    cols = lambda p: np.stack([sim[f"{p}_b{k}"] for k in range(1, 5)], -1)  # noqa: E731
    fit, test = slice(0, 20_000), slice(20_000, None)
    bt, eps, wvc, lst, vza = cols("bt"), cols("emissivity"), sim["wvc"], sim["lst"], sim["vza"]
    sw = fit_split_window(bt[fit], eps[fit], wvc[fit], lst[fit], vza=vza[fit])
    low_bins = np.array([hi <= 4.5 for _, hi in sw.bins])
    assert np.all(sw.rmse[low_bins] <= 1.0), sw.rmse
    err = sw.predict(bt[test], eps[test], wvc[test], vza[test]) - lst[test]
    sim_rmse = np.sqrt(np.mean(err[wvc[test] <= 4.5] ** 2))
    s = truth_samples(folder)
    w_truth = np.asarray(truth.column_water_vapour)[s["atm"]]
    pred = sw.predict(s["bt"], s["eps"], w_truth, np.zeros_like(w_truth))
    keep = w_truth <= 4.5
    truth_rmse = np.sqrt(np.mean((pred - s["lst"])[keep] ** 2))
    assert truth_rmse <= sim_rmse + 0.3, (truth_rmse, sim_rmse)
