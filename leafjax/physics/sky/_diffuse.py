r"""Clear-sky diffuse fraction of the downwelling spectral irradiance (Bird & Riordan 1986), in JAX.

The SPCTRAL2 model of Bird & Riordan (1986) gives the direct and the diffuse spectral irradiance on a horizontal
surface.  Writing :math:`E_0` the extraterrestrial irradiance, :math:`\theta` the solar zenith, :math:`M` the
air mass and :math:`T_o T_w T_u` the ozone, water-vapour and mixed-gas transmittances,

.. math::
   E_{dir} &= E_0\cos\theta\;T_o T_w T_u\;T_r T_a, \\
   E_{dif} &= E_0\cos\theta\;T_o T_w T_u\;T_{aa}\,C_s\left[\tfrac12\left(1 - T_r^{0.95}\right)
              + T_r^{1.5}\left(1 - T_{as}\right) F_s\right],

so the diffuse fraction :math:`D = E_{dif} / (E_{dir} + E_{dif})` does not depend on :math:`E_0`,
:math:`\cos\theta` nor on the gaseous absorptions (they multiply both terms at the same air mass and cancel in
the ratio; ozone and water vapour therefore need not be given).  Here

- :math:`T_r = e^{-\tau_r M P/P_0}`: Rayleigh transmittance, optical depth :math:`\tau_r(\lambda)` of
  Bodhaine et al. (1999, eq. 30; sea level, :math:`P_0` = 1013.25 hPa) scaled by the pressure :math:`P`;
- :math:`\tau_a = \tau_{550}(\lambda/550\,\mathrm{nm})^{-\alpha}` (Ångström); :math:`T_a = e^{-\tau_a M}`,
  :math:`T_{as} = e^{-\omega\tau_a M}` (scattering), :math:`T_{aa} = e^{-(1-\omega)\tau_a M}` (absorption),
  single-scattering albedo :math:`\omega(\lambda) = \omega_{0.4}\,e^{-\omega'\ln^2(\lambda/0.4\,\mu m)}`;
- :math:`F_s = 1 - \tfrac12 e^{(A_{FS} + B_{FS}\cos\theta)\cos\theta}`: forward-scattered fraction of the
  aerosol scattering from the asymmetry factor :math:`g` (:math:`A_{FS}, B_{FS}` cubic in :math:`\ln(1-g)`);
- :math:`C_s = (\lambda + 0.55)^{1.8}` (λ in µm) below 450 nm, 1 above: Bird & Riordan's empirical correction;
- :math:`M` the relative air mass of Kasten & Young (1989).

The ground–sky multiple reflection term of SPCTRAL2 (:math:`I_g`, which needs the ground albedo) is left out:
the sky light is the one reaching a black surface, the boundary condition of 4SAIL.

References:
    Bird, R.E., Riordan, C. (1986) Simple solar spectral model for direct and diffuse irradiance on horizontal
    and tilted planes at the Earth's surface for cloudless atmospheres, J. Climate Appl. Meteor. 25:87–97,
    doi:10.1175/1520-0450(1986)025<0087:SSSMFD>2.0.CO;2.
    Bodhaine, B.A., Wood, N.B., Dutton, E.G., Slusser, J.R. (1999) On Rayleigh optical depth calculations,
    J. Atmos. Oceanic Technol. 16:1854–1861, doi:10.1175/1520-0426(1999)016<1854:ORODC>2.0.CO;2.
    Kasten, F., Young, A.T. (1989) Revised optical air mass tables and approximation formula, Appl. Opt.
    28:4735–4738, doi:10.1364/AO.28.004735.
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..._constants import DEG2RAD

#: Defaults of Bird & Riordan (1986): ω at 0.4 µm, its wavelength decay ω′ and the asymmetry factor g (rural
#: aerosol); Ångström exponent 1.3 (continental); AOT at 550 nm 0.1 (clear sky); standard sea-level pressure.
SSA_400: float = 0.945
SSA_DECAY: float = 0.095
ASYMMETRY: float = 0.65
ANGSTROM: float = 1.3
AOT550: float = 0.1
PRESSURE_HPA: float = 1013.25
#: Wavelength range (nm) of the Rayleigh fit of Bodhaine et al. (1999) used here.
WAVELENGTH_RANGE_NM: tuple[float, float] = (250.0, 4000.0)


def air_mass(sza: Float[ArrayLike, "*b"]) -> Float[Array, "*b"]:
    r"""Relative optical air mass of Kasten & Young (1989),
    :math:`M = 1/\left[\cos\theta + 0.50572\,(96.07995 - \theta)^{-1.6364}\right]`, θ in degrees (clipped to
    [0, 90]; M(0) ≈ 1, M(90) ≈ 38)."""
    z = jnp.clip(jnp.asarray(sza), 0.0, 90.0)
    return 1.0 / (jnp.cos(z * DEG2RAD) + 0.50572 * (96.07995 - z) ** -1.6364)


def rayleigh_optical_depth(wavelengths_nm: Float[ArrayLike, "*wl"], pressure_hpa=PRESSURE_HPA
                           ) -> Float[Array, "*wl"]:
    r"""Rayleigh optical depth of the atmosphere (dimensionless), Bodhaine et al. (1999, eq. 30) for a standard
    atmosphere at sea level scaled by ``pressure_hpa / 1013.25``:

    .. math:: \tau_r = 0.0021520\,\frac{1.0455996 - 341.29061\lambda^{-2} - 0.90230850\lambda^2}
                                      {1 + 0.0027059889\lambda^{-2} - 85.968563\lambda^2}\quad(\lambda\ \mu m)

    (0.0973 at 550 nm)."""
    lam2 = (jnp.asarray(wavelengths_nm) * 1e-3) ** 2
    tau = 0.0021520 * (1.0455996 - 341.29061 / lam2 - 0.90230850 * lam2) / (1.0 + 0.0027059889 / lam2
                                                                          - 85.968563 * lam2)
    return tau * (pressure_hpa / PRESSURE_HPA)


def _forward_fraction(cos_z: Array, asymmetry: float) -> Array:
    """Bird & Riordan's forward-scattered fraction F_s of the aerosol scattering at solar zenith cosine ``cos_z``."""
    alg = math.log(1.0 - asymmetry)
    afs = alg * (1.459 + alg * (0.1595 + alg * 0.4129))
    bfs = alg * (0.0783 + alg * (-0.3824 - alg * 0.5874))
    return 1.0 - 0.5 * jnp.exp((afs + bfs * cos_z) * cos_z)


