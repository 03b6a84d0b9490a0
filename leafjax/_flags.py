"""Names and meanings of the per-row status codes and quality flags (no JAX: read by ``--help`` and the docs).

Every inversion result carries a ``status`` (one code per row, :data:`STATUS_MEANINGS`) and a bit mask of
quality flags (:class:`Quality`, one bit per flag of :data:`QUALITY_MEANINGS`).  Archive outputs write the
status name in ``status`` and the flag names, sorted and ``;``-separated, in ``quality_flags``; the flag
``at_bound`` is written once per parameter as ``at_bound:<name>`` (e.g. ``at_bound:chl``).

Example:
    >>> quality_names(Quality.MISSING_BANDS | Quality.POOR_FIT)
    ['missing_bands', 'poor_fit']
    >>> STATUS_MEANINGS["converged"][:30]
    'the solver met its tolerances '
"""

from __future__ import annotations

import enum

#: ``{status name: meaning}`` in code order (0, 1, 2, 3); the names are those written in ``status`` columns.
STATUS_MEANINGS: dict[str, str] = {
    "converged": "the solver met its tolerances (relative cost decrease and step); read quality_flags before "
                 "trusting the estimate",
    "max_steps": "the iteration limit was reached first: the estimate is usable but not certified (raise "
                 "--max-steps)",
    "invalid_input": "the row was not inverted (no valid band, values out of range, all zero, or invalid "
                     "geometry/structure; see quality_flags); its estimates are NaN",
    "nonfinite": "the model or the cost became non-finite during the solve; the estimates are not usable",
}


class Quality(enum.IntFlag):
    """Quality flags of a row, as bits of an integer mask (``InversionResult.quality``).

    Input checks (made on the observed spectrum before any compute) and fit checks (made on the solution);
    the meaning of each flag is in :data:`QUALITY_MEANINGS`.
    """

    MISSING_BANDS = 1 << 0
    NO_VALID_BAND = 1 << 1
    OUT_OF_RANGE = 1 << 2
    NEGATIVE = 1 << 3
    ABOVE_ONE = 1 << 4
    ALL_ZERO = 1 << 5
    FLAT = 1 << 6
    SUSPECTED_PERCENT = 1 << 7
    INVALID_GEOMETRY = 1 << 8
    INVALID_STRUCTURE = 1 << 9
    NOT_CONVERGED = 1 << 10
    AT_BOUND = 1 << 11
    POOR_FIT = 1 << 12
    SUSPECTED_WAVELENGTH_SHIFT = 1 << 13
    OUT_OF_DOMAIN = 1 << 14
    NODATA = 1 << 15
    CLOUD = 1 << 16
    CLOUD_SHADOW = 1 << 17
    CIRRUS = 1 << 18
    SNOW = 1 << 19
    WATER = 1 << 20
    SATURATED = 1 << 21


#: Flags with which a row is not inverted (status ``invalid_input``, estimates NaN).
NOT_INVERTED: Quality = (Quality.NO_VALID_BAND | Quality.OUT_OF_RANGE | Quality.ALL_ZERO
                         | Quality.SUSPECTED_PERCENT | Quality.INVALID_GEOMETRY | Quality.INVALID_STRUCTURE)

#: Scene flags of a pixel (``leafjax map``) by Sentinel-2 scene-classification (SCL) class: 0 no data, 1
#: saturated or defective, 3 cloud shadow, 6 water, 8/9 cloud (medium/high probability), 10 thin cirrus,
#: 11 snow or ice (classes 2 dark area, 4 vegetation, 5 not vegetated, 7 unclassified set no flag).  Pixels whose
#: class is masked (default :data:`SCENE_MASK_CLASSES`) are not inverted (status ``invalid_input``, NaN);
#: pixels whose every band is nodata are ``nodata`` and never inverted.
SCL_FLAGS: dict[int, Quality] = {0: Quality.NODATA, 1: Quality.SATURATED, 3: Quality.CLOUD_SHADOW,
                                 6: Quality.WATER, 8: Quality.CLOUD, 9: Quality.CLOUD, 10: Quality.CIRRUS,
                                 11: Quality.SNOW}
