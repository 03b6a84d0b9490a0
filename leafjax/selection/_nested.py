"""Nested leave-one-dataset-out evaluation of method selection: accuracy of the recommendation and regret.

The held-out unit is the group column of the task (``dataset`` by default; ``site`` or ``parcel`` work alike).
For each held-out dataset ``D`` the recommender is fitted on performances measured *without D's labels*
(``inner_performance(D)``: an evaluation run on the other datasets only, so D's labels neither trained a model
nor scored one) and on meta-features (computed without labels); it then recommends a method for ``D``, which is
scored against ``D``'s outer LODO performances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..evaluation._protocol import run_evaluation
from ..evaluation._summary import summarise
from ..methods._task import Task, as_task
from ._recommend import NearestNeighbourRecommender

if TYPE_CHECKING:
    from ..data._abstract import AbstractDataset


def performance_table(summary: pd.DataFrame, trait: str, k: int, metric: str = "rmse",
                      methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Dataset × method table of ``metric`` (from :func:`~leafjax.evaluation.summarise`) for ``trait`` and
    ``k`` (index: held-out dataset)."""
    s = summary[(summary["trait"] == trait) & (summary["k"] == k)]
    if methods is not None:
        s = s[s["method"].isin(list(methods))]
    return s.pivot_table(index="held_out", columns="method", values=metric, aggfunc="mean").rename_axis(
        index="dataset", columns=None)


def nested_lodo_selection(features: pd.DataFrame, performance: pd.DataFrame,
                          inner_performance: Callable[[str], pd.DataFrame], *,
                          recommender: Any = NearestNeighbourRecommender()) -> pd.DataFrame:
    """Nested LODO evaluation of ``recommender``.

    **Arguments:**
    - ``features``: meta-features, index = dataset (:func:`~leafjax.selection.dataset_meta_features`).
    - ``performance``: outer LODO performances (dataset × method, lower is better); only used to *score*
      the recommendation for the held-out dataset.
    - ``inner_performance(held_out)``: dataset × method performances obtained without ``held_out``'s labels
      (raises ``ValueError`` if the table it returns includes ``held_out``).

    **Returns:** one row per held-out dataset: ``recommended``, ``best``, ``correct``, ``rmse_recommended``,
    ``rmse_best``, ``regret`` (= ``rmse_recommended − rmse_best``, in the metric's unit) and
    ``relative_regret`` (``rmse_recommended / rmse_best − 1``).
    """
    rows = []
    for held_out in performance.index:
        if held_out not in features.index:
            continue
        inner = inner_performance(held_out)
        if held_out in inner.index:
            raise ValueError(f"the inner performance table contains the held-out dataset {held_out!r}")
        inner = inner.reindex(columns=performance.columns)
        if inner.dropna(how="all").empty:
            continue
        fitted = recommender.fit(features.drop(index=held_out), inner.dropna(how="all"))
        rec = recommender.recommend(fitted, features.loc[held_out])
        outer = performance.loc[held_out].astype(float)
        best = str(outer.idxmin())
        r_rec, r_best = float(outer[rec]), float(outer[best])
        rows.append({"held_out": held_out, "recommended": rec, "best": best, "correct": rec == best,
                     "rmse_recommended": r_rec, "rmse_best": r_best, "regret": r_rec - r_best,
                     "relative_regret": r_rec / r_best - 1.0})
    return pd.DataFrame(rows)


def selection_summary(result: pd.DataFrame) -> dict[str, float]:
    """Accuracy (fraction correct), mean and median regret and median relative regret of a
    :func:`nested_lodo_selection` result."""
    if result.empty:
        return {"n": 0, "accuracy": np.nan, "mean_regret": np.nan, "median_regret": np.nan,
                "median_relative_regret": np.nan}
    return {"n": len(result), "accuracy": float(result["correct"].mean()),
            "mean_regret": float(result["regret"].mean()), "median_regret": float(result["regret"].median()),
            "median_relative_regret": float(result["relative_regret"].median())}


def inner_performance_by_evaluation(ds: AbstractDataset, methods, trait: Task | str, *, k: int = 0,
                                    metric: str = "rmse", **run_kwargs) -> Callable[[str], pd.DataFrame]:
    """An ``inner_performance`` for :func:`nested_lodo_selection` that runs
    :func:`~leafjax.evaluation.run_evaluation` on ``ds`` *without* the held-out group (its rows removed before
    anything is fitted) and tabulates ``metric`` at ``k``.  ``trait``: a target name (groups: ``dataset``) or a
    single-target :class:`~leafjax.methods.Task` (groups: its ``group_column``).  Costs one evaluation per
    held-out group."""
    task = as_task(trait, ds)
    name = task.target
    groups = np.asarray(ds.groups(task.group_column))

    def inner(held_out: str) -> pd.DataFrame:
        rest = ds.subset(groups != held_out)
        ks = [k] if k > 0 else []
        preds = run_evaluation(rest, methods, [task], ks=ks, lodo=k == 0, **run_kwargs)
        return performance_table(summarise(preds, n_boot=0), name, k, metric)

    return inner


def leave_out_rows(performance: pd.DataFrame) -> Callable[[str], pd.DataFrame]:
    """A cheap, *not nested* ``inner_performance``: the outer table without the held-out dataset's row.  The
    remaining rows came from models whose training may have included the held-out dataset's labels (as
    source data), so use it only for a quick look; :func:`inner_performance_by_evaluation` is the nested one."""
    return lambda held_out: performance.drop(index=held_out, errors="ignore")
