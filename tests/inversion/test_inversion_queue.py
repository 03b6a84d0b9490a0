"""Work-queue LM (converged rows stop costing work), structured PROSPECT Jacobian, bucket padding: same per-row
results as the block solver, exact Jacobians, order independence, no recompilation within a bucket."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from _compile_count import count_compiles
from leafjax.inversion import BatchedLevenbergMarquardt, Status, invert, levenberg_marquardt, make_problem
from leafjax.inversion._invert import bucket_size
from leafjax.inversion._lm import linearise
from leafjax.inversion._lm_queue import levenberg_marquardt_queue

T_GRID = jnp.linspace(0.0, 4.0, 25)


def _decay(z, y):  # y = A exp(-k t) + c, log-parametrised A, k: rows converge after different numbers of steps
    return jnp.exp(z[:, :1]) * jnp.exp(-jnp.exp(z[:, 1:2]) * T_GRID[None, :]) + z[:, 2:] - y


def _decay_rows(n=11):
    rng = np.random.default_rng(4)
    a, k, c = rng.uniform(0.3, 5.0, n), rng.uniform(0.1, 3.0, n), rng.uniform(-1.0, 1.0, n)
    y = a[:, None] * np.exp(-k[:, None] * np.asarray(T_GRID)[None]) + c[:, None]
    y = y + 0.01 * rng.standard_normal(y.shape)
    y[7] = np.nan  # non-finite row
    z0 = rng.uniform(-1.0, 1.0, (n, 3))
    active = np.ones(n, bool)
    active[3] = False
    return jnp.asarray(z0), jnp.asarray(y), jnp.asarray(active)


KW = dict(max_steps=9, rtol=1e-10, gtol=1e-12)  # some rows converge, some hit max_steps


@pytest.fixture(scope="module")
def decay():
    z0, y, active = _decay_rows()
    block = jax.jit(lambda z, y, a: levenberg_marquardt(lambda q: _decay(q, y), z, active=a, **KW))
    return z0, y, active, block(z0, y, active)


def _queue(z0, y, active, slots, n_valid=None):
    run = jax.jit(lambda z, y, a, n: levenberg_marquardt_queue(
        lambda q, rows: linearise(lambda qq: _decay(qq, y[rows]), q), z, a, slots=slots, n_valid=n, **KW))
    return run(z0, y, active, n_valid)


def _same_rows(q, block, rows):
    np.testing.assert_array_equal(np.asarray(q.status)[rows], np.asarray(block.status)[rows])
    np.testing.assert_array_equal(np.asarray(q.iters)[rows], np.asarray(block.iters)[rows])
    ok = np.zeros(len(block.status), bool)
    ok[rows] = np.asarray(block.status)[rows] <= Status.MAX_STEPS
    # the same trajectory row by row: equal up to rounding (batch-size-dependent kernels)
    np.testing.assert_allclose(np.asarray(q.z)[ok], np.asarray(block.z)[ok], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(np.asarray(q.cost)[ok], np.asarray(block.cost)[ok], rtol=1e-8)
    np.testing.assert_allclose(np.asarray(q.jac)[ok], np.asarray(block.jac)[ok], rtol=1e-7, atol=1e-9)


def test_queue_matches_block_solver_row_by_row(decay):
    z0, y, active, block = decay
    q = _queue(z0, y, active, slots=3)
    _same_rows(q, block, slice(None))
    assert {Status.CONVERGED, Status.MAX_STEPS, Status.INVALID_INPUT, Status.NONFINITE} <= set(np.asarray(q.status))
    # every slot does one linearisation per iteration: the rows' own 1 + iters, plus at most the idle tail
    useful = int(np.sum(1 + np.asarray(q.iters)))
    assert useful <= int(q.evaluations) < useful + 3 * (KW["max_steps"] + 1)
    blocks = sum(3 * (1 + int(np.max(np.asarray(block.iters)[i:i + 3]))) for i in range(0, 11, 3))
    assert int(q.evaluations) < blocks  # less work than blocks of 3 that wait for their slowest row


def test_queue_rows_beyond_n_valid_are_not_solved(decay):
    z0, y, active, block = decay
    part = _queue(z0, y, active, slots=2, n_valid=jnp.asarray(5, jnp.int32))
    _same_rows(part, block, slice(0, 5))
    assert np.all(np.asarray(part.iters[5:]) == 0) and np.all(np.asarray(part.cost[5:]) == 0)
    assert int(part.evaluations) <= int(np.sum(1 + np.asarray(part.iters))) + 2 * (KW["max_steps"] + 1)


@pytest.fixture(scope="module")
def leaf64():
    model = lj.ProspectD(wavelengths=np.arange(400, 2401, 100), dtype=jnp.float64)
    truth = lj.ProspectDParams(n_struct=jnp.array([1.3, 1.9, 2.2, 1.6, 1.1, 1.5]),
                               chl=jnp.array([20.0, 60.0, 8.0, 45.0, 80.0, 35.0]),
                               car=jnp.array([5.0, 11.0, 3.0, 8.0, 15.0, 9.0]), ant=jnp.zeros(6), brown=jnp.zeros(6),
                               ewt=jnp.array([0.008, 0.02, 0.004, 0.015, 0.025, 0.01]),
                               lma=jnp.array([0.003, 0.009, 0.002, 0.006, 0.012, 0.005]))
    out = model(truth)
    noise = 0.002 * jax.random.normal(jax.random.key(2), (6, 2 * model.n_bands), jnp.float64)
    observed = jnp.concatenate([out.reflectance, out.transmittance], -1) + noise
    return model, make_problem(model, free=["n_struct", "chl", "car", "ewt", "lma"], lut_size=100), observed


@pytest.mark.parametrize("model_cls,free,use_r,use_t", [
    (lj.ProspectD, ["n_struct", "chl", "car", "ewt", "lma"], True, True),
    (lj.ProspectPro, ["chl", "ant", "ewt", "prot", "cbc"], False, True)])
def test_structured_jacobian_matches_jacfwd(model_cls, free, use_r, use_t):
    model = model_cls(wavelengths=np.arange(400, 2401, 200), dtype=jnp.float64)
    problem = make_problem(model, free=free, use_r=use_r, use_t=use_t, lut_size=2, fixed={"brown": 0.1})
    z = jax.random.normal(jax.random.key(1), (3, len(free)), jnp.float64)
    ctx = problem.context({"n_struct": 1.7} if "n_struct" not in free else None, 3, (3,))

    @jax.jit
    def jacobians(pb, z, ctx):
        one = lambda zz, c: pb.forward(zz[None], jax.tree.map(lambda x: x[None], c))[0]  # noqa: E731
        plain = dataclasses.replace(pb, structured_jacobian=False)
        return pb.forward_and_jacobian(z, ctx), pb.forward(z, ctx), jax.vmap(jax.jacfwd(one))(z, ctx), \
            plain.forward_and_jacobian(z, ctx)[1]

    (pred, jac), fwd, ref, plain = jacobians(problem, z, ctx)
    assert jac.shape == (3, problem.n_obs, len(free))
    np.testing.assert_allclose(np.asarray(pred), np.asarray(fwd), rtol=1e-14)
    scale = float(jnp.max(jnp.abs(ref)))
    np.testing.assert_allclose(np.asarray(jac), np.asarray(ref), rtol=1e-10, atol=1e-10 * scale)
    np.testing.assert_allclose(np.asarray(plain), np.asarray(ref), rtol=1e-10, atol=1e-12 * scale)


@pytest.mark.slow
def test_row_estimate_same_alone_and_in_batch_in_any_order(leaf64):
    _, problem, observed = leaf64
    solver = BatchedLevenbergMarquardt(rtol=1e-10)
    obs = observed[:5]
    batch = invert(problem, obs, solver=solver, block_size=2)  # work queue of 2 slots
    other = invert(problem, obs[::-1], solver=solver, block_size=2)  # another queue order (same shapes)
    alone = invert(problem, obs[3:4], solver=solver)
    assert int(alone.iterations[0]) == int(batch.iterations[3]) == int(other.iterations[1])
    assert int(alone.status[0]) == int(batch.status[3]) == Status.CONVERGED
    for name in problem.free:
        a, b, c = (float(x) for x in (alone.estimates[name][0], batch.estimates[name][3], other.estimates[name][1]))
        np.testing.assert_allclose([b, c], a, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(batch.cost), np.asarray(other.cost[::-1]), rtol=1e-10)
    np.testing.assert_array_equal(np.asarray(batch.iterations), np.asarray(other.iterations[::-1]))


def test_bucket_sizes_are_few_and_tight():
    sizes = [bucket_size(n) for n in range(1, 5000)]
    assert sizes[:8] == [1, 2, 3, 4, 6, 6, 8, 8]
    assert all(n <= s <= max(2, 1.5 * n) for n, s in zip(range(1, 5000), sizes))
    assert len(set(sizes)) <= 26
    assert bucket_size(4096) == 4096 and bucket_size(1000) == 1024


def test_no_solver_recompilation_within_a_bucket(leaf64):
    _, problem, observed = leaf64
    first = invert(problem, observed[:5])  # padded to the bucket of 6 rows
    with count_compiles() as counter:
        res = invert(problem, observed * 0.999)  # 6 rows: the same bucket
        jax.block_until_ready(res.cost)
    heavy = [n for n in counter.names if "invert_flat" in n or "finalise" in n]
    assert not heavy, counter.names
    assert res.estimates["chl"].shape == (6,) and first.estimates["chl"].shape == (5,)
    assert np.all(np.asarray(res.status) == Status.CONVERGED) and np.all(np.asarray(first.status) == Status.CONVERGED)
