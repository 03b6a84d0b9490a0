"""Plausibility checks of trait labels: which measured values are physically impossible or contradict the spectrum.

Pooling datasets must never let one dataset's bad labels degrade another's score, so every label is checked
before training and the failures are reported per dataset and excluded by default (:func:`exclude_implausible`
sets a failing trait cell to NaN; the spectrum stays usable for the other traits).  The rules, each a named
reason code (:data:`REASONS`):

- ``non_finite``: ±inf (NaN means "not measured" and is never flagged).
- ``negative``: below zero (contents, masses and concentrations cannot be negative).
- ``physical``: outside the registry's physical bounds (:func:`leafjax._parameters.spec`; caps well beyond any
  leaf, so a failure is a unit mistake or a corrupt value).
- ``range``: outside the plausibility range of measured leaves (:data:`MEASURED_LEAF_RANGES`, with sources).
- ``water_content``: a water-content metadata column (``LWC_percent``, % of fresh mass) outside 0–100 %; flags
  ``ewt`` of that row (the GSTI EWT is derived from it as lma·LWC/(1−LWC)).
- ``water_fraction``: the fresh-mass water fraction EWT/(EWT+LMA) outside :attr:`PlausibilityRules.water_fraction`
  (flags ``ewt``; rows whose LMA is itself flagged are not judged).
- ``spectral``: an outlier relative to the spectrum.  Within each dataset, log(trait) is regressed on the
  absorbance log10(1/R) of the bands known to carry it (:data:`SPECTRAL_REGIONS`) by ridge regression with
  exact leave-one-out residuals (a row never predicts itself), iteratively refitted without the rows flagged so
  far; a row is flagged when its residual exceeds ``spectral_k`` robust (MAD) standard deviations *and* the label
  is off its prediction by more than the factor ``spectral_min_ratio`` (conservative: few flags on clean data).

Example:
    >>> import numpy as np
    >>> from leafjax.data import SpectralDataset, label_plausibility
    >>> ds = SpectralDataset.from_arrays(np.array([1500.0, 2000.0]), np.full((3, 2), 0.3),
    ...                                  lma=[0.005, -0.002, np.nan], ewt=[0.012, 0.01, 0.15])
    >>> label_plausibility(ds).flags["lma"].tolist(), label_plausibility(ds).flags["ewt"].tolist()
    (['', 'negative', ''], ['', '', 'range'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import _parameters
from .._constants import TRAITS
from ._dataset import SpectralDataset

#: Reason codes and what they mean (the values of :attr:`LabelChecks.flags` are ';'-joined codes).
REASONS: dict[str, str] = {
    "non_finite": "value is ±inf",
    "negative": "value below zero",
    "physical": "outside the registry's physical bounds (unit mistake or corrupt value)",
    "range": "outside the plausibility range of measured leaves",
    "water_content": "water-content metadata column outside 0-100 % of fresh mass",
    "water_fraction": "fresh-mass water fraction EWT/(EWT+LMA) implausible",
    "spectral": "label contradicts the spectrum (robust leave-one-out regression within its dataset)",
}

#: Plausibility ranges of measured leaves, canonical units (:data:`leafjax.TRAITS`); traits not listed get the
#: registry's physical bounds only.  Sources and rationale:
#: - chl 0–150 µg/cm², car 0–40 µg/cm²: chl is the reference PROSPECT inversion bound (Féret et al., R package
#:   ``prospect``); ANGERS spans about 1–107 µg/cm² chl and 0–25 µg/cm² car (Féret et al. 2008, RSE 112:3030);
#:   car is widened to 1.6× the ANGERS maximum.
#: - ewt 1e-4–0.1 g/cm² (1–1000 g/m²): the upper bound is the reference PROSPECT inversion bound (1 mm of water,
#:   where the 1450/1940 nm bands saturate); ANGERS reaches about 0.034 g/cm² (Féret et al. 2008).
#: - lma 5e-4–0.06 g/cm² (5–600 g/m²): the upper bound is the reference PROSPECT inversion bound; ANGERS spans
#:   about 0.0017–0.033 g/cm², and the broad-leaf and needle spectra-trait collections (Féret et al. 2019, RSE
#:   231:110959; Serbin et al. 2019, New Phytol. 224:1557) stay below it.
#: - nitrogen 0.2–10 % of dry mass: the global leaf economics spectrum spans about 0.2–6.4 % (Wright et al. 2004,
#:   Nature 428:821); fertilised crops and tobacco in the shared data reach 8.6–9 % (``shared/data/README.md``:
#:   "high but possible"), so the cap is 10 %.
#: - nitrogen_area 0.05–15 g/m²: the reference inversion preset caps it at 15 g/m²; measured leaves span about
#:   0.1–10 g/m² (Wright et al. 2004).
MEASURED_LEAF_RANGES: dict[str, tuple[float, float]] = {
    "chl": (0.0, 150.0), "car": (0.0, 40.0), "ewt": (1e-4, 0.1), "lma": (5e-4, 0.06),
    "nitrogen": (0.2, 10.0), "nitrogen_area": (0.05, 15.0),
}

#: Wavelength regions (nm, inclusive) whose absorbance carries each trait, for the ``spectral`` rule: water bands
#: at 1200, 1450 and 1940 nm for EWT; the dry-matter region 1700–2400 nm, optimal for LMA and EWT from fresh
#: leaves (Féret et al. 2019, RSE 231:110959), widened to 1500 nm for LMA; protein/nitrogen features at 1510,
#: 1730, 2060, 2180 and 2300 nm (Féret et al. 2021, RSE 252:112173; Curran 1989, RSE 30:271); pigments in the
#: visible and red edge.
SPECTRAL_REGIONS: dict[str, tuple[float, float]] = {
    "ewt": (1100.0, 2400.0), "lma": (1500.0, 2400.0), "nitrogen": (1100.0, 2400.0),
    "nitrogen_area": (1100.0, 2400.0), "chl": (400.0, 800.0), "car": (400.0, 800.0),
}


@dataclasses.dataclass(frozen=True)
class PlausibilityRules:
    """Settings of :func:`label_plausibility`.

    **Fields:**
    - ``ranges``: ``{trait: (low, high)}`` plausibility ranges (canonical units); default :data:`MEASURED_LEAF_RANGES`.
    - ``water_fraction``: ``(low, high)`` of EWT/(EWT+LMA) (fraction of fresh mass).  Default ``(0.3, 0.95)``: fresh
      leaves hold about 40–93 % water (shared data: 40–93 % but for one leaf at 22 %); crop leaves reach 93 %,
      so the cap is above them and below the ≈96 % of the known bad GSTI rows.
    - ``water_content_columns``: metadata columns holding water content in % of fresh mass (checked for 0–100 %).
    - ``spectral_regions``: ``{trait: (low_nm, high_nm)}`` checked by the ``spectral`` rule; default
      :data:`SPECTRAL_REGIONS`.  An empty mapping switches the rule off.
    - ``spectral_k``: threshold in robust standard deviations (1.4826·MAD of the log-residuals).
    - ``spectral_min_ratio``: a flagged label must also differ from its prediction by more than this factor.
    - ``spectral_min_rows``: datasets with fewer positive labels of a trait are not checked spectrally.
    - ``spectral_step_nm``: band spacing of the regression features (nm).
    """

    ranges: Mapping[str, tuple[float, float]] = dataclasses.field(default_factory=lambda: dict(MEASURED_LEAF_RANGES))
    water_fraction: tuple[float, float] = (0.3, 0.95)
    water_content_columns: tuple[str, ...] = ("LWC_percent",)
    spectral_regions: Mapping[str, tuple[float, float]] = dataclasses.field(
        default_factory=lambda: dict(SPECTRAL_REGIONS))
    spectral_k: float = 5.0
    spectral_min_ratio: float = 1.5
    spectral_min_rows: int = 30
    spectral_step_nm: float = 10.0

    def __post_init__(self):
        unknown = [t for t in list(self.ranges) + list(self.spectral_regions) if t not in TRAITS]
        if unknown:
            raise ValueError(f"PlausibilityRules: unknown traits {unknown}; known: {', '.join(TRAITS)}")
        lo, hi = self.water_fraction
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(f"PlausibilityRules.water_fraction must satisfy 0 <= low < high <= 1, got {(lo, hi)}")
        if self.spectral_k <= 0 or self.spectral_min_ratio < 1 or self.spectral_min_rows < 5:
            raise ValueError("PlausibilityRules: need spectral_k > 0, spectral_min_ratio >= 1, spectral_min_rows >= 5")


@dataclasses.dataclass(frozen=True)
class LabelChecks:
    """Result of :func:`label_plausibility`, row-aligned with the dataset it checked.

    **Fields:**
    - ``flags``: DataFrame ``(n, traits)`` of str: ``''`` (passes or not measured) or ';'-joined :data:`REASONS`.
    - ``labelled``: DataFrame ``(n, traits)`` of bool: the label is present (not NaN).
    - ``spectral_z``: DataFrame ``(n, traits)`` float64: robust z-score of the log-residual of the ``spectral``
      rule (NaN where not checked).
    - ``datasets``: ``meta['dataset']`` ``(n,)``; ``sample_ids``: ``meta['sample_id']`` ``(n,)`` (str).
    """

    flags: pd.DataFrame
    labelled: pd.DataFrame
    spectral_z: pd.DataFrame
    datasets: np.ndarray
    sample_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.flags)

    def flagged(self, trait: str, reason: str | None = None) -> np.ndarray:
        """Boolean ``(n,)``: the label of ``trait`` is flagged (for ``reason`` if given)."""
        if reason is not None and reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}; known: {', '.join(REASONS)}")
        if trait not in self.flags.columns:
            return np.zeros(len(self), dtype=bool)
        cells = self.flags[trait].to_numpy(dtype=object)
        if reason is None:
            return np.array([c != "" for c in cells], dtype=bool)
        return np.array([reason in c.split(";") for c in cells], dtype=bool)

    def valid(self, trait: str) -> np.ndarray:
        """Boolean ``(n,)``: the label of ``trait`` is present and passes every rule (usable for training)."""
        if trait not in self.flags.columns:
            return np.zeros(len(self), dtype=bool)
        return self.labelled[trait].to_numpy(dtype=bool) & ~self.flagged(trait)

    def report(self) -> pd.DataFrame:
        """Counts per dataset × trait × reason: columns ``dataset, trait, reason, n_flagged, n_labelled, fraction``
        (only combinations with at least one flag; ``reason == 'any'`` counts labels with at least one reason)."""
        rows = []
        for name in pd.unique(self.datasets):
            in_ds = self.datasets == name
            for trait in self.flags.columns:
                n_lab = int(self.labelled[trait].to_numpy(dtype=bool)[in_ds].sum())
                anyf = self.flagged(trait)[in_ds]
                if not anyf.any():
                    continue
                counts = {"any": int(anyf.sum())}
                counts.update({r: int(self.flagged(trait, r)[in_ds].sum()) for r in REASONS})
                rows += [{"dataset": name, "trait": trait, "reason": r, "n_flagged": c, "n_labelled": n_lab,
                          "fraction": c / max(n_lab, 1)} for r, c in counts.items() if c > 0]
        return pd.DataFrame(rows, columns=["dataset", "trait", "reason", "n_flagged", "n_labelled", "fraction"])

    def row_summary(self) -> np.ndarray:
        """Per row ``(n,)`` (str): ``'trait:reason;reason | trait:reason'`` for the flagged labels, ``''`` if none."""
        cols = list(self.flags.columns)
        cells = self.flags.to_numpy(dtype=object)
        return np.array([" | ".join(f"{t}:{c}" for t, c in zip(cols, row) if c) for row in cells], dtype=object)


# --- rules -----------------------------------------------------------------------------------------------------
def _value_reason(values: np.ndarray, trait: str, rules: PlausibilityRules) -> np.ndarray:
    """The first failing value rule per element (``''`` if none), for labels present; shape ``(n,)``."""
    out = np.full(values.shape, "", dtype=object)
    present = ~np.isnan(values)
    phys_lo, phys_hi = _parameters.spec(trait).bounds
    lo, hi = rules.ranges.get(trait, (phys_lo, phys_hi))
    with np.errstate(invalid="ignore"):
        tests = [("non_finite", np.isinf(values)), ("negative", values < 0.0),
                 ("physical", (values < phys_lo) | (values > phys_hi)), ("range", (values < lo) | (values > hi))]
    for reason, fails in tests:
        out[present & fails & (out == "")] = reason
    return out


def _absorbance_features(refl: np.ndarray, wavelengths: np.ndarray, region: tuple[float, float],
                         step: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Features of the rows of ``refl`` ``(m, wl)``: absorbance log10(1/R) and its logarithm on the bands of
    ``region`` spaced ``step`` nm apart that are valid (finite, > 0) in at least 90 % of the rows; returns the
    features ``(k, f)`` of the ``k`` rows valid on all those bands and that row mask ``(m,)``, or None if fewer
    than 3 bands remain."""
    grid = np.arange(region[0], region[1] + 0.5 * step, step)
    idx = np.unique(np.searchsorted(wavelengths, grid).clip(0, wavelengths.size - 1))
    idx = idx[(wavelengths[idx] >= region[0]) & (wavelengths[idx] <= region[1])]
    x = refl[:, idx]
    ok = np.isfinite(x) & (x > 0.0)
    keep = ok.mean(axis=0) >= 0.9
    if keep.sum() < 3:
        return None
    rows = np.all(ok[:, keep], axis=1)
    absorb = -np.log10(x[rows][:, keep])
    return np.concatenate([absorb, np.log(np.clip(absorb, 1e-3, None))], axis=1), rows


