"""A second call with new values of the same shapes and dtypes compiles nothing (eager model calls and
``simulate``): throughput at archive scale depends on it."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from _compile_count import compile_counter  # noqa: F401  (fixture)
from helpers import D_NAMES, PRO_NAMES, random_params

import leafjax as lj
from leafjax.physics.canopy import CanopyParams
from leafjax.physics.soil import DryWetSoilParams

WAVELENGTHS = np.arange(400, 2401, 10)


def _leaf_params(pcls, names, seed, n=4):
    return pcls(**random_params(np.random.default_rng(seed), names, n, margin=0.1))


def test_counter_sees_compilations_and_cache_hits(compile_counter):
    f = jax.jit(lambda x: 2.0 * x + 1.0)
    with compile_counter:
        f(np.zeros(7))
        f(np.ones(7))  # same shape: cached
        f(np.ones(8))  # new shape: compiles
    assert compile_counter.compiles == 2, compile_counter.names
    assert all("lambda" in name for name in compile_counter.names)
    with compile_counter:
        f(np.ones(3))
    assert compile_counter.compiles == 3
    compile_counter.reset()
    assert compile_counter.compiles == 0
    f(np.ones(9))  # not counted outside the ``with`` block
    assert compile_counter.compiles == 0


@pytest.mark.parametrize("version", ["D", "PRO"])
def test_second_leaf_model_call_compiles_nothing(version, compile_counter):
    cls, pcls, names = ((lj.ProspectD, lj.ProspectDParams, D_NAMES) if version == "D"
                        else (lj.ProspectPro, lj.ProspectProParams, PRO_NAMES))
    model = cls(wavelengths=WAVELENGTHS)
    first, second = _leaf_params(pcls, names, 0), _leaf_params(pcls, names, 1)
    out1 = jax.block_until_ready(model(first))
    with compile_counter:
        out2 = jax.block_until_ready(model(second))
    assert compile_counter.compiles == 0, f"recompiled: {compile_counter.names}"
    assert not np.allclose(out1.reflectance, out2.reflectance)  # new values were really computed


def test_second_prosail_call_compiles_nothing(compile_counter):
    model = lj.Prosail("prospect-d", wavelengths=WAVELENGTHS)

    def inputs(seed):
        rng = np.random.default_rng(seed)
        canopy = CanopyParams(lai=rng.uniform(0.5, 5.0, 4), lidf_a=rng.uniform(20.0, 70.0, 4),
                              sza=rng.uniform(10.0, 50.0, 4), vza=rng.uniform(0.0, 20.0, 4),
                              raa=rng.uniform(0.0, 180.0, 4))
        soil = DryWetSoilParams(soil_brightness=rng.uniform(0.5, 1.5, 4), soil_dryness=rng.uniform(0.0, 1.0, 4))
        return _leaf_params(lj.ProspectDParams, D_NAMES, seed), canopy, soil

    out1 = jax.block_until_ready(model(*inputs(0)))
    with compile_counter:
        out2 = jax.block_until_ready(model(*inputs(1)))
    assert compile_counter.compiles == 0, f"recompiled: {compile_counter.names}"
    assert not np.allclose(out1.rsot, out2.rsot)


def test_second_simulate_call_compiles_nothing(compile_counter):
    model = lj.ProspectD(wavelengths=WAVELENGTHS)
    prior = lj.default_prior("prospect-d")
    p1, r1, _ = lj.simulate(model, prior, 16, jax.random.key(0))
    with compile_counter:
        p2, r2, _ = lj.simulate(model, prior, 16, jax.random.key(1))
    assert compile_counter.compiles == 0, f"recompiled: {compile_counter.names}"
    assert r1.shape == r2.shape == (16, WAVELENGTHS.size)
    assert not np.allclose(p1["chl"], p2["chl"])
