"""Physical inversion as an evaluation method: PROSPECT-PRO fitted to each reflectance spectrum.

Uses no training data and no target sample: each test spectrum is inverted on its own (Féret et al. 2019,
2021: the 1700–2400 nm subdomain for water and dry matter, reflectance only, with a Gaussian prior on the leaf
structure parameter N because reflectance alone constrains it poorly).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..methods import AbstractTraitMethod

if TYPE_CHECKING:
    from ..data._dataset import SpectralDataset

#: Traits the PROSPECT-PRO inversion estimates (``lma`` = prot + cbc; ``nitrogen`` from prot / 4.43).
INVERSION_TRAITS: tuple[str, ...] = ("lma", "ewt", "nitrogen")


@dataclasses.dataclass(frozen=True, eq=False)
class ProspectInversion(AbstractTraitMethod):
    """PROSPECT-PRO inversion of reflectance in ``window`` (nm), free ``n_struct, ewt, prot, cbc`` (pigments
    fixed: they do not absorb there), prior ``n_prior = (mean, sd)`` on N.

    :meth:`predict_with_std` also returns the Laplace 1-σ uncertainty and the residual RMSE of each spectrum.
    ``cache`` (caller-owned dict) memoises inversions by sample id, so the three traits share one inversion.
    """

    name: str = "prospect_pro"
    window: tuple[float, float] = (1700.0, 2400.0)
    n_prior: tuple[float, float] = (1.5, 0.3)
    max_steps: int = 60
    cache: dict | None = dataclasses.field(default=None, repr=False)
    uses_train: ClassVar[bool] = False
    uses_target_sample: ClassVar[bool] = False

    def fit(self, train, trait, target_sample=None) -> str:
        if trait not in INVERSION_TRAITS:
            raise ValueError(f"{self.name} estimates {INVERSION_TRAITS}, not {trait!r}")
        return trait

    def _invert(self, test: SpectralDataset) -> dict[str, np.ndarray]:
        from ..inversion import invert, make_problem
        from ..physics import ProspectPro

        ids = test.meta["sample_id"].to_numpy().astype(str)
        wl = test.wavelengths
        keep = (wl >= self.window[0]) & (wl <= self.window[1]) & np.isfinite(test.reflectance).all(0)
        if keep.sum() < 5:
            raise ValueError(f"fewer than 5 finite bands in {self.window} nm")
        key = (tuple(wl[keep]),)
        cached = None if self.cache is None else self.cache.get(key)
        if cached is not None and all(i in cached["index"] for i in ids):
            pos = np.array([cached["index"][i] for i in ids])
            return {k: v[pos] for k, v in cached["values"].items()}
        model = ProspectPro(wavelengths=wl[keep])
        problem = make_problem(model, use_r=True, use_t=False, free=["n_struct", "ewt", "prot", "cbc"],
                               fixed={"chl": 40.0, "car": 10.0}, priors={"n_struct": tuple(self.n_prior)})
        res = invert(problem, test.reflectance[:, keep], max_steps=self.max_steps)
        out = {f"{t}": np.asarray(res.estimates[t], float) for t in INVERSION_TRAITS}
        out.update({f"{t}_std": np.asarray(res.std[t], float) for t in INVERSION_TRAITS})
        out["rmse"] = np.asarray(res.rmse, float)
        out["status"] = np.asarray(res.status, int)
        if self.cache is not None:
            entry = self.cache.setdefault(key, {"index": {}, "values": {k: np.zeros(0, v.dtype) for k, v in out.items()}})
            start = len(entry["index"])
            entry["index"].update({i: start + j for j, i in enumerate(ids)})
            entry["values"] = {k: np.concatenate([entry["values"][k], v]) for k, v in out.items()}
        return out

    def predict_with_std(self, trait: str, test: SpectralDataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(estimate, 1-σ, residual RMSE)`` per test spectrum."""
        out = self._invert(test)
        return out[trait], out[f"{trait}_std"], out["rmse"]

    def predict(self, fitted: str, test: SpectralDataset) -> np.ndarray:
        return self._invert(test)[fitted]
