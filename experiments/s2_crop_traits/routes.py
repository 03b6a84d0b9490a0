"""The candidate retrieval routes of the study and their application to the validation rows.

Every candidate is a :mod:`leafjax.products` route over the same forward model (PROSPECT-D + 4SAIL under direct
sun and diffuse sky light, convolved to the sensor's bands); they differ in the route (look-up table, hybrid
network ensemble, per-pixel Levenberg–Marquardt) and in the prior knowledge they carry:

- ``atbd``: the generic prior of ESA's Sentinel-2 biophysical processor (Weiss & Baret 2016), no crop knowledge;
- ``crop``: the crop prior of Danner et al. (2021), the ranges the peer (Graf et al. 2023) used for winter wheat
  (their unconstrained variant); prior knowledge about the crop, none about its phenology;
- the LM route has no prior: bounds only (the registry's inversion preset).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data import TABLE_BANDS

#: name → (method, route options) at full size; ``quick`` sizes in :func:`candidates`.
CANDIDATES: dict[str, tuple[str, dict]] = {
    "lut-atbd": ("lut", {"prior": "atbd", "n": 50_000, "k": 100}),
    "lut-crop": ("lut", {"prior": "crop", "n": 50_000, "k": 100}),
    "hybrid-atbd": ("hybrid", {"prior": "atbd", "n": 50_000}),
    "hybrid-crop": ("hybrid", {"prior": "crop", "n": 50_000}),
    "lm": ("lm", {}),
}


def candidates(quick: bool = False) -> dict[str, object]:
    """The candidate routes (``quick``: small tables and networks, for a smoke run)."""
    from leafjax.products import get_route

    out = {}
    for name, (method, kw) in CANDIDATES.items():
        kw = dict(kw)
        if quick:
            if method == "lut":
                kw.update(n=4000, k=20)
            elif method == "hybrid":
                kw.update(n=4000, epochs=5, ensemble=2)
            else:
                kw.update(max_steps=20)
        out[name] = get_route(method, **kw)
    return out


def apply(route, rows: pd.DataFrame, products=("lai", "ccc"), seed: int = 0) -> pd.DataFrame:
    """Products of ``route`` for every row (grouped by sensor: one prepared state per sensor), in row order:
    columns ``<product>``, ``<product>_std``, ``rmse``, ``quality``."""
    import jax

    from leafjax.products import default_model, retrieve_products
    from leafjax.spectral import load_srf

    out = pd.DataFrame(index=rows.index, columns=[c for p in products for c in (p, f"{p}_std")] + ["rmse", "quality"],
                       dtype=float)
    wl = np.arange(400.0, 2401.0)
    for sensor, g in rows.groupby("sensor"):
        srf = load_srf(sensor, wl, bands=list(TABLE_BANDS))
        model = default_model(srf)
        key = jax.random.key(seed)
        state = route.prepare(srf, model, key)
        res = retrieve_products(g[list(TABLE_BANDS)].to_numpy(np.float64),
                                {k: g[k].to_numpy(np.float64) for k in ("sza", "vza", "raa")}, srf, route,
                                products=products, state=state)
        for p in products:
            out.loc[g.index, p] = res.values[p]
            out.loc[g.index, f"{p}_std"] = res.std[p]
        out.loc[g.index, "rmse"] = res.rmse
        out.loc[g.index, "quality"] = res.quality
    return out
