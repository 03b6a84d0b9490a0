r"""Top-of-atmosphere (TOA) thermal radiance of a Lambertian-emitting surface under a clear-sky atmosphere, and
its band brightness temperatures.

.. math:: L_{TOA}(\tilde\nu) = \tau(\tilde\nu)\left[\varepsilon(\tilde\nu) B(\tilde\nu, T_s)
          + (1 - \varepsilon(\tilde\nu)) L^\downarrow(\tilde\nu)\right] + L^\uparrow(\tilde\nu)

with the surface-to-sensor transmittance :math:`\tau` and upwelling path radiance :math:`L^\uparrow` along the
view direction, and :math:`L^\downarrow = F^\downarrow/\pi` the hemispherically averaged downwelling sky radiance
(so that the reflected term of a Lambertian surface of reflectance :math:`1 - \varepsilon` is
:math:`(1 - \varepsilon)L^\downarrow`; Kirchhoff's law for an opaque surface).  Radiances per wavenumber,
W m⁻² sr⁻¹ (cm⁻¹)⁻¹.  The band brightness temperature averages :math:`L_{TOA}` over the band response first and
then inverts the band Planck function (:func:`~leafjax.physics.thermal.band_brightness_temperature`), as a sensor
does.  Reference: e.g. Li et al. (2013), "Satellite-derived land surface temperature: current status and
perspectives", Remote Sens. Environ. 131:14–37, eq. 1.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ...spectral import SpectralResponse
from ._bands import band_brightness_temperature, band_radiance
from ._planck import planck_wavenumber


def _concrete(x) -> np.ndarray | None:
    """``x`` as a numpy array, or None inside a trace."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x)
    except (TypeError, jax.errors.TracerArrayConversionError):
        return None


class AtmosphericTerms(eqx.Module):
    r"""Spectral atmospheric terms of the TOA radiance, on one wavenumber grid.

    **Fields:**
    - ``wavenumber``: ``(nu,)`` grid (cm⁻¹).
    - ``transmittance``: surface-to-sensor transmittance along the view path, ``(*batch, nu)``, in [0, 1].
    - ``path_radiance``: upwelling atmospheric path radiance at the view angle, :math:`L^\uparrow`,
      ``(*batch, nu)`` (W m⁻² sr⁻¹ (cm⁻¹)⁻¹).
    - ``downwelling``: hemispheric-mean downwelling sky radiance at the surface,
      :math:`L^\downarrow = F^\downarrow/\pi`, ``(*batch, nu)`` (W m⁻² sr⁻¹ (cm⁻¹)⁻¹).

    A pytree: differentiable in every field, indexable over the batch (``terms[idx]``) and vmappable.
    """

    wavenumber: Float[Array, "nu"]
    transmittance: Float[Array, "*batch nu"]
    path_radiance: Float[Array, "*batch nu"]
    downwelling: Float[Array, "*batch nu"]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.transmittance.shape[:-1])

    def __getitem__(self, idx) -> "AtmosphericTerms":
        """The terms of a batch subset (``idx`` indexes the leading batch axes; the grid is kept)."""
        return AtmosphericTerms(self.wavenumber, self.transmittance[idx], self.path_radiance[idx],
                                self.downwelling[idx])

    def validate(self, emissivity: Float[ArrayLike, "..."] | None = None,
                 t_surface: Float[ArrayLike, "..."] | None = None) -> "AtmosphericTerms":
        """Check shapes and physical ranges on concrete inputs (not inside ``jit``); returns ``self``.

        Checks: one grid length everywhere, a positive strictly monotonic grid, finite values, transmittance in
        [0, 1], radiances ≥ 0; optionally an emissivity (``(nu,)`` or ``(*batch, nu)``) in [0, 1] and surface
        temperatures (K) finite and positive.

        Raises:
            ValueError: one line naming the first failed check.
        """
        nu = np.asarray(self.wavenumber)
        fields = {"transmittance": self.transmittance, "path_radiance": self.path_radiance,
                  "downwelling": self.downwelling}
        d = np.diff(nu)
        if nu.ndim != 1 or nu.size < 1 or np.any(nu <= 0) or not (np.all(d > 0) or np.all(d < 0)):
            raise ValueError("wavenumber must be a positive, strictly monotonic 1-D grid (cm-1)")
        shapes = {k: np.shape(v) for k, v in fields.items()}
        if len(set(shapes.values())) != 1 or shapes["transmittance"][-1:] != nu.shape:
            raise ValueError(f"terms must share one shape (*batch, {nu.size}), got {shapes}")
        for key, value in fields.items():
            v = np.asarray(value)
            if not np.all(np.isfinite(v)):
                raise ValueError(f"{key} has non-finite values")
            if np.any(v < 0) or (key == "transmittance" and np.any(v > 1)):
                raise ValueError(f"{key} out of range ({'[0, 1]' if key == 'transmittance' else '≥ 0'})")
        if emissivity is not None:
            e = np.asarray(emissivity)
            if e.shape[-1:] != nu.shape:
                raise ValueError(f"emissivity needs a last axis of {nu.size} wavenumbers, got shape {e.shape}")
            if not np.all(np.isfinite(e)) or np.any(e < 0) or np.any(e > 1):
                raise ValueError("emissivity must lie in [0, 1]")
        if t_surface is not None:
            t = np.asarray(t_surface)
            if not np.all(np.isfinite(t)) or np.any(t <= 0):
                raise ValueError("t_surface must be finite and positive (K)")
        return self

    def band_average(self, srf: SpectralResponse) -> "AtmosphericTerms":
        """The response-weighted band means of the three terms, ``(*batch, band)`` each, as terms on the band
        "grid" ``srf.centres`` (response-weighted mean wavenumbers, cm⁻¹).

        For band-level models (split-window simulations, band-level inversions).  The band-level TOA radiance
        :math:`\\bar\\tau[\\bar\\varepsilon B_b(T_s) + (1-\\bar\\varepsilon)\\bar L^\\downarrow] + \\bar L^\\uparrow`
        built from them (with :func:`~leafjax.physics.thermal.band_planck`) is an approximation of the exact
        band average of the spectral TOA radiance, :func:`toa_brightness_temperature`.

        Raises:
            ValueError: if the response's grid is not ``wavenumber``.
        """
        _check_grid(self, srf)
        return AtmosphericTerms(wavenumber=srf.centres.astype(self.transmittance.dtype),
                                transmittance=band_radiance(self.transmittance, srf),
                                path_radiance=band_radiance(self.path_radiance, srf),
                                downwelling=band_radiance(self.downwelling, srf))


