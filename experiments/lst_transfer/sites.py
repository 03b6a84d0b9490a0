"""Eighteen SYNTHETIC field sites in two regions, observed through the LBLRTM truth (no inverse crime).

Construction rule (fixed, documented in ``docs/lst_transfer.md``):

* **Atmospheres.** Only the 40 *site* atmospheres of the truth file (``split_truth``: never the calibration
  atmospheres that fitted the band model, and their TIGR rows are not in the pre-training pool).  Sorted by column
  water vapour (WVC), region **A** ("temperate/dry", 3 sites) takes every other atmosphere among the 24 driest
  (12 atmospheres); region **B** ("dry to humid", 15 sites) takes the other 28, which span the whole WVC range.
  The regions share no atmosphere.  Each site's climate is a window of consecutive (by WVC) atmospheres of its
  region: 4 per site in A (disjoint windows, driest site first), 6 per site in B (overlapping windows with
  centres spread evenly over the region's range).
* **Surfaces.** Each site has one fixed emissivity spectrum from the 7 *site* spectra (``split_emissivities``):
  A's sites take spectra 0, 1, 2; B's sites cycle through all 7.
* **Observations.** 40–80 per site (drawn once).  Each draws an atmosphere from its site's window, an LST =
  T_air + a daytime offset (site mean offset drawn once, uniform 0–8 K; 3 K scatter per observation) and a view
  angle within the VIMI swath (0–5°).  The truth is nadir only, so top-of-atmosphere brightness temperatures are
  computed at nadir from the LBLRTM terms (the angle is carried as a feature; a ≤ 5° slant path changes the path
  by < 0.4 %).
* **Errors** (:mod:`experiments.lst_transfer.error_budget`, drawn per seed): sensor noise and per-band
  calibration bias on the brightness temperatures; retrieval-side emissivities and WVC; the in-situ label.

The site *states* (atmosphere, LST, angle) are drawn once (``layout_seed``); the errors are drawn per seed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from . import error_budget as eb

BANDS = ("b1", "b2", "b3", "b4")
#: Region A takes every other atmosphere among this many driest site atmospheres (by WVC).
REGION_A_DRY_POOL: int = 24
#: Atmospheres per site window (region A, region B).
WINDOW: dict[str, int] = {"A": 4, "B": 6}
#: Site mean daytime LST − T_air offset range (K, uniform, drawn once per site) and per-observation scatter (K).
SITE_OFFSET_RANGE_K: tuple[float, float] = (0.0, 8.0)
OBS_OFFSET_SIGMA_K: float = 3.0


@dataclasses.dataclass(frozen=True)
class Site:
    """One synthetic site: ``name``, ``region``, ``atmospheres`` (indices into the truth file), ``emissivity_id``
    (index into the site emissivity spectra), ``offset_k`` (mean LST − T_air, K), ``n_obs``."""

    name: str
    region: str
    atmospheres: tuple[int, ...]
    emissivity_id: int
    offset_k: float
    n_obs: int


def region_atmospheres(site_idx, wvc) -> dict[str, np.ndarray]:
    """Truth indices of each region's atmospheres, sorted by WVC (the rule in the module docstring)."""
    site_idx = np.asarray(site_idx)
    order = site_idx[np.argsort(np.asarray(wvc)[site_idx], kind="stable")]
    a_ranks = np.arange(1, REGION_A_DRY_POOL, 2)
    b_ranks = np.setdiff1d(np.arange(len(order)), a_ranks)
    return {"A": order[a_ranks], "B": order[b_ranks]}


def make_sites(site_idx, wvc, n_emissivities: int, *, obs_per_site=(40, 80), layout_seed: int = 0) -> list[Site]:
    """The 18 sites (3 in A, 15 in B) from the site atmospheres ``site_idx`` (truth indices), their ``wvc``
    (g cm⁻², indexed by truth index) and the number of site emissivity spectra."""
    if n_emissivities < 3:
        raise ValueError(f"need at least 3 site emissivity spectra, got {n_emissivities}")
    rng = np.random.default_rng(layout_seed)
    regions = region_atmospheres(site_idx, wvc)
    sites = []
    for region, n_sites in (("A", 3), ("B", 15)):
        pool, w = regions[region], WINDOW[region]
        if region == "A":
            starts = [k * w for k in range(n_sites)]
        else:
            starts = np.round(np.linspace(0, len(pool) - w, n_sites)).astype(int).tolist()
        for k, s in enumerate(starts):
            emis = k if region == "A" else k % n_emissivities
            sites.append(Site(f"{region}{k + 1:02d}", region, tuple(int(i) for i in pool[s:s + w]), emis,
                              float(rng.uniform(*SITE_OFFSET_RANGE_K)),
                              int(rng.integers(obs_per_site[0], obs_per_site[1] + 1))))
    return sites


