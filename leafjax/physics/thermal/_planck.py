r"""Planck's law per wavenumber and per wavelength, and its analytic (monochromatic) inverse, the brightness
temperature.

Per wavenumber :math:`\tilde\nu` (cm⁻¹) and per wavelength :math:`\lambda` (µm):

.. math:: B_{\tilde\nu}(T) = \frac{c_{1\nu}\,\tilde\nu^3}{\exp(c_{2\nu}\tilde\nu/T) - 1},\qquad
          B_\lambda(T) = \frac{c_{1\lambda}\,\lambda^{-5}}{\exp(c_{2\lambda}/(\lambda T)) - 1},\qquad
          T_B = \frac{c_{2\nu}\tilde\nu}{\ln(1 + c_{1\nu}\tilde\nu^3/L)}

in W m⁻² sr⁻¹ (cm⁻¹)⁻¹ and W m⁻² sr⁻¹ µm⁻¹.  The constants follow from the first and second radiation constants
:math:`c_1 = 2hc^2` (W m² sr⁻¹) and :math:`c_2 = hc/k` (m K) of :mod:`leafjax._constants` (CODATA 2018, exact):
with :math:`\tilde\nu_{m^{-1}} = 100\,\tilde\nu` and a density per cm⁻¹ being 100 times one per m⁻¹,
:math:`c_{1\nu} = 10^8 c_1` and :math:`c_{2\nu} = 100\,c_2` (cm K); with :math:`\lambda_m = 10^{-6}\lambda` and a
density per µm being :math:`10^{-6}` times one per m, :math:`c_{1\lambda} = 10^{24} c_1` and
:math:`c_{2\lambda} = 10^6 c_2` (µm K).  The two forms are related by the Jacobian
:math:`B_\lambda = B_{\tilde\nu}\,|d\tilde\nu/d\lambda| = B_{\tilde\nu}\,\tilde\nu^2/10^4`.

``expm1``/``log1p`` keep the far-Wien and Rayleigh–Jeans limits accurate.  A radiance ≤ 0 has no brightness
temperature: the inverse returns NaN there (with a zero, not NaN, gradient), so it is safe inside ``jit``.

Dtypes: the result has the dtype of the temperature (or radiance) argument; the spectral position is cast to it
(a weakly typed Python scalar follows the other argument).  Broadcasting is numpy's, made explicit.

References: Planck (1901); CODATA 2018 (Tiesinga et al. 2021, Rev. Mod. Phys. 93:025010); the wavenumber form as
in e.g. Liou (2002), *An Introduction to Atmospheric Radiation*, §1.4.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ..._constants import PLANCK_C1, PLANCK_C2

#: First radiation constant per wavenumber, 2hc²·10⁸ (W m⁻² sr⁻¹ (cm⁻¹)⁻⁴), ν in cm⁻¹ (≈ 1.191042972e-8).
C1_WAVENUMBER: float = PLANCK_C1 * 1.0e8
#: Second radiation constant per wavenumber, hc/k·10² (cm K) (≈ 1.438776877).
C2_WAVENUMBER: float = PLANCK_C2 * 1.0e2
#: First radiation constant per wavelength, 2hc²·10²⁴ (W m⁻² sr⁻¹ µm⁴), λ in µm (≈ 1.191042972e8).
C1_WAVELENGTH: float = PLANCK_C1 * 1.0e24
#: Second radiation constant per wavelength, hc/k·10⁶ (µm K) (≈ 14387.76877).
C2_WAVELENGTH: float = PLANCK_C2 * 1.0e6
#: Wavelength (µm) times wavenumber (cm⁻¹): 1 cm = 10⁴ µm.
UM_CM1: float = 1.0e4


def _pair(position, value):
    """``position`` and ``value`` as float JAX arrays of one dtype, broadcast against each other.

    The value (temperature or radiance) sets the dtype unless it is a weakly typed scalar and the position is not.
    """
    x, v = jnp.asarray(position), jnp.asarray(value)
    x = x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))
    v = v if jnp.issubdtype(v.dtype, jnp.floating) else v.astype(x.dtype)
    if x.dtype != v.dtype:
        if v.weak_type and not x.weak_type:
            v = v.astype(x.dtype)
        else:
            x = x.astype(v.dtype)
    return jnp.broadcast_arrays(x, v)


def planck_wavenumber(nu_cm1: Float[ArrayLike, "..."], t_k: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""Blackbody spectral radiance per wavenumber, :math:`B_{\tilde\nu}(T)` (W m⁻² sr⁻¹ (cm⁻¹)⁻¹).

    **Arguments:** ``nu_cm1``: wavenumber (cm⁻¹, > 0); ``t_k``: temperature (K, > 0); any broadcastable shapes
    (e.g. ``(nu,)`` and ``(*batch, 1)``).

    **Returns:** the broadcast shape, in the dtype of ``t_k``.

    Example:
        >>> round(float(planck_wavenumber(1000.0, 300.0)), 5)
        0.09924
    """
    nu, t = _pair(nu_cm1, t_k)
    return C1_WAVENUMBER * nu**3 / jnp.expm1(C2_WAVENUMBER * nu / t)


