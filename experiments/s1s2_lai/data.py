"""Simulated chip sets and network batches of the study, and the real sample's "t−1 task".

Batches are dicts of NumPy arrays with a leading chip axis: the networks' inputs
(:func:`~leafjax.preprocessing.s1s2_inputs`), the training target (the simulated S2 LAI *product* at t on its
valid pixels, LAI/5, as the challenge trains on the product) and, for scoring, ``truth`` (the true LAI(t)/5),
``prev_valid`` (the S2 product valid at t−1: the "clear at t−1" stratum), ``s2_doy`` (dates of t−2, t−1, t),
the raw product ``product`` (LAI, NaN where not valid) and the raw ``s1_db`` / ``incidence_deg`` for the
baselines.
"""

from __future__ import annotations

import jax
import numpy as np

from leafjax.data import VALID_SCL
from leafjax.preprocessing import LAI_SCALE, s1s2_inputs
from leafjax.products import HybridRoute, retrieve_products
from leafjax.simulation import PIXELS_PER_CALL, default_scene_optics, simulate_s1s2_scenes

#: Keys the networks read (the rest of a batch is for the loss and the scores).
INPUT_KEYS: tuple[str, ...] = ("s1", "lai", "lai_mask", "season")


def make_retrieval(cfg, optics, key):
    """The S2 LAI product's retrieval: the hybrid route (``cfg.route_n`` simulations, ``cfg.route_ensemble``
    networks) prepared once on the scene optics' PROSAIL and Sentinel-2 bands."""
    route = HybridRoute(n=cfg.route_n, ensemble=cfg.route_ensemble)
    state = route.prepare(optics.srf, optics.model, key)

    def retrieve(reflectance, geometry):
        return retrieve_products(reflectance, geometry, optics.srf, route, products=("lai",),
                                 state=state).values["lai"]

    return retrieve


def scenes_batch(scenes) -> dict[str, np.ndarray]:
    """The batch of simulated ``scenes`` (module docstring); the season is that of t−2 (the reference code's
    first date of the window)."""
    product = scenes.lai_product  # (n, 3, y, x), NaN where not valid
    valid = np.isfinite(product) & np.isin(scenes.scl, VALID_SCL)
    batch = s1s2_inputs(scenes.s1_db, product[:, :2], np.where(valid[:, :2], scenes.scl[:, :2], 0),
                        scenes.s2_doy[:, 0])
    batch["target"] = np.where(valid[:, 2], product[:, 2] / LAI_SCALE, 0.0).astype(np.float32)
    batch["target_mask"] = valid[:, 2]
    batch["truth"] = (scenes.lai[:, 2] / LAI_SCALE).astype(np.float32)
    batch["prev_valid"] = valid[:, 1]
    batch["product"] = np.where(valid, product, np.nan)
    batch["s2_doy"] = scenes.s2_doy.astype(np.float64)
    batch["s1_db"] = scenes.s1_db
    batch["incidence_deg"] = scenes.incidence_deg
    return batch


def simulate_sets(cfg, sizes: dict[str, int], region_config, coefficients, retrieve, optics, key
                  ) -> dict[str, dict[str, np.ndarray]]:
    """``{name: batch}`` of independent chip sets (``sizes[name]`` chips each, keys folded from ``key`` by the
    set's position): new parcels, crop draws, weather and dates in every set."""
    out = {}
    per_call = max(1, min(16, PIXELS_PER_CALL // (3 * region_config.size**2)))  # one compilation for every set
    for i, (name, n) in enumerate(sizes.items()):
        scenes = simulate_s1s2_scenes(jax.random.fold_in(key, i), n, region_config, retrieve=retrieve,
                                      optics=optics, radar_coefficients=coefficients, chips_per_call=per_call)
        out[name] = scenes_batch(scenes)
    return out


def previous_date_batch(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The "t−1 task" in the networks' layout, from a simulated batch: inputs S1 (t−2, t−2, t−1) and the product
    (t−2, t−2) with its masks — the history a t−1 prediction has, in the three-date/two-date slots of the
    networks — the season of t−2; target the product at t−1 on its valid pixels.  The same layout is built
    from the real chips (:func:`real_previous_date_tiles`)."""
    product = batch["product"]
    valid0, valid1 = np.isfinite(product[:, 0]), np.isfinite(product[:, 1])
    out = {"s1": batch["s1"][:, [0, 0, 1]], "lai": batch["lai"][:, [0, 0]], "lai_mask": batch["lai_mask"][:, [0, 0]],
           "season": batch["season"]}
    out["target"] = np.where(valid1, product[:, 1] / LAI_SCALE, 0.0).astype(np.float32)
    out["target_mask"] = valid1
    out["prev_valid"] = valid0
    out["product"] = np.stack([product[:, 0], product[:, 0], product[:, 1]], 1)
    return out


def _tiles(a: np.ndarray, size: int) -> np.ndarray:
    """``(..., H, W)`` -> ``(k, ..., size, size)`` non-overlapping tiles (H, W multiples of ``size``)."""
    h, w = a.shape[-2:]
    return np.stack([a[..., i:i + size, j:j + size] for i in range(0, h - size + 1, size)
                     for j in range(0, w - size + 1, size)])


def real_previous_date_tiles(chips, size: int) -> dict[str, dict[str, np.ndarray]]:
    """The real sample's t−1 task per scene from its chips (:func:`~leafjax.data.load_s1s2_sample`; those whose
    LAI files at t−2 and t−1 are intact: the chip with the corrupt file is left out), tiled into ``size`` ×
    ``size`` tiles: ``{scene: batch}`` in the layout of :func:`previous_date_batch`."""
    out = {}
    for chip in chips:
        if chip.lai_status[0] != "ok" or chip.lai_status[1] != "ok":
            continue
        if chip.shape[0] % size or chip.shape[1] % size:
            raise ValueError(f"chip {chip.name.chip} ({chip.shape}) does not tile into {size} x {size}")
        doy = (chip.name.date_from - chip.name.date_from.astype("datetime64[Y]")).astype(int) + 1
        scl = np.where(chip.valid[:2], chip.scl[:2], 0)
        one = s1s2_inputs(chip.s1[None], np.nan_to_num(chip.lai[None, :2]), scl[None], np.array([doy]))
        sim_like = {**one, "product": np.where(chip.valid, chip.lai, np.nan)[None]}
        t1 = previous_date_batch(sim_like)
        out[chip.scene] = {k: _tiles(v[0], size) for k, v in t1.items() if k != "season"}
        out[chip.scene]["season"] = np.repeat(t1["season"], len(out[chip.scene]["target"]), 0)
    return out


__all__ = ["INPUT_KEYS", "default_scene_optics", "make_retrieval", "previous_date_batch",
           "real_previous_date_tiles", "scenes_batch", "simulate_sets"]
