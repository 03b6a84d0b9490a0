"""Synthetic canopy scenes for the leaf + soil retrieval experiment: one leaf type and one soil, many pixels of
known, differing structure and geometry."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from leafjax.physics.canopy import CanopyParams, sail
from leafjax.physics.soil import DryWetSoil, DryWetSoilParams
from leafjax.spectral import GaussianNoise
from leafjax.physics import ProspectD, ProspectDParams

#: True leaf (PROSPECT-D, canonical units) and soil (PROSAIL dry/wet mixture) of the synthetic scene.
TRUE_LEAF = dict(n_struct=1.6, chl=45.0, car=9.0, ant=1.0, brown=0.05, ewt=0.013, lma=0.0065)
TRUE_SOIL = dict(soil_brightness=0.9, soil_dryness=0.7)
#: Uniform ranges of the per-pixel structure and geometry (lai m²/m², angles degrees).
PIXEL_RANGES = {"lai": (0.3, 5.0), "lidf_a": (25.0, 75.0), "hotspot": (0.05, 0.3), "sza": (20.0, 60.0),
                "vza": (0.0, 40.0), "raa": (0.0, 180.0)}


def synthetic_scene(key, n_pixels: int, wavelengths, *, rel_noise: float = 0.0, dtype=jnp.float64):
    """Return ``(canopy, observed (pix, wl), truth={'leaf_r','leaf_t','soil'})`` with ``rel_noise`` relative
    Gaussian noise (e.g. 0.02 = 2 %) on the bidirectional reflectance factor."""
    k_pix, k_noise = jax.random.split(key)
    wl = np.asarray(wavelengths)
    u = jax.random.uniform(k_pix, (len(PIXEL_RANGES), n_pixels), dtype=dtype)
    cols = {n: lo + (hi - lo) * u[i] for i, (n, (lo, hi)) in enumerate(PIXEL_RANGES.items())}
    canopy = CanopyParams(**cols)
    leaf = ProspectD(wl, dtype=dtype)(ProspectDParams(**TRUE_LEAF))
    soil = DryWetSoil(wl, dtype=dtype)(DryWetSoilParams(**TRUE_SOIL))
    clean = sail(leaf.reflectance[None], leaf.transmittance[None], soil[None], canopy).rsot
    observed = GaussianNoise(multiplicative=rel_noise)(k_noise, clean) if rel_noise > 0 else clean
    truth = {"leaf_r": leaf.reflectance, "leaf_t": leaf.transmittance, "soil": soil}
    return canopy, observed, truth
