"""E1, the layer transmissivity and the kernel's elementary functions against scipy/NumPy (float64, float32)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sp

import leafjax as lj
from leafjax.physics.leaf._elementary import exp_expm1, log, log1p, materialize
from leafjax.physics.leaf._expint import layer_transmissivity_pair

X = np.concatenate([np.logspace(-12, 0, 400), np.linspace(1.0, 3.0, 601), np.logspace(np.log10(3), 2.6, 400)])


@pytest.mark.parametrize("dtype,rtol", [("float64", 5e-14), ("float32", 5e-6)])
def test_exp1_relative_error(dtype, rtol):
    e = np.asarray(lj.exp1(jnp.asarray(X, dtype)), np.float64)
    ref = sp.exp1(X)
    ok = ref > 1e-30
    assert np.max(np.abs(e[ok] / ref[ok] - 1)) < rtol


@pytest.mark.parametrize("dtype,atol", [("float64", 1e-14), ("float32", 1e-6)])
def test_tau_and_derivative(dtype, atol):
    x = jnp.asarray(X, dtype)
    e1 = sp.exp1(X)
    tau_ref = (1 - X) * np.exp(-X) + X**2 * e1
    dtau_ref = -2 * np.exp(-X) + 2 * X * e1
    tau = np.asarray(lj.layer_transmissivity(x), np.float64)
    dtau = np.asarray(jax.vmap(jax.grad(lj.layer_transmissivity))(x), np.float64)
    assert np.max(np.abs(tau - tau_ref)) < atol
    assert np.max(np.abs(dtau - dtau_ref)) < atol
    _, one_minus = layer_transmissivity_pair(jnp.asarray(X[:400], dtype))
    # relative accuracy of 1 - tau for small k (no cancellation)
    omt_ref = -np.expm1(-X[:400]) + X[:400] * np.exp(-X[:400]) - X[:400] ** 2 * e1[:400]
    np.testing.assert_allclose(np.asarray(one_minus, np.float64), omt_ref, rtol=1e-14 if dtype == "float64" else 1e-6)


def test_tau_limits_and_domain():
    assert float(lj.layer_transmissivity(0.0)) == 1.0
    assert float(jax.grad(lj.layer_transmissivity)(0.0)) == -2.0
    assert np.isinf(float(lj.exp1(jnp.asarray(0.0))))
    assert np.isnan(float(lj.exp1(jnp.asarray(-1.0))))
    big = lj.layer_transmissivity(jnp.asarray([50.0, 300.0, 1e4]))
    assert np.all(np.isfinite(big)) and np.all(np.asarray(big) >= 0)
    assert np.all(np.isfinite(jax.vmap(jax.grad(lj.layer_transmissivity))(jnp.asarray([50.0, 300.0, 1e4]))))


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-15), ("float32", 4e-7)])
def test_elementary_functions_against_numpy(dtype, rtol):
    rng = np.random.default_rng(0)
    x = np.concatenate([np.geomspace(1e-30, 1e30, 3001), rng.uniform(0.5, 2.0, 2000),
                        1 + np.geomspace(1e-15, 0.1, 500)])
    x = x.astype(dtype)
    x64 = x.astype(np.float64)
    lg = np.asarray(jax.jit(log)(x), np.float64)
    assert np.max(np.abs(lg - np.log(x64)) / np.maximum(np.abs(np.log(x64)), 1e-300)) < rtol
    assert np.max(np.abs(np.asarray(jax.jit(log1p)(x), np.float64) / np.log1p(x64) - 1)) < rtol
    y = -np.concatenate([np.geomspace(1e-30, 700.0 if dtype == "float64" else 85.0, 3001), [0.0]]).astype(dtype)
    e, em = (np.asarray(v, np.float64) for v in jax.jit(exp_expm1)(y))
    y64 = y.astype(np.float64)
    assert np.max(np.abs(e / np.exp(y64) - 1)) < rtol
    assert np.max(np.abs(em[:-1] / np.expm1(y64[:-1]) - 1)) < rtol and em[-1] == 0.0 and e[-1] == 1.0
    # closed-form derivatives
    v = jnp.asarray(0.3, dtype)
    np.testing.assert_allclose(float(jax.grad(log)(v)), 1 / 0.3, rtol=rtol)
    np.testing.assert_allclose(float(jax.grad(log1p)(v)), 1 / 1.3, rtol=rtol)
    np.testing.assert_allclose(float(jax.grad(lambda z: exp_expm1(-z)[1])(v)), -np.exp(-0.3), rtol=rtol)


def test_materialize_is_the_identity_under_transformations():
    a, b = jnp.linspace(0.1, 1.0, 7), jnp.linspace(-2.0, 3.0, 7)
    out = jax.jit(materialize)((a, b))
    np.testing.assert_array_equal(out[0], a)
    np.testing.assert_array_equal(out[1], b)
    g = jax.grad(lambda x: jnp.sum(materialize((x * x, 2.0 * x))[0]))(a)
    np.testing.assert_allclose(g, 2 * a)
    np.testing.assert_array_equal(jax.vmap(lambda x: materialize((x,))[0])(a), a)
