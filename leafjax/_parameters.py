"""The one registry of model parameters: name, unit, *physical* bounds, default, meaning and source.

Each model's parameter table is declared once here (:data:`PROSPECT_D`, :data:`PROSPECT_PRO`, :data:`SAIL`,
:data:`SOIL`, the derived leaf traits :data:`LEAF_DERIVED` and canopy products :data:`CANOPY_DERIVED`; the
azimuths :data:`AZIMUTHS`; :data:`LST`; the radar water-cloud model :data:`WATER_CLOUD`).  The bounds of a
:class:`ParameterSpec` are what the forward model accepts: lower bounds are where the equations are defined
(contents ≥ 0, ``n_struct`` ≥ 1, ``lai`` ≥ 0, zenith angles < 90°); upper bounds are plausibility caps well
beyond any measured leaf or canopy, which catch unit mistakes (e.g. chlorophyll in mg/m² instead of µg/cm²)
without rejecting valid inputs.

Everything else — inversion bounds, simulation priors, fixed values of the canopy inversion — is a *named preset*
over these specs (:func:`preset`), each keeping the values of the table it replaces:

=================  ==========================  ===========================================================
kind               models                      replaces
=================  ==========================  ===========================================================
``physical``       every model                 forward/simulation validation (these specs' bounds)
``inversion``      prospect(-d/-pro), prosail  ``leafjax.TRAITS`` bounds; canopy ``INVERSION_BOUNDS``
``prior``          prospect-d/-pro, prosail    ``default_prior``, ``default_prosail_prior``
``training-set``   prospect-pro                ``leafjax.transfer.PRIOR_RANGES``
``fixed``          prosail                     canopy-inversion ``DEFAULT_FIXED`` (point values)
``default``        every model                 the specs' defaults (point values)
=================  ==========================  ===========================================================

A preset maps names to ``(low, high)`` in canonical units; ``low == high`` marks a fixed value.  Priors are built
from a preset by :func:`leafjax.simulation.prior_from_preset`.  This module is pure Python (no JAX or numpy): the
command-line parser may import it.

Example:
    >>> preset("prospect-d", "inversion")["chl"]
    (0.0001, 150.0)
    >>> spec("hotspot").default, preset_values("prosail", "fixed")["hotspot"]
    (0.01, 0.1)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping

_FERET2017 = "Féret et al. (2017) RSE 193:204 (PROSPECT-D)"
_FERET2021 = "Féret et al. (2021) RSE 252:112173 (PROSPECT-PRO)"
_VERHOEF2007 = "Verhoef et al. (2007) IEEE TGRS 45:1808 (4SAIL)"
_KUUSK1991 = "Kuusk (1991), Photon-Vegetation Interactions (hotspot)"
_PROSAIL_SOIL = "Jacquemoud et al. (2009) RSE 113:S56 (PROSAIL dry/wet soil mixture)"
_ATBD2016 = "Weiss & Baret (2016) S2ToolBox Level 2 products: LAI, FAPAR, FCOVER, ATBD v1.1"
_WAN1996 = "Wan & Dozier (1996) IEEE TGRS 34:892 (generalized split-window LST)"
_MEEUS1998 = "Meeus (1998) Astronomical Algorithms, 2nd ed. (solar azimuth)"
_ATTEMA1978 = "Attema & Ulaby (1978) Radio Science 13(2):357-364 (water-cloud model)"


@dataclasses.dataclass(frozen=True)
class ParameterSpec:
    """One model parameter.

    **Fields:**
    - ``name``: canonical name (the field name of the parameter pytree).
    - ``unit``: canonical unit (``"-"`` for dimensionless).
    - ``low``, ``high``: physical bounds (closed interval, canonical unit): what the forward model accepts.
    - ``default``: canonical default value (used when a table or pytree omits the parameter).
    - ``meaning``: one-line description; ``source``: reference of the model/parameter.
    """

    name: str
    unit: str
    low: float
    high: float
    default: float
    meaning: str
    source: str

    def __post_init__(self):
        if not self.low <= self.default <= self.high:
            raise ValueError(f"{self.name}: default {self.default} outside [{self.low}, {self.high}]")

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)``: the physical bounds."""
        return (self.low, self.high)


