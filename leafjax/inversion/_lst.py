r"""Physical per-pixel land-surface-temperature inversion: LST and four band emissivities from the four VIMI
brightness temperatures, through the band model's atmosphere of the pixel.

For every pixel the atmosphere (retrieval side: e.g. a reanalysis profile) gives the channel transmittance
:math:`\tau`, path radiance :math:`L^\uparrow` and hemispheric sky radiance :math:`L^\downarrow` at its view angle
(:class:`~leafjax.physics.thermal.AtmosphericTerms`), and the predicted brightness temperatures are

.. math:: T_b = \mathrm{BT}_b\Big(\textstyle\sum_j W_{bj}\,\big(\tau_j[\varepsilon_j B_j(T_s)
          + (1-\varepsilon_j)L^\downarrow_j] + L^\uparrow_j\big)\Big)

(:func:`~leafjax.physics.thermal.toa_brightness_temperature`), the spectral emissivity being held constant
within each band and the band means exact (:func:`band_membership`).

**Unknowns and priors.** Four observations cannot fix five unknowns, so the emissivities carry a Gaussian prior
(Rodgers 2000, optimal estimation): the free parameters are ``lst`` (K, no prior) and the emissivity *offsets*
:math:`\delta_k = \varepsilon_k - \mu_k` from the pixel's prior band emissivity :math:`\mu_k` (context), with
prior residuals :math:`\delta_k/\sigma_\varepsilon` (σ default 0.01, the order of the accuracy of
classification- or NDVI-based emissivities, Li et al. 2013, Remote Sens. Environ. 131:14).  Offsets rather than
emissivities keep the prior mean per pixel while the shared priors take no context.  Observations are weighted by
:math:`1/\mathrm{NE}\Delta T` (band model error can be added in quadrature via ``nedt``).  The reported
``emissivity_b1..b4`` are derived (:math:`\mu_k + \delta_k`, with propagated σ).

**Per-row context.** The channel terms ``(b, nu)`` and the prior band emissivities ``(b, band)`` of every pixel are
its per-row context (:data:`PIXEL_FIELDS`); observations are brightness temperatures in K
(:meth:`LstProblem.observation_range`), weighted by :math:`1/\mathrm{NE\Delta T}`.

Each pixel starts at :math:`\delta = 0` and the LST that closes the band-level radiative-transfer equation of
its most transparent band exactly (a one-band inversion of the band-averaged terms).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._parameters import specs
from ..physics.thermal._bands import (
    band_brightness_temperature,
    band_planck,
    vimi_response,
)
from ..physics.thermal._toa import AtmosphericTerms, toa_brightness_temperature
from ..spectral._response import SpectralResponse
from ._bounds import bounded_jacobian
from ._invert import invert
from ._problem import AbstractProblem
from ._result import InversionResult
from ._solver_lm import BatchedLevenbergMarquardt

#: Plausible brightness temperatures (K): observations outside are flagged ``out_of_range`` and not inverted.
BT_RANGE_K: tuple[float, float] = (150.0, 400.0)
#: Default 1-σ of the emissivity prior (per band; order of the accuracy of prior emissivities, Li et al. 2013).
EMISSIVITY_SIGMA: float = 0.01
#: Default noise-equivalent temperature difference (K) per band (thermal imagers: 0.1–0.3 K at 300 K).
NEDT_K: float = 0.2
#: Bounds of the emissivity offsets δ = ε − μ (±15 σ of the default prior).
OFFSET_BOUND: float = 0.15
#: Per-row context of an :class:`LstProblem` (``(b, nu)`` channel terms and the ``(b, band)`` prior).
PIXEL_FIELDS: tuple[str, ...] = ("transmittance", "path_radiance", "downwelling", "emissivity_prior")
#: Free parameters of an :class:`LstProblem`: LST (K) and the offsets of the band emissivities from their prior.
LST_FREE: tuple[str, ...] = ("lst",) + tuple(f"emissivity_offset_b{k}" for k in range(1, 5))


def band_membership(srf: SpectralResponse) -> np.ndarray:
    r"""``(band, nu)`` map from band emissivities to channel emissivities, :math:`\varepsilon(\tilde\nu) =
    \sum_k \varepsilon_k P_{k}(\tilde\nu)`, piecewise constant in the bands and exact in the band means.

    The shares :math:`m_{kj} = w_{kj}/\sum_l w_{lj}` (``w`` each band's weights scaled to a peak of 1) assign a
    channel to the bands that respond there (channels where none responds take the mean); because neighbouring
    bands share edge channels, the basis :math:`m` is corrected by the inverse of its 4 × 4 band-mean matrix
    :math:`A = W m^\top`, :math:`P = A^{-\top} m`, so that the response-weighted band means
    :math:`W\varepsilon(\tilde\nu)` equal the band emissivities exactly.
    """
    w = np.asarray(srf.weights, dtype=np.float64)
    w = w / w.max(-1, keepdims=True)  # each band's peak = 1, so band tails do not dominate narrow neighbours
    total = w.sum(0, keepdims=True)
    m = np.where(total > 1e-9, w / np.where(total > 1e-9, total, 1.0), 0.0)
    basis = m + (1.0 - m.sum(0, keepdims=True)) / m.shape[0]
    a = np.asarray(srf.weights, dtype=np.float64) @ basis.T  # (band, band): band means of the basis
    return np.linalg.solve(a.T, basis)


class LstProblem(AbstractProblem):
    """LST + band emissivity offsets from four brightness temperatures (final).

    **Fields:** ``srf`` (wavenumber response on the band model's channel grid), ``wavenumber`` ``(nu,)`` (cm⁻¹),
    ``membership`` ``(band, nu)`` (band → channel emissivity map, :func:`band_membership`), ``low``/``high``
    ``(5,)`` (``lst`` K, offsets), ``band_weight`` ``(band,)`` (1/NEΔT, K⁻¹), ``emissivity_sigma`` ``(band,)``,
    ``free`` (static).  The per-row context (:data:`PIXEL_FIELDS`): ``transmittance``, ``path_radiance``,
    ``downwelling`` ``(b, nu)`` (the band model's terms at each pixel's atmosphere and view angle) and
    ``emissivity_prior`` ``(b, band)``, passed as ``fixed=`` to :func:`~leafjax.inversion.invert` (gradients
    with respect to them flow by the implicit-function theorem).  Build with :func:`make_lst_problem`.
    """

    srf: SpectralResponse
    wavenumber: Array
    membership: Array
    low: Array
    high: Array
    band_weight: Array
    emissivity_sigma: Array
    free: tuple[str, ...] = eqx.field(static=True)

    def spectral_emissivity(self, eps_band: Float[Array, "b band"]) -> Float[Array, "b nu"]:
        """Band emissivities ``(b, band)`` → channel emissivities ``(b, nu)`` (constant within each band)."""
        return eps_band @ self.membership

    def terms(self, context) -> AtmosphericTerms:
        """The channel terms of the rows, ``(b, nu)``."""
        return AtmosphericTerms(self.wavenumber, context["transmittance"], context["path_radiance"],
                                context["downwelling"])

    def emissivities(self, theta, context) -> Float[Array, "b band"]:
        return context["emissivity_prior"] + theta[:, 1:]

    def predict(self, theta, context):
        return toa_brightness_temperature(self.terms(context),
                                          self.spectral_emissivity(self.emissivities(theta, context)),
                                          theta[:, 0], self.srf)

    def prior_residuals(self, z):
        return self.to_bounded(z)[:, 1:] / self.emissivity_sigma[None]

    def prior_jacobian(self, z):
        d = bounded_jacobian(z, self.low, self.high)[:, 1:] / self.emissivity_sigma[None]  # (b, band)
        eye = jnp.eye(self.low.shape[0], dtype=z.dtype)[1:]  # (band, p)
        return d[:, :, None] * eye[None]

    def estimates(self, theta, context):
        return {n: theta[:, i] for i, n in enumerate(self.free)}

    def derived(self, theta, context):
        eps = self.emissivities(theta, context)
        return {f"emissivity_b{k + 1}": eps[:, k] for k in range(eps.shape[-1])}

    def observation_range(self):
        """Brightness temperatures in K: :data:`BT_RANGE_K`."""
        return BT_RANGE_K

    def initial_guess(self, obs, weight, context, n_starts):
        """δ = 0 and the LST closing the band-level equation of the most transparent band."""
        terms, w = self.terms(context), self.srf.weights.T  # (nu, band): band averages of the channel terms
        tau, up, down = (x @ w for x in (terms.transmittance, terms.path_radiance, terms.downwelling))
        eps = context["emissivity_prior"]
        radiance = band_planck(obs, self.srf, per_band=True)
        surface = (radiance - up - tau * (1.0 - eps) * down) / jnp.maximum(tau * eps, 1e-6)
        ts = band_brightness_temperature(jnp.maximum(surface, radiance * 1e-3), self.srf)
        best = jnp.take_along_axis(ts, jnp.argmax(tau, -1)[:, None], -1)[:, 0]
        lo, hi = self.low[0], self.high[0]
        best = jnp.clip(jnp.where(jnp.isfinite(best), best, jnp.max(obs, -1)), lo + 1.0, hi - 1.0)
        theta = jnp.concatenate([best[:, None], jnp.zeros((best.shape[0], 4), best.dtype)], -1)
        z = self.to_unconstrained(theta)
        return jnp.broadcast_to(z[:, None], (z.shape[0], n_starts, z.shape[-1]))

    def context(self, fixed, size, batch):
        """The per-row arrays of :data:`PIXEL_FIELDS` from ``fixed`` (``batch + (nu,)`` terms, ``batch + (4,)``
        prior), as ``(size, ...)``."""
        fixed = dict(fixed or {})
        missing = [k for k in PIXEL_FIELDS if k not in fixed]
        unknown = sorted(set(fixed) - set(PIXEL_FIELDS))
        if missing or unknown:
            raise ValueError(f"an LST problem takes fixed={{{', '.join(PIXEL_FIELDS)}}}; "
                             f"missing {missing}, unknown {unknown}")
        widths = {"emissivity_prior": self.low.shape[0] - 1}
        out = {}
        for k in PIXEL_FIELDS:
            v = jnp.asarray(fixed[k], self.dtype)
            want = batch + (widths.get(k, self.wavenumber.shape[0]),)
            if v.shape != want:
                raise ValueError(f"fixed[{k!r}] has shape {v.shape}; expected {want}")
            out[k] = v.reshape(size, want[-1])
        return out

    def default_expected_rmse(self):
        """The RMS band noise (K): ``poor_fit`` when the BT misfit exceeds 3 NEΔT."""
        return jnp.sqrt(jnp.mean(1.0 / self.band_weight**2))

    def default_solver(self):
        return BatchedLevenbergMarquardt(rtol=1e-9, max_steps=30)


def make_lst_problem(srf: SpectralResponse, *, sigma_emissivity: float | ArrayLike = EMISSIVITY_SIGMA,
                     nedt: float | ArrayLike = NEDT_K, dtype=None) -> LstProblem:
    """An :class:`LstProblem` for a four-band wavenumber response ``srf`` on the band model's channel grid.

    **Arguments:** ``sigma_emissivity``: prior 1-σ (scalar or per band); ``nedt``: noise (K, scalar or per band;
    add band-model error in quadrature); ``dtype``: default that of the response.  Bounds: ``lst`` the parameter
    range of :mod:`leafjax._parameters`, offsets ±:data:`OFFSET_BOUND`.
    """
    if srf.unit != "cm-1" or srf.n_bands != 4:
        raise ValueError(f"the LST problem needs a 4-band wavenumber response, got {srf.n_bands} bands in {srf.unit!r}")
    dt = jnp.dtype(dtype or jnp.asarray(srf.weights).dtype)
    sig = np.broadcast_to(np.asarray(sigma_emissivity, np.float64), (4,))
    ne = np.broadcast_to(np.asarray(nedt, np.float64), (4,))
    if not (np.all(sig > 0) and np.all(ne > 0) and np.all(np.isfinite(sig)) and np.all(np.isfinite(ne))):
        raise ValueError("sigma_emissivity and nedt must be finite and > 0")
    lst = specs("lst")["lst"]
    low = np.array([lst.low] + [-OFFSET_BOUND] * 4)
    high = np.array([lst.high] + [OFFSET_BOUND] * 4)
    arr = lambda x: jnp.asarray(x, dt)  # noqa: E731
    srf = SpectralResponse(arr(srf.wavelengths), arr(srf.weights), srf.band_names, srf.name, srf.unit)
    return LstProblem(srf=srf, wavenumber=srf.wavelengths, membership=arr(band_membership(srf)), low=arr(low),
                      high=arr(high), band_weight=arr(1.0 / ne), emissivity_sigma=arr(sig), free=LST_FREE)


def invert_lst(band_model, atmospheres, vza: Float[ArrayLike, " b"] | None, bt: Float[ArrayLike, "b n"],
               emissivity_prior: Float[ArrayLike, "b m"], *, sigma_emissivity: float | ArrayLike = EMISSIVITY_SIGMA,
               nedt: float | ArrayLike = NEDT_K, solver="lm", srf: SpectralResponse | None = None,
               terms: AtmosphericTerms | None = None, expected_rmse: float | None = None,
               **invert_kwargs) -> InversionResult:
    """Invert LST per pixel from VIMI brightness temperatures through ``band_model``.

    **Arguments:**
    - ``band_model``: a :class:`~leafjax.physics.thermal.BandModel` (callable ``(atm, vza) -> AtmosphericTerms``).
    - ``atmospheres``: batched :class:`~leafjax.physics.thermal.Atmosphere` ``(b, level)`` (retrieval side);
      ``vza``: view zenith angles ``(b,)`` (degrees).  Or pass precomputed ``terms=`` (then all three may be
      ``None``).
    - ``bt``: observed brightness temperatures ``(b, 4)`` (K); ``emissivity_prior``: prior band emissivities
      ``(b, 4)``.
    - ``sigma_emissivity``, ``nedt``: see :func:`make_lst_problem`; ``solver``: ``"lm"`` or a solver object;
      ``srf``: default :func:`~leafjax.physics.thermal.vimi_response` on the band model's grid;
      ``expected_rmse``: BT misfit (K) expected from noise and model (default the RMS ``nedt``; ``poor_fit``
      above 3 times it); ``invert_kwargs``: passed to :func:`~leafjax.inversion.invert`.

    **Returns:** :class:`~leafjax.inversion.InversionResult`: ``estimates["lst"]`` (K), ``std["lst"]`` (K, Gauss–
    Newton with the stated noise and prior), ``emissivity_b1..b4`` (derived) and their offsets, ``rmse`` (BT
    misfit, K), ``status``, ``quality`` (``at_bound``, ``poor_fit``, ...).
    """
    if terms is None:
        terms = band_model(atmospheres, jnp.asarray(vza))
    if srf is None:
        srf = vimi_response(np.asarray(terms.wavenumber), dtype=jnp.asarray(terms.transmittance).dtype)
    bt = jnp.asarray(bt)
    if bt.ndim != 2 or bt.shape[-1] != 4 or np.shape(emissivity_prior) != bt.shape:
        raise ValueError(f"bt and emissivity_prior must both have shape (b, 4), got {bt.shape} and "
                         f"{np.shape(emissivity_prior)}")
    terms = terms.validate()
    if terms.transmittance.shape[:-1] != bt.shape[:-1]:
        raise ValueError(f"terms are for {terms.transmittance.shape[:-1]} pixels, bt for {bt.shape[:-1]}")
    if terms.wavenumber.shape != srf.wavelengths.shape:
        raise ValueError(f"the response has {srf.wavelengths.shape[0]} channels, the terms {terms.wavenumber.shape[0]}")
    problem = make_lst_problem(srf, sigma_emissivity=sigma_emissivity, nedt=nedt)
    if expected_rmse is None:
        expected_rmse = float(np.sqrt(np.mean(np.broadcast_to(np.asarray(nedt, np.float64), (4,)) ** 2)))
    fixed = {k: getattr(terms, k) for k in PIXEL_FIELDS[:3]} | {"emissivity_prior": emissivity_prior}
    return invert(problem, bt.astype(problem.dtype), solver=solver, fixed=fixed, noise_std=1.0,
                  expected_rmse=expected_rmse, **invert_kwargs)
