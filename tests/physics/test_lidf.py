"""Leaf inclination distributions: archetypes, agreement with PyPI prosail's LIDFs, the 13-class SAIL set."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.canopy import CanopyParams, campbell_lidf, lidf, sail, verhoef_lidf

prosail_sail = pytest.importorskip("prosail.FourSAIL")

#: Verhoef (1998) archetypes (a, b), including the |a| + |b| = 1 extremes where the implicit equation is flat.
ARCHETYPES = {"planophile": (1.0, 0.0), "erectophile": (-1.0, 0.0), "plagiophile": (0.0, -1.0),
              "extremophile": (0.0, 1.0), "spherical": (-0.35, -0.15), "uniform": (0.0, 0.0), "mixed": (0.3, -0.7)}


def test_verhoef_archetypes_match_prosail_and_have_finite_jacobians():
    ab = jnp.asarray(list(ARCHETYPES.values()))
    fn = jax.jit(lambda p: verhoef_lidf(p[..., 0], p[..., 1]))
    got = np.asarray(fn(ab))
    jac = np.asarray(jax.jit(jax.vmap(jax.jacfwd(fn)))(ab))
    for i, (name, (a, b)) in enumerate(ARCHETYPES.items()):
        # prosail iterates to |Δx| < 1e-8 only, hence the 1e-7 bound
        np.testing.assert_allclose(got[i], prosail_sail.verhoef_bimodal(a, b, 18), atol=1e-7, err_msg=name)
        assert abs(got[i].sum() - 1.0) < 1e-14 and np.all(got[i] >= 0), name
        assert np.all(np.isfinite(jac[i])), name
    # planophile concentrates leaf area at low inclination, erectophile at high
    assert got[0][:9].sum() > 0.8 and got[1][9:].sum() > 0.8


def test_campbell_matches_prosail_across_mean_angles():
    angles = np.asarray([1.0, 10.0, 30.0, 57.0, 57.296, 57.4, 70.0, 89.0])
    got = np.asarray(jax.jit(campbell_lidf)(jnp.asarray(angles)))
    for i, alpha in enumerate(angles):
        np.testing.assert_allclose(got[i], prosail_sail.campbell(alpha, 18), atol=1e-13, err_msg=str(alpha))
    # mean inclination increases with the parameter
    centres = np.arange(2.5, 90.0, 5.0)
    means = got @ centres
    assert np.all(np.diff(means) > 0)


def test_sail_13_angle_classes():
    for lidf_type, a, b in (("campbell", 45.0, 0.0), ("verhoef", -0.35, -0.15), ("verhoef", 1.0, 0.0)):
        f = lidf(lidf_type, a, b, angle_classes="sail")
        assert f.shape == (13,)
        np.testing.assert_allclose(jnp.sum(f), 1.0, atol=1e-14)
        # the 2° classes near vertical of the 13-class set sum to the 80–90° fraction of the 5° set
        np.testing.assert_allclose(jnp.sum(f[8:]), jnp.sum(lidf(lidf_type, a, b)[16:]), atol=1e-12)
    rho = jnp.full((3,), 0.45)
    kw = dict(lai=3.0, lidf_a=45.0, hotspot=0.1, sza=30.0, vza=10.0, raa=20.0)
    r18 = sail(rho, rho, jnp.full((3,), 0.2), CanopyParams(**kw)).rsot
    r13 = sail(rho, rho, jnp.full((3,), 0.2), CanopyParams(**kw, angle_classes="sail")).rsot
    assert 0 < float(jnp.max(jnp.abs(r13 - r18))) < 5e-3  # a different quadrature of the same canopy
    with pytest.raises(ValueError, match="angle_classes"):
        CanopyParams(lai=1.0, lidf_a=45.0, angle_classes="sail-12")
    with pytest.raises(ValueError, match="lidf_type"):
        CanopyParams(lai=1.0, lidf_a=45.0, lidf_type="beta")