def planck_wavelength(lam_um: Float[ArrayLike, "..."], t_k: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""Blackbody spectral radiance per wavelength, :math:`B_\lambda(T)` (W m⁻² sr⁻¹ µm⁻¹).

    **Arguments:** ``lam_um``: wavelength (µm, > 0); ``t_k``: temperature (K, > 0); broadcastable shapes.

    **Returns:** the broadcast shape, in the dtype of ``t_k``.

    Example:
        >>> round(float(planck_wavelength(10.0, 300.0)), 3)
        9.924
    """
    lam, t = _pair(lam_um, t_k)
    return C1_WAVELENGTH / (lam**5 * jnp.expm1(C2_WAVELENGTH / (lam * t)))


def _positive_log1p_inverse(c2x, c1x3, radiance):
    """``c2x / log1p(c1x3 / L)`` for ``L > 0``, NaN elsewhere (double ``where``: finite gradients)."""
    ok = radiance > 0
    safe = jnp.where(ok, radiance, jnp.ones_like(radiance))
    return jnp.where(ok, c2x / jnp.log1p(c1x3 / safe), jnp.full_like(radiance, jnp.nan))


def brightness_temperature_wavenumber(nu_cm1: Float[ArrayLike, "..."],
                                      radiance: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""Monochromatic brightness temperature (K) of a radiance per wavenumber, the exact inverse of
    :func:`planck_wavenumber`: :math:`T_B = c_{2\nu}\tilde\nu / \ln(1 + c_{1\nu}\tilde\nu^3/L)`.

    **Arguments:** ``nu_cm1``: wavenumber (cm⁻¹); ``radiance``: W m⁻² sr⁻¹ (cm⁻¹)⁻¹; broadcastable shapes.

    **Returns:** the broadcast shape (dtype of ``radiance``); NaN where ``radiance ≤ 0``.

    Example:
        >>> round(float(brightness_temperature_wavenumber(1000.0, planck_wavenumber(1000.0, 285.0))), 9)
        285.0
    """
    nu, rad = _pair(nu_cm1, radiance)
    return _positive_log1p_inverse(C2_WAVENUMBER * nu, C1_WAVENUMBER * nu**3, rad)


def brightness_temperature_wavelength(lam_um: Float[ArrayLike, "..."],
                                      radiance: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""Monochromatic brightness temperature (K) of a radiance per wavelength, the exact inverse of
    :func:`planck_wavelength`: :math:`T_B = c_{2\lambda}/(\lambda\,\ln(1 + c_{1\lambda}\lambda^{-5}/L))`.

    **Arguments:** ``lam_um``: wavelength (µm); ``radiance``: W m⁻² sr⁻¹ µm⁻¹; broadcastable shapes.

    **Returns:** the broadcast shape (dtype of ``radiance``); NaN where ``radiance ≤ 0``.
    """
    lam, rad = _pair(lam_um, radiance)
    return _positive_log1p_inverse(C2_WAVELENGTH / lam, C1_WAVELENGTH / lam**5, rad)


def planck_wavenumber_derivatives(nu_cm1: Float[ArrayLike, "..."], t_k: Float[ArrayLike, "..."]):
    r""":math:`B_{\tilde\nu}(T)` with its analytic partial derivatives (for Newton steps and implicit gradients).

    .. math:: \frac{\partial B}{\partial T} = B\,\frac{x}{T}\,\frac{e^x}{e^x - 1},\qquad
              \frac{\partial B}{\partial\tilde\nu} = B\left(\frac{3}{\tilde\nu} - \frac{c_{2\nu}}{T}
              \frac{e^x}{e^x - 1}\right),\qquad x = \frac{c_{2\nu}\tilde\nu}{T}

    **Returns:** ``(B, dB/dT, dB/dν)`` in W m⁻² sr⁻¹ (cm⁻¹)⁻¹, per K and per cm⁻¹; broadcast shape.
    """
    nu, t = _pair(nu_cm1, t_k)
    x = C2_WAVENUMBER * nu / t
    em1 = jnp.expm1(x)
    b = C1_WAVENUMBER * nu**3 / em1
    ratio = (em1 + 1.0) / em1  # e^x / (e^x − 1)
    return b, b * ratio * x / t, b * (3.0 / nu - ratio * C2_WAVENUMBER / t)
