"""LST pre-training simulator: pool and emissivity split, prior ranges, determinism, chunking invariance, physics."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _compile_count import count_compiles
from thermal_fixtures import fitted_band_model, lwir_truth, thermal_folder  # noqa: F401

from leafjax.physics.thermal import Atmosphere, vimi_response
from leafjax.simulation import (
    LstPrior,
    emissivity_library,
    iter_simulate_lst,
    lst_columns,
    pretraining_pool,
    simulate_lst,
    split_emissivities,
)
from leafjax.simulation._lst_pool import channel_edges


@pytest.fixture(scope="module")
def thermal(thermal_folder, lwir_truth, fitted_band_model):  # noqa: F811
    from leafjax.data import load_tigr

    tigr, truth = load_tigr(thermal_folder), lwir_truth
    pool = pretraining_pool(tigr, truth)
    pre, site = split_emissivities(truth)
    nu = np.asarray(fitted_band_model.wavenumber)
    return SimpleNamespace(tigr=tigr, truth=truth, band_model=fitted_band_model, pool=pool, pre=pre, site=site,
                           profiles=tigr.atmospheres[pool], library=emissivity_library(truth, pre, nu),
                           srf=vimi_response(nu))


def _run(th, n, seed=0, **kw):
    return simulate_lst(jax.random.key(seed), n, th.band_model, th.profiles, th.library, th.srf,
                        profile_ids=th.pool, emissivity_ids=th.pre, **kw)


@pytest.fixture(scope="module")
def sims(thermal):
    return _run(thermal, 600, chunk_size=200)


def test_pool_excludes_truth_rows_and_reports_drops(thermal):
    pool, report = pretraining_pool(thermal.tigr, thermal.truth, return_report=True)
    assert np.intersect1d(pool, thermal.tigr.lwir_rows).size == 0
    assert np.intersect1d(pool, thermal.truth.tigr_rows).size == 0
    assert report["kept"] == pool.size and report["truth_rows"] == 80
    assert report["kept"] + report["truth_rows"] + report["invalid"] + report["t_air_out_of_range"] == 2311
    t_air = np.asarray(thermal.tigr.atmospheres.temperature)[pool, 0]
    assert t_air.min() >= 200.0 and t_air.max() <= 330.0
    assert np.all(np.diff(pool) > 0)


def test_pool_drops_invalid_and_out_of_range_profiles():
    p = np.array([1000.0, 500.0, 100.0])
    t = np.array([[290.0, 260.0, 220.0], [190.0, 180.0, 170.0], [300.0, 270.0, 230.0], [280.0, 250.0, 210.0]])
    h2o = np.full((4, 3), 1000.0)
    h2o[2, 1] = -1.0  # invalid
    atm = Atmosphere(*(jnp.asarray(v) for v in (p, t, h2o, np.full((4, 3), 0.05))))
    tigr = SimpleNamespace(atmospheres=atm, lwir_rows=np.array([3]))
    pool, report = pretraining_pool(tigr, return_report=True)
    assert pool.tolist() == [0]
    assert report == {"total": 4, "truth_rows": 1, "invalid": 1, "t_air_out_of_range": 1, "kept": 1}
    with pytest.raises(ValueError, match="excluded TIGR rows"):
        pretraining_pool(tigr, exclude_rows=[7])


def test_emissivity_split_is_fixed_disjoint_and_spans_the_range(thermal):
    pre, site = thermal.pre, thermal.site
    assert len(pre) == 14 and len(site) == 7 and not set(pre) & set(site)
    assert sorted(pre + site) == list(range(1, 22))
    assert split_emissivities(thermal.truth) == (pre, site)
    lam = 1e4 / np.asarray(thermal.truth.wavenumber)
    mean = np.asarray(thermal.truth.emissivity)[:, (lam >= 10) & (lam <= 12)].mean(1)
    assert mean[list(pre)].min() < mean[list(site)].min() and mean[list(site)].max() < mean[list(pre)].max()


def test_emissivity_library_takes_channel_means():
    ref = np.arange(800.0, 1326.0)
    spectra = np.stack([np.linspace(0.9, 1.0, ref.size), 0.95 + 0.01 * np.sin(ref)])
    truth = SimpleNamespace(wavenumber=ref, emissivity=spectra)
    np.testing.assert_array_equal(emissivity_library(truth, [0, 1], ref), spectra)
    centres = ref[:525].reshape(105, 5).mean(1)  # 5-cm-1 channels of 5 consecutive samples
    got = emissivity_library(truth, [1], centres)
    np.testing.assert_allclose(got[0], spectra[1, :525].reshape(105, 5).mean(1), rtol=1e-12)
    np.testing.assert_allclose(channel_edges(np.array([1.0, 2.0, 4.0])), [0.5, 1.5, 3.0, 5.0])
    with pytest.raises(ValueError, match="beyond"):
        emissivity_library(truth, [0], np.array([700.0, 710.0]))


def test_prior_rejects_bad_ranges():
    for kw in ({"lst_offset_k": (5.0, -5.0)}, {"vza_deg": (0.0, 95.0)}, {"vza_deg": (-1.0, 10.0)},
               {"max_members": 0}, {"dirichlet_alpha": 0.0}, {"lst_offset_k": (0.0, float("nan"))},
               {"surfaces_per_view": 0}):
        with pytest.raises(ValueError, match="LstPrior"):
            LstPrior(**kw)


def test_columns_and_prior_ranges(thermal, sims):
    assert list(sims) == list(lst_columns(("b1", "b2", "b3", "b4")))
    assert all(v.shape == (600,) for v in sims.values())
    offset = sims["lst"] - sims["t_air"]
    assert offset.min() >= -10.0 - 1e-9 and offset.max() <= 20.0 + 1e-9
    assert offset.min() < -9.0 and offset.max() > 19.0  # the whole range is sampled
    assert sims["vza"].min() >= 0.0 and sims["vza"].max() <= 60.0
    assert set(sims["profile"]) <= set(thermal.pool.tolist())
    assert set(sims["emissivity_id"]) <= set(thermal.pre)
    rows = np.searchsorted(thermal.pool, sims["profile"])
    wvc = np.asarray(thermal.profiles.column_water_vapour())[rows]
    np.testing.assert_allclose(sims["wvc"], wvc, rtol=1e-6)
    np.testing.assert_allclose(sims["t_air"], np.asarray(thermal.profiles.temperature)[rows, 0], rtol=1e-12)
    band_eps = np.asarray(thermal.library) @ np.asarray(thermal.srf.weights).T  # (spectrum, band): the vertices
    for i, b in enumerate(("b1", "b2", "b3", "b4")):
        e = sims[f"emissivity_{b}"]
        assert e.min() >= band_eps[:, i].min() - 1e-9 and e.max() <= band_eps[:, i].max() + 1e-9
    pure = np.isclose(sims["emissivity_b1"][:, None], band_eps[None, :, 0], atol=1e-12).any(1)
    assert 0.2 < pure.mean() < 0.5  # about a third single-member surfaces, the rest mixtures


def test_rows_of_a_view_share_profile_and_angle_only(sims):
    m = LstPrior().surfaces_per_view
    for k in ("profile", "vza", "t_air", "wvc"):
        v = sims[k].reshape(-1, m)
        assert np.all(v == v[:, :1])
    assert np.unique(sims["vza"]).size == 600 // m
    assert np.all(sims["lst"].reshape(-1, m).std(1) > 0)  # each row its own surface and LST
    assert np.all(sims["emissivity_b3"].reshape(-1, m).std(1) > 0)


def test_determinism_and_chunking_invariance(thermal, sims):
    # the same seed gives the same rows whatever the chunk size (64-row chunks, the last padded, vs 200-row)
    small = _run(thermal, 150, chunk_size=64)
    for k in sims:
        if sims[k].dtype.kind == "i":
            np.testing.assert_array_equal(small[k], sims[k][:150])
        else:
            np.testing.assert_allclose(small[k], sims[k][:150], rtol=1e-9, atol=1e-9)
    other = _run(thermal, 150, seed=1, chunk_size=64)
    assert not np.allclose(other["lst"], small["lst"]) and not np.array_equal(other["profile"], small["profile"])


def test_one_program_per_chunk_shape(thermal):
    _run(thermal, 96, chunk_size=64)  # compiles (64-row chunks; the last one padded)
    with count_compiles() as c:
        chunks = list(iter_simulate_lst(jax.random.key(5), 150, thermal.band_model, thermal.profiles,
                                        thermal.library, thermal.srf, chunk_size=64))
    assert [len(ch["lst"]) for ch in chunks] == [64, 64, 22]
    assert c.compiles == 0, c.names


def test_physical_sanity(thermal, sims):
    bt = np.stack([sims[f"bt_b{i}"] for i in range(1, 5)], 1)
    assert np.all(np.isfinite(bt))
    # the TOA radiance mixes surface emission, reflected sky and path emission: its BT lies between the coldest
    # and warmest of the skin and the profile (less a little for the cold-space part of the reflected sky)
    rows = np.searchsorted(thermal.pool, sims["profile"])
    t = np.asarray(thermal.profiles.temperature)[rows]
    hot = np.maximum(sims["lst"], t.max(1))[:, None]
    cold = np.minimum(sims["lst"], t.min(1))[:, None]
    assert np.all(bt <= hot + 0.3) and np.all(bt >= cold - 3.0)
    day = sims["lst"] >= t.max(1)  # skin warmer than every level: the atmosphere can only lower the BT
    assert day.sum() > 50 and np.all(bt[day] <= sims["lst"][day, None] + 0.3)
    assert np.mean(sims["lst"] - sims["bt_b4"]) > 0.5
    # the split-window difference grows with water vapour, on average
    dbt = sims["bt_b3"] - sims["bt_b4"]
    dry, wet = sims["wvc"] < 1.0, sims["wvc"] > 3.0
    assert dry.sum() > 50 and wet.sum() > 50  # about half of TIGR is below 1 g/cm2, a quarter above 3
    assert dbt[wet].mean() > dbt[dry].mean() + 0.5
    assert np.corrcoef(sims["wvc"], dbt)[0, 1] > 0.3
    # larger view angles: longer paths, more atmospheric effect on average
    wide, near = sims["vza"] > 45.0, sims["vza"] < 15.0
    assert (sims["lst"] - sims["bt_b4"])[wide].mean() > (sims["lst"] - sims["bt_b4"])[near].mean()


def test_noise_is_gaussian_per_band_and_leaves_the_rest(thermal, sims):
    noisy = _run(thermal, 150, chunk_size=64, noise_k=0.2)  # the 64-row program: noise_k is not static
    d = np.stack([noisy[f"bt_{b}"] - sims[f"bt_{b}"][:150] for b in ("b1", "b2", "b3", "b4")])
    assert abs(d.std() - 0.2) < 0.03 and abs(d.mean()) < 0.03 and np.all(np.abs(d.mean(1)) < 0.06)
    assert abs(np.corrcoef(d)[0, 1]) < 0.3  # independent between bands
    np.testing.assert_allclose(noisy["lst"], sims["lst"][:150], rtol=1e-12)
    np.testing.assert_allclose(noisy["emissivity_b3"], sims["emissivity_b3"][:150], rtol=1e-12)


def test_bad_arguments_raise_before_compute(thermal):
    th = thermal
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="positive integer"):
        simulate_lst(key, 0, th.band_model, th.profiles, th.library, th.srf)
    with pytest.raises(ValueError, match="channel grid"):
        simulate_lst(key, 5, th.band_model, th.profiles, th.library[:, :-1], th.srf)
    with pytest.raises(ValueError, match=r"within \(0, 1\]"):
        simulate_lst(key, 5, th.band_model, th.profiles, th.library * 1.2, th.srf)
    with pytest.raises(ValueError, match="band responses"):
        simulate_lst(key, 5, th.band_model, th.profiles, th.library,
                     vimi_response(np.asarray(th.band_model.wavenumber) + 0.5))
    with pytest.raises(ValueError, match="noise_k"):
        simulate_lst(key, 5, th.band_model, th.profiles, th.library, th.srf, noise_k=-1.0)
    with pytest.raises(ValueError, match="multiple of prior.surfaces_per_view"):
        simulate_lst(key, 50, th.band_model, th.profiles, th.library, th.srf, chunk_size=20)
    with pytest.raises(ValueError, match="profile_ids"):
        simulate_lst(key, 5, th.band_model, th.profiles, th.library, th.srf, profile_ids=[1, 2])