def site_states(sites: list[Site], t_air, wvc, *, layout_seed: int = 0) -> pd.DataFrame:
    """True states of every observation: ``site, region, atm, emissivity_id, t_air, lst, wvc_true, vza``."""
    rng = np.random.default_rng(layout_seed + 1)
    rows = []
    for s in sites:
        atm = rng.choice(np.asarray(s.atmospheres), size=s.n_obs)
        lst = np.asarray(t_air)[atm] + s.offset_k + rng.normal(0.0, OBS_OFFSET_SIGMA_K, s.n_obs)
        vza = rng.uniform(*eb.SITE_VZA_DEG, s.n_obs)
        rows.append(pd.DataFrame({"site": s.name, "region": s.region, "atm": atm, "emissivity_id": s.emissivity_id,
                                  "t_air": np.asarray(t_air)[atm], "lst": lst, "wvc_true": np.asarray(wvc)[atm],
                                  "vza": vza}))
    return pd.concat(rows, ignore_index=True)


def apply_errors(states: pd.DataFrame, bt_true: np.ndarray, band_emissivity: np.ndarray, seed: int) -> pd.DataFrame:
    """The observed table of one seed: the error budget applied to the truth observations.

    ``bt_true (n, 4)``: truth TOA brightness temperatures (K); ``band_emissivity (m, 4)``: true band emissivities
    of the site spectra.  Returns ``states`` plus ``bt_b*`` (noisy, biased), ``emissivity_b*`` (retrieval side),
    ``emissivity_true_b*``, ``wvc`` (retrieval side), ``lst_insitu`` (the label), ``t_offset`` (the retrieval-side
    temperature-profile offset, K) and the draws of the calibration bias (``attrs["calibration_bias_k"]``)."""
    rng = np.random.default_rng(10_000 + seed)
    n = len(states)
    site_names = sorted(states["site"].unique())
    site_of = states["site"].map({s: i for i, s in enumerate(site_names)}).to_numpy()
    n_sites = len(site_names)
    cal = rng.normal(0.0, eb.CALIBRATION_BIAS_K, 4)
    bt = bt_true + cal + rng.normal(0.0, eb.NEDT_K, (n, 4))
    rho = eb.EMISSIVITY_BIAS_BAND_CORRELATION
    common = rng.normal(size=(n_sites, 1))
    own = rng.normal(size=(n_sites, 4))
    e_bias = eb.EMISSIVITY_SITE_BIAS * (np.sqrt(rho) * common + np.sqrt(1.0 - rho) * own)
    e_true = band_emissivity[states["emissivity_id"].to_numpy()]
    e_ret = np.clip(e_true + e_bias[site_of] + rng.normal(0.0, eb.EMISSIVITY_OBS_SIGMA, (n, 4)), 0.5, 1.0)
    w_site = rng.normal(0.0, eb.WVC_SITE_RELATIVE_SIGMA, n_sites)
    w_ret = states["wvc_true"].to_numpy() * np.clip(1.0 + w_site[site_of]
                                                    + rng.normal(0.0, eb.WVC_OBS_RELATIVE_SIGMA, n), 0.3, None)
    l_site = rng.normal(0.0, eb.INSITU_SITE_BIAS_K, n_sites)
    label = states["lst"].to_numpy() + l_site[site_of] + rng.normal(0.0, eb.INSITU_OBS_SIGMA_K, n)
    t_off = rng.normal(0.0, eb.ATMOSPHERE_T_OFFSET_K, n)
    out = states.copy()
    for k, b in enumerate(BANDS):
        out[f"bt_{b}"] = bt[:, k]
        out[f"bt_true_{b}"] = bt_true[:, k]
        out[f"emissivity_{b}"] = e_ret[:, k]
        out[f"emissivity_true_{b}"] = e_true[:, k]
    out["wvc"] = w_ret
    out["lst_insitu"] = label
    out["t_offset"] = t_off
    out.attrs["calibration_bias_k"] = cal.tolist()
    return out


def describe(sites: list[Site], states: pd.DataFrame) -> list[dict]:
    """Per-site summary (for ``results.json``): region, observations, WVC and T_air ranges, emissivity id."""
    out = []
    for s in sites:
        g = states[states["site"] == s.name]
        out.append({"site": s.name, "region": s.region, "n_obs": int(len(g)), "emissivity_id": s.emissivity_id,
                    "offset_k": round(s.offset_k, 2), "atmospheres": list(s.atmospheres),
                    "wvc_range": [round(float(g["wvc_true"].min()), 2), round(float(g["wvc_true"].max()), 2)],
                    "t_air_range": [round(float(g["t_air"].min()), 1), round(float(g["t_air"].max()), 1)]})
    return out
