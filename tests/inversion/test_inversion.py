"""Batch inversion: accuracy on simulated spectra, masks/NaN, priors, statuses, batching, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from leafjax.inversion import Status, invert, make_problem
from leafjax.simulation import Fixed, Prior, Uniform, make_noise, simulate

FREE = ["n_struct", "chl", "car", "ewt", "lma"]
PRIOR = Prior({"n_struct": Uniform(1.0, 2.5), "chl": Uniform(5.0, 100.0), "car": Uniform(2.0, 20.0),
               "ant": Fixed(0.0), "brown": Fixed(0.0), "ewt": Uniform(0.002, 0.03), "lma": Uniform(0.002, 0.02)})


@pytest.fixture(scope="module")
def setup():
    model = lj.ProspectD(wavelengths=np.arange(400, 2401, 4), dtype=jnp.float32)
    params, r, t = simulate(model, PRIOR, 96, jax.random.key(11), noise=make_noise(multiplicative=0.005))
    problem = make_problem(model, free=FREE, lut_size=1000)
    return model, problem, params, r, t


def test_recovers_parameters_from_noisy_r_and_t(setup):
    _, problem, params, r, t = setup
    res = invert(problem, r, t)
    assert np.mean(np.asarray(res.status) == Status.CONVERGED) >= 0.99
    for name, tol in (("n_struct", 0.01), ("chl", 0.01), ("ewt", 0.01), ("lma", 0.01), ("car", 0.03)):
        rel = np.abs(np.asarray(res.estimates[name]) - params[name]) / params[name]
        assert np.median(rel) <= tol, (name, np.median(rel))
    # uncertainty is calibrated to the right order of magnitude: |error| / std is O(1)
    z = np.abs(np.asarray(res.estimates["chl"]) - params["chl"]) / np.asarray(res.std["chl"])
    assert 0.3 < np.median(z) < 3.0
    # residual rmse matches the injected noise level (0.5 % of R, T)
    assert 0.0005 < float(np.median(np.asarray(res.rmse))) < 0.003


def test_nan_bands_and_masks_are_ignored(setup):
    # all 96 rows: the batch shape of the first test, so nothing is compiled again
    _, problem, params, r, t = setup
    r2 = np.array(r)
    r2[:, 10:40] = np.nan  # a missing band range
    res_nan = invert(problem, r2, t)
    assert np.all(np.asarray(res_nan.status) == Status.CONVERGED)
    rel = np.abs(np.asarray(res_nan.estimates["chl"]) - params["chl"]) / params["chl"]
    assert np.median(rel) < 0.02
    empty = np.full_like(r2, np.nan)
    res_empty = invert(problem, empty, np.full_like(empty, np.nan))
    assert np.all(np.asarray(res_empty.status) == Status.INVALID_INPUT)


def test_batch_shape_and_block_size_invariance(setup):
    _, problem, _, r, t = setup
    a = invert(problem, r, t)  # the default block size (the compiled program of the tests above)
    b = invert(problem, r.reshape(8, 12, -1), t.reshape(8, 12, -1), block_size=5)
    assert b.estimates["chl"].shape == (8, 12)
    np.testing.assert_allclose(np.asarray(b.estimates["chl"]).ravel(), np.asarray(a.estimates["chl"]), rtol=1e-4)


def test_prior_pulls_towards_its_mean(setup):
    model, _, params, r, t = setup
    # the problem's shapes (LUT size) and the batch are those of `setup`: the same compiled program
    strong = make_problem(model, free=FREE, priors={"n_struct": (1.2, 1e-4)}, lut_size=1000)
    res = invert(strong, r, t)
    np.testing.assert_allclose(np.asarray(res.estimates["n_struct"]), 1.2, atol=1e-3)


def test_pro_reports_derived_lma_and_nitrogen():
    model = lj.ProspectPro(wavelengths=np.arange(400, 2401, 8), dtype=jnp.float64)
    prior = Prior({"n_struct": Uniform(1.2, 2.0), "chl": Uniform(20.0, 60.0), "car": Uniform(5.0, 12.0),
                   "ant": Fixed(0.0), "brown": Fixed(0.0), "ewt": Uniform(0.005, 0.02),
                   "prot": Uniform(0.0005, 0.002), "cbc": Uniform(0.003, 0.01)})
    params, r, t = simulate(model, prior, 8, jax.random.key(3))
    res = invert(make_problem(model, free=["n_struct", "chl", "car", "ewt", "prot", "cbc"], lut_size=500), r, t)
    np.testing.assert_allclose(np.asarray(res.estimates["lma"]),
                               np.asarray(res.estimates["prot"]) + np.asarray(res.estimates["cbc"]))
    np.testing.assert_allclose(np.asarray(res.estimates["lma"]), params["lma"], rtol=0.02)
    np.testing.assert_allclose(np.asarray(res.estimates["nitrogen"]), params["nitrogen"], rtol=0.05)
    assert np.all(np.asarray(res.std["nitrogen"]) > 0)


def test_bad_problem_definitions():
    model = lj.ProspectD(wavelengths=np.arange(400, 2401, 50))
    with pytest.raises(ValueError, match="no parameter"):
        make_problem(model, free=["prot"])
    with pytest.raises(ValueError, match="both free and fixed"):
        make_problem(model, free=["chl"], fixed={"chl": 1.0})
    with pytest.raises(ValueError, match="not free"):
        make_problem(model, free=["chl"], priors={"car": (1.0, 1.0)})
    problem = make_problem(model, free=["chl", "car"], lut_size=50)
    with pytest.raises(ValueError, match="bands"):
        invert(problem, np.zeros((2, 7)), np.zeros((2, 7)))
    with pytest.raises(ValueError, match="transmittance"):
        invert(problem, np.zeros((2, model.n_bands)))


def test_first_order_adam_solver(setup):
    _, problem, params, r, t = setup
    res = invert(problem, r[:16], t[:16], solver="adam", max_steps=300, learning_rate=0.05)
    assert res.estimates["chl"].shape == (16,)
    assert np.all(np.asarray(res.iterations) == 300)
    rel = np.abs(np.asarray(res.estimates["chl"]) - params["chl"][:16]) / params["chl"][:16]
    assert np.median(rel) < 0.05
    assert np.all(np.isfinite(np.asarray(res.std["chl"])))
    with pytest.raises(ValueError, match="solver"):
        invert(problem, r[:2], t[:2], solver="sgd")
