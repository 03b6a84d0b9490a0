"""E1 and the elementary-layer transmissivity against scipy, in float64 and float32."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sp

import leafjax as lj
from leafjax.physics.leaf._expint import layer_transmissivity_pair

X = np.concatenate([np.logspace(-12, 0, 400), np.linspace(1.0, 3.0, 601), np.logspace(np.log10(3), 2.6, 400)])


@pytest.mark.parametrize("dtype,rtol", [("float64", 3e-12), ("float32", 2e-5)])
def test_exp1_relative_error(dtype, rtol):
    e = np.asarray(lj.exp1(jnp.asarray(X, dtype)), np.float64)
    ref = sp.exp1(X)
    ok = ref > 1e-30
    assert np.max(np.abs(e[ok] / ref[ok] - 1)) < rtol


@pytest.mark.parametrize("dtype,atol", [("float64", 1e-12), ("float32", 2e-6)])
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
    np.testing.assert_allclose(np.asarray(one_minus, np.float64), omt_ref, rtol=1e-10 if dtype == "float64" else 1e-5)


def test_tau_limits_and_domain():
    assert float(lj.layer_transmissivity(0.0)) == 1.0
    assert float(jax.grad(lj.layer_transmissivity)(0.0)) == -2.0
    assert np.isinf(float(lj.exp1(jnp.asarray(0.0))))
    assert np.isnan(float(lj.exp1(jnp.asarray(-1.0))))
    big = lj.layer_transmissivity(jnp.asarray([50.0, 300.0, 1e4]))
    assert np.all(np.isfinite(big)) and np.all(np.asarray(big) >= 0)
    assert np.all(np.isfinite(jax.vmap(jax.grad(lj.layer_transmissivity))(jnp.asarray([50.0, 300.0, 1e4]))))
