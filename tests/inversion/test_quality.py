"""Fit quality as data in the Python API: input flags (negative, above one, flat, all zero, percent), rows that are
not inverted, at-bound / poor-fit / wavelength-shift flags, the percent check and clear argument errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj
from leafjax._flags import NOT_INVERTED, Quality, quality_names
from leafjax.inversion import (
    Status,
    invert,
    invert_canopy,
    invert_spectra,
    make_canopy_problem,
    make_problem,
    spectrum_quality,
)
from leafjax.inversion._quality import check_options
from leafjax.simulation import Fixed, Prior, Uniform, simulate
from leafjax.spectral import SpectralResponse

GRID = np.arange(400, 2401, 50)  # 41 bands: the validation tests share one compilation
SHIFT_GRID = np.arange(400, 2401, 20)  # a grid fine enough to see a 10-nm shift in the fitted derivative
FREE = ["n_struct", "chl", "car", "ewt", "lma"]
PRIOR = Prior({"n_struct": Uniform(1.0, 2.5), "chl": Uniform(5.0, 100.0), "car": Uniform(2.0, 20.0),
               "ant": Fixed(0.0), "brown": Fixed(0.0), "ewt": Uniform(0.002, 0.03), "lma": Uniform(0.002, 0.02)})


@pytest.fixture(scope="module")
def leaf():
    model = lj.ProspectD(wavelengths=GRID, dtype=jnp.float64)
    _, r, t = simulate(model, PRIOR, 4, jax.random.key(2))
    return model, make_problem(model, free=FREE, lut_size=200), np.asarray(r), np.asarray(t)


def _names(q):
    return [quality_names(int(b)) for b in np.asarray(q).ravel()]


def test_spectrum_quality_sets_each_input_bit_and_is_the_same_under_jit():
    nan = np.nan
    x = np.array([[0.10, 0.40, 0.30, 0.20],     # clean
                  [0.10, nan, 0.30, 0.20],      # missing band
                  [nan, nan, nan, nan],         # nothing valid
                  [-0.02, 0.40, 0.30, 0.20],    # slightly negative
                  [0.10, 0.40, 1.03, 0.20],     # slightly above one
                  [0.10, 0.40, -0.30, 0.20],    # out of range
                  [0.0, 0.0, 0.0, nan],         # all zero (and flat, missing)
                  [0.3001, 0.3004, 0.3, 0.3],   # flat
                  [10.0, 45.0, 30.0, 20.0],     # percent
                  [10.0, 450.0, 30.0, 20.0]])   # far out of range: not percent
    q = spectrum_quality(x)
    assert q.dtype == jnp.int32 and q.shape == (10,)
    assert _names(q) == [[], ["missing_bands"], ["no_valid_band"], ["negative"], ["above_one"], ["out_of_range"],
                         ["all_zero", "flat", "missing_bands"], ["flat"], ["out_of_range", "suspected_percent"],
                         ["out_of_range"]]
    np.testing.assert_array_equal(jax.jit(spectrum_quality)(jnp.asarray(x)), q)
    # masked bands are neither missing nor checked; two spectra side by side are checked one by one
    mask = np.array([True, False, True, True])
    assert _names(spectrum_quality(x[[1, 5]], mask))[0] == []
    both = np.concatenate([x[[0]], np.zeros((1, 4))], -1)
    assert _names(spectrum_quality(both))[0] == [] and "all_zero" in _names(spectrum_quality(both, n_spectra=2))[0]


def test_all_zero_and_out_of_range_rows_are_not_inverted_and_flagged(leaf):
    _, problem, r, t = leaf
    r2, t2 = r.copy(), t.copy()
    r2[1], t2[1] = 0.0, 0.0  # a missing spectrum written as zeros
    r2[2, 5] = -0.5
    r2[3, 7] = -0.01  # inverted, read with care
    res = invert(problem, r2, t2)
    status = np.asarray(res.status)
    assert status.tolist()[1:3] == [Status.INVALID_INPUT] * 2 and status[0] == status[3] == Status.CONVERGED
    q = np.asarray(res.quality)
    assert q[1] & Quality.ALL_ZERO and q[2] & Quality.OUT_OF_RANGE and q[3] & Quality.NEGATIVE
    assert not q[3] & NOT_INVERTED
    for name in ("chl", "car", "lma"):
        assert np.all(np.isnan(np.asarray(res.estimates[name])[1:3])) and np.all(np.isfinite(res.estimates[name][::3]))
    assert np.all(np.isnan(np.asarray(res.rmse)[1:3]))


def test_fractions_divided_by_100_pin_chl_at_its_bound(leaf):
    """What ``--percent`` on a fraction file does (issue 12: chl = 150 for every row, reported converged)."""
    _, problem, r, t = leaf
    res = invert(problem, r / 100, t / 100, percent_check=False)
    assert np.all(np.asarray(res.at_bound["chl"]))
    assert np.all(np.asarray(res.quality) & Quality.AT_BOUND)
    clean = invert(problem, r, t)
    assert not np.any(np.asarray(clean.quality) & Quality.AT_BOUND)
    assert not any(np.any(np.asarray(v)) for v in clean.at_bound.values())


def test_quality_under_jit_equals_eager(leaf):
    _, problem, r, t = leaf
    r2 = r.copy()
    r2[0, 3] = np.nan
    r2[2] = 0.0
    obs = np.concatenate([r2, t], -1)
    obs = jnp.asarray(obs * (1 + 0.02 * np.sin(np.arange(obs.shape[-1]) / 3.0)))  # a misfit the model cannot explain
    eager = invert(problem, obs, expected_rmse=1e-6)  # every fit is "poor" against a tiny expectation
    jitted = jax.jit(lambda o: invert(problem, o, expected_rmse=1e-6))(obs)
    np.testing.assert_array_equal(np.asarray(jitted.quality), np.asarray(eager.quality))
    names = _names(eager.quality)
    assert "missing_bands" in names[0] and "poor_fit" in names[1] and "all_zero" in names[2]


def test_percent_observations_raise_in_the_api(leaf):
    model, problem, r, t = leaf
    with pytest.raises(ValueError, match="look like percent; divide them by 100"):
        invert(problem, r * 100, t * 100)
    off = invert(problem, r * 100, t * 100, percent_check=False)  # not inverted, flagged
    assert np.all(np.asarray(off.quality) & Quality.SUSPECTED_PERCENT)
    assert np.all(np.asarray(off.status) == Status.INVALID_INPUT)
    with pytest.raises(ValueError, match="divide them by 100"):
        invert_spectra("prospect-d", GRID, reflectance=r * 100, transmittance=t * 100)
    srf = SpectralResponse(GRID.astype(float), np.eye(GRID.size), tuple(f"{w}" for w in GRID), "grid")
    geometry = {"sza": np.full(2, 30.0), "vza": np.zeros(2), "raa": np.zeros(2)}
    with pytest.raises(ValueError, match="divide them by 100"):
        invert_canopy(r[:2] * 100, geometry, srf)


def test_bad_arguments_are_one_line_value_errors_before_any_compute(leaf):
    model, problem, r, t = leaf
    srf = SpectralResponse(GRID.astype(float), np.eye(GRID.size), tuple(f"{w}" for w in GRID), "grid")
    geometry = {"sza": np.full(2, 30.0), "vza": np.zeros(2), "raa": np.zeros(2)}
    cases = [
        (lambda: make_problem(model, free=[]), "at least one parameter"),
        (lambda: make_problem(model, free=()), "at least one parameter"),
        (lambda: make_problem(model, free=["chl", "chl"]), "twice"),
        (lambda: make_problem(model, free=["chll"]), "no parameter"),
        (lambda: make_canopy_problem(srf, free=[]), "at least one parameter"),
        (lambda: make_canopy_problem(srf, free=["lia"]), "cannot estimate 'lia'"),
        (lambda: invert(problem, r, t, n_starts=0), "n_starts must be an integer >= 1"),
        (lambda: invert(problem, r, t, noise_std=0.0), "noise_std must be a finite number > 0"),
        (lambda: invert(problem, r, t, noise_std=np.nan), "noise_std must be a finite number > 0"),
        (lambda: invert(problem, r, t, expected_rmse=-1.0), "expected_rmse must be"),
        (lambda: invert(problem, r[:0], t[:0]), "empty batch"),
        (lambda: invert(problem, r[:3], t), "different shapes"),
        (lambda: invert(problem, r[:, :7], t[:, :7]), "bands"),
        (lambda: invert(problem, np.zeros((2, 7))), "observations have 7 bands"),
        (lambda: invert_spectra("prospect-d", GRID, reflectance=r, free=[]), "at least one parameter"),
        (lambda: invert_spectra("prospect-d", GRID, reflectance=r[:0]), "empty batch"),
        (lambda: invert_spectra("prospect-d", GRID, reflectance=r, n_starts=0), "n_starts"),
        (lambda: invert_spectra("prospect-d", GRID, reflectance=r[:, :5]), "expected"),
        (lambda: invert_canopy(r[:2], geometry, srf, free=()), "at least one parameter"),
        (lambda: invert_canopy(r[:0], {k: v[:0] for k, v in geometry.items()}, srf), "empty batch"),
        (lambda: invert_canopy(r[:2, :7], geometry, srf), "band reflectances"),
        (lambda: invert_canopy(r[:2], {"sza": np.full(2, 30.0)}, srf), "missing vza"),
    ]
    for call, needle in cases:
        with pytest.raises(ValueError, match=needle) as err:
            call()
        assert "\n" not in str(err.value) and len(str(err.value)) < 250, str(err.value)
    with pytest.raises(ValueError, match="n_starts must be an integer"):  # what invert does without type hooks
        check_options(n_starts=1.5)


@pytest.mark.slow
def test_wavelength_shift_is_flagged_and_noisy_correct_spectra_are_not():
    """200 spectra with 0.5 % noise on their own labels: < 1 % flagged; 20 spectra resampled 10 nm off their
    labels (``R(λ + 10)`` written at ``λ``): flagged.  The expected RMSE is that of the noise."""
    fine = np.arange(400, 2501, 1.0)
    _, r_fine, t_fine = simulate(lj.ProspectD(wavelengths=fine, dtype=jnp.float64), PRIOR, 200, jax.random.key(7))
    r_fine, t_fine = np.asarray(r_fine), np.asarray(t_fine)

    def labelled(x, shift):
        return np.stack([np.interp(SHIFT_GRID + shift, fine, row) for row in x])

    problem = make_problem(lj.ProspectD(wavelengths=SHIFT_GRID, dtype=jnp.float64), free=FREE, lut_size=500)
    r0, t0 = labelled(r_fine, 0.0), labelled(t_fine, 0.0)
    rng = np.random.default_rng(0)
    noisy = [x * (1 + 0.005 * rng.standard_normal(x.shape)) for x in (r0, t0)]
    expected = 0.005 * float(np.sqrt(np.mean(np.concatenate([r0, t0], -1) ** 2)))
    ok = np.asarray(invert(problem, *noisy, expected_rmse=expected).quality)
    assert np.mean(ok & Quality.SUSPECTED_WAVELENGTH_SHIFT > 0) < 0.01
    assert np.mean(ok & Quality.POOR_FIT > 0) < 0.02
    shifted = invert(problem, labelled(r_fine[:20], 10.0), labelled(t_fine[:20], 10.0), expected_rmse=expected)
    q = np.asarray(shifted.quality)
    assert np.mean(q & Quality.SUSPECTED_WAVELENGTH_SHIFT > 0) >= 0.9
    assert np.all(q & Quality.POOR_FIT)
