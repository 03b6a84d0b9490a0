r"""Crop classes of the Sentinel-1/2 scene simulator (:func:`~leafjax.simulation.simulate_s1s2_scenes`): their
phenology (double-logistic LAI, harvest, mowing), their leaf and canopy parameters, and their share of the parcels.

**Status of the numbers: assumed.**  They are order-of-magnitude values for the crops of central and eastern
Europe (44–57° N, the latitudes of the real sample's scenes: Kaliningrad, Latvia/Lithuania, Moldova/Romania),
written down from the usual crop calendars (sowing, emergence, peak and harvest months of winter and spring
cereals and grain maize; two or three cuts of meadows per season) and from the ranges of the crop PROSAIL priors
already in leafjax (Danner et al. 2021, :func:`~leafjax.simulation.crop_prior`; the S2 ATBD,
:func:`~leafjax.simulation.atbd_prior`).  They are not fitted to any data set; a study that needs another region
passes its own table.

Phenology of a parcel (days of year, DOY; :func:`~leafjax.simulation.crop_lai`):

.. math::
    \mathrm{LAI}(d) = \Big[L_0 + A\,s\!\left(\tfrac{d - d_{sos}}{r_{up}}\right)
                      \Big(1 - s\!\left(\tfrac{d - d_{eos}}{r_{down}}\right)\Big)\Big]\,(1 - h) + L_{res}\,h,
    \qquad h = s\!\left(\tfrac{d - d_{harvest}}{1\,\mathrm{d}}\right)

(:math:`s` the logistic function) times one regrowth factor per mowing date :math:`m_j`,
:math:`1 - (1 - f_{cut})\,s\big(\tfrac{d - m_j}{0.5\,\mathrm{d}}\big)\,e^{-\max(d - m_j, 0)/\tau_{regrow}}`.
A date of :data:`NEVER` (999) switches harvest or a cut off.

====================  ======  =====  ===========  ==============  ==============  ========  ===========  =======
class                 share   L0     A (sd)       sos DOY (sd)    eos DOY (sd)    harvest   cuts         radar
====================  ======  =====  ===========  ==============  ==============  ========  ===========  =======
``winter_cereal``     0.25    0.3    3.7 (1.0)    105 (10), 8 d   180 (8), 7 d    205 (8)   –            −1, −0.5
``spring_cereal``     0.15    0.15   2.8 (0.8)    140 (10), 7 d   205 (8), 6 d    225 (8)   –            −1, −0.5
``maize``             0.20    0.15   3.5 (0.9)    170 (10), 8 d   250 (10), 9 d   280 (12)  –            −0.5, −0.5
``grassland``         0.25    0.8    2.6 (0.7)    110 (10), 10 d  290 (10), 15 d  –         160/215/265  −0.5, 0
``bare_fallow``       0.12    0.2    0.5 (0.3)    135 (20), 10 d  250 (20), 10 d  –         –            0, 0
``water``             0.03    0.0    0.0          –               –               –         –            (water)
====================  ======  =====  ===========  ==============  ==============  ========  ===========  =======

After harvest the LAI is ``lai_residual`` = 0.2 (stubble, weeds, volunteers); before emergence spring crops keep
0.15 (weeds, residues): at 10 m a field is rarely bare, and the real sample's LAI product is above 0.12 on 95 % of
its valid pixels.  A cut leaves 15 % of the grass LAI, which regrows with a 12-day e-folding time.  "radar" is
``radar_offset_db`` (VH, VV dB in a dense canopy, weighted by :math:`s((\mathrm{LAI} - 3)/0.75)`): the real
sample's median backscatter *falls* above LAI 3 (docs/radar.md) where the LAI-only water-cloud model saturates,
and Sentinel-1 over cereals shows such a decrease as stems elongate (Veloso et al. 2017, Remote Sens. Environ.
199:415–426).  The signs follow that; the sizes are calibrated on the sample's per-LAI-class medians
(docs/s1s2_scenes.md), not measured per crop.

Leaf and canopy parameters per class (parcel means; the parcel's values jitter by the stated sd): chlorophyll
``chl`` (µg cm⁻²; carotenoids ``car = 0.25·chl``, the ATBD rule; ``chl`` falls by 60 % and brown pigments rise
to ``brown_senescent`` as the canopy senesces), Campbell mean leaf angle ``lidf_a`` (degrees), dry matter ``lma``
(g cm⁻²), relative water content ``cw_rel`` (``ewt = lma·cw/(1 − cw)``, g cm⁻²), leaf structure ``n_struct``,
``hotspot``, soil brightness (the soil dryness follows the soil moisture, see
:func:`~leafjax.simulation.soil_dryness_from_moisture`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: A harvest or mowing day of year that never comes (switches it off).
NEVER: float = 999.0
#: Width (days) of the harvest step and of the mowing drop (logistic scale).
HARVEST_WIDTH_DAYS: float = 1.0
MOWING_WIDTH_DAYS: float = 0.5
#: Fraction of the chlorophyll lost with full senescence (assumed).
SENESCENCE_CHL_LOSS: float = 0.6


@dataclasses.dataclass(frozen=True)
class CropClass:
    r"""One crop class of the scene simulator (module docstring; all values assumed).

    **Phenology** (days of year, DOY; LAI in m² m⁻²): ``lai_base`` L0, ``lai_amplitude`` A (mean, sd over
    parcels), ``sos`` / ``eos`` (DOY of half green-up and half senescence; mean, sd), ``rate_up`` /
    ``rate_down`` (logistic scales, days), ``harvest`` (mean DOY, sd; :data:`NEVER`: none), ``lai_residual``
    (LAI left after harvest), ``mowing`` (up to three cut DOYs, :data:`NEVER` = none), ``mowing_sd`` (days),
    ``cut_fraction`` (LAI fraction left by a cut), ``regrowth_days`` (e-folding of the regrowth).
    **Canopy:** ``chl`` (µg cm⁻²; mean, sd), ``lidf_a`` (degrees; mean, sd), ``lma`` (g cm⁻²), ``cw_rel``
    (–), ``n_struct`` (–), ``hotspot`` (–), ``brown_senescent`` (–, brown pigments at full senescence),
    ``soil_brightness`` (mean, sd).  **Radar:** ``radar_offset_db`` (VH, VV dB in a dense canopy, times
    :math:`s((\mathrm{LAI} - 3)/0.75)`: a crop-structure term the LAI-only water-cloud model lacks).  ``water``: the class is open water (no PROSAIL; SCL 6; fixed backscatter).
    ``share``: default fraction of the parcels.
    """

    name: str
    share: float
    lai_base: float = 0.0
    lai_amplitude: tuple[float, float] = (3.0, 0.8)
    sos: tuple[float, float] = (130.0, 10.0)
    rate_up: float = 8.0
    eos: tuple[float, float] = (220.0, 10.0)
    rate_down: float = 8.0
    harvest: tuple[float, float] = (NEVER, 0.0)
    lai_residual: float = 0.05
    mowing: tuple[float, float, float] = (NEVER, NEVER, NEVER)
    mowing_sd: float = 0.0
    cut_fraction: float = 0.15
    regrowth_days: float = 12.0
    chl: tuple[float, float] = (45.0, 8.0)
    lidf_a: tuple[float, float] = (60.0, 5.0)
    lma: float = 0.005
    cw_rel: float = 0.75
    n_struct: float = 1.5
    hotspot: float = 0.1
    brown_senescent: float = 0.8
    soil_brightness: tuple[float, float] = (1.0, 0.2)
    radar_offset_db: tuple[float, float] = (0.0, 0.0)
    water: bool = False

    def __post_init__(self):
        if not (self.share >= 0 and self.lai_base >= 0 and self.lai_amplitude[0] >= 0 and self.rate_up > 0
                and self.rate_down > 0 and self.regrowth_days > 0 and 0 <= self.cut_fraction <= 1
                and 0 < self.cw_rel < 1):
            raise ValueError(f"crop class {self.name!r}: need share, lai_base, lai_amplitude >= 0, positive rates "
                             f"and regrowth, cut_fraction in [0, 1] and cw_rel in (0, 1)")


#: The default class table (module docstring).  Values assumed, see there.
CROP_CLASSES: tuple[CropClass, ...] = (
    CropClass("winter_cereal", 0.25, lai_base=0.3, lai_amplitude=(3.7, 1.0), sos=(105.0, 10.0), rate_up=8.0,
              eos=(180.0, 8.0), rate_down=7.0, harvest=(205.0, 8.0), lai_residual=0.2, chl=(48.0, 8.0),
              lidf_a=(62.0, 5.0), radar_offset_db=(-1.0, -0.5)),
    CropClass("spring_cereal", 0.15, lai_base=0.15, lai_amplitude=(2.8, 0.8), sos=(140.0, 10.0), rate_up=7.0,
              eos=(205.0, 8.0), rate_down=6.0, harvest=(225.0, 8.0), lai_residual=0.2, chl=(45.0, 8.0),
              lidf_a=(60.0, 5.0), radar_offset_db=(-1.0, -0.5)),
    CropClass("maize", 0.20, lai_base=0.15, lai_amplitude=(3.5, 0.9), sos=(170.0, 10.0), rate_up=8.0,
              eos=(250.0, 10.0), rate_down=9.0, harvest=(280.0, 12.0), lai_residual=0.2, chl=(50.0, 8.0),
              lidf_a=(55.0, 5.0), lma=0.006, hotspot=0.2, radar_offset_db=(-0.5, -0.5)),
    CropClass("grassland", 0.25, lai_base=0.8, lai_amplitude=(2.6, 0.7), sos=(110.0, 10.0), rate_up=10.0,
              eos=(290.0, 10.0), rate_down=15.0, mowing=(160.0, 215.0, 265.0), mowing_sd=8.0, cut_fraction=0.15,
              regrowth_days=12.0, chl=(40.0, 8.0), lidf_a=(55.0, 5.0), lma=0.004, hotspot=0.05,
              radar_offset_db=(-0.5, 0.0)),
    CropClass("bare_fallow", 0.12, lai_base=0.2, lai_amplitude=(0.5, 0.3), sos=(135.0, 20.0), rate_up=10.0,
              eos=(250.0, 20.0), rate_down=10.0, chl=(30.0, 8.0), lidf_a=(50.0, 8.0), soil_brightness=(1.1, 0.25)),
    CropClass("water", 0.03, lai_amplitude=(0.0, 0.0), water=True),
)

#: Numeric per-class fields turned into ``(classes,)`` arrays by :func:`class_arrays` (pairs become ``_mean``,
#: ``_sd``; ``mowing`` becomes ``mowing_1..3``).
_PAIRS = ("lai_amplitude", "sos", "eos", "harvest", "chl", "lidf_a", "soil_brightness")
_SCALARS = ("share", "lai_base", "rate_up", "rate_down", "lai_residual", "mowing_sd", "cut_fraction",
            "regrowth_days", "lma", "cw_rel", "n_struct", "hotspot", "brown_senescent")


def class_arrays(classes: tuple[CropClass, ...]) -> dict[str, np.ndarray]:
    """The numeric fields of ``classes`` as ``{name: (classes,) float64}`` (``water`` as 0/1), the form the
    jitted simulator gathers per parcel."""
    if not classes:
        raise ValueError("need at least one crop class")
    out: dict[str, np.ndarray] = {}
    for f in _SCALARS:
        out[f] = np.array([getattr(c, f) for c in classes], np.float64)
    for f in _PAIRS:
        v = np.array([getattr(c, f) for c in classes], np.float64)
        out[f + "_mean"], out[f + "_sd"] = v[:, 0], v[:, 1]
    r = np.array([c.radar_offset_db for c in classes], np.float64)
    out["radar_offset_vh"], out["radar_offset_vv"] = r[:, 0], r[:, 1]
    m = np.array([c.mowing for c in classes], np.float64)
    for j in range(3):
        out[f"mowing_{j + 1}"] = m[:, j]
    out["water"] = np.array([float(c.water) for c in classes])
    if out["share"].sum() <= 0:
        raise ValueError("the crop-class shares must not all be zero")
    return out
