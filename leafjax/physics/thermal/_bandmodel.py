r"""A layered channel-transmittance model of the clear-sky thermal-infrared atmosphere (fitted coefficients).

Each channel :math:`c` (width a few cm⁻¹) is represented by :math:`K` k-distribution terms with weights
:math:`g_{ck}` (softmax of ``term_logits``, summing to one).  Term :math:`k` has, in layer :math:`l`
(pressure :math:`p`, temperature :math:`T`, water-vapour, air and ozone columns :math:`u_w, u_a, u_o`), the
vertical optical depth

.. math::
    \delta_{lck} = e^{\kappa^w_{ck}}\,\frac{u_w}{U_w}\left(\frac{p}{p_r}\right)^{a_c} e^{b_c (T - T_r)/100}
    + e^{\kappa^f_{ck}}\,\frac{u_a}{U_a}\left(\frac{p}{p_r}\right)^{a'_c} e^{b'_c (T - T_r)/100}
    + e^{s_c}\tau^{self}_{lc}\left(\frac{T_0}{T}\right)^{\Delta n_c} + e^{f_c}\tau^{for}_{lc}
    + e^{\kappa^o_c}\frac{u_o}{U_o}

— water-vapour lines with pressure-broadening and temperature scaling, the uniformly mixed gases
(CO₂/N₂O/CH₄… at the reference profile of the fit: absorption ∝ air column), the MT_CKD self and foreign
continuum (:mod:`._continuum`) with a fitted scale each, and ozone ∝ its column.  The radiative transfer is
done per term (Schwarzschild, linear-in-τ layer source: :mod:`._layers_rt`), in a plane-parallel atmosphere:

* transmittance and upwelling path radiance along the view path, slant factor :math:`1/\cos\theta_v`;
* the hemispheric-mean downwelling :math:`F^\downarrow/\pi = \int_0^1 2\mu L^\downarrow(\mu)\,d\mu` by
  Gauss–Jacobi quadrature in :math:`\mu` (:data:`DOWNWELLING_QUADRATURE`), the nodes scaled per channel by
  :math:`e^{m_c}` (a fitted diffusivity correction);

then combined over terms: :math:`\tau = \sum_k g_k\tau_k`, :math:`L^\uparrow = \sum_k g_k L^\uparrow_k` and the
*effective* downwelling :math:`L^\downarrow = \sum_k g_k\tau_k L^\downarrow_k / \sum_k g_k\tau_k`, so that the
reflected term :math:`\tau(1-\varepsilon)L^\downarrow` equals the term-resolved
:math:`\sum_k g_k\tau_k(1-\varepsilon)L^\downarrow_k` (correlated-k assumption: the same spectral points are
opaque up and down).  The coefficients are fitted to line-by-line transmittance, path radiance and downwelling by
:func:`leafjax.inversion.fit_band_model`; none are bundled.

The view-angle dependence follows from the layering and cannot be checked against a nadir-only reference; it
behaves physically (τ falls, L↑ rises with the view zenith angle).  References: Lacis & Oinas (1991) JGR
96:9027 (correlated k-distribution); Clough, Iacono & Moncet (1992) JGR 97:15761 (linear-in-τ source);
Mlawer et al. (2012) Phil. Trans. R. Soc. A 370:2520 (MT_CKD).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..._constants import DEG2RAD
from ._atmosphere import Atmosphere, Layers
from ._continuum import MT_CKD_REF_PRESSURE_HPA, MT_CKD_REF_TEMPERATURE_K, as_trailing, radiation_term
from ._layers_rt import downwelling as _downwelling, upwelling as _upwelling
from ._planck import planck_wavenumber
from ._toa import AtmosphericTerms

#: Version of the model structure (part of the cache key of fitted models: bump on any change of the equations
#: or of the meaning of a coefficient).
BAND_MODEL_VERSION: int = 1
#: Reference pressure (hPa) and temperature (K) of the line scalings, and the absorber-column units
#: U_w, U_a, U_o (molecules cm⁻²; ≈ 0.3 g cm⁻² water vapour, ≈ 0.45 atm air, ≈ 37 DU ozone) that keep the
#: fitted log-coefficients of order one.
LINE_REF_PRESSURE_HPA: float = 1013.0
LINE_REF_TEMPERATURE_K: float = 260.0
U_H2O_REF: float = 1.0e22
U_AIR_REF: float = 1.0e25
U_O3_REF: float = 1.0e18
#: Gauss–Jacobi nodes μ and weights of :math:`\int_0^1 2\mu f(\mu)\,d\mu` (weight function μ on [0, 1]; 1 node:
#: the diffusivity factor 1.5; computed from ``scipy.special.roots_jacobi(n, 0, 1)``: μ = (1 + x)/2, w/2).
DOWNWELLING_QUADRATURE: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {
    1: ((2.0 / 3.0,), (1.0,)),
    2: ((0.35505102572168220, 0.84494897427831780), (0.36391724067123442, 0.63608275932876558)),
    3: ((0.21234053823915294, 0.59053313555926528, 0.91141204048729606),
        (0.13965395550365060, 0.45848220932736318, 0.40186383516898622)),
}
#: Default channel width (cm⁻¹): 5 cm⁻¹ channels (105 over 800–1325 cm⁻¹) reproduce the 1-cm⁻¹ band brightness
#: temperatures to ≤ 0.012 K when the channel means of the line-by-line terms are used (10 cm⁻¹: ≤ 0.04 K), at a
#: fifth of the cost of 1-cm⁻¹ channels.
DEFAULT_CHANNEL_WIDTH: int = 5
#: Added to the term-weighted transmittance when forming the effective downwelling (avoids 0/0 in opaque
#: channels; far below any transmittance of interest).
_TINY_TRANSMITTANCE: float = 1e-30


def channel_grid(fine_wavenumber: Float[ArrayLike, "fine"], width: int = DEFAULT_CHANNEL_WIDTH) -> np.ndarray:
    """Channel centres (cm⁻¹, ``(fine // width,)``): the means of consecutive blocks of ``width`` samples of a
    uniform fine grid (e.g. the 1-cm⁻¹ line-by-line grid; a trailing partial block is dropped).  Channel ``c``
    holds the fine samples ``c·width … c·width + width − 1``; its edges are the midpoints between centres.

    Raises:
        ValueError: for a width below 1 or above the grid length.
    """
    nu = np.asarray(fine_wavenumber, dtype=np.float64).ravel()
    width = int(width)
    if width < 1 or width > nu.size:
        raise ValueError(f"channel width must be 1..{nu.size} grid samples, got {width}")
    n = nu.size // width
    return nu[: n * width].reshape(n, width).mean(axis=1)


def channel_means(values: Float[ArrayLike, "*batch fine"], width: int = DEFAULT_CHANNEL_WIDTH) -> np.ndarray:
    """Block means of ``values`` over the channels of :func:`channel_grid` (NumPy), ``(*batch, fine // width)``."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[-1] // int(width)
    return v[..., : n * int(width)].reshape(*v.shape[:-1], n, int(width)).mean(axis=-1)


class BandCoefficients(eqx.Module):
    """The fitted coefficients of a :class:`BandModel`, one row per channel (dimensionless unless stated).

    **Fields:** ``log_k_line``, ``log_k_fixed``: ``(nu, k)`` log line strengths per k-term of water vapour (per
    :data:`U_H2O_REF`) and of the mixed gases (per :data:`U_AIR_REF`); ``line_pressure_exp``,
    ``fixed_pressure_exp``: ``(nu,)`` pressure exponents; ``line_temperature_coef``, ``fixed_temperature_coef``:
    ``(nu,)`` temperature coefficients (per 100 K about :data:`LINE_REF_TEMPERATURE_K`); ``log_self_scale``,
    ``log_foreign_scale``: ``(nu,)`` log scales of the MT_CKD continuum; ``log_k_o3``: ``(nu,)`` log ozone
    strength (per :data:`U_O3_REF`); ``term_logits``: ``(nu, k)`` k-term weights (softmax); ``log_mu_scale``:
    ``(nu,)`` log scale of the downwelling quadrature nodes; ``self_texp_delta``: ``(nu,)`` correction added to
    MT_CKD's self-continuum temperature exponent.
    """

    log_k_line: Float[Array, "nu k"]
    line_pressure_exp: Float[Array, "nu"]
    line_temperature_coef: Float[Array, "nu"]
    log_self_scale: Float[Array, "nu"]
    log_foreign_scale: Float[Array, "nu"]
    log_k_fixed: Float[Array, "nu k"]
    fixed_pressure_exp: Float[Array, "nu"]
    fixed_temperature_coef: Float[Array, "nu"]
    log_k_o3: Float[Array, "nu"]
    term_logits: Float[Array, "nu k"]
    log_mu_scale: Float[Array, "nu"]
    self_texp_delta: Float[Array, "nu"]

    @classmethod
    def initial(cls, n_channels: int, n_terms: int, dtype=jnp.float64) -> "BandCoefficients":
        """A physically plausible starting point of the fit (weak to strong terms, broadening exponent ~1)."""
        spread = np.linspace(0.0, 1.0, n_terms) if n_terms > 1 else np.zeros(1)
        row = lambda v: jnp.full((n_channels,), v, dtype)  # noqa: E731
        terms = lambda lo, hi: jnp.asarray(np.tile(lo + (hi - lo) * spread, (n_channels, 1)), dtype)  # noqa: E731
        return cls(log_k_line=terms(-3.0, 0.0), line_pressure_exp=row(0.8), line_temperature_coef=row(0.0),
                   log_self_scale=row(0.0), log_foreign_scale=row(0.0), log_k_fixed=terms(-5.0, -3.0),
                   fixed_pressure_exp=row(1.0), fixed_temperature_coef=row(0.0), log_k_o3=row(-4.0),
                   term_logits=jnp.zeros((n_channels, n_terms), dtype), log_mu_scale=row(0.0),
                   self_texp_delta=row(0.0))


class BandModel(eqx.Module):
    """A fitted layered channel-transmittance model (module docstring); call it as ``model(atm, vza_deg)``.

    **Fields:** ``wavenumber`` ``(nu,)`` channel centres (cm⁻¹); ``coefficients`` (:class:`BandCoefficients`);
    ``self_absco``, ``foreign_absco`` (cm² molecule⁻¹ (cm⁻¹)⁻¹), ``self_texp``: the MT_CKD continuum at the
    channel centres, ``(nu,)``; static: ``channel_width`` (cm⁻¹), ``n_quadrature`` (downwelling nodes),
    ``linear_in_tau`` (layer source), ``continuum_ref`` (MT_CKD reference hPa, K).
    """

    wavenumber: Float[Array, "nu"]
    coefficients: BandCoefficients
    self_absco: Float[Array, "nu"]
    foreign_absco: Float[Array, "nu"]
    self_texp: Float[Array, "nu"]
    channel_width: float = eqx.field(static=True, default=5.0)
    n_quadrature: int = eqx.field(static=True, default=2)
    linear_in_tau: bool = eqx.field(static=True, default=True)
    continuum_ref: tuple[float, float] = eqx.field(static=True,
                                                   default=(MT_CKD_REF_PRESSURE_HPA, MT_CKD_REF_TEMPERATURE_K))

    def __check_init__(self):
        n = np.shape(self.wavenumber)
        if len(n) != 1 or np.shape(self.coefficients.log_k_line)[:1] != n:
            raise ValueError(f"band model coefficients must have one row per channel ({n}), got "
                             f"{np.shape(self.coefficients.log_k_line)}")
        if self.n_quadrature not in DOWNWELLING_QUADRATURE:
            raise ValueError(f"n_quadrature must be one of {sorted(DOWNWELLING_QUADRATURE)}, got {self.n_quadrature}")

    @property
    def n_terms(self) -> int:
        """Number of k-distribution terms per channel."""
        return int(self.coefficients.log_k_line.shape[-1])

    def __call__(self, atm: Atmosphere, vza_deg: Float[ArrayLike, "*#batch"] = 0.0) -> AtmosphericTerms:
        return band_model(self, atm, vza_deg)

    def subset(self, low_cm1: float, high_cm1: float) -> "BandModel":
        """The model restricted to the channels with centres in ``[low_cm1, high_cm1]`` (cheaper simulations
        when only some bands are needed)."""
        keep = np.flatnonzero((np.asarray(self.wavenumber) >= low_cm1) & (np.asarray(self.wavenumber) <= high_cm1))
        if keep.size == 0:
            raise ValueError(f"no channel centre within {low_cm1}-{high_cm1} cm-1")
        return jax.tree.map(lambda v: v[keep], self)

    def astype(self, dtype) -> "BandModel":
        """The model with every array in ``dtype`` (e.g. ``jnp.float32`` for fast simulation)."""
        return jax.tree.map(lambda v: jnp.asarray(v, dtype), self)


def layer_optical_depth(model: BandModel, layers: Layers) -> Float[Array, "*batch layer nu k"]:
    """Vertical optical depth of every layer, channel and k-term (module docstring), ``(*batch, layer, nu, k)``,
    in the dtype of ``layers.temperature``."""
    dt = layers.temperature.dtype
    nd = layers.temperature.ndim + 1  # (*b, layer, nu); k-term fields get one more axis
    c = jax.tree.map(lambda v: as_trailing(jnp.asarray(v, dt), nd + v.ndim - 1), model.coefficients)
    nu = jnp.asarray(model.wavenumber, dt)
    col = lambda v: v[..., None]  # noqa: E731  (*b, layer) -> (*b, layer, 1)
    row = lambda v: as_trailing(jnp.asarray(v, dt), nd)  # noqa: E731  (nu,) -> (1, ..., 1, nu)
    lp = col(jnp.log(layers.pressure / LINE_REF_PRESSURE_HPA))
    tn = col((layers.temperature - LINE_REF_TEMPERATURE_K) * 0.01)
    line = col(layers.u_h2o / U_H2O_REF) * jnp.exp(c.line_pressure_exp * lp + c.line_temperature_coef * tn)
    fixed = col(layers.u_air / U_AIR_REF) * jnp.exp(c.fixed_pressure_exp * lp + c.fixed_temperature_coef * tn)
    # MT_CKD continuum at the channel centres (see _continuum.continuum_components)
    p_ref, t_ref = model.continuum_ref
    t = col(layers.temperature)
    x = col(layers.h2o * 1e-6)
    ur = col(layers.u_h2o) * radiation_term(nu, t) * (col(layers.pressure) / p_ref) * (t_ref / t)
    tau_self = ur * row(model.self_absco) * (t_ref / t) ** (row(model.self_texp) + c.self_texp_delta) * x
    tau_foreign = ur * row(model.foreign_absco) * (1.0 - x)
    smooth = (jnp.exp(c.log_self_scale) * tau_self + jnp.exp(c.log_foreign_scale) * tau_foreign
              + jnp.exp(c.log_k_o3) * col(layers.u_o3 / U_O3_REF))
    return (line[..., None] * jnp.exp(c.log_k_line) + fixed[..., None] * jnp.exp(c.log_k_fixed)
            + smooth[..., None])


def band_model(model: BandModel, atm: Atmosphere, vza_deg: Float[ArrayLike, "*#batch"] = 0.0) -> AtmosphericTerms:
    r"""Channel transmittance, upwelling path radiance and (effective) hemispheric downwelling of ``atm``.

    **Arguments:**
    - ``model``: a fitted :class:`BandModel`.
    - ``atm``: :class:`~leafjax.physics.thermal.Atmosphere`, batch ``(*b,)``, levels surface first (hPa, K,
      ppmv); its trace gases are ignored (the mixed gases are those of the fit's reference profile).
    - ``vza_deg``: view zenith angle (degrees, < 90), ``()`` or ``(*b,)``.

    **Returns:** :class:`~leafjax.physics.thermal.AtmosphericTerms` on ``model.wavenumber``, fields ``(*b, nu)``
    in the dtype of ``atm.temperature`` (W m⁻² sr⁻¹ (cm⁻¹)⁻¹ for the radiances).  Differentiable in the
    atmosphere, the angle and the coefficients.  Memory: a few arrays of ``(*b, layer, nu, k)``.

    Raises:
        ValueError: for an atmosphere with fewer than 2 levels.
    """
    if atm.temperature.shape[-1] < 2:
        raise ValueError(f"an atmosphere needs at least 2 levels, got {atm.temperature.shape[-1]}")
    layers = atm.layers()
    dt = layers.temperature.dtype
    nu = jnp.asarray(model.wavenumber, dt)
    od = layer_optical_depth(model, layers)  # (*b, layer, nu, k)
    axis = od.ndim - 3
    b_level = planck_wavenumber(nu, atm.temperature.astype(dt)[..., None])[..., None]  # (*b, level, nu, 1)
    mu_view = jnp.cos(jnp.asarray(vza_deg, dt) * DEG2RAD)
    mu_view = jnp.broadcast_to(mu_view, atm.batch_shape)[..., None, None, None]
    tau_k, up_k = _upwelling(od / mu_view, b_level, layer_axis=axis, linear=model.linear_in_tau)
    nodes, weights = DOWNWELLING_QUADRATURE[model.n_quadrature]
    mu_scale = as_trailing(jnp.exp(jnp.asarray(model.coefficients.log_mu_scale, dt))[:, None], od.ndim)  # (nu, 1)
    down_k = sum(w * _downwelling(od / (m * mu_scale), b_level, layer_axis=axis, linear=model.linear_in_tau)
                 for m, w in zip(nodes, weights))
    g = as_trailing(jax.nn.softmax(jnp.asarray(model.coefficients.term_logits, dt), axis=-1), od.ndim - 1)  # (nu, k)
    tau = jnp.sum(g * tau_k, axis=-1)
    down = (jnp.sum(g * tau_k * down_k, axis=-1) + _TINY_TRANSMITTANCE * jnp.sum(g * down_k, axis=-1)) \
        / (tau + _TINY_TRANSMITTANCE)
    return AtmosphericTerms(nu, tau, jnp.sum(g * up_k, axis=-1), down)


def term_products(model: BandModel, atm: Atmosphere) -> tuple[Array, Array, Array]:
    r"""Nadir :math:`(\tau, L^\uparrow, \sum_k g_k\tau_k L^\downarrow_k)`, each ``(*b, nu)``: the quantities the
    fit compares with channel means of the line-by-line :math:`\tau`, :math:`L^\uparrow` and
    :math:`\tau L^\downarrow`."""
    terms = band_model(model, atm, 0.0)
    return terms.transmittance, terms.path_radiance, terms.transmittance * terms.downwelling
