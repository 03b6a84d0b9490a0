"""Differentiable inversion: gradients of inverted traits with respect to the observed spectra and to an optical
constant, by the implicit-function theorem, against central finite differences (float64, tight solver)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from leafjax.inversion import BatchedLevenbergMarquardt, Status, invert, make_problem

SOLVER = BatchedLevenbergMarquardt(rtol=1e-15, gtol=1e-13, max_steps=200)
FREE = ["n_struct", "chl", "ewt", "lma"]


@pytest.fixture(scope="module")
def leaf():
    model = lj.ProspectD(wavelengths=np.arange(400, 2401, 50), dtype=jnp.float64)
    truth = lj.ProspectDParams(n_struct=jnp.array([1.4, 1.8]), chl=jnp.array([30.0, 55.0]),
                               car=jnp.array([8.0, 8.0]), ant=jnp.zeros(2), brown=jnp.zeros(2),
                               ewt=jnp.array([0.01, 0.02]), lma=jnp.array([0.004, 0.008]))
    out = model(truth)
    noise = 0.001 * jax.random.normal(jax.random.key(0), (2, 2 * model.n_bands), jnp.float64)
    observed = jnp.concatenate([out.reflectance, out.transmittance], -1) + noise  # non-zero residuals
    problem = make_problem(model, free=FREE, fixed={"car": 8.0}, lut_size=200)
    return problem, observed


def _loss(problem, observed):
    est = invert(problem, observed, solver=SOLVER).estimates
    return jnp.sum(est["chl"] ** 2) + 1e4 * jnp.sum(est["lma"]) + 10.0 * jnp.sum(est["n_struct"])


def _rel(a, b):
    return abs(float(a) - float(b)) / abs(float(b))


def test_gradient_through_inversion_wrt_observed_spectra(leaf):
    problem, observed = leaf
    res = invert(problem, observed, solver=SOLVER)
    assert np.all(np.asarray(res.status) == Status.CONVERGED)
    grad = jax.grad(lambda o: _loss(problem, o))(observed)
    assert grad.shape == observed.shape and bool(jnp.all(jnp.isfinite(grad)))
    direction = jax.random.normal(jax.random.key(1), observed.shape, jnp.float64)
    eps = 1e-6
    fd = (_loss(problem, observed + eps * direction) - _loss(problem, observed - eps * direction)) / (2 * eps)
    assert _rel(jnp.sum(grad * direction), fd) <= 1e-4


def test_gradient_through_inversion_wrt_optical_constant(leaf):
    problem, observed = leaf

    def loss(scale):  # scale the chlorophyll specific absorption coefficient k_cab (cm²/µg)
        scaled = eqx.tree_at(lambda p: p.model.constants.k_cab, problem, problem.model.constants.k_cab * scale)
        return _loss(scaled, observed)

    one = jnp.asarray(1.0, jnp.float64)
    grad = jax.grad(loss)(one)
    eps = 1e-6
    fd = (loss(one + eps) - loss(one - eps)) / (2 * eps)
    assert _rel(grad, fd) <= 1e-4
    # chl enters PROSPECT only as chl · k_cab, so d(chl)/d(scale) = -chl exactly
    chl = invert(problem, observed, solver=SOLVER).estimates["chl"]
    g_chl = jax.grad(lambda s: jnp.sum(invert(eqx.tree_at(lambda p: p.model.constants.k_cab, problem,
                                                          problem.model.constants.k_cab * s), observed,
                                              solver=SOLVER).estimates["chl"]))(one)
    np.testing.assert_allclose(float(g_chl), -float(jnp.sum(chl)), rtol=1e-6)


def test_gradient_descent_through_inversion_fits_an_optical_constant(leaf):
    """An outer loss optimised through the inversion: recover a k_cab scale from known chlorophyll."""
    problem, observed = leaf
    target = invert(problem, observed, solver=SOLVER).estimates["chl"] * 1.25  # chl as if k_cab were 0.8×

    def loss(scale):
        scaled = eqx.tree_at(lambda p: p.model.constants.k_cab, problem, problem.model.constants.k_cab * scale)
        return jnp.mean((invert(scaled, observed, solver=SOLVER).estimates["chl"] / target - 1.0) ** 2)

    scale = jnp.asarray(1.0, jnp.float64)
    for _ in range(3):  # Newton-like steps on the 1-D loss using the implicit gradient
        value, g = jax.value_and_grad(loss)(scale)
        scale = scale - value / g * 2.0 if g != 0 else scale
    np.testing.assert_allclose(float(scale), 0.8, rtol=1e-2)
