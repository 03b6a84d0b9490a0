"""Physics stages of the SYNTHETIC LST transfer experiment: the truth and the band model, the site observations
through the LBLRTM truth, the pre-training simulation, the split-window fits, the physical inversion and the two
diagnostics (band-model-vs-truth brightness temperatures on the site atmospheres; band-shift sensitivity).

Truth (LBLRTM file) and simulator (the leafjax band model fitted on the *calibration* atmospheres) are kept apart:
site observations are computed from the truth only, everything an algorithm learns from comes from the simulator.
"""

from __future__ import annotations

import numpy as np

from leafjax.baselines import fit_split_window
from leafjax.data import load_lwir_truth, load_tigr, split_truth, truth_band_brightness_temperature
from leafjax.inversion import cached_band_model
from leafjax.simulation import LstPrior, emissivity_library, pretraining_pool, simulate_lst

from . import error_budget as eb

BANDS = ("b1", "b2", "b3", "b4")


def load(folder):
    """``(truth, tigr, calibration_idx, site_idx)`` from the shared ``thermal/`` folder."""
    truth, tigr = load_lwir_truth(folder), load_tigr(folder)
    cal, site = split_truth(truth)
    return truth, tigr, np.asarray(cal), np.asarray(site)


def band_model(folder):
    """The band model fitted on the calibration atmospheres (cached per data hash and settings)."""
    return cached_band_model(folder)


def truth_terms(truth, idx):
    """LBLRTM atmospheric terms of truth atmospheres ``idx`` (nadir)."""
    import jax.numpy as jnp
    from leafjax.physics.thermal import AtmosphericTerms

    return AtmosphericTerms(jnp.asarray(truth.wavenumber), jnp.asarray(truth.transmittance[idx]),
                            jnp.asarray(truth.path_radiance[idx]), jnp.asarray(truth.downwelling[idx]))


def truth_bt(truth, atm_idx, emissivity, lst, srf) -> np.ndarray:
    """Truth TOA band brightness temperatures ``(n, 4)`` (K) of surfaces ``emissivity (n, nu)`` (truth grid) at
    ``lst (n,)`` under truth atmospheres ``atm_idx (n,)``, at nadir."""
    return np.asarray(truth_band_brightness_temperature(truth, np.asarray(atm_idx), np.asarray(emissivity),
                                                        np.asarray(lst), srf), float)


def band_emissivity(spectra, srf) -> np.ndarray:
    """Response-weighted band emissivities ``(m, 4)`` of ``spectra (m, nu)`` (the simulator's definition)."""
    from leafjax.physics.thermal import band_radiance

    return np.asarray(band_radiance(np.asarray(spectra), srf), float)


#: Simulated rows recomputed, one by one through the band model and the TOA brightness temperature, to check the
#: simulator's compiled chunks (written to the summary as ``simulator_check_max_abs_k``).
CHECK_ROWS: int = 256


def simulate(bm, tigr, truth, pre_cols, n: int, seed: int = 0, noise_k: float = eb.NEDT_K,
             check: bool = True) -> tuple[dict, dict]:
    """``n`` pre-training samples of :func:`leafjax.simulation.simulate_lst` (float32, the default
    :class:`~leafjax.simulation.LstPrior`: mixtures of 1–3 pre-training emissivity spectra, LST offsets, view angles
    0–60°, 8 surfaces per profile and angle) over the pre-training pool (TIGR rows minus the truth rows), with the
    sensor NEdT (``noise_k``, K; the same states for any ``noise_k``); and a summary, including the largest difference between the simulator's brightness temperatures
    and a separate float64 computation from the recorded states of :data:`CHECK_ROWS` rows (pure spectra only can
    be recomputed from the recorded columns, so the check simulates those rows again with ``max_members=1``;
    ``check=False`` skips it, e.g. for a second set of the same states)."""
    import jax
    import jax.numpy as jnp

    from leafjax.physics.thermal import toa_brightness_temperature, vimi_response

    pool = np.asarray(pretraining_pool(tigr, truth))
    lib = np.asarray(emissivity_library(truth, pre_cols, np.asarray(bm.wavenumber)))
    f32 = lambda v: jnp.asarray(v, jnp.float32)  # noqa: E731
    profiles = jax.tree.map(f32, tigr.atmospheres[pool])
    srf32 = vimi_response(np.asarray(bm.wavenumber), dtype=jnp.float32)
    sim = simulate_lst(jax.random.key(seed), int(n), bm.astype(jnp.float32), profiles, f32(lib), srf32, LstPrior(),
                       noise_k=noise_k)
    sim = {k: np.asarray(v) for k, v in sim.items()}
    check_k = None
    if check:  # pure spectra, no noise, recomputed in float64 one row at a time
        chk = simulate_lst(jax.random.key(seed + 1), CHECK_ROWS, bm.astype(jnp.float32), profiles, f32(lib), srf32,
                           LstPrior(max_members=1), noise_k=0.0)
        chk = {k: np.asarray(v) for k, v in chk.items()}
        srf64 = vimi_response(np.asarray(bm.wavenumber))
        one = jax.jit(lambda atm, vza, e, lst: toa_brightness_temperature(bm(atm, vza), e, lst, srf64))
        atm64 = tigr.atmospheres[pool]
        again = np.stack([np.asarray(one(atm64[int(p)], float(v), lib[int(e)], float(t)))
                          for p, v, e, t in zip(chk["profile"], chk["vza"], chk["emissivity_id"], chk["lst"])])
        check_k = round(float(np.abs(again - np.stack([chk[f"bt_{b}"] for b in BANDS], 1)).max()), 6)
    ok = np.all(np.isfinite(np.stack([sim[f"bt_{b}"] for b in BANDS], 1)), axis=1)
    sim = {k: v[ok] for k, v in sim.items()}
    sim["profile"] = pool[sim["profile"].astype(int)]
    return sim, {"n_requested": int(n), "n_finite": int(ok.sum()), "n_profiles": int(len(pool)),
                 "emissivity_columns": [int(c) for c in pre_cols], "noise_k": noise_k, "dtype": "float32",
                 "simulator_check_rows": CHECK_ROWS if check else 0, "simulator_check_max_abs_k": check_k}