#: SCL classes not inverted by default: nodata, saturated, shadow, cloud, cirrus, and also water and snow/ice
#: (PROSAIL models neither surface; pass ``--mask-classes 0,1,3,8,9,10`` to invert them, still flagged).
SCENE_MASK_CLASSES: tuple[int, ...] = (0, 1, 3, 6, 8, 9, 10, 11)

#: Accepted range of a reflectance/transmittance fraction: values outside are ``out_of_range``.
VALUE_RANGE: tuple[float, float] = (-0.05, 1.05)

#: ``{flag name: meaning}``, the names written in ``quality_flags`` columns (``at_bound`` as ``at_bound:<name>``).
QUALITY_MEANINGS: dict[str, str] = {
    "missing_bands": "some bands are NaN or empty: they are masked and the row is still inverted",
    "no_valid_band": "no band is finite: the row is not inverted",
    "out_of_range": "a value is below -0.05 or above 1.05 (not a fraction): the row is not inverted",
    "negative": "a value lies in [-0.05, 0) (noise or a calibration offset): inverted, read with care",
    "above_one": "a value lies in (1, 1.05] (noise or a calibration gain): inverted, read with care",
    "all_zero": "every finite band is 0 (a missing spectrum written as zeros): the row is not inverted",
    "flat": "the spectrum varies by less than 0.001 over its bands (no vegetation spectrum is flat): inverted, "
            "read with care",
    "suspected_percent": "values above 1.05 but at most 100: the spectrum looks like percent in a file read as "
                         "fractions (pass --percent / percent=True): the row is not inverted",
    "invalid_geometry": "a sun/view angle is missing or out of range: the row is not inverted",
    "invalid_structure": "a given structure/soil value is missing or out of range: the row is not inverted",
    "not_converged": "the iteration limit was reached (status max_steps)",
    "at_bound": "the estimate of this parameter lies at (within 0.1 % of the range of) an inversion bound: the "
                "data push it outside the model's range; not trustworthy",
    "poor_fit": "the fit's RMSE is more than 3 times the RMSE expected from the instrument and model: the model "
                "does not explain this spectrum (wrong units, wrong wavelengths, not a leaf/canopy)",
    "suspected_wavelength_shift": "most of the residual is explained by shifting the spectrum by 3 nm or more "
                                  "along the wavelength axis: check the wavelength columns",
    "out_of_domain": "an input (band reflectance or sun/view angle) or an estimate lies outside the range of the "
                     "simulations the retrieval was trained on (plus a margin): extrapolated, read with care",
    "nodata": "scene pixel without data (every band is the nodata value, SCL class 0 or an SCL value that is no "
              "class, or outside this scene in a time series): not inverted",
    "cloud": "scene pixel classified cloud (SCL 8 medium or 9 high probability): not inverted by default",
    "cloud_shadow": "scene pixel classified cloud shadow (SCL 3): not inverted by default",
    "cirrus": "scene pixel classified thin cirrus (SCL 10): not inverted by default",
    "snow": "scene pixel classified snow or ice (SCL 11): not inverted by default (no snow in PROSAIL)",
    "water": "scene pixel classified water (SCL 6): not inverted by default (no water surface in PROSAIL)",
    "saturated": "scene pixel saturated or defective (SCL 1): not inverted by default",
}


def quality_names(bits: int) -> list[str]:
    """The flag names (sorted) set in the integer mask ``bits`` (``at_bound`` without parameter names)."""
    return sorted(f.name.lower() for f in Quality if int(bits) & int(f))


def describe_codes() -> str:
    """A plain-text table of every status and quality flag with its meaning (for ``--help`` epilogs)."""
    lines = ["status:"] + [f"  {k:<28}{v}" for k, v in STATUS_MEANINGS.items()]
    lines += ["quality_flags (';'-separated):"] + [f"  {k:<28}{v}" for k, v in QUALITY_MEANINGS.items()]
    return "\n".join(lines)
