"""The parameter registry: one spec per model parameter, presets inside the physical bounds, and every former
table (TRAITS, canopy inversion bounds and fixed values, priors, PROSAIL table bounds) unchanged in value."""

from __future__ import annotations

import math

import pytest

import leafjax as lj
from leafjax import _parameters as P
from leafjax.physics.canopy import CanopyParams, Prosail
from leafjax.physics.soil import DryWetSoil, DryWetSoilParams

PARAM_TYPES = {"prospect-d": lj.ProspectDParams, "prospect-pro": lj.ProspectProParams, "4sail": CanopyParams,
               "soil": DryWetSoilParams}


@pytest.mark.parametrize("model", sorted(PARAM_TYPES))
def test_every_model_parameter_has_a_complete_spec(model):
    specs = P.specs(model)
    assert tuple(specs) == PARAM_TYPES[model].names
    for name, s in specs.items():
        assert s.name == name and s.unit and s.meaning and s.source
        assert math.isfinite(s.low) and math.isfinite(s.high) and s.low < s.high
        assert s.low <= s.default <= s.high


def test_models_declare_their_specs():
    assert lj.ProspectD.specs is P.PROSPECT_D and lj.ProspectPro.specs is P.PROSPECT_PRO
    model = Prosail("prospect-pro", wavelengths=[500.0, 800.0])
    assert set(model.parameter_names) <= {s.name for s in model.specs}
    assert model.parameter_names[-2:] == DryWetSoil.params_type.names


def test_physical_bounds_accept_every_valid_leaf():
    for name in ("chl", "car", "ant", "brown", "ewt", "lma", "prot", "cbc"):
        assert P.spec(name).low == 0.0  # zero pigments, water or dry matter are valid leaves
    assert P.spec("n_struct").low == 1.0 and P.spec("lai").low == 0.0


@pytest.mark.parametrize("model, kind", sorted(P.PRESETS))
def test_presets_lie_inside_the_physical_bounds(model, kind):
    table = P.preset(model, kind)
    assert table
    for name, (lo, hi) in table.items():
        s = P.spec(name)
        assert s.low <= lo <= hi <= s.high, (name, (lo, hi), s.bounds)
        P.check_inside(name, lo, hi)


def test_defaults_match_the_parameter_pytrees():
    d = lj.ProspectDParams(n_struct=1.5, chl=40.0, car=8.0)
    pro = lj.ProspectProParams(n_struct=1.5, chl=40.0, car=8.0, prot=0.001, cbc=0.005)
    canopy = CanopyParams(lai=2.0, lidf_a=55.0)
    for params, model in ((d, "prospect-d"), (pro, "prospect-pro"), (canopy, "4sail")):
        for name, value in P.defaults(model).items():
            assert float(getattr(params, name)) == value, name
    assert P.preset_values("prospect-d") == P.defaults("prospect-d")


def test_former_tables_keep_their_values():
    """Literal copies of the eight tables the registry replaces (values must not change)."""
    assert {n: (t.low, t.high) for n, t in lj.TRAITS.items()} == {
        "n_struct": (1.0, 4.0), "chl": (1e-4, 150.0), "car": (1e-4, 25.0), "ant": (0.0, 50.0), "brown": (0.0, 4.0),
        "ewt": (1e-8, 0.1), "lma": (1e-8, 0.06), "prot": (1e-7, 0.006), "cbc": (1e-6, 0.054),
        "nitrogen": (0.0, 15.0), "nitrogen_area": (0.0, 15.0)}
    assert lj.TRAITS["chl"].unit == "ug/cm2" and lj.TRAITS["nitrogen"].unit == "% dry mass"
    assert lj.bounds("lma") == (1e-8, 0.06)
    from leafjax.inversion._canopy import DEFAULT_FIXED, INVERSION_BOUNDS

    assert DEFAULT_FIXED == {"n_struct": 1.5, "car": 8.0, "ant": 0.0, "brown": 0.0, "ewt": 0.012, "lma": 0.006,
                             "prot": 0.001, "cbc": 0.005, "lidf_a": 55.0, "lidf_b": 0.0, "hotspot": 0.1,
                             "soil_brightness": 1.0, "soil_dryness": 0.5, "chl": 40.0, "lai": 2.0}
    assert INVERSION_BOUNDS == {
        "lai": (0.0, 8.0), "chl": (1.0, 100.0), "car": (0.5, 25.0), "ewt": (0.001, 0.05), "lma": (0.001, 0.03),
        "n_struct": (1.0, 3.0), "lidf_a": (20.0, 85.0), "hotspot": (0.01, 0.6), "soil_brightness": (0.3, 2.0),
        "soil_dryness": (0.0, 1.0), "ant": (0.0, 10.0), "brown": (0.0, 1.0), "prot": (0.0002, 0.004),
        "cbc": (0.001, 0.03)}
    from leafjax.simulation import CANOPY_BOUNDS, CANOPY_DEFAULTS

    assert CANOPY_BOUNDS == {"lai": (0.0, 15.0), "lidf_a": (-1.0, 90.0), "lidf_b": (-1.0, 1.0),
                             "hotspot": (0.0, 1.0), "sza": (0.0, 89.0), "vza": (0.0, 89.0), "raa": (-360.0, 360.0),
                             "soil_brightness": (0.0, 3.5), "soil_dryness": (0.0, 1.0)}
    assert CANOPY_DEFAULTS == {"lidf_b": 0.0, "hotspot": 0.01, "sza": 30.0, "vza": 0.0, "raa": 0.0}
    from leafjax.transfer import PRIOR_RANGES

    assert PRIOR_RANGES == {"n_struct": (1.0, 2.5), "chl": (5.0, 80.0), "car": (1.0, 20.0), "ant": (0.0, 5.0),
                            "brown": (0.0, 0.5), "ewt": (0.002, 0.04), "prot": (0.0003, 0.003),
                            "cbc": (0.002, 0.02)}