def _sw_inputs(t, truth_side: bool = False):
    bt = np.stack([np.asarray(t[f"bt_true_{b}" if truth_side else f"bt_{b}"], float) for b in BANDS], 1)
    em = np.stack([np.asarray(t[f"emissivity_true_{b}" if truth_side else f"emissivity_{b}"], float)
                   for b in BANDS], 1)
    wvc = np.asarray(t["wvc_true" if truth_side else "wvc"], float)
    return bt, em, wvc, np.asarray(t["vza"], float)


def fit_split_windows(sim: dict, forms) -> dict:
    """Split-window fits (view-angle terms included: the simulation spans 0–60°) on the simulation, by form."""
    bt, em, wvc, vza = _sw_inputs(sim)
    return {f: fit_split_window(bt, em, wvc, np.asarray(sim["lst"], float), form=f, vza=vza) for f in forms}


def predict_split_window(sw, table, truth_side: bool = False) -> np.ndarray:
    """LST (K) of a fitted split-window on a table (retrieval-side inputs, or the true ones)."""
    bt, em, wvc, vza = _sw_inputs(table, truth_side)
    return sw.predict(bt, em, wvc, vza)


def band_model_vs_truth(bm, truth, site_idx, site_cols) -> dict:
    """Brightness-temperature RMSE (K, per band) of the band model against the truth on the site atmospheres: the
    site emissivity spectra × Ts = T_air + {−5, 0, +10} K, nadir."""
    import jax.numpy as jnp

    from leafjax.physics.thermal import toa_brightness_temperature, vimi_response

    site_idx = np.asarray(site_idx)
    atm = truth.atmospheres[site_idx]
    t_air = np.asarray(atm.temperature)[:, 0]
    terms_bm = bm(atm, jnp.zeros(len(site_idx), dtype=jnp.asarray(atm.temperature).dtype))
    e_bm = emissivity_library(truth, site_cols, np.asarray(bm.wavenumber))
    e_tr = np.asarray(truth.emissivity)[list(site_cols)]
    srf_bm, srf_tr = vimi_response(np.asarray(bm.wavenumber)), vimi_response(np.asarray(truth.wavenumber))
    terms_tr = truth_terms(truth, site_idx)
    diffs = []
    for k in range(len(site_cols)):
        for dt in (-5.0, 0.0, 10.0):
            ts = t_air + dt
            a = np.asarray(toa_brightness_temperature(terms_bm, e_bm[k], ts, srf_bm))
            b = np.asarray(toa_brightness_temperature(terms_tr, e_tr[k], ts, srf_tr))
            diffs.append(a - b)
    d = np.concatenate(diffs)
    return {"rmse_k": dict(zip(BANDS, np.sqrt(np.mean(d ** 2, 0)).round(4).tolist())),
            "bias_k": dict(zip(BANDS, d.mean(0).round(4).tolist())), "n": int(len(d)),
            "setup": "40 site atmospheres x site emissivity spectra x Ts = T_air + {-5, 0, +10} K, nadir"}


def shift_sensitivity(truth, site_idx, site_cols, shift_um: float = 0.05) -> dict:
    """Band-BT change (K) for ±``shift_um`` shifts of every band centre, on the truth spectra of the site
    atmospheres (site emissivities, Ts = T_air + 5 K): mean and largest absolute change per band."""
    from leafjax.physics.thermal import band_shift_sensitivity

    site_idx = np.asarray(site_idx)
    t_air = np.asarray(truth.atmospheres[site_idx].temperature)[:, 0]
    terms = truth_terms(truth, site_idx)
    out = {}
    for sign in ("minus", "plus"):
        d = np.concatenate([np.asarray(getattr(band_shift_sensitivity(terms, np.asarray(truth.emissivity)[c],
                                                                      t_air + 5.0, shift_um=shift_um), sign))
                            for c in site_cols])
        out[sign] = {"mean_k": dict(zip(BANDS, d.mean(0).round(4).tolist())),
                     "max_abs_k": dict(zip(BANDS, np.abs(d).max(0).round(4).tolist()))}
    out["shift_um"] = shift_um
    return out


def retrieval_atmospheres(truth, table):
    """The retrieval-side atmospheres of the observations: the truth profile with its temperature offset by
    ``t_offset`` and its water vapour scaled to the retrieval-side ``wvc`` (reanalysis-like)."""
    from leafjax.physics.thermal import atmosphere

    atm = truth.atmospheres[np.asarray(table["atm"])]
    scale = (np.asarray(table["wvc"], float) / np.asarray(table["wvc_true"], float))[:, None]
    t = np.asarray(atm.temperature) + np.asarray(table["t_offset"], float)[:, None]
    return atmosphere(np.asarray(atm.pressure), t, np.asarray(atm.h2o) * scale, np.asarray(atm.o3),
                      trace=getattr(atm, "trace", None) or None)
