"""Tree-ensemble regressors (Random Forest, LightGBM) with a tree analogue of fine-tuning.

Optional extras: scikit-learn and LightGBM (``pip install 'leafjax[lst]'``), imported only when a model is
built.  Three stages, as for the networks of :mod:`leafjax.transfer`:

- :func:`fit_tree` on simulated rows (pre-training) or on the source-region rows (direct training);
- :func:`finetune_tree` on the source-region rows: the tree analogue of fine-tuning, which keeps every tree
  fitted on the simulation and *adds* trees fitted on the new rows:

  - Random Forest: ``warm_start`` — ``n_extra`` new trees grown on bootstrap samples of the source rows; the
    forest predicts the mean of all trees, so the source rows weigh ``n_extra / (n_trees + n_extra)``;
  - LightGBM: continued boosting (``init_model``) — ``n_extra`` rounds fitted to the residuals of the
    pre-trained booster on the source rows, a correction added to its predictions;
- :meth:`TreeModel.predict`.

Both are seeded and use at most ``n_jobs = 2`` threads by default (LightGBM one thread below
:data:`LIGHTGBM_SINGLE_THREAD_ROWS` rows); LightGBM is run with ``deterministic``
and row-wise histograms, so equal seeds give equal models (a forest's predictions may differ in the last bit:
scikit-learn sums the trees on several threads in any order).

References: Breiman (2001) "Random forests", Machine Learning 45:5; Ke et al. (2017) "LightGBM: a highly
efficient gradient boosting decision tree", NeurIPS; Heidarian et al. (2025) Remote Sensing 17:3803 (RF and
LightGBM for LST).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

#: Tree-model kinds understood by :func:`fit_tree`.
TREE_MODELS: tuple[str, ...] = ("rf", "lightgbm")
#: Default thread count (the project's CI and experiments run on 2 CPU cores).
TREE_N_JOBS: int = 2
#: LightGBM fits on fewer rows than this run on one thread whatever ``n_jobs`` says: OpenMP's synchronisation
#: costs more than the threads save on small fits, and on a loaded machine its spin-waits stretched 0.2-second fits
#: of 150-4,000 rows to 20-30 s (2-core CPU).
LIGHTGBM_SINGLE_THREAD_ROWS: int = 20_000
#: Random-forest defaults (scikit-learn ``RandomForestRegressor`` arguments); ``max_samples`` bootstraps half
#: the rows per tree and ``min_samples_leaf = 5`` bounds tree size on 10⁵ rows.
RF_DEFAULTS: dict[str, Any] = {"n_estimators": 100, "min_samples_leaf": 5, "max_features": 1.0, "max_samples": 0.5}
#: LightGBM defaults (``LGBMRegressor`` arguments).
LIGHTGBM_DEFAULTS: dict[str, Any] = {"n_estimators": 400, "learning_rate": 0.05, "num_leaves": 31,
                                     "min_child_samples": 20, "subsample": 0.8, "subsample_freq": 1,
                                     "colsample_bytree": 1.0}
#: Trees added by :func:`finetune_tree` (RF: trees; LightGBM: boosting rounds).
FINETUNE_TREES: dict[str, int] = {"rf": 50, "lightgbm": 100}
#: LightGBM learning rate of the continued boosting (smaller than pre-training: a correction, not a refit).
LIGHTGBM_FINETUNE_LEARNING_RATE: float = 0.02
_EXTRA = "pip install 'leafjax[lst]'"


def _random_forest_class():
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        raise ImportError(f"random forests need scikit-learn (optional extra lst): {_EXTRA}") from None
    return RandomForestRegressor


def _lightgbm_class():
    try:
        from lightgbm import LGBMRegressor
    except ImportError:
        raise ImportError(f"LightGBM models need lightgbm (optional extra lst): {_EXTRA}") from None
    return LGBMRegressor


def _xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"need X (n, k) and y (n,) with the same n, got {x.shape} and {y.shape}")
    if len(x) < 2:
        raise ValueError("tree models need at least 2 rows")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("tree-model inputs contain NaN/inf")
    return x, y


@dataclasses.dataclass(frozen=True)
class TreeModel:
    """A fitted tree ensemble: ``kind`` (``"rf"`` or ``"lightgbm"``), the fitted scikit-learn-style
    ``estimator``, ``n_features``, ``seed`` and ``stages`` (trees per training stage, e.g. ``(100, 50)`` after
    one fine-tuning)."""

    kind: str
    estimator: Any
    n_features: int
    seed: int
    stages: tuple[int, ...]

    @property
    def n_trees(self) -> int:
        """Trees (RF) or boosting rounds (LightGBM) in the ensemble."""
        return int(sum(self.stages))

    def predict(self, x) -> np.ndarray:
        """Predictions ``(n,)`` float64 for features ``x (n, k)`` (the units of the training targets)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"features have shape {x.shape}, expected (n, {self.n_features})")
        if not np.all(np.isfinite(x)):
            raise ValueError("tree-model features contain NaN/inf")
        return np.asarray(self.estimator.predict(x), dtype=np.float64)


