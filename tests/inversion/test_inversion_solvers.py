"""Solver objects of ``invert``: the batched Levenberg–Marquardt on least-squares problems with known minima,
against numpy, scipy and optimistix; leaf and canopy problems by two solvers; invalid rows; throw; compilation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

import leafjax as lj
from _compile_count import count_compiles
from leafjax.inversion import (Adam, BatchedLevenbergMarquardt, OptimistixLM, Status, invert, invert_canopy,
                               make_problem)
from leafjax.inversion._lm import linearise

SOLVERS = [BatchedLevenbergMarquardt(rtol=1e-14, gtol=1e-14, max_steps=200),
           OptimistixLM(rtol=1e-12, atol=1e-14, max_steps=400)]
IDS = ["batched_lm", "optimistix_lm"]


def _solve(solver, residuals, z0, data):
    resj = lambda z, d: linearise(lambda q: residuals(q, d), z)  # noqa: E731
    return solver.solve(residuals, resj, z0, data, jnp.ones(z0.shape[0], bool))


def _rosenbrock(z, data):  # f = (a - x)^2 + b (y - x^2)^2 as residuals; minimum (a, a^2)
    a, sb = data[:, 0], data[:, 1]
    return jnp.stack([a - z[:, 0], sb * (z[:, 1] - z[:, 0] ** 2)], -1)


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_rosenbrock_minimum(solver):
    z0 = jnp.asarray([[-1.2, 1.0], [0.0, 0.0], [2.0, -1.0], [-0.5, 3.0]])
    data = jnp.asarray([[1.0, 10.0], [1.0, 10.0], [2.0, 10.0], [-1.0, 3.0]])
    st = _solve(solver, _rosenbrock, z0, data)
    expected = jnp.stack([data[:, 0], data[:, 0] ** 2], -1)
    np.testing.assert_allclose(st.z, expected, atol=1e-6)
    assert np.all(np.asarray(st.status) == Status.CONVERGED)
    assert np.all(np.asarray(st.cost) < 1e-12)


T_GRID = jnp.linspace(0.0, 4.0, 25)


def _decay(z, data):  # y = A exp(-k t), with log-parametrised A, k
    a, k = jnp.exp(z[:, :1]), jnp.exp(z[:, 1:])
    return a * jnp.exp(-k * T_GRID[None, :]) - data


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_exponential_decay_fit_matches_scipy(solver):
    rng = np.random.default_rng(0)
    a, k = rng.uniform(0.5, 3.0, 5), rng.uniform(0.2, 2.0, 5)
    y = a[:, None] * np.exp(-k[:, None] * np.asarray(T_GRID)[None]) + 0.01 * rng.standard_normal((5, 25))
    st = _solve(solver, _decay, jnp.zeros((5, 2)), jnp.asarray(y))
    for i in range(5):
        row = jnp.asarray(y[i:i + 1])
        ref = scipy.optimize.least_squares(lambda z: np.asarray(_decay(jnp.asarray(z)[None], row)[0]),
                                           np.zeros(2), method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
        np.testing.assert_allclose(np.asarray(st.z[i]), ref.x, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(float(st.cost[i]), ref.cost, rtol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_linear_least_squares_matches_numpy_lstsq(solver):
    rng = np.random.default_rng(1)
    a = jnp.asarray(rng.standard_normal((3, 20, 4)))
    b = jnp.asarray(rng.standard_normal((3, 20)))
    st = _solve(solver, lambda z, d: jnp.einsum("bnp,bp->bn", d[0], z) - d[1], jnp.zeros((3, 4)), (a, b))
    for i in range(3):
        np.testing.assert_allclose(np.asarray(st.z[i]), np.linalg.lstsq(np.asarray(a[i]), np.asarray(b[i]),
                                                                        rcond=None)[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.asarray(st.jac), np.asarray(a), rtol=1e-12)  # the Jacobian at the solution


@pytest.fixture(scope="module")
def leaf():
    model = lj.ProspectD(wavelengths=np.arange(400, 2401, 50), dtype=jnp.float64)
    truth = lj.ProspectDParams(n_struct=jnp.array([1.4, 1.8, 2.1]), chl=jnp.array([30.0, 55.0, 12.0]),
                               car=jnp.array([6.0, 10.0, 4.0]), ant=jnp.zeros(3), brown=jnp.zeros(3),
                               ewt=jnp.array([0.01, 0.02, 0.005]), lma=jnp.array([0.004, 0.008, 0.003]))
    out = model(truth)
    observed = jnp.concatenate([out.reflectance, out.transmittance], -1)
    observed = jnp.concatenate([observed, jnp.full_like(observed[:1], jnp.nan)], 0)  # row 3: all NaN
    return make_problem(model, free=["n_struct", "chl", "car", "ewt", "lma"], lut_size=200), observed, truth


@pytest.mark.slow
def test_leaf_problem_same_estimates_with_both_solvers_and_all_nan_is_invalid(leaf):
    problem, observed, truth = leaf
    # known noise: the Laplace std then depends on the Jacobian at the optimum only (not on ~0 residuals)
    a = invert(problem, observed, solver=SOLVERS[0], n_starts=3, noise_std=0.005)
    b = invert(problem, observed, solver=SOLVERS[1], n_starts=3, noise_std=0.005)
    for res in (a, b):
        np.testing.assert_array_equal(np.asarray(res.status), [0, 0, 0, Status.INVALID_INPUT])
        np.testing.assert_allclose(np.asarray(res.estimates["chl"][:3]), truth.chl, rtol=1e-5)
    for name in problem.free:
        np.testing.assert_allclose(np.asarray(a.estimates[name][:3]), np.asarray(b.estimates[name][:3]),
                                   rtol=1e-6)
        np.testing.assert_allclose(np.asarray(a.std[name][:3]), np.asarray(b.std[name][:3]), rtol=1e-3)
    adam = invert(problem, observed, solver=Adam(max_steps=20))
    assert int(adam.status[3]) == Status.INVALID_INPUT
    with pytest.raises(Exception, match="inversion failed"):
        jax.block_until_ready(invert(problem, observed, solver=SOLVERS[0], throw=True).estimates["chl"])
    ok = invert(problem, observed[:3], solver=SOLVERS[0], throw=True)  # every row converged: no error
    assert np.all(np.asarray(ok.status) == Status.CONVERGED)


def test_second_invert_call_does_not_recompile(leaf):
    problem, observed, _ = leaf
    r, t = observed[:3, :problem.model.n_bands], observed[:3, problem.model.n_bands:]
    jax.block_until_ready(invert(problem, r, t).estimates["chl"])  # former call style, default solver
    r2, t2, r3 = r * 1.01, t * 0.99, r * 0.98
    fresh = make_problem(problem.model, free=list(problem.free), lut_size=200, key=jax.random.key(5))
    with count_compiles() as counter:  # new values (and a new problem) of the same shapes
        jax.block_until_ready(invert(problem, r2, t2).estimates["chl"])
        jax.block_until_ready(invert(fresh, r3, t).estimates["chl"])
    assert counter.compiles == 0, counter.names


def test_derived_uncertainty_by_jacfwd_matches_hand_propagation():
    from leafjax.inversion._finalise import derived_std

    model = lj.ProspectPro(wavelengths=np.arange(1500, 2401, 100), dtype=jnp.float64)
    problem = make_problem(model, free=["prot", "cbc"], fixed={"n_struct": 1.5}, lut_size=10)
    theta = jnp.asarray([[0.001, 0.006], [0.002, 0.004]])
    cov = jnp.asarray([[[1e-8, 2e-9], [2e-9, 4e-8]], [[4e-8, -1e-8], [-1e-8, 1e-8]]])
    sd = derived_std(problem, theta, cov, problem.context(None, 2, (2,)))
    prot, cbc = theta[:, 0], theta[:, 1]
    v_pp, v_cc, v_pc = cov[:, 0, 0], cov[:, 1, 1], cov[:, 0, 1]
    np.testing.assert_allclose(sd["lma"], jnp.sqrt(v_pp + v_cc + 2 * v_pc), rtol=1e-12)
    tot = prot + cbc
    g_p, g_c = 100.0 / 4.43 * cbc / tot**2, -100.0 / 4.43 * prot / tot**2  # PROSPECT-PRO N = prot/(prot+cbc)
    np.testing.assert_allclose(sd["nitrogen"], jnp.sqrt(g_p**2 * v_pp + g_c**2 * v_cc + 2 * g_p * g_c * v_pc),
                               rtol=1e-10)


CANOPY_GRID = np.arange(400, 2401, 10)  # the shapes of tests/inversion/test_canopy_retrieval.py: one compilation


@pytest.mark.slow
def test_canopy_same_estimates_with_both_solvers_and_all_nan_pixel_is_invalid():
    from helpers import canopy_test_scene

    srf, model, t, obs = canopy_test_scene(CANOPY_GRID)
    obs = np.array(obs)
    obs[2] = np.nan
    geometry = {k: t[k] for k in ("sza", "vza", "raa")}
    free = ("lai", "chl", "ewt", "lma")
    a = invert_canopy(obs, geometry, srf, model, free=free, max_steps=30)
    b = invert_canopy(obs, geometry, srf, model, free=free, solver=OptimistixLM(rtol=1e-10, atol=1e-12))
    keep = [0, 1, 3]
    assert int(a.iters[2]) == 0  # the batched LM does not iterate on an invalid row
    for res in (a, b):
        np.testing.assert_array_equal(np.asarray(res.status), [0, 0, Status.INVALID_INPUT, 0])
        np.testing.assert_allclose(np.asarray(res.params["lai"])[keep], t["lai"][keep], rtol=1e-3)
    for name in free + ("fcover",):
        np.testing.assert_allclose(np.asarray(a.params[name])[keep], np.asarray(b.params[name])[keep], rtol=1e-4)
    assert np.all(np.asarray(a.std["fcover"])[keep] > 0)