def _float_dtype(*xs):
    """The dtype of the first floating array among ``xs`` (Python scalars are weak), else the default float."""
    for x in xs:
        if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating):
            return x.dtype
    return jnp.result_type(float)


def _scalar_or_array(v):
    """Keep Python scalars weakly typed (they take the dtype of the spectra); anything else becomes an array."""
    return v if isinstance(v, (int, float)) else jnp.asarray(v)


def _concrete(x) -> np.ndarray | None:
    """``x`` as a NumPy array when it is not being traced, else ``None`` (validation is skipped under tracing)."""
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x)):
        return None
    return np.asarray(x, dtype=np.float64)


def _validate(wavelengths_nm, aot550, angstrom, ssa, pressure_hpa, asymmetry) -> None:
    wl = _concrete(wavelengths_nm)
    lo, hi = WAVELENGTH_RANGE_NM
    if wl is not None and (not np.all(np.isfinite(wl)) or np.any(wl < lo) or np.any(wl > hi)):
        raise ValueError(f"wavelengths_nm must lie in [{lo:g}, {hi:g}] nm (got {np.nanmin(wl):g}–"
                         f"{np.nanmax(wl):g}); are they in µm?")
    for name, value, ok, rule in (("aot550", aot550, lambda v: v >= 0, ">= 0"),
                                  ("angstrom", angstrom, np.isfinite, "finite"),
                                  ("ssa", ssa, lambda v: (v > 0) & (v <= 1), "in (0, 1]"),
                                  ("pressure_hpa", pressure_hpa, lambda v: v >= 0, ">= 0")):
        v = _concrete(value)
        if v is not None and not np.all(np.isfinite(v) & ok(v)):
            raise ValueError(f"{name} must be {rule}, got {value}")
    if not 0.0 <= asymmetry < 1.0:
        raise ValueError(f"asymmetry must lie in [0, 1), got {asymmetry}")


def diffuse_fraction(wavelengths_nm: Float[ArrayLike, "wl"], sza: Float[ArrayLike, "..."], *,
                     aot550: Float[ArrayLike, "..."] = AOT550, angstrom: Float[ArrayLike, "..."] = ANGSTROM,
                     ssa: Float[ArrayLike, "..."] = SSA_400, pressure_hpa: Float[ArrayLike, "..."] = PRESSURE_HPA,
                     asymmetry: float = ASYMMETRY, ssa_decay: float = SSA_DECAY, blue_correction: bool = True
                     ) -> Float[Array, "... wl"]:
    r"""Fraction :math:`D` of the clear-sky downwelling spectral irradiance on a horizontal surface that is diffuse
    sky light (Bird & Riordan 1986; see the module docstring for the equations).

    **Arguments:**
    - ``wavelengths_nm``: ``(wl,)`` in nm, within :data:`WAVELENGTH_RANGE_NM`.
    - ``sza``: solar zenith angle (degrees; clipped to [0, 90]), shape ``(*b,)`` (scalar: ``()``).
    - ``aot550``: aerosol optical thickness at 550 nm (≥ 0); ``angstrom``: Ångström exponent α;
      ``ssa``: aerosol single-scattering albedo at 400 nm (ω₀.₄, in (0, 1]); ``pressure_hpa``: surface pressure
      (hPa; scales the Rayleigh optical depth).  Each broadcasts with ``sza``.
    - ``asymmetry``: aerosol asymmetry factor *g* (static, in [0, 1)); ``ssa_decay``: ω′ of
      :math:`\omega(\lambda)` (static); ``blue_correction``: apply :math:`C_s` below 450 nm (static).

    **Returns:** :math:`D \in [0, 1)` (rounds to 1 where the direct beam is extinguished, e.g. at the horizon
    in thick haze), shape ``(*b, wl)`` (the broadcast of ``sza`` and the aerosol parameters,
    then wavelength).  ``D = 0`` without aerosol and Rayleigh scattering (``aot550 = pressure_hpa = 0``); it
    grows with the zenith angle and towards the blue.  Pure, jit/vmap/grad-able in every array argument.

    Raises:
        ValueError: (concrete inputs only) for wavelengths outside the valid range or parameters out of range.

    Example:
        >>> d = diffuse_fraction(jnp.asarray([450.0, 650.0, 865.0, 1610.0]), 40.0)
        >>> [round(float(v), 3) for v in d]
        [0.241, 0.107, 0.063, 0.022]
    """
    _validate(wavelengths_nm, aot550, angstrom, ssa, pressure_hpa, asymmetry)
    args = (sza, aot550, angstrom, ssa, pressure_hpa)
    dt = _float_dtype(wavelengths_nm, *args)
    batch = jnp.broadcast_shapes(*(jnp.shape(v) for v in args))
    cast = [jnp.broadcast_to(jnp.asarray(v, dt), batch) for v in args]
    return _diffuse(jnp.asarray(wavelengths_nm, dt), *cast, asymmetry=float(asymmetry), ssa_decay=float(ssa_decay),
                    blue_correction=bool(blue_correction))


