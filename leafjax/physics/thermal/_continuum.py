r"""The MT_CKD water-vapour continuum: self and foreign absorption coefficients and layer optical depths.

MT_CKD (Mlawer et al. 2012, Phil. Trans. R. Soc. A 370:2520, doi:10.1098/rsta.2011.0295; Mlawer et al. 2023,
JQSRT 306:108645) tabulates the self- and foreign-broadened continuum coefficients :math:`C_s(\tilde\nu)`,
:math:`C_f(\tilde\nu)` (cm² molecule⁻¹ (cm⁻¹)⁻¹) at a reference density (:math:`p_0` = 1013 hPa,
:math:`T_0` = 296 K) and a self temperature exponent :math:`n(\tilde\nu)`.  As in the reference code
(``mt_ckd_h2o_absco`` of AER's MT_CKD_H2O), for a layer of pressure :math:`p`, temperature :math:`T`, water-vapour
volume fraction :math:`x` and water-vapour column :math:`u` (molecules cm⁻²):

.. math::
    \rho = \frac{p}{p_0}\frac{T_0}{T}, \qquad
    R(\tilde\nu, T) = \tilde\nu \tanh\!\left(\frac{c_2\tilde\nu}{2T}\right), \\
    \tau_s = u\,R\,C_s(\tilde\nu)\left(\frac{T_0}{T}\right)^{n(\tilde\nu)} x\,\rho, \qquad
    \tau_f = u\,R\,C_f(\tilde\nu)\,(1 - x)\,\rho

(:math:`R` is the radiation term, :math:`c_2 = hc/k` in cm K).  The coefficients are interpolated linearly in
wavenumber (the tables are every 10 cm⁻¹; MT_CKD's own four-point interpolation differs by far less than the
continuum's uncertainty, and the band model fits a scale per channel anyway).

The coefficient file is research-use data (AER licence) and is read at run time from the shared data folder
(:func:`leafjax.data.load_continuum`); nothing of it is bundled.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._atmosphere import Layers
from ._planck import C2_WAVENUMBER

#: MT_CKD reference pressure (hPa) and temperature (K) of the tabulated coefficients (``ref_press``, ``ref_temp``
#: of ``absco-ref_wv-mt-ckd.nc``, MT_CKD 4.3).
MT_CKD_REF_PRESSURE_HPA: float = 1013.0
MT_CKD_REF_TEMPERATURE_K: float = 296.0


class Continuum(eqx.Module):
    """MT_CKD water-vapour continuum coefficients on their wavenumber grid.

    **Fields:**
    - ``wavenumber``: ``(n,)`` increasing grid (cm⁻¹).
    - ``self_absco``: self continuum coefficient at the reference density and temperature, ``(n,)``
      (cm² molecule⁻¹ (cm⁻¹)⁻¹; multiply by the radiation term for cm² molecule⁻¹).
    - ``foreign_absco``: foreign continuum coefficient, ``(n,)``, same unit.
    - ``self_texp``: self temperature exponent :math:`n`, ``(n,)`` (dimensionless).
    - ``ref_pressure`` (hPa), ``ref_temperature`` (K): the reference state (static).
    """

    wavenumber: Float[Array | np.ndarray, "n"]
    self_absco: Float[Array | np.ndarray, "n"]
    foreign_absco: Float[Array | np.ndarray, "n"]
    self_texp: Float[Array | np.ndarray, "n"]
    ref_pressure: float = eqx.field(static=True, default=MT_CKD_REF_PRESSURE_HPA)
    ref_temperature: float = eqx.field(static=True, default=MT_CKD_REF_TEMPERATURE_K)

    def __check_init__(self):
        n = np.shape(self.wavenumber)
        if len(n) != 1 or any(np.shape(v) != n for v in (self.self_absco, self.foreign_absco, self.self_texp)):
            raise ValueError("continuum coefficients must be 1-D arrays on the continuum's wavenumber grid")

    def at(self, wavenumber: Float[ArrayLike, "nu"]) -> "Continuum":
        """The coefficients linearly interpolated to ``wavenumber`` (cm⁻¹, ``(nu,)``, inside the table)."""
        nu = jnp.asarray(wavenumber)
        grid = jnp.asarray(self.wavenumber, nu.dtype)
        interp = lambda v: jnp.interp(nu, grid, jnp.asarray(v, nu.dtype))  # noqa: E731
        return Continuum(nu, interp(self.self_absco), interp(self.foreign_absco), interp(self.self_texp),
                         self.ref_pressure, self.ref_temperature)


def radiation_term(wavenumber: Float[ArrayLike, "..."], t_k: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    r"""MT_CKD radiation term :math:`R = \tilde\nu\tanh(c_2\tilde\nu/2T)` (cm⁻¹), broadcasting."""
    nu, t = jnp.broadcast_arrays(jnp.asarray(wavenumber), jnp.asarray(t_k))
    return nu * jnp.tanh((0.5 * C2_WAVENUMBER) * nu / t)


def as_trailing(v: Array, ndim: int) -> Array:
    """``v`` with leading unit axes up to ``ndim`` dimensions (explicit broadcasting of per-channel arrays
    against ``(*batch, layer, channel)`` ones)."""
    return jnp.reshape(v, (1,) * (ndim - v.ndim) + v.shape)


def continuum_components(continuum: Continuum, layers: Layers, wavenumber: Float[ArrayLike, "nu"]):
    """Self and foreign continuum optical depths of every layer (vertical path), each ``(*batch, layer, nu)``.

    **Arguments:** ``continuum`` (its table, interpolated to ``wavenumber``); ``layers``
    (:meth:`Atmosphere.layers`: hPa, K, ppmv, molecules cm⁻²); ``wavenumber`` (cm⁻¹, ``(nu,)``).
    """
    dtype = layers.temperature.dtype
    c = continuum.at(jnp.asarray(wavenumber, dtype))
    t = layers.temperature[..., None]
    x = (layers.h2o * 1e-6)[..., None]
    rho = (layers.pressure[..., None] / continuum.ref_pressure) * (continuum.ref_temperature / t)
    ur = layers.u_h2o[..., None] * radiation_term(c.wavenumber, t) * rho
    row = lambda v: as_trailing(v, ur.ndim)  # noqa: E731
    tau_self = ur * row(c.self_absco) * (continuum.ref_temperature / t) ** row(c.self_texp) * x
    tau_foreign = ur * row(c.foreign_absco) * (1.0 - x)
    return tau_self, tau_foreign


def continuum_optical_depth(continuum: Continuum, layers: Layers,
                            wavenumber: Float[ArrayLike, "nu"]) -> Float[Array, "*batch layer nu"]:
    r"""Total (self + foreign) MT_CKD continuum optical depth of every layer, vertical path, ``(*batch, layer,
    nu)`` (dimensionless); see the module docstring for the formula.

    Example:
        >>> import numpy as np
        >>> from leafjax.physics.thermal import atmosphere
        >>> c = Continuum(np.array([700.0, 1400.0]), np.array([5e-25, 5e-25]), np.array([1e-27, 1e-27]),
        ...               np.array([5.0, 5.0]))
        >>> atm = atmosphere(np.array([1000.0, 900.0]), np.array([290.0, 285.0]), np.array([1e4, 8e3]),
        ...                  np.array([0.03, 0.03]))
        >>> continuum_optical_depth(c, atm.layers(), np.array([900.0])).shape
        (1, 1)
    """
    tau_self, tau_foreign = continuum_components(continuum, layers, wavenumber)
    return tau_self + tau_foreign
