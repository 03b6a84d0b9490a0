"""Named physical constants, trait metadata, units and bounds, each with its source.

Every trait known to leafjax is listed in :data:`TRAITS` with its canonical name, unit, the bounds used by the
reference PROSPECT implementation (Féret et al. 2019, R package ``prospect``; see also Spafford et al. 2021)
and a one-line description; it is derived from the one parameter registry, :mod:`leafjax._parameters`.  Units are those of the physical model; conversions happen only at I/O boundaries.
"""

from __future__ import annotations

import dataclasses
import math

from . import _parameters

# --- spectral grid -------------------------------------------------------------------------------------------
#: First and last wavelength of the PROSPECT optical constants (nm), 1-nm step.
WAVELENGTH_MIN_NM: int = 400
WAVELENGTH_MAX_NM: int = 2500
#: Default simulation/inversion grid (nm): the range of most leaf spectrometers' useful signal.
DEFAULT_GRID_MIN_NM: int = 400
DEFAULT_GRID_MAX_NM: int = 2400

# --- plate model ---------------------------------------------------------------------------------------------
#: Solid angle of incidence used by PROSPECT for the first interface (degrees); Féret et al. 2008, RSE 112:3030.
INCIDENCE_ANGLE_DEG: float = 40.0
#: Normal-hemispherical angle for internal interfaces (degrees); Allen et al. 1969, JOSA 59:1376.
HEMISPHERICAL_ANGLE_DEG: float = 90.0

# --- mathematics ---------------------------------------------------------------------------------------------
#: Euler–Mascheroni constant (dimensionless).
EULER_GAMMA: float = 0.57721566490153286060651209008240243
DEG2RAD: float = math.pi / 180.0

# --- thermal infrared (CODATA 2018 exact SI values; WMO/ICAO standard gravity) -----------------------------------
#: Planck constant h (J s), speed of light in vacuum c (m/s), Boltzmann constant k (J/K): CODATA 2018, exact.
PLANCK_H: float = 6.62607015e-34
SPEED_OF_LIGHT: float = 299792458.0
BOLTZMANN_K: float = 1.380649e-23
#: First radiation constant for radiance per wavenumber, 2hc² (W m² sr⁻¹), and second radiation constant hc/k (m K).
PLANCK_C1: float = 2.0 * PLANCK_H * SPEED_OF_LIGHT**2
PLANCK_C2: float = PLANCK_H * SPEED_OF_LIGHT / BOLTZMANN_K
#: Avogadro constant (mol⁻¹, CODATA 2018 exact) and standard gravity (m s⁻², CGPM 1901).
AVOGADRO: float = 6.02214076e23
STANDARD_GRAVITY: float = 9.80665
#: Molar masses of dry air and water (g/mol; dry air: US Standard Atmosphere 1976; water: IUPAC).
MOLAR_MASS_DRY_AIR: float = 28.9644
MOLAR_MASS_WATER: float = 18.01528

# --- PROSPECT-PRO nitrogen -----------------------------------------------------------------------------------
#: Protein-to-nitrogen mass ratio (g protein per g N); Féret et al. 2021, RSE 252:112173, after Jones (1931).
PROTEIN_TO_NITROGEN: float = 4.43


@dataclasses.dataclass(frozen=True)
class TraitInfo:
    """Metadata of one model parameter / leaf trait (a view of :class:`leafjax._parameters.ParameterSpec`).

    **Fields:** ``name`` (canonical), ``unit``, ``low``/``high`` (inversion bounds of the reference
    implementation: the ``preset("prospect", "inversion")``), ``description``.
    """

    name: str
    unit: str
    low: float
    high: float
    description: str


def _traits() -> dict[str, TraitInfo]:
    table = _parameters.preset("prospect", "inversion")
    return {n: TraitInfo(n, s.unit, *table[n], s.meaning) for n, s in _parameters.specs("prospect").items()}


#: Canonical leaf traits (PROSPECT-D and -PRO parameters, then derived traits), derived from the parameter
#: registry (:mod:`leafjax._parameters`).  Bounds: the inversion preset of the reference PROSPECT code
#: (Féret et al., R package ``prospect``, ``Invert_PROSPECT``), except N bounded to [1, 4] (Stokes' solution has
#: a pole for N < 1); nitrogen bounds are a plausibility range, not a model bound.  The *physical* bounds
#: (what the forward model accepts, e.g. chl ≥ 0) are :func:`leafjax._parameters.physical_bounds`.
TRAITS: dict[str, TraitInfo] = _traits()


def bounds(name: str) -> tuple[float, float]:
    """Return the inversion bounds ``(low, high)`` of a canonical trait (:data:`TRAITS`), in its canonical unit."""
    try:
        t = TRAITS[name]
    except KeyError:
        raise ValueError(f"unknown trait {name!r}; known: {', '.join(TRAITS)}") from None
    return t.low, t.high
