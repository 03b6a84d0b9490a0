"""LBLRTM-truth land-surface-temperature samples for the split-window and physical-inversion tests."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from leafjax.physics.thermal._bands import vimi_response
from leafjax.physics.thermal._toa import AtmosphericTerms, toa_brightness_temperature


def truth_samples(folder, offsets=(-5.0, 0.0, 5.0, 10.0)):
    """Site atmospheres × site emissivities × T_air + offsets, nadir, through the LBLRTM truth terms (1 cm⁻¹)."""
    data = pytest.importorskip("leafjax.data")
    if not hasattr(data, "load_lwir_truth"):
        pytest.skip("the thermal readers (leafjax.data.load_lwir_truth) are not available")
    from leafjax.simulation._lst_pool import split_emissivities

    truth = data.load_lwir_truth(folder)
    _, site = data.split_truth(truth)
    _, site_cols = split_emissivities(truth)
    a, e, o = (x.ravel() for x in np.meshgrid(np.asarray(site), np.asarray(site_cols), np.asarray(offsets),
                                              indexing="ij"))
    nu = np.asarray(truth.wavenumber)
    terms = AtmosphericTerms(jnp.asarray(nu), jnp.asarray(np.asarray(truth.transmittance)[a]),
                             jnp.asarray(np.asarray(truth.path_radiance)[a]), jnp.asarray(np.asarray(truth.downwelling)[a]))
    srf = vimi_response(nu)
    ts = np.asarray(truth.atmospheres.temperature)[a, 0] + o
    emis = np.asarray(truth.emissivity)[e]
    bt = np.asarray(toa_brightness_temperature(terms, jnp.asarray(emis), jnp.asarray(ts), srf))
    return dict(truth=truth, atm=a, terms=terms, lst=ts, bt=bt, eps=emis @ np.asarray(srf.weights).T)
