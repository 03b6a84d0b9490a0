"""Physical invariants on 10^4 random parameter sets inside the documented bounds."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from helpers import D_NAMES, PRO_NAMES, random_params


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("version", ["D", "PRO"])
def test_bounds_of_reflectance_and_transmittance(version, dtype):
    names = D_NAMES if version == "D" else PRO_NAMES
    model = (lj.ProspectD if version == "D" else lj.ProspectPro)(wavelengths=np.arange(400, 2501, 4),
                                                                 dtype=getattr(jnp, dtype))
    pcls = lj.ProspectDParams if version == "D" else lj.ProspectProParams
    cols = random_params(np.random.default_rng(5), names, 10_000)
    # include the corners: every parameter at its lower and upper bound
    for n in names:
        lo, hi = lj.bounds(n)
        cols[n][:2] = (lo, hi)
    out = eqx.filter_jit(model)(pcls(**{n: jnp.asarray(cols[n], dtype) for n in names}))
    r = np.asarray(out.reflectance, np.float64)
    t = np.asarray(out.transmittance, np.float64)
    assert np.isfinite(r).all() and np.isfinite(t).all()
    slack = 0.0 if dtype == "float64" else 4 * np.finfo(np.float32).eps
    assert r.min() >= 0.0 and t.min() >= 0.0
    assert (r + t).max() <= 1.0 + slack