S = ParameterSpec
# --- leaf: PROSPECT-D / PROSPECT-PRO --------------------------------------------------------------------------
# n_struct >= 1: for N < 1 Stokes' solution (N - 1 < 0 layers) has a pole where a·b^(N-1) = 1 (transmittance
# turns negative or infinite in strongly absorbing bands), so leafjax does not accept it.
_N_STRUCT = S("n_struct", "-", 1.0, 5.0, 1.5, "leaf structure parameter N (number of compact layers)", _FERET2017)
_CHL = S("chl", "ug/cm2", 0.0, 300.0, 40.0, "chlorophyll a+b content", _FERET2017)
_CAR = S("car", "ug/cm2", 0.0, 100.0, 8.0, "carotenoid content", _FERET2017)
_ANT = S("ant", "ug/cm2", 0.0, 100.0, 0.0, "anthocyanin content", _FERET2017)
_BROWN = S("brown", "-", 0.0, 10.0, 0.0, "brown pigments (arbitrary units)", _FERET2017)
_EWT = S("ewt", "g/cm2", 0.0, 0.5, 0.01, "equivalent water thickness", _FERET2017)
_LMA = S("lma", "g/cm2", 0.0, 0.3, 0.005, "leaf mass per area (dry matter content)", _FERET2017)
_PROT = S("prot", "g/cm2", 0.0, 0.1, 0.001, "protein content", _FERET2021)
_CBC = S("cbc", "g/cm2", 0.0, 0.3, 0.005, "carbon-based constituents (cellulose, lignin, sugars, ...)", _FERET2021)

