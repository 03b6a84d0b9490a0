"""Recommend the best method for a dataset from its meta-features: nearest neighbours among datasets whose
method performances are known."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class NearestNeighbourRecommender:
    r"""k-nearest-neighbour recommender over standardised meta-features.

    ``fit(features, performance)``: ``features`` is a DataFrame indexed by dataset (numeric columns);
    ``performance`` a DataFrame indexed by dataset with one column per method (e.g. RMSE; lower is better;
    NaN = not evaluated).  Each dataset's performances are made relative to its best method
    (:math:`\mathrm{RMSE}_{d,j} / \min_j \mathrm{RMSE}_{d,j}`) so datasets in different units compare.

    ``recommend(fitted, features_row)``: the method with the lowest inverse-distance-weighted mean relative
    RMSE over the ``n_neighbours`` nearest datasets (ties: first in column order).  Features missing for the
    query or constant in the training datasets are ignored.
    """

    n_neighbours: int = 3

    def fit(self, features: pd.DataFrame, performance: pd.DataFrame) -> dict[str, Any]:
        common = [d for d in performance.index if d in features.index]
        if not common:
            raise ValueError("no dataset has both meta-features and performances")
        f = features.loc[common].astype(float)
        perf = performance.loc[common].astype(float)
        rel = perf.div(perf.min(axis=1), axis=0)
        mu, sd = f.mean(), f.std(ddof=0)
        return {"features": f, "relative": rel, "mu": mu, "sd": sd, "methods": list(perf.columns)}

    def recommend(self, fitted: dict[str, Any], features_row: pd.Series) -> str:
        f, rel, mu, sd = fitted["features"], fitted["relative"], fitted["mu"], fitted["sd"]
        q = features_row.reindex(f.columns).astype(float)
        use = q.notna() & (sd > 0) & f.notna().all()
        if use.any():
            z = (f.loc[:, use] - mu[use]) / sd[use]
            zq = (q[use] - mu[use]) / sd[use]
            dist = np.sqrt(((z - zq) ** 2).sum(axis=1)).to_numpy()
        else:
            dist = np.zeros(len(f))
        order = np.argsort(dist, kind="stable")[: max(1, self.n_neighbours)]
        w = 1.0 / (dist[order] + 1e-6)
        r = rel.iloc[order].to_numpy()
        ok = np.isfinite(r)
        score = np.where(ok.any(0), (np.where(ok, r, 0.0) * w[:, None]).sum(0) / np.maximum((ok * w[:, None]).sum(0),
                                                                                             1e-12), np.inf)
        return fitted["methods"][int(np.argmin(score))]