def fit_tree(kind: str, x, y, *, seed: int = 0, n_jobs: int = TREE_N_JOBS, **params) -> TreeModel:
    """Fit a Random Forest (``kind="rf"``) or LightGBM (``"lightgbm"``) regressor from scratch.

    **Arguments:** ``x (n, k)`` features and ``y (n,)`` (or ``(n, 1)``) targets, finite; ``seed`` (bootstrap,
    feature and row subsampling); ``n_jobs`` threads; ``params``: estimator arguments over
    :data:`RF_DEFAULTS` / :data:`LIGHTGBM_DEFAULTS` (e.g. ``n_estimators``).

    **Returns:** a :class:`TreeModel`.  Used for pre-training on simulations and for direct training on the
    source region.  Raises ``ImportError`` naming the ``lst`` extra when the library is missing.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((200, 3)); y = 2.0 * x[:, 0]
        >>> model = fit_tree("rf", x, y, n_estimators=10)
        >>> model.predict(x).shape, model.n_trees
        ((200,), 10)
    """
    x, y = _xy(x, y)
    if kind == "rf":
        est = _random_forest_class()(**{**RF_DEFAULTS, **params, "random_state": int(seed), "n_jobs": int(n_jobs)})
        est.fit(x, y)
        n = est.n_estimators
    elif kind == "lightgbm":
        threads = 1 if len(x) < LIGHTGBM_SINGLE_THREAD_ROWS else int(n_jobs)
        est = _lightgbm_class()(**{**LIGHTGBM_DEFAULTS, **params, "random_state": int(seed), "n_jobs": threads,
                                   "deterministic": True, "force_row_wise": True, "verbose": -1})
        est.fit(x, y)
        n = est.booster_.current_iteration()
    else:
        raise ValueError(f"unknown tree model {kind!r}; known: {', '.join(TREE_MODELS)}")
    return TreeModel(kind, est, x.shape[1], int(seed), (int(n),))


def finetune_tree(model: TreeModel, x, y, *, n_extra: int | None = None, seed: int | None = None,
                  **params) -> TreeModel:
    """The tree analogue of fine-tuning: a copy of ``model`` with ``n_extra`` trees (default
    :data:`FINETUNE_TREES`) fitted on the new rows ``x (n, k)``, ``y (n,)``; the pre-trained trees are kept
    unchanged (``model`` is not modified).

    - ``"rf"``: scikit-learn ``warm_start``: ``n_extra`` more trees grown on the new rows (``max_samples``
      is capped so that every tree sees at least 2 rows); the forest averages all trees.
    - ``"lightgbm"``: continued boosting from the fitted booster (``init_model``): ``n_extra`` rounds on the
      residuals of the new rows, learning rate :data:`LIGHTGBM_FINETUNE_LEARNING_RATE` unless given in
      ``params`` (other ``params`` override the pre-training arguments too, e.g. ``min_child_samples`` for
      few rows).

    ``seed``: the new trees' seed (default: the model's seed + 1, so they differ from the pre-trained ones).
    """
    x, y = _xy(x, y)
    if x.shape[1] != model.n_features:
        raise ValueError(f"features have {x.shape[1]} columns, the model was fitted on {model.n_features}")
    n_extra = FINETUNE_TREES[model.kind] if n_extra is None else int(n_extra)
    if n_extra < 1:
        raise ValueError(f"n_extra must be >= 1, got {n_extra}")
    seed = model.seed + 1 if seed is None else int(seed)
    if model.kind == "rf":
        est = copy.deepcopy(model.estimator)
        frac = est.get_params()["max_samples"]
        if isinstance(frac, float) and frac * len(x) < 2:
            params = {"max_samples": None, **params}
        est.set_params(**params, warm_start=True, n_estimators=est.n_estimators + n_extra, random_state=seed)
        est.fit(x, y)
        return TreeModel("rf", est, model.n_features, model.seed, (*model.stages, n_extra))
    if model.kind == "lightgbm":
        args = {**model.estimator.get_params(), "learning_rate": LIGHTGBM_FINETUNE_LEARNING_RATE, **params,
                "n_estimators": n_extra, "random_state": seed}
        if len(x) < LIGHTGBM_SINGLE_THREAD_ROWS:
            args["n_jobs"] = 1
        est = _lightgbm_class()(**args)
        est.fit(x, y, init_model=model.estimator.booster_)
        return TreeModel("lightgbm", est, model.n_features, model.seed, (*model.stages, n_extra))
    raise ValueError(f"unknown tree model {model.kind!r}; known: {', '.join(TREE_MODELS)}")