#: PROSPECT-D parameters (Féret et al. 2017), in the field order of ``ProspectDParams``.
PROSPECT_D: tuple[ParameterSpec, ...] = (_N_STRUCT, _CHL, _CAR, _ANT, _BROWN, _EWT, _LMA)
#: PROSPECT-PRO parameters (Féret et al. 2021), in the field order of ``ProspectProParams``.
PROSPECT_PRO: tuple[ParameterSpec, ...] = (_N_STRUCT, _CHL, _CAR, _ANT, _BROWN, _EWT, _PROT, _CBC)
#: Leaf traits derived from the parameters (outputs, not inputs).  Nitrogen ≤ 100/4.43 % by construction
#: (``prot / 4.43`` of ``prot + cbc``); the caps are rounded up.
LEAF_DERIVED: tuple[ParameterSpec, ...] = (
    S("nitrogen", "% dry mass", 0.0, 25.0, 0.0, "mass-based nitrogen concentration", _FERET2021),
    S("nitrogen_area", "g/m2", 0.0, 250.0, 0.0, "area-based nitrogen content", _FERET2021),
)
# --- canopy: 4SAIL ----------------------------------------------------------------------------------------------
#: 4SAIL structure and sun-view geometry (field order of ``CanopyParams``).  ``lidf_a`` is the mean leaf angle
#: (degrees, Campbell) or the average-slope parameter *a* in [-1, 1] (Verhoef), hence [-1, 90].
_LAI = S("lai", "m2/m2", 0.0, 15.0, 2.0, "leaf area index (0 = bare soil)", _VERHOEF2007)
SAIL: tuple[ParameterSpec, ...] = (
    _LAI,
    S("lidf_a", "deg or -", -1.0, 90.0, 55.0, "LIDF: Campbell mean leaf angle (deg) or Verhoef parameter a",
      _VERHOEF2007),
    S("lidf_b", "-", -1.0, 1.0, 0.0, "LIDF: Verhoef bimodality parameter b (ignored by Campbell)", _VERHOEF2007),
    S("hotspot", "-", 0.0, 1.0, 0.01, "hotspot size parameter (leaf size / canopy height)", _KUUSK1991),
    S("sza", "deg", 0.0, 89.0, 30.0, "solar zenith angle", _VERHOEF2007),
    S("vza", "deg", 0.0, 89.0, 0.0, "view zenith angle", _VERHOEF2007),
    S("raa", "deg", -360.0, 360.0, 0.0, "relative azimuth between sun and sensor (0 = hotspot side)",
      _VERHOEF2007),
)
#: PROSAIL dry/wet soil mixture (field order of ``DryWetSoilParams``).
SOIL: tuple[ParameterSpec, ...] = (
    S("soil_brightness", "-", 0.0, 3.5, 1.0, "soil brightness scale factor (3.5: the S2 ATBD prior)", _PROSAIL_SOIL),
    S("soil_dryness", "-", 0.0, 1.0, 0.5, "weight of the dry soil spectrum (fraction)", _PROSAIL_SOIL),
)
# --- canopy products and azimuths -------------------------------------------------------------------------------
#: Canopy products derived from the parameters (outputs, not inputs; Weiss & Baret 2016, S2ToolBox L2B ATBD).
#: ``ccc = lai·chl·0.01`` g/m²: cap 15 = lai 10 × chl 150 µg/cm².  ``cwc = lai·ewt·1e4`` g/m²: cap 10000 =
#: lai 10 × ewt 0.1 g/cm² (measured canopy water rarely exceeds 3000 g/m²; the cap catches unit mistakes).
_CWC = S("cwc", "g/m2", 0.0, 10000.0, 0.0, "canopy water content (lai * ewt * 1e4)", _ATBD2016)
CANOPY_DERIVED: tuple[ParameterSpec, ...] = (
    S("ccc", "g/m2", 0.0, 15.0, 0.0, "canopy chlorophyll content (lai * chl / 100)", _ATBD2016),
    _CWC,
    S("fapar", "-", 0.0, 1.0, 0.0, "fraction of absorbed PAR by the green canopy", _VERHOEF2007),
    S("fcover", "-", 0.0, 1.0, 0.0, "green fraction of ground cover seen from nadir", _ATBD2016),
)
#: Solar and view azimuths (degrees clockwise from north), inputs of the relative azimuth ``raa`` of 4SAIL.
AZIMUTHS: tuple[ParameterSpec, ...] = (
    S("saa", "deg", 0.0, 360.0, 180.0, "solar azimuth angle (clockwise from north)", _MEEUS1998),
    S("vaa", "deg", 0.0, 360.0, 0.0, "view azimuth angle: of the sensor seen from the pixel "
      "(clockwise from north)", _MEEUS1998),
)
# --- thermal infrared: land-surface temperature ---------------------------------------------------------------
#: Land-surface temperature retrieval (``leafjax simulate --model lst``, split-window, physical inversion).
#: ``emissivity_b1..4`` are band-averaged emissivities of the four thermal bands; ``wvc`` the column water vapour.
LST: tuple[ParameterSpec, ...] = (
    S("lst", "K", 180.0, 360.0, 300.0, "land-surface (skin) temperature", _WAN1996),
    *(S(f"emissivity_b{i}", "-", 0.5, 1.0, 0.97, f"band-averaged surface emissivity, thermal band {i}", _WAN1996)
      for i in range(1, 5)),
    S("wvc", "g/cm2", 0.0, 10.0, 2.0, "total column water vapour (precipitable water)", _WAN1996),
    S("vza", "deg", 0.0, 89.0, 0.0, "view zenith angle", _VERHOEF2007),
)
# --- radar: the water-cloud model --------------------------------------------------------------------------------
#: Inputs of the water-cloud model (``leafjax.physics.radar``): ``lai`` and ``cwc`` are the canopy specs above
#: (the model itself accepts any ``lai`` >= 0; 15 is the registry's plausibility cap), ``soil_moisture`` the
#: volumetric water content of the surface soil layer (a fraction: 0.25, not 25 %), ``incidence_deg`` the local
#: incidence angle (default 39 deg: mid-swath of Sentinel-1 IW, which spans about 29-46 deg).
WATER_CLOUD: tuple[ParameterSpec, ...] = (
    _LAI,
    S("soil_moisture", "m3/m3", 0.0, 1.0, 0.25, "volumetric soil moisture of the surface layer", _ATTEMA1978),
    S("incidence_deg", "deg", 0.0, 89.0, 39.0, "radar incidence angle (Sentinel-1 IW mid-swath: 39)", _ATTEMA1978),
    _CWC,
)
del S


def _union(*tables: tuple[ParameterSpec, ...]) -> tuple[ParameterSpec, ...]:
    out: dict[str, ParameterSpec] = {}
    for table in tables:
        for s in table:
            out.setdefault(s.name, s)
    return tuple(out.values())


#: Parameter tables by model name.  ``prospect`` is every leaf parameter and derived trait (the canonical trait
#: list, ``leafjax.TRAITS``); ``prosail`` every leaf (D and PRO), canopy and soil parameter.
MODELS: dict[str, tuple[ParameterSpec, ...]] = {
    "prospect-d": PROSPECT_D,
    "prospect-pro": PROSPECT_PRO,
    "4sail": SAIL,
    "soil": SOIL,
    "leaf-derived": LEAF_DERIVED,
    "canopy-derived": CANOPY_DERIVED,
    "prospect": _union(PROSPECT_D, PROSPECT_PRO, LEAF_DERIVED),
    "prosail": _union(PROSPECT_D, PROSPECT_PRO, SAIL, SOIL),
    "lst": LST,
    "water-cloud": WATER_CLOUD,
}

