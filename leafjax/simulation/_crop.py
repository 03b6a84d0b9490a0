r"""A crop-specific PROSAIL prior: the parameter ranges of Danner et al. (2021) for agricultural crops, as used
by the published winter-wheat look-up-table retrieval of Graf et al. (2023).

Independent marginals (truncated Gaussians where the source gives a mode and a standard deviation, uniform
otherwise), canonical names and units:

===================  =================  ==========================  =================
name                 range              distribution                unit
===================  =================  ==========================  =================
``n_struct``         1.0 – 2.5          truncated N(1.5, 0.2²)      –
``chl``              0 – 80             truncated N(50, 40²)        µg/cm²
``car``              0 – 15             uniform                     µg/cm²
``ant``              0 – 5              truncated N(2, 0.8²)        µg/cm²
``brown``            0 – 1              uniform                     –
``ewt``              0 – 0.07           truncated N(0.04, 0.02²)    g/cm²
``lma``              0 – 0.01           uniform                     g/cm²
``lai``              0 – 8              uniform (``lai`` range)     m²/m²
``lidf_a``           30 – 70            uniform                     degrees (Campbell)
``hotspot``          0.01 – 0.5         uniform                     –
``soil_brightness``  0 – 1              uniform                     –
``soil_dryness``     0 – 1              uniform                     fraction
===================  =================  ==========================  =================

The source's carotenoid entry names a Gaussian without mode or width; it is taken as uniform here.  Graf et al.
(2023) also narrow the ``lai`` range by phenological macro-stage (germination–end of tillering 0–2, stem
elongation–end of heading 0.5–6.5, flowering–senescence 0.3–8); pass ``lai=`` to apply such a constraint.

References:
    Danner, M., Berger, K., Wocher, M., Mauser, W., Hank, T. (2021) Efficient RTM-based training of machine
    learning regression algorithms to quantify biophysical & biochemical traits of agricultural crops. ISPRS J.
    Photogramm. Remote Sens. 173:278–296, doi:10.1016/j.isprsjprs.2021.01.017.
    Graf, L. V., Merz, Q. N., Walter, A., Aasen, H. (2023) Insights from field phenotyping improve satellite
    remote sensing based in-season estimation of winter wheat growth and phenology. Remote Sens. Environ.
    299:113860, doi:10.1016/j.rse.2023.113860 (parameter files ``src/lut_params/prosail_danner-etal_*.csv`` of
    github.com/EOA-team/sentinel2_crop_traits).
"""

from __future__ import annotations

from ._priors import Fixed, Prior, TruncatedNormal, Uniform

#: Phenological macro-stage → ``lai`` range (m²/m²) of Graf et al. (2023).
CROP_STAGE_LAI: dict[str, tuple[float, float]] = {
    "germination-endoftillering": (0.0, 2.0),
    "stemelongation-endofheading": (0.5, 6.5),
    "flowering-senescence": (0.3, 8.0),
    "all": (0.0, 8.0),
}


def crop_prior(*, lai: tuple[float, float] | str = "all", sza=None, vza=None, raa=None) -> Prior:
    """The crop prior of the module table (Danner et al. 2021, as in Graf et al. 2023).

    **Arguments:** ``lai``: ``(low, high)`` in m²/m² or a stage name of :data:`CROP_STAGE_LAI`; ``sza``,
    ``vza``, ``raa``: optional ``(low, high)`` ranges (degrees) or a single value for the geometry (absent:
    the geometry is not part of the prior; pass it per scene).

    Example:
        >>> p = crop_prior(lai="germination-endoftillering")
        >>> p.marginals["lai"].support()
        (0.0, 2.0)
    """
    if isinstance(lai, str):
        if lai not in CROP_STAGE_LAI:
            raise ValueError(f"unknown crop stage {lai!r}; choose one of {', '.join(CROP_STAGE_LAI)}")
        lai = CROP_STAGE_LAI[lai]
    lo, hi = (float(x) for x in lai)
    if not 0.0 <= lo < hi <= 15.0:
        raise ValueError(f"lai range must satisfy 0 <= low < high <= 15, got {lai!r}")
    marginals = {
        "n_struct": TruncatedNormal(1.5, 0.2, 1.0, 2.5),
        "chl": TruncatedNormal(50.0, 40.0, 0.0, 80.0),
        "car": Uniform(0.0, 15.0),
        "ant": TruncatedNormal(2.0, 0.8, 0.0, 5.0),
        "brown": Uniform(0.0, 1.0),
        "ewt": TruncatedNormal(0.04, 0.02, 0.0, 0.07),
        "lma": Uniform(0.0, 0.01),
        "lai": Uniform(lo, hi),
        "lidf_a": Uniform(30.0, 70.0),
        "lidf_b": Fixed(0.0),
        "hotspot": Uniform(0.01, 0.5),
        "soil_brightness": Uniform(0.0, 1.0),
        "soil_dryness": Uniform(0.0, 1.0),
    }
    for name, value in (("sza", sza), ("vza", vza), ("raa", raa)):
        if value is None:
            continue
        if isinstance(value, (int, float)):
            marginals[name] = Fixed(float(value))
        else:
            a, b = (float(x) for x in value)
            marginals[name] = Fixed(a) if a == b else Uniform(a, b)
    return Prior(marginals)
