"""Named physical constants, trait metadata, units and bounds, each with its source.

Every trait known to leafjax is listed in :data:`TRAITS` with its canonical name, unit, the bounds used by the
reference PROSPECT implementation (Féret et al. 2019, R package ``prospect``; see also Spafford et al. 2021)
and a one-line description.  Units are those of the physical model; conversions happen only at I/O boundaries.
"""

from __future__ import annotations

import dataclasses
import math

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

# --- PROSPECT-PRO nitrogen -----------------------------------------------------------------------------------
#: Protein-to-nitrogen mass ratio (g protein per g N); Féret et al. 2021, RSE 252:112173, after Jones (1931).
PROTEIN_TO_NITROGEN: float = 4.43


@dataclasses.dataclass(frozen=True)
class TraitInfo:
    """Metadata of one model parameter / leaf trait.

    **Fields:** ``name`` (canonical), ``unit``, ``low``/``high`` (bounds of the reference implementation),
    ``description``.
    """

    name: str
    unit: str
    low: float
    high: float
    description: str


#: Canonical traits. Bounds: Féret et al. (R package ``prospect``, ``Invert_PROSPECT``), except N (see below);
#: nitrogen bounds are a plausibility range, not a model bound.
TRAITS: dict[str, TraitInfo] = {
    t.name: t
    for t in (
        # The reference implementation's inversion allows N >= 0.5, but for N < 1 Stokes' solution (N - 1 < 0
        # layers) has a pole where a·b^(N-1) = 1: in strongly absorbing bands transmittance turns negative or
        # infinite (seen in both leafjax and PyPI prosail 2.0.5 at N = 0.5 with high pigment contents).
        # leafjax therefore bounds N to [1, 4]; the equations still accept N < 1 if a user passes it.
        TraitInfo("n_struct", "-", 1.0, 4.0, "leaf structure parameter N (number of compact layers)"),
        TraitInfo("chl", "ug/cm2", 1e-4, 150.0, "chlorophyll a+b content"),
        TraitInfo("car", "ug/cm2", 1e-4, 25.0, "carotenoid content"),
        TraitInfo("ant", "ug/cm2", 0.0, 50.0, "anthocyanin content"),
        TraitInfo("brown", "-", 0.0, 4.0, "brown pigments (arbitrary units)"),
        TraitInfo("ewt", "g/cm2", 1e-8, 0.1, "equivalent water thickness"),
        TraitInfo("lma", "g/cm2", 1e-8, 0.06, "leaf mass per area (dry matter content)"),
        TraitInfo("prot", "g/cm2", 1e-7, 0.006, "protein content"),
        TraitInfo("cbc", "g/cm2", 1e-6, 0.054, "carbon-based constituents (cellulose, lignin, sugars, ...)"),
        TraitInfo("nitrogen", "% dry mass", 0.0, 15.0, "mass-based nitrogen concentration"),
        TraitInfo("nitrogen_area", "g/m2", 0.0, 15.0, "area-based nitrogen content"),
    )
}


def bounds(name: str) -> tuple[float, float]:
    """Return ``(low, high)`` of a canonical trait, in its canonical unit."""
    try:
        t = TRAITS[name]
    except KeyError:
        raise ValueError(f"unknown trait {name!r}; known: {', '.join(TRAITS)}") from None
    return t.low, t.high