_ALL: dict[str, ParameterSpec] = {s.name: s for s in _union(*MODELS.values(), AZIMUTHS)}


def _key(model: str) -> str:
    key = model.lower().replace("_", "-")
    if key not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    return key


def specs(model: str) -> dict[str, ParameterSpec]:
    """``{name: ParameterSpec}`` of a model (see :data:`MODELS`), in field order."""
    return {s.name: s for s in MODELS[_key(model)]}


def spec(name: str) -> ParameterSpec:
    """The spec of a parameter or derived trait of any model.

    Raises:
        ValueError: for an unknown name.
    """
    try:
        return _ALL[name]
    except KeyError:
        raise ValueError(f"unknown parameter {name!r}; known: {', '.join(_ALL)}") from None


def physical_bounds(model: str) -> dict[str, tuple[float, float]]:
    """``{name: (low, high)}``: the physical bounds of a model's parameters (= ``preset(model, "physical")``)."""
    return {n: s.bounds for n, s in specs(model).items()}


# --- presets ----------------------------------------------------------------------------------------------------
#: Inversion bounds of the reference PROSPECT implementation (Féret et al., R package ``prospect``,
#: ``Invert_PROSPECT``; Spafford et al. 2021), except N: leafjax bounds N to [1, 4] (see ``n_struct``); nitrogen
#: bounds are a plausibility range.  Formerly ``leafjax._constants.TRAITS``.
_PROSPECT_INVERSION = {
    "n_struct": (1.0, 4.0), "chl": (1e-4, 150.0), "car": (1e-4, 25.0), "ant": (0.0, 50.0), "brown": (0.0, 4.0),
    "ewt": (1e-8, 0.1), "lma": (1e-8, 0.06), "prot": (1e-7, 0.006), "cbc": (1e-6, 0.054),
    "nitrogen": (0.0, 15.0), "nitrogen_area": (0.0, 15.0),
}
#: Default leaf prior: the 1,000-sample look-up table of Féret et al. 2019 / Spafford et al. 2021 (chl, car, ewt,
#: lma, N), widened for ant to typical green-leaf values; brown fixed at 0 (green leaves); prot and cbc cover lma
#: 0.001–0.02 g/cm² with 4–30 % protein by mass.
_LEAF_PRIOR = {
    "n_struct": (1.0, 2.5), "chl": (0.5, 100.5), "car": (0.5, 20.5), "ant": (0.0, 5.0), "brown": (0.0, 0.0),
    "ewt": (0.001, 0.021), "lma": (0.001, 0.011), "prot": (0.0002, 0.003), "cbc": (0.001, 0.018),
}
#: Default canopy/soil prior (Campbell LIDF): the usual PROSAIL look-up tables for crops (e.g. Weiss & Baret
#: 2016, S2 ToolBox ATBD, widened to uniform); view zenith 0–15° (Sentinel-2 swath).
_CANOPY_PRIOR = {
    "lai": (0.0, 7.0), "lidf_a": (30.0, 80.0), "lidf_b": (0.0, 0.0), "hotspot": (0.01, 0.5), "sza": (0.0, 60.0),
    "vza": (0.0, 15.0), "raa": (0.0, 180.0), "soil_brightness": (0.5, 1.5), "soil_dryness": (0.0, 1.0),
}
#: Bounds of the free parameters of the canopy (PROSAIL) inversion.
_PROSAIL_INVERSION = {
    "lai": (0.0, 8.0), "chl": (1.0, 100.0), "car": (0.5, 25.0), "ewt": (0.001, 0.05), "lma": (0.001, 0.03),
    "n_struct": (1.0, 3.0), "lidf_a": (20.0, 85.0), "hotspot": (0.01, 0.6), "soil_brightness": (0.3, 2.0),
    "soil_dryness": (0.0, 1.0), "ant": (0.0, 10.0), "brown": (0.0, 1.0), "prot": (0.0002, 0.004),
    "cbc": (0.001, 0.03),
}
#: Fixed values of the canopy inversion's non-free parameters.  They differ from the canonical defaults in
#: ``ewt`` (0.012), ``lma`` (0.006) and ``hotspot`` (0.1, a typical crop value; the canonical 4SAIL default is 0.01).
_PROSAIL_FIXED = {
    "n_struct": 1.5, "car": 8.0, "ant": 0.0, "brown": 0.0, "ewt": 0.012, "lma": 0.006, "prot": 0.001, "cbc": 0.005,
    "lidf_a": 55.0, "lidf_b": 0.0, "hotspot": 0.1, "soil_brightness": 1.0, "soil_dryness": 0.5, "chl": 40.0,
    "lai": 2.0,
}
#: Uniform ranges of the small PROSPECT-PRO training set of ``leafjax.transfer`` (broadleaf and needle-leaf
#: samples of the leaf-trait literature).
_PRO_TRAINING_SET = {
    "n_struct": (1.0, 2.5), "chl": (5.0, 80.0), "car": (1.0, 20.0), "ant": (0.0, 5.0), "brown": (0.0, 0.5),
    "ewt": (0.002, 0.04), "prot": (0.0003, 0.003), "cbc": (0.002, 0.02),
}


