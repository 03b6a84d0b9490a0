r"""An atmospheric profile as a pytree: pressure levels, temperature, water vapour, ozone, optional trace gases.

Levels are ordered from the surface upwards (index 0 = the surface level).  Every field may carry leading batch
dimensions ``(*batch, level)``; the pressure grid may be shared (``(level,)``) or per profile.

Column water vapour (precipitable water) from the volume mixing ratio :math:`x` (ppmv) by the hydrostatic relation

.. math:: W = \frac{1}{g}\int_0^{p_s} q\,dp, \qquad q = \frac{x\,10^{-6}\,M_w}{M_d + x\,10^{-6}\,M_w}

(specific humidity :math:`q`; trapezoids in pressure; :math:`W` in kg m⁻² = mm, reported in g cm⁻² = W/10).

Layer absorber amounts (molecules cm⁻²) between levels :math:`i` and :math:`i+1`:
:math:`u = \bar x\,10^{-6}\,\Delta p\,N_A / (g\,\bar M)` with the layer-mean mixing ratio and the molar mass of
moist air (:math:`\Delta p` in Pa, converted to cm⁻²).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..._constants import AVOGADRO, MOLAR_MASS_DRY_AIR, MOLAR_MASS_WATER, STANDARD_GRAVITY

#: Pascals per hectopascal.
PA_PER_HPA: float = 100.0


class Layers(eqx.Module):
    """Layer-mean quantities between consecutive levels (``(*batch, layer)``, ``layer = level − 1``).

    **Fields:** ``pressure`` (hPa, the mean of the bounding levels), ``temperature`` (K, mean),
    ``dp`` (hPa, positive), ``h2o``/``o3`` (ppmv, mean), ``u_h2o``/``u_o3``/``u_air`` (molecules cm⁻²),
    ``trace``: ``{gas: ppmv}`` layer means of the optional trace gases.
    """

    pressure: Float[Array, "*batch layer"]
    temperature: Float[Array, "*batch layer"]
    dp: Float[Array, "*batch layer"]
    h2o: Float[Array, "*batch layer"]
    o3: Float[Array, "*batch layer"]
    u_h2o: Float[Array, "*batch layer"]
    u_o3: Float[Array, "*batch layer"]
    u_air: Float[Array, "*batch layer"]
    trace: dict[str, Float[Array, "*batch layer"]]


class Atmosphere(eqx.Module):
    """One or a batch of atmospheric profiles on pressure levels, surface first.

    **Fields:**
    - ``pressure``: level pressure (hPa), ``(level,)`` or ``(*batch, level)``, strictly decreasing upwards.
    - ``temperature``: level temperature (K), ``(*batch, level)``.
    - ``h2o``: water-vapour volume mixing ratio (ppmv), ``(*batch, level)``.
    - ``o3``: ozone volume mixing ratio (ppmv), ``(*batch, level)``.
    - ``trace``: optional ``{gas: ppmv profile}`` (e.g. ``"co2"``, ``"n2o"``, ``"ch4"``, ``"co"``); a gas left
      out takes the reference profile the band model was fitted with.

    Differentiable in every field (JAX arrays).  ``validate()`` checks shapes and physical ranges on concrete
    inputs (one-line ``ValueError``).
    """

    pressure: Float[Array, "*#batch level"]
    temperature: Float[Array, "*batch level"]
    h2o: Float[Array, "*batch level"]
    o3: Float[Array, "*batch level"]
    trace: dict[str, Float[Array, "*batch level"]] = eqx.field(default_factory=dict)

    @property
    def n_levels(self) -> int:
        return int(self.temperature.shape[-1])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.temperature.shape[:-1])

    @property
    def surface_air_temperature(self) -> Float[Array, "*batch"]:
        """Temperature of the lowest level (K)."""
        return self.temperature[..., 0]

    def __getitem__(self, index) -> "Atmosphere":
        """The profiles ``index`` of a batch (NumPy-style index on the batch dimensions)."""
        p = self.pressure if self.pressure.ndim == 1 else self.pressure[index]
        return Atmosphere(p, self.temperature[index], self.h2o[index], self.o3[index],
                          {k: v[index] for k, v in self.trace.items()})

    def column_water_vapour(self) -> Float[Array, "*batch"]:
        """Total column water vapour (precipitable water, g cm⁻²)."""
        x = self.h2o * 1e-6
        q = x * MOLAR_MASS_WATER / (MOLAR_MASS_DRY_AIR + x * MOLAR_MASS_WATER)
        p = jnp.broadcast_to(self.pressure, self.temperature.shape) * PA_PER_HPA
        dp = p[..., :-1] - p[..., 1:]
        w = jnp.sum(0.5 * (q[..., :-1] + q[..., 1:]) * dp, axis=-1) / STANDARD_GRAVITY  # kg m⁻²
        return w / 10.0

    def layers(self) -> Layers:
        """Layer-mean pressure, temperature and mixing ratios, and absorber amounts (molecules cm⁻²)."""
        p = jnp.broadcast_to(self.pressure, self.temperature.shape)
        mean = lambda v: 0.5 * (v[..., :-1] + v[..., 1:])  # noqa: E731
        dp = p[..., :-1] - p[..., 1:]
        h2o = mean(self.h2o)
        x_w = h2o * 1e-6
        molar = MOLAR_MASS_DRY_AIR * (1.0 - x_w) + MOLAR_MASS_WATER * x_w  # g/mol of moist air
        # molecules of air per cm²: Δp [Pa] / g [m s⁻²] = kg m⁻²; × 1e3/M mol kg⁻¹ × N_A; per m² → per cm² (1e-4)
        u_air = dp * PA_PER_HPA / STANDARD_GRAVITY * 1e3 / molar * AVOGADRO * 1e-4
        o3 = mean(self.o3)
        return Layers(mean(p), mean(self.temperature), dp, h2o, o3, u_air * x_w, u_air * o3 * 1e-6, u_air,
                      {k: mean(v) for k, v in self.trace.items()})

    def validate(self) -> "Atmosphere":
        """``self`` if shapes agree and values are physical (concrete inputs); else a one-line ``ValueError``."""
        t = np.asarray(self.temperature)
        p = np.asarray(self.pressure)
        if t.ndim < 1 or t.shape[-1] < 2:
            raise ValueError(f"an atmosphere needs at least 2 levels, got temperature of shape {t.shape}")
        for name in ("h2o", "o3"):
            if np.shape(getattr(self, name)) != t.shape:
                raise ValueError(f"atmosphere {name} has shape {np.shape(getattr(self, name))}, "
                                 f"temperature {t.shape}")
        for name, v in self.trace.items():
            if np.shape(v) != t.shape:
                raise ValueError(f"atmosphere trace gas {name!r} has shape {np.shape(v)}, temperature {t.shape}")
        if p.shape[-1] != t.shape[-1]:
            raise ValueError(f"atmosphere pressure has {p.shape[-1]} levels, temperature {t.shape[-1]}")
        if not np.all(np.diff(p, axis=-1) < 0):
            raise ValueError("atmosphere pressure must decrease strictly from the surface (level 0) upwards")
        if not (np.all(np.isfinite(t)) and np.all(t > 100.0) and np.all(t < 400.0)):
            raise ValueError("atmosphere temperature must be finite and within (100, 400) K")
        for name in ("h2o", "o3", *self.trace):
            v = np.asarray(getattr(self, name) if name in ("h2o", "o3") else self.trace[name])
            if not (np.all(np.isfinite(v)) and np.all(v >= 0.0)):
                raise ValueError(f"atmosphere {name} mixing ratio must be finite and >= 0 ppmv")
        return self


def atmosphere(pressure: ArrayLike, temperature: ArrayLike, h2o: ArrayLike, o3: ArrayLike,
               trace: dict[str, ArrayLike] | None = None, *, dtype=None) -> Atmosphere:
    """Build and validate an :class:`Atmosphere` from arrays (hPa, K, ppmv, ppmv, ``{gas: ppmv}``)."""
    cast = lambda v: jnp.asarray(v, dtype=dtype)  # noqa: E731
    atm = Atmosphere(cast(pressure), cast(temperature), cast(h2o), cast(o3),
                     {k: cast(v) for k, v in (trace or {}).items()})
    return atm.validate()
