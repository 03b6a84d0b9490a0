"""Gradients of 4SAIL: float64 central finite differences for every canopy input, the leaf spectra and the soil
(parameters and spectrum); singular limits (lai = 0, hotspot = 0, exact hotspot, nadir sun) give finite
gradients; lai = 0 returns the soil.  One jitted objective per LIDF type is shared by all tests (fast)."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _compile_count import compile_counter  # noqa: F401  (fixture)

from leafjax.canopy import CanopyParams, DryWetSoil, DryWetSoilParams, campbell_lidf, sail, verhoef_lidf
from leafjax.physics import ProspectD, ProspectDParams

WL = np.arange(400, 2401, 200)  # 11 bands keep the finite differences cheap
EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-9
F64 = jnp.float64
BASE = {
    "campbell": dict(lai=2.7, lidf_a=48.0, lidf_b=0.0, hotspot=0.15, sza=35.0, vza=20.0, raa=60.0),
    "verhoef": dict(lai=2.7, lidf_a=-0.35, lidf_b=-0.15, hotspot=0.15, sza=35.0, vza=20.0, raa=60.0),
}
SOIL = DryWetSoil(WL, dtype=F64)
_WEIGHTS = jnp.linspace(1.0, 2.0, WL.size)  # spectral weights: no cancellation can hide an error


def _kw(lidf_type, **update):
    return {k: jnp.asarray(v, dtype=F64) for k, v in dict(BASE[lidf_type], **update).items()}


@partial(jax.jit, static_argnames="lidf_type")
def _outputs(kw, rho, tau, bright, dry, soil_delta, lidf_type):
    soil = SOIL(DryWetSoilParams(bright.astype(F64), dry.astype(F64))).astype(rho.dtype) + soil_delta  # f32 stays f32
    return sail(rho, tau, soil, CanopyParams(**kw, lidf_type=lidf_type))


def _objective(kw, rho, tau, bright, dry, soil_delta, lidf_type):
    out = _outputs(kw, rho, tau, bright, dry, soil_delta, lidf_type)
    return jnp.sum(_WEIGHTS.astype(out.rsot.dtype) * (out.rsot + 0.7 * out.rddt + 0.5 * out.rsdt + 0.3 * out.rdot))


_value = jax.jit(_objective, static_argnames="lidf_type")
_value_and_grad = jax.jit(jax.value_and_grad(_objective, argnums=(0, 1, 2, 3, 4, 5)), static_argnames="lidf_type")


@pytest.fixture(scope="module")
def args():
    leaf = ProspectD(WL, dtype=F64)(ProspectDParams(n_struct=1.6, chl=45.0, car=9.0, ant=1.0, ewt=0.012,
                                                    lma=0.006))
    return [leaf.reflectance, leaf.transmittance, jnp.asarray(1.1, F64), jnp.asarray(0.4, F64),
            jnp.zeros(WL.size, F64)]


def _fd(kw, rest, lidf_type, which, name=None, index=None):
    """Central difference of the objective in one scalar (``kw[name]``, or element ``index`` of ``rest[which]``)."""
    vals = []
    for sign in (1.0, -1.0):
        k, r = dict(kw), list(rest)
        if which is None:
            k[name] = kw[name] + sign * EPS
        elif index is None:
            r[which] = rest[which] + sign * EPS
        else:
            r[which] = rest[which].at[index].add(sign * EPS)
        vals.append(_value(k, *r, lidf_type=lidf_type))
    return (vals[0] - vals[1]) / (2 * EPS)


@pytest.mark.parametrize("lidf_type", ["campbell", "verhoef"])
def test_gradients_match_finite_differences(args, lidf_type):
    kw = _kw(lidf_type)
    _, grads = _value_and_grad(kw, *args, lidf_type=lidf_type)
    g_kw, g_rest = grads[0], grads[1:]
    for name in kw:  # lai, lidf_a, lidf_b, hotspot, sza, vza, raa
        if lidf_type == "campbell" and name == "lidf_b":
            assert g_kw[name] == 0.0  # Campbell ignores lidf_b
            continue
        fd = _fd(kw, args, lidf_type, None, name=name)
        assert abs(fd) > 1e-8, name  # the input matters
        np.testing.assert_allclose(g_kw[name], fd, rtol=RTOL, atol=ATOL, err_msg=name)
    for which, label in ((2, "soil_brightness"), (3, "soil_dryness")):
        np.testing.assert_allclose(g_rest[which], _fd(kw, args, lidf_type, which), rtol=RTOL, atol=ATOL,
                                   err_msg=label)
    for which, label in ((0, "leaf reflectance"), (1, "leaf transmittance"), (4, "soil spectrum")):
        for j in (0, 4, 10):
            assert g_rest[which][j] > 0, label  # brighter leaves or soil brighten the canopy
            np.testing.assert_allclose(g_rest[which][j], _fd(kw, args, lidf_type, which, index=j), rtol=RTOL,
                                       atol=ATOL, err_msg=f"{label}[{j}]")


def test_lai_zero_returns_soil_with_finite_gradients(args):
    rho, tau, bright, dry, delta = args
    out = _outputs(_kw("verhoef", lai=0.0), *args, lidf_type="verhoef")
    soil = SOIL(DryWetSoilParams(bright, dry))
    for f in ("rsot", "rddt", "rsdt", "rdot"):
        np.testing.assert_allclose(getattr(out, f), soil, rtol=0, atol=1e-15)
    _, grads = _value_and_grad(_kw("verhoef", lai=0.0), *args, lidf_type="verhoef")
    g = grads[0]["lai"]
    # one-sided difference (lai ≥ 0), second order: (−3 f(0) + 4 f(h) − f(2h)) / 2h
    f = [_value(_kw("verhoef", lai=x), *args, lidf_type="verhoef") for x in (0.0, 1e-6, 2e-6)]
    np.testing.assert_allclose(g, (-3 * f[0] + 4 * f[1] - f[2]) / 2e-6, rtol=1e-5)
    # at lai = 0 the canopy parameters other than lai cannot matter
    assert all(abs(grads[0][k]) < 1e-15 for k in ("lidf_a", "lidf_b", "hotspot", "sza", "vza", "raa"))


def test_singular_limits_have_finite_gradients(args):
    cases = {"no_hotspot": dict(hotspot=0.0), "exact_hotspot": dict(sza=30.0, vza=30.0, raa=0.0),
             "nadir_sun": dict(sza=0.0, vza=0.0), "lai0_no_hotspot": dict(lai=0.0, hotspot=0.0),
             "raa_360": dict(raa=360.0), "planophile": dict(lidf_a=5.0), "spherical": dict(lidf_a=57.4)}
    for case, update in cases.items():
        val, grads = _value_and_grad(_kw("campbell", **update), *args, lidf_type="campbell")
        assert np.isfinite(val), case
        for leaf in jax.tree.leaves(grads):
            assert np.all(np.isfinite(np.asarray(leaf))), case


def test_lidf_gradients_match_finite_differences():
    for fn, x in ((campbell_lidf, 30.0), (campbell_lidf, 75.0), (lambda a: verhoef_lidf(a, -0.2), 0.4),
                  (lambda b: verhoef_lidf(0.3, b), 0.5)):
        fn = jax.jit(fn)
        jac = jax.jit(jax.jacfwd(fn))(x)
        np.testing.assert_allclose(jac, (fn(x + EPS) - fn(x - EPS)) / (2 * EPS), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(jnp.sum(fn(x)), 1.0, atol=1e-12)
        assert np.all(np.asarray(fn(x)) >= 0)


def test_batched_equals_loop_and_vmap_and_bounds(args):
    rho, tau, bright, dry, _ = args
    soil = SOIL(DryWetSoilParams(bright, dry))
    lai = jnp.asarray([0.0, 1.0, 3.5])
    raa = jnp.asarray([0.0, 90.0, 170.0])

    @jax.jit
    def run(lai, raa):
        return sail(rho, tau, soil, CanopyParams(**_kw("campbell", lai=lai, raa=raa), lidf_type="campbell"))

    batched = run(lai, raa)
    assert batched.rsot.shape == (3, WL.size) and batched.tss.shape == (3,)
    looped = [run(lai[i], raa[i]) for i in range(3)]
    np.testing.assert_allclose(batched.rsot, np.stack([o.rsot for o in looped]), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jax.jit(jax.vmap(run))(lai, raa).rsdt, batched.rsdt, rtol=1e-13, atol=1e-15)
    # row blocks (lax.map, with a remainder block) give the unblocked result, every field
    canopy = CanopyParams(**_kw("campbell", lai=lai, raa=raa), lidf_type="campbell")
    blocked = jax.jit(lambda c: sail(rho, tau, soil, c, block_size=2))(canopy)
    for name, a, b in zip(blocked.__dataclass_fields__, jax.tree.leaves(blocked), jax.tree.leaves(batched)):
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15, err_msg=name)
    # physical bounds
    for f in ("rsot", "rddt", "rsdt", "rdot", "rdd", "tdd", "rsd", "tsd"):
        assert np.all(np.asarray(getattr(batched, f)) >= 0), f
    assert np.all(np.asarray(batched.rdd + batched.tdd) <= 1.0)  # black soil: energy conservation
    assert np.all(np.asarray(batched.rsd + batched.tsd + batched.tss[..., None]) <= 1.0)
    assert np.all(np.asarray(batched.tsstoo) <= np.minimum(batched.tss, batched.too) + 1e-15)


def test_float32_values_and_gradients_finite_in_all_limits(args):
    rho, tau, bright, dry, delta = (jnp.asarray(a, jnp.float32) for a in args)
    cases = [{}, dict(hotspot=0.0), dict(sza=30.0, vza=30.0, raa=0.0), dict(sza=0.0, vza=0.0), dict(lai=0.0),
             dict(lai=0.0, hotspot=0.0), dict(lidf_a=5.0), dict(lidf_a=57.4)]
    compiled = _value_and_grad
    for update in cases:
        kw = {k: jnp.asarray(v, jnp.float32) for k, v in dict(BASE["campbell"], **update).items()}
        val, grads = compiled(kw, rho, tau, bright, dry, delta, lidf_type="campbell")
        assert val.dtype == jnp.float32 and np.isfinite(val), update
        for leaf in jax.tree.leaves(grads):
            assert leaf.dtype == jnp.float32 and np.all(np.isfinite(np.asarray(leaf))), update


def test_no_recompilation_for_new_values(args):
    kw = _kw("verhoef")
    _value(kw, *args, lidf_type="verhoef")
    size = _value._cache_size()
    for lai in (0.5, 1.5, 4.0):
        _value(_kw("verhoef", lai=lai, sza=lai * 10.0), *args, lidf_type="verhoef")
    assert _value._cache_size() == size


def test_eager_blocked_call_compiles_nothing_the_second_time(args, compile_counter):
    """Eager calls on a batch larger than a block (row blocks via lax.map) reuse one compiled loop."""
    rho, tau, *_ = args

    def call(seed):
        rng = np.random.default_rng(seed)
        canopy = CanopyParams(lai=rng.uniform(0.5, 5.0, 4), lidf_a=rng.uniform(20.0, 70.0, 4))
        return jax.block_until_ready(sail(rho, tau, rng.uniform(0.1, 0.3, (4, WL.size)), canopy, block_size=3))

    first = call(0)
    with compile_counter:
        second = call(1)
    assert compile_counter.compiles == 0, f"recompiled: {compile_counter.names}"
    assert not np.allclose(first.rsot, second.rsot)


def test_prosail_end_to_end_gradients_through_prospect():
    from leafjax.canopy import Prosail
    from leafjax.physics import ProspectProParams

    model = Prosail("prospect-pro", wavelengths=WL, dtype=F64)
    canopy = CanopyParams(**_kw("campbell"), lidf_type="campbell")
    soil = DryWetSoilParams(jnp.asarray(1.0, F64), jnp.asarray(0.5, F64))

    @jax.jit
    def f(x):
        leaf = ProspectProParams(n_struct=1.5, chl=x[0], car=8.0, ant=0.5, brown=0.0, ewt=x[1], prot=x[2],
                                 cbc=0.008)
        return jnp.sum(_WEIGHTS * model(leaf, canopy, soil).rsot)

    x = jnp.asarray([40.0, 0.012, 0.001], F64)
    g = jax.jit(jax.grad(f))(x)
    for i, h in enumerate((1e-4, 1e-8, 1e-8)):
        e = jnp.zeros(3, F64).at[i].set(h)
        fd = (f(x + e) - f(x - e)) / (2 * h)
        assert g[i] < 0  # more chlorophyll, water or protein absorbs more
        np.testing.assert_allclose(g[i], fd, rtol=1e-5)
