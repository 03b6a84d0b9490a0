"""Plausibility checks of trait labels: injected impossible labels are flagged with the right reason and excluded,
clean real data is rarely flagged, and excluding bad labels keeps a pooled PLSR from degrading on another dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leafjax.data import (
    REASONS,
    PlausibilityRules,
    SpectralDataset,
    concat,
    exclude_implausible,
    label_plausibility,
    load_shared_datasets,
    plausibility_table,
)

WL = np.arange(400.0, 2401.0, 10.0)


def _bands(centres_amps_widths) -> np.ndarray:
    return sum(a * np.exp(-0.5 * ((WL - c) / w) ** 2) for c, a, w in centres_amps_widths)


def _synthetic(n: int, seed: int, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """SYNTHETIC leaves (not measured data): Beer–Lambert absorbance with Gaussian water bands (1200, 1450,
    1940 nm) and dry-matter bands (1730, 2100, 2300 nm) scaled by EWT and LMA (g/cm²), a random scattering
    baseline and noise.  Returns reflectance ``(n, wl)``, lma, ewt (g/cm²) and water content (% fresh mass)."""
    rng = np.random.default_rng(seed)
    lma = np.exp(rng.normal(np.log(0.007), 0.35, n))
    lma[3] = 0.004                                  # ten times this stays inside the 0.06 g/cm² range
    wf = rng.uniform(0.5, 0.85, n)
    ewt = lma * wf / (1.0 - wf)
    k_water = _bands([(1200.0, 5.0, 40.0), (1450.0, 25.0, 60.0), (1940.0, 60.0, 80.0)])
    k_dry = _bands([(1730.0, 30.0, 40.0), (2100.0, 40.0, 60.0), (2300.0, 35.0, 50.0), (1950.0, 15.0, 400.0)])
    base = rng.uniform(0.15, 0.35, (n, 1)) + rng.uniform(-0.03, 0.03, (n, 1)) * (WL - 1400.0) / 1000.0
    absorb = base + ewt[:, None] * k_water + lma[:, None] * k_dry + rng.normal(0.0, 0.002, (n, WL.size))
    return 10.0 ** (-absorb), lma, ewt, 100.0 * wf


def _synthetic_dataset() -> SpectralDataset:
    parts = []
    for name, n, seed in (("synthetic_a", 100, 0), ("synthetic_b", 60, 1)):
        refl, lma, ewt, lwc = _synthetic(n, seed, name)
        nitrogen = np.random.default_rng(seed + 10).uniform(1.0, 4.0, n)
        parts.append(SpectralDataset.from_arrays(WL, refl, dataset=name, meta=pd.DataFrame({"LWC_percent": lwc}),
                                                 lma=lma, ewt=ewt, nitrogen=nitrogen))
    return concat(parts)


def _inject_synthetic(ds: SpectralDataset) -> SpectralDataset:
    tr, meta = ds.traits.copy(), ds.meta.copy()
    tr.loc[0, "lma"] = -0.002                                   # negative LMA
    tr.loc[1, ["lma", "ewt"]] = [0.0058, 0.14]                  # 1400 g/m² of water, water fraction 0.96
    meta.loc[1, "LWC_percent"] = 96.0
    meta.loc[2, "LWC_percent"] = -158.0                         # water content −158 %: EWT derived from it
    tr.loc[2, "ewt"] = tr.loc[2, "lma"] * -1.58 / 2.58
    tr.loc[3, "lma"] = 10.0 * tr.loc[3, "lma"]                  # LMA 10× what its spectrum says
    tr.loc[4, "ewt"] = np.inf
    tr.loc[5, "nitrogen"] = 30.0                                # beyond the registry's physical cap (25 %)
    tr.loc[6, "nitrogen"] = 12.0                                # beyond measured leaves (10 %)
    return ds.replace(traits=tr, meta=meta)


EXPECTED = {(0, "lma"): "negative", (1, "ewt"): "range;water_fraction", (2, "ewt"): "negative;water_content",
            (3, "lma"): "spectral", (4, "ewt"): "non_finite", (5, "nitrogen"): "physical",
            (6, "nitrogen"): "range"}


def test_injected_labels_are_flagged_with_their_reason_on_synthetic_data():
    clean = _synthetic_dataset()
    assert (label_plausibility(clean).flags == "").all().all()   # no false flag on clean synthetic leaves
    ds = _inject_synthetic(clean)
    checks = label_plausibility(ds)
    for (row, trait), reason in EXPECTED.items():
        assert checks.flags.loc[row, trait] == reason, (row, trait, checks.flags.loc[row, trait])
    expected_cells = set(EXPECTED)
    flagged_cells = {(i, t) for t in checks.flags.columns for i in np.flatnonzero(checks.flagged(t))}
    assert flagged_cells == expected_cells                      # nothing else, e.g. not ewt of the 10x-LMA row
    assert checks.spectral_z.loc[3, "lma"] > 20.0
    assert checks.valid("lma")[1] and not checks.valid("lma")[0] and not checks.valid("chl").any()


def test_exclude_implausible_sets_flagged_cells_to_nan_and_records_them():
    ds = _inject_synthetic(_synthetic_dataset())
    out = exclude_implausible(ds)
    for (row, trait) in EXPECTED:
        assert np.isnan(out.trait(trait)[row])
    keep = np.ones(len(ds), dtype=bool)
    keep[:7] = False
    for t in ("lma", "ewt", "nitrogen"):
        np.testing.assert_array_equal(out.trait(t)[keep], ds.trait(t)[keep])
    assert out.trait("lma")[1] == 0.0058 and np.isfinite(out.trait("ewt")[3])   # the row's other traits stay
    np.testing.assert_array_equal(out.reflectance, ds.reflectance)
    assert out.meta.loc[1, "label_flags"] == "ewt:range;water_fraction"
    assert out.meta.loc[3, "label_flags"] == "lma:spectral" and out.meta.loc[10, "label_flags"] == ""
    again = exclude_implausible(out)                           # idempotent: nothing new, old flags kept
    assert again.meta["label_flags"].tolist() == out.meta["label_flags"].tolist()


def test_report_counts_per_dataset_trait_and_reason():
    checks = label_plausibility(_inject_synthetic(_synthetic_dataset()))
    rep = checks.report()
    assert list(rep.columns) == ["dataset", "trait", "reason", "n_flagged", "n_labelled", "fraction"]
    assert set(rep["dataset"]) == {"synthetic_a"} and set(rep["reason"]) <= {"any", *REASONS}
    ewt = rep[(rep.trait == "ewt")].set_index("reason")["n_flagged"].to_dict()
    assert ewt == {"any": 3, "non_finite": 1, "negative": 1, "range": 1, "water_content": 1, "water_fraction": 1}
    assert rep[(rep.trait == "lma") & (rep.reason == "any")]["n_labelled"].item() == 100
    wide = plausibility_table(checks)
    assert wide.set_index(["dataset", "trait"]).loc[("synthetic_a", "nitrogen"), "any"] == 2


def test_bad_input_raises():
    ds = _synthetic_dataset()
    with pytest.raises(ValueError, match="unknown traits"):
        PlausibilityRules(ranges={"lai": (0.0, 1.0)})
    with pytest.raises(ValueError, match="water_fraction"):
        PlausibilityRules(water_fraction=(0.9, 0.3))
    with pytest.raises(ValueError, match="do not belong"):
        exclude_implausible(ds.subset(np.arange(10)), label_plausibility(ds))
    with pytest.raises(ValueError, match="unknown reason"):
        label_plausibility(ds).flagged("lma", "typo")
    off = label_plausibility(ds, rules=PlausibilityRules(spectral_regions={}))
    assert off.spectral_z.isna().all().all()


def test_a_spectrum_with_missing_bands_does_not_switch_the_spectral_rule_off():
    ds = _inject_synthetic(_synthetic_dataset())
    refl = ds.reflectance.copy()
    refl[20] = np.nan                                            # one leaf without a usable spectrum
    refl[21, WL > 2000.0] = np.nan                               # one leaf with a truncated spectrum
    checks = label_plausibility(ds.replace(reflectance=refl))
    assert checks.flags.loc[3, "lma"] == "spectral"
    assert np.isnan(checks.spectral_z.loc[[20, 21], "lma"]).all() and (checks.flags.loc[[20, 21]] == "").all().all()
    with pytest.raises(TypeError, match="SpectralDataset"):
        label_plausibility(ds.traits)  # type: ignore[arg-type]


# --- real data (../shared/data/leaf_spectra) ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(shared_data) -> SpectralDataset:
    folder = shared_data / "leaf_spectra"
    if not folder.is_dir():
        pytest.skip(f"no {folder}")
    return load_shared_datasets(folder)


def _known_bad_case(ds: SpectralDataset, name: str = "gsti_burnett2021b_bnl_crops") -> SpectralDataset:
    """The issue's known case, re-created in one dataset (the current shared files no longer carry it): four EWT
    values of 1,073–1,461 g/m² (≈ 96 % water, LWC consistent with them) and a water content of −158 %."""
    tr, meta = ds.traits.copy(), ds.meta.copy()
    free = list(np.flatnonzero((meta["dataset"] == name).to_numpy() & np.isfinite(ds.trait("ewt"))))
    for ewt in (0.1073, 0.1200, 0.1350, 0.1461):
        i = min(free, key=lambda j: abs(ds.trait("lma")[j] - ewt * 0.04 / 0.96))   # a leaf giving 96 % water
        free.remove(i)
        tr.loc[i, "ewt"] = ewt
        meta.loc[i, "LWC_percent"] = 100.0 * ewt / (ewt + tr.loc[i, "lma"])
    meta.loc[free[0], "LWC_percent"] = -158.0
    tr.loc[free[0], "ewt"] = tr.loc[free[0], "lma"] * -1.58 / 2.58
    return ds.replace(traits=tr, meta=meta)


def test_clean_real_data_has_few_flags(real):
    checks = label_plausibility(real)
    for trait in real.traits_available():
        n_lab = int(checks.labelled[trait].sum())
        assert checks.flagged(trait).sum() <= 0.01 * n_lab, trait          # measured: at most 0.75 % (ewt)
    rep = checks.report()
    assert (rep[rep.reason == "any"]["fraction"] <= 0.05).all()            # measured: at most 3.6 % (wu2019 ewt)
    # the files as shipped carry no impossible value: only spectral outliers and one 22 %-water leaf
    assert set(rep["reason"]) <= {"any", "spectral", "water_fraction"}


def test_known_bad_ewt_rows_and_injected_labels_are_flagged_on_real_data(real):
    real = real.where_dataset(["gsti_burnett2021b_bnl_crops", "gsti_yan2021_china_tropical"])
    ds = _known_bad_case(real)
    tr = ds.traits.copy()
    yan = np.flatnonzero((ds.meta["dataset"] == "gsti_yan2021_china_tropical").to_numpy())
    low = yan[np.nanargmin(ds.trait("lma")[yan])]                          # 10x stays below the 600 g/m² cap
    tr.loc[low, "lma"] *= 10.0
    tr.loc[yan[0], "lma"] = -0.003
    checks = label_plausibility(ds.replace(traits=tr))
    bad = np.flatnonzero(~np.isclose(ds.trait("ewt"), real.trait("ewt"), rtol=0.0, atol=0.0, equal_nan=True))
    lwc = ds.meta["LWC_percent"].to_numpy(dtype=np.float64)
    assert bad.size == 5 and np.sum(np.abs(lwc[bad] - 96.0) < 0.5) == 4 and np.sum(lwc[bad] == -158.0) == 1
    for i in bad:
        expected = {"negative", "water_content"} if lwc[i] < 0 else {"range", "water_fraction"}
        assert set(checks.flags.loc[i, "ewt"].split(";")) == expected, checks.flags.loc[i, "ewt"]
    assert "spectral" in checks.flags.loc[low, "lma"].split(";")
    assert checks.flags.loc[yan[0], "lma"] == "negative"
    out = exclude_implausible(ds.replace(traits=tr), checks)
    assert np.isnan(out.trait("ewt")[bad]).all() and np.isnan(out.trait("lma")[[low, yan[0]]]).all()


def test_bad_labels_in_one_dataset_do_not_degrade_pooled_plsr_elsewhere(real):
    """Train PLSR on two real source datasets plus one carrying the known bad EWT labels; score EWT on a held-out
    dataset (ely2019, measured EWT) with and without excluding implausible labels."""
    from sklearn.cross_decomposition import PLSRegression

    names = ["gsti_wu2019_panama", "gsti_yan2021_china_tropical", "gsti_burnett2021b_bnl_crops"]
    small = real.where_dataset(names + ["ely2019_ngee_arctic"]).select_wavelengths((1100.0, 2400.0))
    small = small.select_wavelengths(small.wavelengths[::10])
    test = small.where_dataset("ely2019_ngee_arctic")

    def rmse(train: SpectralDataset) -> float:
        y = train.trait("ewt")
        ok = np.isfinite(y)
        pls = PLSRegression(n_components=10).fit(train.reflectance[ok], y[ok])
        return float(np.sqrt(np.mean((pls.predict(test.reflectance).ravel() - test.trait("ewt")) ** 2)))

    clean = small.where_dataset(names)
    dirty = _known_bad_case(clean)
    r_clean, r_dirty, r_fixed = rmse(clean), rmse(dirty), rmse(exclude_implausible(dirty))
    assert r_dirty > 1.5 * r_clean                                          # measured: 0.0041 vs 0.0020 g/cm²
    assert r_fixed < 1.1 * r_clean                                          # measured: 0.0020 g/cm²
