"""jit/vmap invariance, batching over any leading shape, no recompilation, float32/float64."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from helpers import D_NAMES, PRO_NAMES, random_params

WL = np.arange(400, 2401, 10)


@pytest.mark.parametrize("version", ["D", "PRO"])
def test_jit_vmap_equals_python_loop(version):
    names = D_NAMES if version == "D" else PRO_NAMES
    model = (lj.ProspectD if version == "D" else lj.ProspectPro)(wavelengths=WL, dtype=jnp.float64)
    pcls = lj.ProspectDParams if version == "D" else lj.ProspectProParams
    cols = random_params(np.random.default_rng(3), names, 16)

    def f(vec):
        return model(pcls(**{n: vec[i] for i, n in enumerate(names)})).reflectance

    x = jnp.asarray(np.stack([cols[n] for n in names], axis=1))
    batched = jax.jit(jax.vmap(f))(x)
    looped = np.stack([np.asarray(f(x[i])) for i in range(x.shape[0])])
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-13, atol=1e-15)
    # native batching through array-valued fields gives the same answer
    native = model(pcls(**{n: jnp.asarray(cols[n]) for n in names})).reflectance
    np.testing.assert_allclose(np.asarray(native), looped, rtol=1e-13, atol=1e-15)


def test_any_leading_batch_shape_and_broadcasting():
    model = lj.ProspectD(wavelengths=WL)
    chl = jnp.linspace(10.0, 80.0, 12).reshape(3, 4)
    params = lj.ProspectDParams(n_struct=1.5, chl=chl, car=8.0, ewt=0.01, lma=0.005)
    out = model(params)
    assert out.reflectance.shape == (3, 4, WL.size)
    single = model(lj.ProspectDParams(n_struct=1.5, chl=chl[2, 1], car=8.0, ewt=0.01, lma=0.005))
    np.testing.assert_allclose(out.reflectance[2, 1], single.reflectance, rtol=1e-13)


def test_second_call_does_not_recompile():
    model = lj.ProspectPro(wavelengths=WL)
    rng = np.random.default_rng(4)

    @eqx.filter_jit
    def run(m, p):
        return m(p).reflectance

    traces = []

    @jax.jit
    def counted(vec):
        traces.append(1)  # runs only while tracing
        return model(lj.ProspectProParams(**{n: vec[:, i] for i, n in enumerate(PRO_NAMES)})).reflectance

    for _ in range(3):
        cols = random_params(rng, PRO_NAMES, 32)
        counted(jnp.asarray(np.stack([cols[n] for n in PRO_NAMES], axis=1))).block_until_ready()
        run(model, lj.ProspectProParams(**{n: jnp.asarray(cols[n]) for n in PRO_NAMES})).block_until_ready()
    assert len(traces) == 1


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_dtype_is_preserved(dtype):
    model = lj.ProspectD(wavelengths=WL, dtype=dtype)
    out = model(lj.ProspectDParams(n_struct=jnp.asarray(1.5, dtype), chl=jnp.asarray(40.0, dtype),
                                   car=jnp.asarray(8.0, dtype), ewt=jnp.asarray(0.01, dtype),
                                   lma=jnp.asarray(0.005, dtype), ant=jnp.asarray(0.0, dtype),
                                   brown=jnp.asarray(0.0, dtype)))
    assert out.reflectance.dtype == dtype and out.transmittance.dtype == dtype
    # Python floats are weakly typed and follow the model's dtype
    out2 = model(lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0, ewt=0.01, lma=0.005))
    assert out2.reflectance.dtype == dtype


def test_wrong_params_type_is_an_error():
    with pytest.raises(TypeError, match="ProspectProParams"):
        lj.ProspectPro(wavelengths=WL)(lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0))


@pytest.mark.slow
def test_blocked_evaluation_equals_unblocked_and_differentiates():
    model = lj.ProspectD(wavelengths=WL, dtype=jnp.float64)
    cols = random_params(np.random.default_rng(9), D_NAMES, 70)
    params = lj.ProspectDParams(**{n: jnp.asarray(cols[n]).reshape(7, 10) for n in D_NAMES})
    a = model(params, block_size=None)
    b = model(params, block_size=16)  # 70 = 4 blocks of 16 + remainder 6
    assert b.reflectance.shape == (7, 10, WL.size)
    np.testing.assert_allclose(np.asarray(a.reflectance), np.asarray(b.reflectance), rtol=1e-11, atol=1e-16)
    np.testing.assert_allclose(np.asarray(a.transmittance), np.asarray(b.transmittance), rtol=1e-11, atol=1e-16)

    def loss(chl, bs):
        p = lj.ProspectDParams(**{**params.to_dict(), "chl": chl})
        return jnp.sum(model(p, block_size=bs).reflectance)

    ga = jax.grad(loss)(params.chl, None)
    gb = jax.grad(loss)(params.chl, 16)
    np.testing.assert_allclose(np.asarray(ga), np.asarray(gb), rtol=1e-12)