def test_priors_are_built_from_presets_with_their_former_values():
    from leafjax.simulation import Fixed, Uniform, default_prior, default_prosail_prior, prior_from_preset

    common = {"n_struct": Uniform(1.0, 2.5), "chl": Uniform(0.5, 100.5), "car": Uniform(0.5, 20.5),
              "ant": Uniform(0.0, 5.0), "brown": Fixed(0.0), "ewt": Uniform(0.001, 0.021)}
    assert default_prior("prospect-d").marginals == {**common, "lma": Uniform(0.001, 0.011)}
    pro = default_prior("prospect-pro").marginals
    assert pro == {**common, "prot": Uniform(0.0002, 0.003), "cbc": Uniform(0.001, 0.018)}
    assert list(pro) == ["n_struct", "chl", "car", "ant", "brown", "ewt", "prot", "cbc"]  # sampling order
    canopy = {"lai": Uniform(0.0, 7.0), "lidf_a": Uniform(30.0, 80.0), "lidf_b": Fixed(0.0),
              "hotspot": Uniform(0.01, 0.5), "sza": Uniform(0.0, 60.0), "vza": Uniform(0.0, 15.0),
              "raa": Uniform(0.0, 180.0), "soil_brightness": Uniform(0.5, 1.5), "soil_dryness": Uniform(0.0, 1.0)}
    full = default_prosail_prior("prospect-d").marginals
    assert full == {**common, "lma": Uniform(0.001, 0.011), **canopy}
    assert list(full) == [*common, "lma", *canopy]
    assert prior_from_preset("prospect-pro", "training-set", names=("chl", "brown")).marginals == {
        "chl": Uniform(5.0, 80.0), "brown": Uniform(0.0, 0.5)}


def test_hotspot_defaults_are_one_canonical_value_and_a_named_preset():
    assert P.spec("hotspot").default == CanopyParams(lai=1.0, lidf_a=50.0).hotspot == 0.01
    assert P.preset_values("prosail", "fixed")["hotspot"] == 0.1


def test_unknown_models_presets_and_names_are_errors():
    with pytest.raises(ValueError, match="unknown model"):
        P.preset("prospect-5", "inversion")
    with pytest.raises(ValueError, match="no preset 'prior' for model '4sail'"):
        P.preset("4sail", "prior")
    with pytest.raises(ValueError, match="unknown parameter"):
        P.spec("chlorophyll")
    with pytest.raises(ValueError, match="has ranges"):
        P.preset_values("prosail", "inversion")
    with pytest.raises(ValueError, match="leaves the physical bounds"):
        P.check_inside("chl", -1.0, 10.0)
    with pytest.raises(ValueError, match="default"):
        P.ParameterSpec("x", "-", 0.0, 1.0, 2.0, "bad", "test")
    assert P.preset("prospect-d", "physical") == P.physical_bounds("prospect-d")
    assert lj.preset is P.preset and lj.ParameterSpec is P.ParameterSpec
