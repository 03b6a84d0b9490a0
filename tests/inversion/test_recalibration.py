"""Recalibration of PROSPECT by gradient through the inversion (leafjax.inversion._recalibration)."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.inversion import (ProspectCorrections, corrected_problem, invert_corrected, n_struct_prior,
                               packaged_corrections, recalibrate, trait_estimates)
from leafjax.inversion._recalibration import COMPONENTS, FIELDS, N_BAND, WINDOW
from leafjax.physics import CONSTANT_TABLES, ProspectPro, ProspectProParams, load_optical_constants, table_provenance

WL = np.arange(1700.0, 2401.0, 20.0)


def test_identity_changes_nothing_and_the_basis_vanishes_outside_the_window():
    c = ProspectCorrections.identity()
    base = load_optical_constants()
    out = c.apply(base)
    for f in ("nr", "k_cw", "k_cm", "k_prot", "k_cbc", "k_cab"):
        np.testing.assert_array_equal(np.asarray(getattr(out, f)), np.asarray(getattr(base, f)))
    b = c.basis(np.array([1500.0, 1699.0, 1700.0, 2050.0, 2400.0, 2401.0]))
    assert np.all(b[[0, 1, 5]] == 0) and np.all(b[[2, 3, 4]].sum(1) > 0.5)
    r = jnp.linspace(0.1, 0.4, WL.size)
    np.testing.assert_allclose(np.asarray(c.correct(r, WL)), np.asarray(r))
    # the identity N line is the published regression (Spafford et al. 2021)
    nir = np.array([0.38, 0.45, 0.52])
    np.testing.assert_allclose(np.asarray(c.n_struct(jnp.asarray(nir))),
                               n_struct_prior([1131.0], reflectance=nir[:, None]), rtol=1e-9)


def test_corrections_round_trip_and_masking():
    c = ProspectCorrections.identity()
    k = c.water.shape[0]
    c = eqx.tree_at(lambda x: (x.water, x.offset, x.n_slope), c,
                    (jnp.linspace(-0.2, 0.2, k), jnp.full(k, 0.01), c.n_slope * 1.1))
    back = ProspectCorrections.from_dict(json.loads(json.dumps(c.to_dict())))
    for fs in FIELDS.values():
        for f in fs:
            np.testing.assert_allclose(np.asarray(getattr(back, f)), np.asarray(getattr(c, f)))
    m = c.masked(("water",))
    assert np.any(np.asarray(m.water) != 0) and np.all(np.asarray(m.offset) == 0)
    assert float(m.n_slope) == pytest.approx(float(ProspectCorrections.identity().n_slope))
    with pytest.raises(ValueError, match="unknown correction"):
        c.masked(("colour",))
    bad = c.to_dict()
    bad["water"] = bad["water"][:-1]
    with pytest.raises(ValueError, match="water has shape"):
        ProspectCorrections.from_dict(bad)


def _simulate(k_cw_factor, n_rows, key):
    """Reflectance of leaves whose true water absorption is ``k_cw_factor`` times the published one, N on the
    published NIR line (inverse crime apart from the water factor: truth and model share PROSPECT-PRO)."""
    k1, k2, k3 = jax.random.split(key, 3)
    ewt = jax.random.uniform(k1, (n_rows,), minval=0.006, maxval=0.02)
    lma = jax.random.uniform(k2, (n_rows,), minval=0.003, maxval=0.012)
    n = jax.random.uniform(k3, (n_rows,), minval=1.3, maxval=2.0)
    params = ProspectProParams(n, jnp.full(n_rows, 40.0), jnp.full(n_rows, 10.0), ewt=ewt, prot=0.12 * lma,
                               cbc=0.88 * lma)
    base = load_optical_constants(WL)
    truth = ProspectPro(constants=eqx.tree_at(lambda c: c.k_cw, base, base.k_cw * k_cw_factor))
    r = np.asarray(truth(params).reflectance)
    # the NIR reflectance that the published line maps to the true N
    c = ProspectCorrections.identity()
    x = (np.asarray(n) - float(c.n_intercept)) / float(c.n_slope)
    return r, x / (1 + x), np.asarray(ewt), np.asarray(lma)


def test_recalibration_learns_a_wrong_water_absorption():
    r, nir, ewt, lma = _simulate(1.25, 24, jax.random.key(3))
    groups = np.repeat(["a", "b"], 12)
    corr, hist = recalibrate(r, nir, WL, {"ewt": ewt, "lma": lma}, groups, components=("water",), steps=40,
                             per_group=12, learning_rate=0.1, penalty=1e-4)
    assert np.mean(hist[-5:]) < 0.5 * hist[0]
    factor = np.exp(corr.basis(WL) @ np.asarray(corr.water))
    assert np.median(factor) == pytest.approx(1.25, rel=0.08)
    problem = corrected_problem(WL)
    before = trait_estimates(invert_corrected(problem, ProspectCorrections.identity(), r, nir))["ewt"]
    after = trait_estimates(invert_corrected(problem, corr, r, nir))["ewt"]
    err = lambda e: float(np.sqrt(np.mean((np.asarray(e) - ewt) ** 2)))  # noqa: E731
    assert err(after) < 0.3 * err(before)


def test_recalibrate_rejects_bad_input_before_any_compute():
    r = np.full((4, WL.size), 0.3)
    g, nir = np.array(list("aabb")), np.full(4, 0.45)
    y = {"lma": np.full(4, 0.005)}
    with pytest.raises(ValueError, match="labels must be"):
        recalibrate(r, nir, WL, {"chl": np.ones(4)}, g)
    with pytest.raises(ValueError, match="non-finite"):
        recalibrate(np.where(np.eye(4, WL.size) > 0, np.nan, r), nir, WL, y, g)
    with pytest.raises(ValueError, match="must lie in"):
        recalibrate(r, nir, WL - 100.0, y, g)
    with pytest.raises(ValueError, match="reflectance must be"):
        recalibrate(r[:, :-1], nir, WL, y, g)
    with pytest.raises(ValueError, match="no finite labels"):
        recalibrate(r, nir, WL, {"lma": np.full(4, np.nan)}, g)
    with pytest.raises(ValueError, match="unknown correction"):
        recalibrate(r, nir, WL, y, g, components=("gain",))


def test_packaged_recalibrated_table_is_the_published_one_with_its_corrections():
    assert set(CONSTANT_TABLES) == {"published", "recalibrated"}
    prov = table_provenance("recalibrated")
    assert prov["datasets"] and all(d.startswith("gsti_") for d in prov["datasets"])
    rec = load_optical_constants(table="recalibrated")
    expected = packaged_corrections().apply(load_optical_constants())
    for f in ("nr", "k_cw", "k_prot", "k_cbc", "k_cm", "k_cab"):
        np.testing.assert_allclose(np.asarray(getattr(rec, f)), np.asarray(getattr(expected, f)), rtol=1e-7)
    pub = load_optical_constants()
    outside = (np.asarray(pub.wavelengths) < WINDOW[0]) | (np.asarray(pub.wavelengths) > WINDOW[1])
    np.testing.assert_allclose(np.asarray(rec.k_cw)[outside], np.asarray(pub.k_cw)[outside], rtol=1e-7)
    assert ProspectPro(WL, constants="recalibrated").constants.k_cw.shape == WL.shape
    with pytest.raises(ValueError, match="unknown optical-constant table"):
        load_optical_constants(table="tuned")
    assert N_BAND == prov["n_band_nm"] and set(COMPONENTS) == set(prov["components"])


def test_invert_corrected_and_the_measurement_model_check_their_input():
    c = ProspectCorrections.identity()
    offset, gain = c.measurement(WL)
    assert offset.shape == WL.shape and np.all(offset == 0) and gain == 1.0
    with pytest.raises(ValueError, match="within 10 nm of 1130"):
        c.n_band(WL)
    assert c.n_band(np.array([800.0, 1125.0, 1700.0])) == 1
    with pytest.raises(ValueError, match="one value per spectrum"):
        invert_corrected(corrected_problem(WL), c, np.full((3, WL.size), 0.3), np.full(2, 0.45))
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        recalibrate(np.full((4, WL.size), 0.3), np.array([0.4, 0.5, 1.2, 0.4]), WL, {"lma": np.full(4, 0.005)},
                    np.array(list("aabb")))