def _restrict(table: Mapping[str, tuple[float, float]], model: str) -> dict[str, tuple[float, float]]:
    names = specs(model)
    return {n: v for n, v in table.items() if n in names}


#: ``(model, kind) → {name: (low, high)}`` (``low == high``: a fixed value).  ``physical`` and ``default`` exist
#: for every model (see :func:`preset`).
PRESETS: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("prospect", "inversion"): dict(_PROSPECT_INVERSION),
    ("prospect-d", "inversion"): _restrict(_PROSPECT_INVERSION, "prospect-d"),
    ("prospect-pro", "inversion"): _restrict(_PROSPECT_INVERSION, "prospect-pro"),
    ("prospect-d", "prior"): _restrict(_LEAF_PRIOR, "prospect-d"),
    ("prospect-pro", "prior"): _restrict(_LEAF_PRIOR, "prospect-pro"),
    ("prospect-pro", "training-set"): dict(_PRO_TRAINING_SET),
    ("prosail", "prior"): {**_LEAF_PRIOR, **_CANOPY_PRIOR},
    ("prosail", "inversion"): dict(_PROSAIL_INVERSION),
    ("prosail", "fixed"): {n: (v, v) for n, v in _PROSAIL_FIXED.items()},
}


def preset(model: str, kind: str) -> dict[str, tuple[float, float]]:
    """A named preset ``{name: (low, high)}`` (canonical units) over a model's parameter specs.

    **Arguments:** ``model``: a key of :data:`MODELS`; ``kind``: ``"physical"`` (the specs' bounds),
    ``"default"`` (the specs' defaults as ``(v, v)``) or a kind listed in :data:`PRESETS` for that model.

    **Returns:** a new dict (safe to modify).

    Raises:
        ValueError: for an unknown model or a preset that does not exist.
    """
    key = _key(model)
    if kind == "physical":
        return physical_bounds(key)
    if kind == "default":
        return {n: (s.default, s.default) for n, s in specs(key).items()}
    try:
        return dict(PRESETS[(key, kind)])
    except KeyError:
        kinds = sorted({"physical", "default"} | {k for m, k in PRESETS if m == key})
        raise ValueError(f"no preset {kind!r} for model {key!r}; available: {', '.join(kinds)}") from None


def preset_values(model: str, kind: str = "default") -> dict[str, float]:
    """A point preset ``{name: value}`` (e.g. ``preset_values("prosail", "fixed")``); every entry must be fixed.

    Raises:
        ValueError: if the preset has a range (``low < high``).
    """
    table = preset(model, kind)
    ranged = [n for n, (lo, hi) in table.items() if lo != hi]
    if ranged:
        raise ValueError(f"preset {kind!r} of {model!r} has ranges, not values, for {', '.join(ranged)}")
    return {n: lo for n, (lo, _) in table.items()}


def defaults(model: str) -> dict[str, float]:
    """``{name: default}`` of a model's parameters (= ``preset_values(model, "default")``)."""
    return {n: s.default for n, s in specs(model).items()}


def check_inside(name: str, low: float, high: float, kind: str = "physical") -> None:
    """Raise ``ValueError`` if ``[low, high]`` leaves the physical bounds of parameter ``name``."""
    s = spec(name)
    if not (math.isfinite(low) and math.isfinite(high)) or low < s.low or high > s.high:
        raise ValueError(f"{kind} range of {name} [{low}, {high}] leaves the physical bounds "
                         f"[{s.low}, {s.high}] {s.unit}")