def _ridge_loo(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Residuals ``y - ŷ`` ``(n,)`` of ridge regressions fitted on the rows ``train``: exact leave-one-out residuals
    for training rows, plain residuals for the others.  The penalty (relative to the largest squared singular value,
    10⁻⁶…10) minimises the median absolute leave-one-out residual."""
    xt, yt = x[train], y[train]
    mu, sd = xt.mean(axis=0), xt.std(axis=0)
    sd = np.where(sd > 0.0, sd, 1.0)
    z, zt = (x - mu) / sd, (xt - mu) / sd
    ybar = float(yt.mean())
    u, s, vt = np.linalg.svd(zt, full_matrices=False)
    uty = u.T @ (yt - ybar)
    shrink = s**2 / (s**2 + (s[0] ** 2) * np.logspace(-6.0, 1.0, 15)[:, None])    # (penalties, rank)
    hat = 1.0 / train.sum() + shrink @ (u**2).T                                   # (penalties, n_train)
    fit = ybar + (shrink * uty) @ u.T
    loo = (yt - fit) / np.clip(1.0 - hat, 1e-3, None)
    best = int(np.argmin(np.median(np.abs(loo), axis=1)))
    resid = y - (ybar + z @ (vt.T @ (shrink[best] / s * uty)))
    resid[np.flatnonzero(train)] = loo[best]
    return resid


def _spectral_z(refl: np.ndarray, wavelengths: np.ndarray, values: np.ndarray, usable: np.ndarray,
                region: tuple[float, float], rules: PlausibilityRules) -> tuple[np.ndarray, np.ndarray]:
    """Robust z-scores ``(n,)`` of log(value) against its spectrum within one dataset, and the flags ``(n,)``.

    ``usable`` marks rows whose label may be judged (present, positive, no value rule failed).  Iterates: fit on
    the unflagged usable rows, flag, refit, until the flags stop changing (at most 5 fits)."""
    n = values.size
    z_out, flag = np.full(n, np.nan), np.zeros(n, dtype=bool)
    if usable.sum() < rules.spectral_min_rows:
        return z_out, flag
    found = _absorbance_features(refl[usable], wavelengths, region, rules.spectral_step_nm)
    if found is None or found[1].sum() < rules.spectral_min_rows:
        return z_out, flag
    feats, rows_ok = found
    usable = usable.copy()
    usable[np.flatnonzero(usable)[~rows_ok]] = False
    y = np.log(values[usable])
    out = np.zeros(y.size, dtype=bool)
    for _ in range(5):
        train = ~out
        if train.sum() < rules.spectral_min_rows:
            break
        r = _ridge_loo(feats, y, train)
        centre = float(np.median(r[train]))
        scale = 1.4826 * float(np.median(np.abs(r[train] - centre)))
        if not scale > 0.0:
            break
        z = (r - centre) / scale
        new = (np.abs(z) > rules.spectral_k) & (np.abs(r - centre) > np.log(rules.spectral_min_ratio))
        z_out[usable] = z
        if np.array_equal(new, out):
            break
        out = new
    flag[usable] = out
    return z_out, flag


def _add(flags: pd.DataFrame, trait: str, mask: np.ndarray, reason: str) -> None:
    col = flags[trait].to_numpy(dtype=object).copy()
    col[mask] = [reason if c == "" else f"{c};{reason}" for c in col[mask]]
    flags[trait] = col


def label_plausibility(ds: SpectralDataset, *, rules: PlausibilityRules | None = None) -> LabelChecks:
    """Check every trait label of ``ds`` against the rules of this module (see the module docstring).

    **Arguments:** ``ds``: any :class:`SpectralDataset` (spectral checks are run per ``meta['dataset']``);
    ``rules``: :class:`PlausibilityRules` (default settings if None).

    **Returns:** :class:`LabelChecks` with a flag string per sample and trait column of ``ds.traits``.
    """
    if not isinstance(ds, SpectralDataset):
        raise TypeError(f"label_plausibility needs a SpectralDataset, got {type(ds).__name__}")
    rules = PlausibilityRules() if rules is None else rules
    traits = list(ds.traits.columns)
    n = len(ds)
    values = {t: ds.trait(t) for t in traits}
    flags = pd.DataFrame({t: _value_reason(values[t], t, rules) for t in traits}, index=range(n), dtype=object)
    zs = pd.DataFrame({t: np.full(n, np.nan) for t in traits}, index=range(n))
    if "ewt" in traits:
        for col in rules.water_content_columns:
            if col in ds.meta.columns:
                lwc = pd.to_numeric(ds.meta[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                with np.errstate(invalid="ignore"):
                    bad = ~np.isnan(values["ewt"]) & (~np.isfinite(lwc) | (lwc < 0.0) | (lwc > 100.0))
                _add(flags, "ewt", bad & ~np.isnan(lwc), "water_content")
    names = ds.meta["dataset"].astype(str).to_numpy(dtype=object)
    for trait, region in rules.spectral_regions.items():
        if trait not in traits:
            continue
        v = values[trait]
        with np.errstate(invalid="ignore"):
            usable = np.isfinite(v) & (v > 0.0) & (flags[trait].to_numpy(dtype=object) == "")
        col_z, col_f = np.full(n, np.nan), np.zeros(n, dtype=bool)
        for name in pd.unique(names):
            rows = np.flatnonzero(names == name)
            z, f = _spectral_z(ds.reflectance[rows], ds.wavelengths, v[rows], usable[rows], region, rules)
            col_z[rows], col_f[rows] = z, f
        zs[trait] = col_z
        _add(flags, trait, col_f, "spectral")
    if "ewt" in traits and "lma" in traits:
        ewt, lma = values["ewt"], values["lma"]
        lma_ok = flags["lma"].to_numpy(dtype=object) == ""
        with np.errstate(invalid="ignore", divide="ignore"):
            wf = ewt / (ewt + lma)
            bad = np.isfinite(wf) & (ewt >= 0.0) & (lma > 0.0) & lma_ok
            bad &= (wf < rules.water_fraction[0]) | (wf > rules.water_fraction[1])
        _add(flags, "ewt", bad, "water_fraction")
    labelled = pd.DataFrame({t: ~np.isnan(values[t]) for t in traits}, index=range(n))
    return LabelChecks(flags, labelled, zs, names, ds.sample_ids())


def exclude_implausible(ds: SpectralDataset, checks: LabelChecks | None = None, *,
                        rules: PlausibilityRules | None = None) -> SpectralDataset:
    """``ds`` with every flagged trait label set to NaN (excluded from training; the spectrum and the row's other
    traits stay usable), and the flags recorded in ``meta['label_flags']`` (:meth:`LabelChecks.row_summary`,
    appended to an existing column).

    **Arguments:** ``checks``: the result of :func:`label_plausibility` on ``ds`` (computed with ``rules`` if None).
    """
    checks = label_plausibility(ds, rules=rules) if checks is None else checks
    if len(checks) != len(ds) or not np.array_equal(checks.sample_ids, ds.sample_ids()):
        raise ValueError("checks do not belong to this dataset (different rows or sample ids)")
    traits = ds.traits.copy()
    for t in traits.columns:
        if t in checks.flags.columns:
            traits.loc[checks.flagged(t), t] = np.nan
    meta = ds.meta.copy()
    summary = checks.row_summary()
    if "label_flags" in meta.columns:
        old = meta["label_flags"].fillna("").astype(str).to_numpy(dtype=object)
        summary = np.array([" | ".join(p for p in (a, b) if p) for a, b in zip(old, summary)], dtype=object)
    meta["label_flags"] = summary
    return ds.replace(traits=traits, meta=meta)


def plausibility_table(checks: LabelChecks) -> pd.DataFrame:
    """Flag counts as a wide table: one row per dataset × trait with at least one flag, one column per reason
    (``any`` first) plus ``n_labelled``; for reports and docs."""
    rep = checks.report()
    if rep.empty:
        return pd.DataFrame(columns=["dataset", "trait", "n_labelled", "any", *REASONS])
    wide = rep.pivot_table(index=["dataset", "trait", "n_labelled"], columns="reason", values="n_flagged",
                           fill_value=0, aggfunc="sum")
    cols = [c for c in ["any", *REASONS] if c in wide.columns]
    return wide[cols].reset_index().rename_axis(columns=None)
