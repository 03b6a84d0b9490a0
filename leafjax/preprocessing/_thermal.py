"""Tabular features for land-surface-temperature (LST) retrieval from four thermal-infrared bands.

The features of the strategic fine-tuning study (Heidarian et al. 2025, Remote Sensing 17:3803) for the
GF5-02 VIMI thermal bands (8.20, 8.63, 10.80, 11.95 µm): the four brightness temperatures, the split-window
difference, the column water vapour, their product (the engineered feature that mattered most there), the
four band emissivities and a view-angle term.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: A table of named 1-D columns: a mapping of arrays, or a pandas DataFrame.
Columns = Mapping[str, Any] | pd.DataFrame

#: Column holding the retrieval target (land-surface temperature, K) in simulated and in-situ tables.
LST_TARGET: str = "lst"
#: Band names of the four thermal bands (GF5-02 VIMI b1..b4: 8.20, 8.63, 10.80, 11.95 µm).
LST_BANDS: tuple[str, ...] = ("b1", "b2", "b3", "b4")
#: The split-window pair (ΔBT = BT(b3) − BT(b4), the 10.80 µm minus the 11.95 µm band).
SPLIT_WINDOW_PAIR: tuple[str, str] = ("b3", "b4")
#: Brightness temperatures outside this range (K) are rejected as not physical for Earth scenes.
BT_RANGE_K: tuple[float, float] = (150.0, 400.0)
#: Largest accepted view zenith angle (degrees); sec(vza) diverges at 90°.
MAX_VZA_DEG: float = 85.0


def _column(columns: Columns, name: str) -> np.ndarray:
    a = np.asarray(columns[name], dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"column {name!r} must be 1-D (n,), got shape {a.shape}")
    return a


def lst_feature_names(*, interaction: bool = True, emissivity: bool = True, view: bool = True) -> tuple[str, ...]:
    """The names of :func:`lst_features`' columns, in order, for the given switches."""
    names = [f"bt_{b}" for b in LST_BANDS] + ["dbt", "wvc"]
    if interaction:
        names.append("wvc_dbt")
    if emissivity:
        names += [f"emissivity_{b}" for b in LST_BANDS]
    if view:
        names.append("sec_vza_m1")
    return tuple(names)


def lst_features(columns: Columns, *, interaction: bool = True, emissivity: bool = True,
                 view: bool = True) -> tuple[np.ndarray, tuple[str, ...]]:
    r"""The LST feature matrix from a table of band observations.

    **Arguments:**
    - ``columns``: a mapping (dict of arrays, pandas ``DataFrame``, …) with 1-D columns of one length ``n``:
      ``bt_b1`` … ``bt_b4`` (top-of-atmosphere brightness temperatures, K), ``wvc`` (column water vapour,
      g cm⁻²), and, when used, ``emissivity_b1`` … ``emissivity_b4`` (band emissivities, 0–1) and ``vza``
      (view zenith angle, degrees, 0 ≤ vza ≤ 85).
    - ``interaction``: include :math:`\mathrm{WVC} \cdot \Delta BT` (g cm⁻² K), the engineered feature of
      Heidarian et al. (2025).
    - ``emissivity``: include the four band emissivities.
    - ``view``: include the view term :math:`\sec(\mathrm{vza}) - 1` (0 at nadir): the relative excess of
      the slant atmospheric path over the vertical one, to which the atmospheric correction of split-window
      algorithms is, to first order, proportional (the path water vapour is :math:`\mathrm{WVC}\sec\theta`).

    **Returns:** ``(X, names)``: ``X (n, k)`` float64 with columns, in order, ``bt_b1..bt_b4`` (K), ``dbt`` =
    BT(b3) − BT(b4) (K), ``wvc`` (g cm⁻²), ``wvc_dbt`` (g cm⁻² K), ``emissivity_b1..b4``, ``sec_vza_m1``;
    ``k = 12`` with every switch on (:func:`lst_feature_names` gives the names for any switches).

    Raises a one-line ``ValueError`` naming missing columns, non-finite values, columns of unequal length or
    values out of range (brightness temperatures outside 150–400 K, negative WVC, emissivity outside (0, 1],
    vza outside [0, 85]°), before computing anything.

    Example:
        >>> X, names = lst_features({"bt_b1": [290.0], "bt_b2": [291.0], "bt_b3": [295.0], "bt_b4": [293.5],
        ...                          "wvc": [2.0], "emissivity_b1": [0.95], "emissivity_b2": [0.96],
        ...                          "emissivity_b3": [0.97], "emissivity_b4": [0.98], "vza": [60.0]})
        >>> X.shape, names[4:7], X[0, 4:7].tolist(), round(float(X[0, -1]), 6)
        ((1, 12), ('dbt', 'wvc', 'wvc_dbt'), [1.5, 2.0, 3.0], 1.0)

    Reference: Heidarian et al. (2025) "Strategic fine-tuning-based transfer learning for land surface
    temperature retrieval from GF5-02 VIMI", Remote Sensing 17:3803; Wan & Dozier (1996) for the
    split-window difference and its water-vapour and view-angle dependence.
    """
    bt_names = [f"bt_{b}" for b in LST_BANDS]
    emis_names = [f"emissivity_{b}" for b in LST_BANDS]
    needed = bt_names + ["wvc"] + (emis_names if emissivity else []) + (["vza"] if view else [])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ValueError(f"LST features need columns {', '.join(missing)} (missing)")
    data = {c: _column(columns, c) for c in needed}
    lengths = {len(a) for a in data.values()}
    if len(lengths) != 1:
        raise ValueError(f"LST feature columns have unequal lengths {sorted(lengths)}")
    bad = [c for c, a in data.items() if not np.all(np.isfinite(a))]
    if bad:
        raise ValueError(f"LST feature columns contain NaN/inf: {', '.join(bad)}")
    lo, hi = BT_RANGE_K
    out_bt = [c for c in bt_names if np.any((data[c] < lo) | (data[c] > hi))]
    if out_bt:
        raise ValueError(f"brightness temperatures outside {lo:g}-{hi:g} K (are they in K?): {', '.join(out_bt)}")
    if np.any(data["wvc"] < 0.0):
        raise ValueError("column water vapour wvc must be >= 0 g/cm2")
    out_e = [c for c in emis_names if c in data and np.any((data[c] <= 0.0) | (data[c] > 1.0))]
    if out_e:
        raise ValueError(f"emissivities must lie in (0, 1]: {', '.join(out_e)}")
    if view and np.any((data["vza"] < 0.0) | (data["vza"] > MAX_VZA_DEG)):
        raise ValueError(f"view zenith angle vza must lie in [0, {MAX_VZA_DEG:g}] degrees")

    bt = np.stack([data[c] for c in bt_names], axis=1)
    i, j = (LST_BANDS.index(b) for b in SPLIT_WINDOW_PAIR)
    dbt = bt[:, i] - bt[:, j]
    wvc = data["wvc"]
    cols = [bt, dbt[:, None], wvc[:, None]]
    if interaction:
        cols.append((wvc * dbt)[:, None])
    if emissivity:
        cols.append(np.stack([data[c] for c in emis_names], axis=1))
    if view:
        cols.append((1.0 / np.cos(np.deg2rad(data["vza"])) - 1.0)[:, None])
    x = np.concatenate(cols, axis=1)
    return x, lst_feature_names(interaction=interaction, emissivity=emissivity, view=view)
