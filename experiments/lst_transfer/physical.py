"""The physics-only method of the SYNTHETIC experiment: per-observation LST + band-emissivity inversion by
Levenberg–Marquardt through the leafjax band model (:func:`leafjax.inversion.invert_lst`), given the
retrieval-side atmosphere (reanalysis-like: the truth profile with the budget's temperature offset and water-vapour
scaling) and the retrieval-side emissivities as the Gaussian prior.  No training data."""

from __future__ import annotations

import numpy as np

from leafjax.inversion import invert_lst

from . import error_budget as eb
from . import physics_stages as ps

#: Observations per inversion call (one compiled shape; the last chunk is padded).
CHUNK: int = 256


def invert_tables(bm, truth, tables, invert_max: int | None = None) -> tuple[np.ndarray, dict]:
    """LST (K) ``(M, n)`` of every observation of every seed's table (NaN where not inverted: with
    ``invert_max``, only an evenly spaced subset of that many rows), and a summary (failures, fit RMSE)."""
    import jax.numpy as jnp

    n = len(tables[0])
    rows = np.arange(n) if invert_max is None or invert_max >= n else np.linspace(0, n - 1, invert_max).astype(int)
    sigma_e = float(np.hypot(eb.EMISSIVITY_SITE_BIAS, eb.EMISSIVITY_OBS_SIGMA))
    nedt = float(np.hypot(eb.NEDT_K, eb.CALIBRATION_BIAS_K))
    out = np.full((len(tables), n), np.nan)
    fit_rmse, ok = [], []
    for i, t in enumerate(tables):
        for start in range(0, len(rows), CHUNK):
            r = rows[start:start + CHUNK]
            m = len(r)
            r = np.resize(r, CHUNK)  # pad the last chunk (one compiled shape), padding dropped below
            sub = t.iloc[r]
            atm = ps.retrieval_atmospheres(truth, sub)
            bt = np.stack([sub[f"bt_{b}"].to_numpy(float) for b in ps.BANDS], 1)
            prior = np.stack([sub[f"emissivity_{b}"].to_numpy(float) for b in ps.BANDS], 1)
            res = invert_lst(bm, atm, jnp.asarray(sub["vza"].to_numpy(float)), bt, prior, sigma_emissivity=sigma_e,
                             nedt=nedt)
            lst = np.asarray(res.estimates["lst"], float)[:m]
            out[i, r[:m]] = lst
            fit_rmse.append(np.asarray(res.rmse, float)[:m])
            ok.append(np.isfinite(lst))
    fit_rmse, ok = np.concatenate(fit_rmse), np.concatenate(ok)
    return out, {"n_inverted_per_seed": int(len(rows)), "nonfinite": int((~ok).sum()),
                 "median_bt_misfit_k": float(np.nanmedian(fit_rmse)), "sigma_emissivity_prior": sigma_e,
                 "nedt_assumed_k": nedt}