@functools.partial(jax.jit, static_argnames=("asymmetry", "ssa_decay", "blue_correction"))
def _diffuse(wl, sza, aot550, angstrom, ssa, pressure_hpa, *, asymmetry: float, ssa_decay: float,
             blue_correction: bool):
    """:func:`diffuse_fraction` on validated inputs of one dtype, each of the batch shape (one compiled program
    per shape: eager calls reuse it)."""
    e = lambda v: v[..., None]  # noqa: E731  (*b,) -> (*b, 1)
    wl = wl.reshape((1,) * sza.ndim + (-1,))
    z = jnp.clip(e(sza), 0.0, 90.0)
    m = air_mass(z)
    lam_um = wl * 1e-3
    t_r = jnp.exp(-rayleigh_optical_depth(wl) * (e(pressure_hpa) / PRESSURE_HPA) * m)
    tau_a = e(aot550) * (wl / 550.0) ** -e(angstrom)
    omega = e(ssa) * jnp.exp(-ssa_decay * jnp.log(lam_um / 0.4) ** 2)
    t_a = jnp.exp(-tau_a * m)
    t_as = jnp.exp(-omega * tau_a * m)
    t_aa = jnp.exp(-(1.0 - omega) * tau_a * m)
    f_s = _forward_fraction(jnp.cos(z * DEG2RAD), asymmetry)
    diffuse = t_aa * (0.5 * (1.0 - t_r**0.95) + t_r**1.5 * (1.0 - t_as) * f_s)
    if blue_correction:
        diffuse = diffuse * jnp.where(lam_um <= 0.45, (lam_um + 0.55) ** 1.8, 1.0)
    return diffuse / (t_r * t_a + diffuse)


class SkyIllumination(eqx.Module):
    """Clear-sky illumination as a pytree (final): :func:`diffuse_fraction` with its atmosphere carried along.

    **Fields:** ``aot550`` (AOT at 550 nm, ≥ 0), ``angstrom`` (Ångström exponent), ``ssa`` (aerosol single-
    scattering albedo at 400 nm), ``pressure_hpa`` (surface pressure, hPa): arrays or floats that broadcast with
    the solar zenith; ``asymmetry`` (aerosol *g*, static).

    Example:
        >>> sky = SkyIllumination(aot550=0.2)
        >>> sky(jnp.asarray([450.0, 865.0]), jnp.asarray([20.0, 60.0])).shape
        (2, 2)
    """

    aot550: Float[Array, "..."] | float = eqx.field(converter=_scalar_or_array, default=AOT550)
    angstrom: Float[Array, "..."] | float = eqx.field(converter=_scalar_or_array, default=ANGSTROM)
    ssa: Float[Array, "..."] | float = eqx.field(converter=_scalar_or_array, default=SSA_400)
    pressure_hpa: Float[Array, "..."] | float = eqx.field(converter=_scalar_or_array, default=PRESSURE_HPA)
    asymmetry: float = eqx.field(static=True, default=ASYMMETRY)

    def __call__(self, wavelengths_nm: Float[ArrayLike, "wl"], sza: Float[ArrayLike, "..."]
                 ) -> Float[Array, "... wl"]:
        """Diffuse fraction ``(*b, wl)`` at solar zenith ``sza`` (degrees) on the grid ``wavelengths_nm``."""
        return diffuse_fraction(wavelengths_nm, sza, aot550=self.aot550, angstrom=self.angstrom, ssa=self.ssa,
                                pressure_hpa=self.pressure_hpa, asymmetry=self.asymmetry)