def _check_grid(terms: AtmosphericTerms, srf: SpectralResponse) -> None:
    """The response must be sampled on ``terms.wavenumber`` (shape always; values when both are concrete)."""
    if srf.unit != "cm-1" or srf.wavelengths.shape != terms.wavenumber.shape:
        raise ValueError(f"the response grid ({srf.wavelengths.shape[0]} points, {srf.unit}) is not the terms' "
                         f"wavenumber grid ({terms.wavenumber.shape[0]} points, cm-1)")
    a, b = _concrete(srf.wavelengths), _concrete(terms.wavenumber)
    if a is not None and b is not None and not np.allclose(a, b, rtol=1e-6, atol=0.0):
        raise ValueError("the response grid differs from the terms' wavenumber grid; build it on terms.wavenumber")


def toa_radiance(terms: AtmosphericTerms, emissivity: Float[ArrayLike, "*#batch nu"],
                 t_surface: Float[ArrayLike, "*#batch"]) -> Float[Array, "*batch nu"]:
    r"""Spectral TOA radiance :math:`\tau[\varepsilon B(T_s) + (1-\varepsilon)L^\downarrow] + L^\uparrow`
    (W m⁻² sr⁻¹ (cm⁻¹)⁻¹).

    **Arguments:** ``terms``; ``emissivity`` ``(nu,)`` or ``(*batch, nu)`` (in [0, 1]; checked only by
    :meth:`AtmosphericTerms.validate`); ``t_surface``: surface (skin) temperature (K), ``()`` or ``(*batch,)``.
    Shapes broadcast explicitly against the terms' ``(*batch, nu)``.

    **Returns:** ``(*batch, nu)`` in the dtype of ``terms.transmittance``.

    Raises:
        ValueError: if the emissivity's last axis is not the grid.
    """
    tau = terms.transmittance
    eps = jnp.asarray(emissivity).astype(tau.dtype)
    if eps.shape[-1:] != terms.wavenumber.shape:
        raise ValueError(f"emissivity needs a last axis of {terms.wavenumber.shape[0]} wavenumbers, "
                         f"got shape {eps.shape}")
    ts = jnp.asarray(t_surface).astype(tau.dtype)[..., None]
    b = planck_wavenumber(terms.wavenumber.astype(tau.dtype), ts)
    tau, eps, b, l_up, l_down = jnp.broadcast_arrays(tau, eps, b, terms.path_radiance.astype(tau.dtype),
                                                     terms.downwelling.astype(tau.dtype))
    return tau * (eps * b + (1.0 - eps) * l_down) + l_up


def toa_brightness_temperature(terms: AtmosphericTerms, emissivity: Float[ArrayLike, "*#batch nu"],
                               t_surface: Float[ArrayLike, "*#batch"],
                               srf: SpectralResponse) -> Float[Array, "*batch band"]:
    """TOA band brightness temperatures (K): :func:`toa_radiance` averaged over ``srf``, then inverted with
    :func:`~leafjax.physics.thermal.band_brightness_temperature`.

    **Arguments:** as :func:`toa_radiance`, and ``srf``: a wavenumber response on ``terms.wavenumber``.

    **Returns:** ``(*batch, band)``.

    Raises:
        ValueError: if the response's grid is not ``terms.wavenumber`` (one line).
    """
    _check_grid(terms, srf)
    return band_brightness_temperature(band_radiance(toa_radiance(terms, emissivity, t_surface), srf), srf)
