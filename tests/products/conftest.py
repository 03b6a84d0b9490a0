"""Shared small scene of the products tests: Sentinel-2A bands (20-nm float32 PROSAIL grid) of PROSAIL pixels
simulated under direct + diffuse sky light (``_products_scene.simulate``).  The routes invert the same model that
simulated the pixels (an inverse crime): these tests check the plumbing and loose accuracy, not real-world
skill."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from _products_scene import simulate

GRID = np.arange(400, 2401, 20)
#: Two acquisition geometries (sza, vza, raa), alternating over the pixels: two look-up tables.
GEOMETRIES = ((35.0, 5.0, 60.0), (45.0, 2.0, 120.0))


@pytest.fixture(scope="session")
def s2():
    from leafjax.products import default_model
    from leafjax.spectral import load_srf

    srf = load_srf("sentinel-2a", GRID)
    return srf, default_model(srf)


@pytest.fixture(scope="session")
def atbd_scene(s2):
    """24 pixels drawn from the ATBD prior at the two :data:`GEOMETRIES`: ``(bands, geometry, table)``."""
    from leafjax.simulation import atbd_prior, sample_prosail_table

    srf, model = s2
    n = 24
    cols = sample_prosail_table(atbd_prior(), n, jax.random.key(11), model)
    for i, name in enumerate(("sza", "vza", "raa")):
        cols[name] = np.array([GEOMETRIES[j % 2][i] for j in range(n)])
    geometry = {k: cols[k].copy() for k in ("sza", "vza", "raa")}
    return simulate(model, srf, cols), geometry, cols
