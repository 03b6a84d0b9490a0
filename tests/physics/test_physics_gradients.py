"""Float64 gradients of PROSPECT-D/PRO against central finite differences, and finiteness at the edges."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from helpers import D_NAMES, PRO_NAMES, random_params

WL = np.arange(400, 2501, 3)


def _loss_fn(model, pcls, names, weights_r, weights_t):
    def loss(vec):
        params = pcls(**{n: vec[i] for i, n in enumerate(names)})
        out = model(params)
        return jnp.sum(weights_r * out.reflectance) + jnp.sum(weights_t * out.transmittance)

    return loss


def _fd(f, x, i, h):
    """Fourth-order central difference along coordinate i (error O(h^4))."""
    e = np.zeros_like(x)
    e[i] = h
    return (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)


@pytest.mark.parametrize("version", ["D", "PRO"])
def test_gradients_match_finite_differences(version):
    names = D_NAMES if version == "D" else PRO_NAMES
    model = (lj.ProspectD if version == "D" else lj.ProspectPro)(wavelengths=WL, dtype=jnp.float64)
    pcls = lj.ProspectDParams if version == "D" else lj.ProspectProParams
    rng = np.random.default_rng(1 if version == "D" else 2)
    wr = jnp.asarray(rng.uniform(0.5, 1.5, WL.size))
    wt = jnp.asarray(rng.uniform(0.5, 1.5, WL.size))
    loss = jax.jit(_loss_fn(model, pcls, names, wr, wt))
    grad = jax.jit(jax.grad(loss))
    f = lambda v: float(loss(jnp.asarray(v)))  # noqa: E731
    pts = random_params(rng, names, 6, margin=0.02)
    worst = 0.0
    for j in range(6):
        x = np.array([pts[n][j] for n in names])
        g = np.asarray(grad(jnp.asarray(x)))
        for i, n in enumerate(names):
            lo, hi = lj.bounds(n)
            h = 1e-3 * (hi - lo) * 0.01
            fd = _fd(f, x, i, h)
            rel = abs(g[i] - fd) / max(abs(fd), 1e-300)
            worst = max(worst, rel)
            assert rel <= 1e-6, f"{version} {n} at {x}: autodiff {g[i]:.12g} vs FD {fd:.12g} (rel {rel:.2e})"
    assert worst > 0  # the comparison ran on real numbers


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.slow
def test_gradients_finite_at_edges(dtype):
    """N = 1 exactly, every absorber at its lower bound (k -> 0), zero absorption, and the upper bounds."""
    # (N < 1 is outside leafjax's bounds: Stokes' solution has a pole there; see leafjax._constants.TRAITS.)
    model = lj.ProspectD(dtype=dtype)
    cases = [
        dict(n_struct=1.0, chl=40.0, car=8.0, ant=0.0, brown=0.0, ewt=0.01, lma=0.005),
        dict(n_struct=1.0, chl=1e-4, car=1e-4, ant=0.0, brown=0.0, ewt=1e-8, lma=1e-8),
        dict(n_struct=1.0 + 1e-12, chl=1e-4, car=1e-4, ant=0.0, brown=0.0, ewt=1e-8, lma=1e-8),
        dict(n_struct=2.0, chl=0.0, car=0.0, ant=0.0, brown=0.0, ewt=0.0, lma=0.0),
        dict(n_struct=4.0, chl=150.0, car=25.0, ant=50.0, brown=4.0, ewt=0.1, lma=0.06),
        dict(n_struct=1.0, chl=150.0, car=25.0, ant=50.0, brown=4.0, ewt=0.1, lma=0.06),
    ]
    for case in cases:
        vec = jnp.asarray([case[n] for n in D_NAMES], dtype)

        def loss(v):
            out = model(lj.ProspectDParams(**{n: v[i] for i, n in enumerate(D_NAMES)}))
            return jnp.sum(out.reflectance) + jnp.sum(out.transmittance)

        val, g = jax.value_and_grad(loss)(vec)
        assert np.isfinite(float(val)), case
        assert np.all(np.isfinite(np.asarray(g))), (case, g)


def test_gradient_wrt_optical_constants():
    """The optical constants are a differentiable pytree (recalibration by gradient)."""
    consts = lj.load_optical_constants(np.arange(1400, 1500, 5), dtype=jnp.float64)
    params = lj.ProspectDParams(n_struct=1.6, chl=40.0, car=8.0, ewt=0.015, lma=0.006)

    def loss(c):
        return jnp.sum(lj.prospect_d(params, c).reflectance)

    g = jax.grad(loss)(consts)
    assert np.all(np.isfinite(np.asarray(g.k_cw))) and float(jnp.abs(g.k_cw).max()) > 0
    assert np.all(np.isfinite(np.asarray(g.nr))) and float(jnp.abs(g.nr).max()) > 0
    # directional check against finite differences on k_cw
    d = jnp.ones_like(consts.k_cw)
    h = 1e-3
    plus = loss(consts.__class__(**{**vars_of(consts), "k_cw": consts.k_cw + h * d}))
    minus = loss(consts.__class__(**{**vars_of(consts), "k_cw": consts.k_cw - h * d}))
    np.testing.assert_allclose(float(jnp.vdot(g.k_cw, d)), float((plus - minus) / (2 * h)), rtol=1e-6)


def vars_of(consts):
    import dataclasses

    return {f.name: getattr(consts, f.name) for f in dataclasses.fields(consts)}


def test_derivative_in_n_struct_at_one_matches_finite_differences():
    """N = 1 is a common value: the derivative there must be right, not just finite."""
    model = lj.ProspectD(wavelengths=np.arange(400, 2501, 7), dtype=jnp.float64)

    def f(n):
        out = model(lj.ProspectDParams(n_struct=n, chl=40.0, car=8.0, ewt=0.01, lma=0.005))
        return jnp.sum(out.reflectance) - jnp.sum(out.transmittance)

    g = float(jax.grad(f)(1.0))
    h = 1e-4
    fd = float((-f(1 + 2 * h) + 8 * f(1 + h) - 8 * f(1 - h) + f(1 - 2 * h)) / (12 * h))
    assert abs(g - fd) <= 1e-6 * abs(fd)
