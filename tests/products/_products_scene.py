"""Band simulation of the products tests (imported by ``conftest.py`` and the test modules)."""

from __future__ import annotations

import numpy as np


def simulate(model, srf, cols, sky=True):
    """Band reflectance ``(n, band)`` of a PROSAIL table under direct + diffuse light (no noise)."""
    from leafjax.physics.sky import SkyIllumination
    from leafjax.simulation import iter_prosail

    extra = {"sky": SkyIllumination(aot550=0.1)} if sky else {}
    return np.concatenate([r["rsot"] for _, r in iter_prosail(model, cols, srf=srf, **extra)]).astype(np.float64)
