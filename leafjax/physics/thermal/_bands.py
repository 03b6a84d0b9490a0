r"""Thermal band responses on a wavenumber grid, band-integrated Planck radiance and its exact inverse (band
brightness temperature), and the sensitivity of band brightness temperatures to a band-centre shift.

**Band shape.** A flat top with logistic edges, defined in wavelength (µm):

.. math:: S_b(\lambda) = \sigma\!\left(\frac{\lambda - \lambda_{lo}}{e}\right)
                         \sigma\!\left(\frac{\lambda_{hi} - \lambda}{e}\right),\qquad
          \lambda_{lo,hi} = c_b \mp w_b/2,\qquad \sigma(z) = \frac{1}{1 + e^{-z}}

(centre :math:`c_b`, full width at half maximum :math:`w_b` for :math:`e \ll w_b`, edge scale :math:`e`; the
response rises from 12 % to 88 % over :math:`4e`), sampled at :math:`\lambda_j = 10^4/\tilde\nu_j` on the
wavenumber grid and weighted by trapezoids in :math:`\tilde\nu`: :math:`W_{bj} \propto S_b(\lambda_j)\Delta\tilde\nu_j`,
:math:`\sum_j W_{bj} = 1` (a :class:`leafjax.spectral.SpectralResponse` with unit ``"cm-1"``).

**Band quantities.** The band radiance is the response-weighted mean of the spectral radiance per wavenumber,
:math:`L_b = \sum_j W_{bj} L(\tilde\nu_j)`; the band Planck radiance :math:`B_b(T) = \sum_j W_{bj}B(\tilde\nu_j, T)`;
the band brightness temperature :math:`T_b` solves :math:`B_b(T_b) = L_b` exactly (Newton, then the
implicit-function theorem for derivatives).

**GF-5 VIMI.** The thermal bands of the Visual and Infrared Multispectral Imager on GF-5 (centres 8.20, 8.63, 10.80,
11.95 µm, as used by Heidarian et al. 2025, Remote Sens. 17:3803) have published band limits 8.01–8.39, 8.42–8.83,
10.3–11.3 and 11.4–12.5 µm (the GF-5 VIMI specification, see e.g. Ye et al. 2021, Int. J. Appl. Earth Obs.
Geoinf. 97:102357); the measured response functions are not public, so the bands are modelled by the parametric
shape above with those widths and an assumed edge scale, and :func:`band_shift_sensitivity` quantifies what a
±0.05 µm error in the assumed centres does to brightness temperatures.
"""

from __future__ import annotations

from functools import partial
from typing import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ...spectral import SpectralResponse, convolve
from ._planck import UM_CM1, brightness_temperature_wavenumber, planck_wavenumber, planck_wavenumber_derivatives

#: GF-5 VIMI thermal band centres (µm), bands b1–b4 (Heidarian et al. 2025).
VIMI_CENTRES_UM: tuple[float, ...] = (8.20, 8.63, 10.80, 11.95)
#: GF-5 VIMI thermal band widths (µm) from the published band limits 8.01–8.39, 8.42–8.83, 10.3–11.3, 11.4–12.5 µm.
VIMI_WIDTHS_UM: tuple[float, ...] = (0.38, 0.41, 1.00, 1.10)
#: GF-5 VIMI thermal band names.
VIMI_BANDS: tuple[str, ...] = ("b1", "b2", "b3", "b4")
#: Default logistic edge scale e (µm) of the parametric band shape (assumed: 12–88 % rise over 0.08 µm).
DEFAULT_EDGE_UM: float = 0.02
#: Smallest fraction of a band's area (∫S dν̃) that must lie inside the grid; less is an error.
MIN_INSIDE_FRACTION: float = 0.5
#: Responses below this fraction of a band's peak are set to exactly zero (the logistic tails beyond ~21 edge
#: scales), so that band sums can skip them.
RESPONSE_FLOOR: float = 1e-9
#: Newton iterations of the band brightness temperature (in 1/T on ln B). For the VIMI bands over 150–400 K the
#: error of the start is ≤ 0.16 K, after one step ≤ 4e-6 K, after two ≤ 1e-12 K (float64); the third is margin
#: for wider bands.
NEWTON_ITERATIONS: int = 3
#: Reference temperature (K) of the radiance-weighted effective wavenumber that starts the Newton iteration.
EFFECTIVE_WAVENUMBER_T_K: float = 300.0


def _logistic(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _band_shape(lam_um: np.ndarray, centre: np.ndarray, width: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """S_b(λ) of each band at each wavelength, ``(band, n)``."""
    lo, hi = (centre - 0.5 * width)[:, None], (centre + 0.5 * width)[:, None]
    return _logistic((lam_um[None, :] - lo) / edge[:, None]) * _logistic((hi - lam_um[None, :]) / edge[:, None])


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x)))


def _inside_fraction(grid: np.ndarray, centre: np.ndarray, width: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """Fraction of each band's area ∫S dν̃ inside the grid's range (fine quadrature over ±30 edge scales)."""
    out = []
    for c, w, e in zip(centre, width, edge):
        lam = np.linspace(max(c - 0.5 * w - 30 * e, 0.5 * (c - 0.5 * w)), c + 0.5 * w + 30 * e, 20001)
        nu = UM_CM1 / lam
        s = _band_shape(lam, np.array([c]), np.array([w]), np.array([e]))[0] * UM_CM1 / lam**2  # dν̃ = 10⁴/λ² dλ
        inside = (nu >= grid.min()) & (nu <= grid.max())
        out.append(_trapezoid(s * inside, lam) / _trapezoid(s, lam))
    return np.asarray(out)


def thermal_response(centres_um: Sequence[float] | np.ndarray, widths_um: Sequence[float] | np.ndarray,
                     grid_cm1: Float[ArrayLike, "nu"], *, edge_um: float | Sequence[float] = DEFAULT_EDGE_UM,
                     names: Sequence[str] | None = None, name: str = "thermal",
                     min_inside: float = MIN_INSIDE_FRACTION, dtype=None) -> SpectralResponse:
    r"""Flat-top bands with logistic edges (defined in µm), sampled on a wavenumber grid (numpy; not traced).

    **Arguments:**
    - ``centres_um``, ``widths_um``: ``(band,)`` band centres and full widths at half maximum (µm, > 0).
    - ``grid_cm1``: the wavenumber grid (cm⁻¹) of the spectra to be band-averaged, ``(nu,)``, strictly monotonic.
    - ``edge_um``: logistic edge scale :math:`e` (µm, > 0), one value or one per band.
    - ``names``: band names (default ``"b1"``, …); ``name``: sensor name.
    - ``min_inside``: smallest allowed fraction of a band's area inside the grid range (a band cut by the grid end
      is renormalised over its part inside); ``dtype``: of the weights (default: JAX's default float).

    **Returns:** a :class:`~leafjax.spectral.SpectralResponse` with ``unit="cm-1"``, ``wavelengths`` = the grid
    and weights ``(band, nu)`` that sum to one per band.

    Raises:
        ValueError: for mismatched shapes, non-positive widths or edges, a non-monotonic grid, or a band with
            less than ``min_inside`` of its area on the grid.

    Example:
        >>> srf = thermal_response([10.8], [1.0], np.arange(800.0, 1326.0))
        >>> srf.unit, srf.weights.shape, round(float(srf.weights.sum()), 6)
        ('cm-1', (1, 526), 1.0)
    """
    c = np.asarray(centres_um, dtype=np.float64).reshape(-1)
    w = np.asarray(widths_um, dtype=np.float64).reshape(-1)
    e = np.broadcast_to(np.asarray(edge_um, dtype=np.float64).reshape(-1), c.shape).copy() \
        if np.size(edge_um) in (1, c.size) else None
    if w.shape != c.shape or e is None:
        raise ValueError(f"centres, widths and edge_um need one value per band, got {c.size}, {w.size}, "
                         f"{np.size(edge_um)}")
    if not (np.all(np.isfinite(c)) and np.all(c > 0) and np.all(np.isfinite(w)) and np.all(w > 0)
            and np.all(np.isfinite(e)) and np.all(e > 0) and np.all(w < 2 * c)):
        raise ValueError("band centres, widths and edges must be finite and positive (width < 2 × centre)")
    names = tuple(f"b{i + 1}" for i in range(c.size)) if names is None else tuple(names)
    if len(names) != c.size:
        raise ValueError(f"{len(names)} names for {c.size} bands")
    grid = np.asarray(grid_cm1, dtype=np.float64).reshape(-1)
    d = np.diff(grid)
    if grid.size < 2 or not (np.all(d > 0) or np.all(d < 0)) or grid.min() <= 0:
        raise ValueError("the wavenumber grid must have at least two positive, strictly monotonic values (cm-1)")
    frac = _inside_fraction(grid, c, w, e)
    bad = [f"{b} ({f:.0%} inside)" for b, f in zip(names, frac) if f < min_inside]
    if bad:
        raise ValueError(f"{name}: bands off the grid {grid.min():g}–{grid.max():g} cm-1: {', '.join(bad)}")
    response = _band_shape(UM_CM1 / grid, c, w, e)
    response = np.where(response >= RESPONSE_FLOOR * response.max(axis=1, keepdims=True), response, 0.0)
    return SpectralResponse._from_sampled(grid, response, names, name, "cm-1", dtype)


def vimi_response(grid_cm1: Float[ArrayLike, "nu"], *, shift_um: float | Sequence[float] = 0.0,
                  width_scale: float = 1.0, edge_um: float = DEFAULT_EDGE_UM, dtype=None) -> SpectralResponse:
    """The four GF-5 VIMI thermal bands (:data:`VIMI_CENTRES_UM`, :data:`VIMI_WIDTHS_UM`) on a wavenumber grid.

    **Arguments:** ``grid_cm1`` (cm⁻¹, ``(nu,)``); ``shift_um``: added to every centre (µm; one value or one per
    band); ``width_scale``: multiplies every width; ``edge_um``, ``dtype``: see :func:`thermal_response`.

    Example:
        >>> srf = vimi_response(np.arange(800.0, 1326.0))
        >>> srf.band_names, [round(float(x), 2) for x in 1e4 / srf.centres]  # mean wavenumber, as µm
        (('b1', 'b2', 'b3', 'b4'), [8.2, 8.62, 10.78, 11.92])
    """
    centres = np.asarray(VIMI_CENTRES_UM) + np.broadcast_to(np.asarray(shift_um, dtype=np.float64), (4,))
    return thermal_response(centres, np.asarray(VIMI_WIDTHS_UM) * width_scale, grid_cm1, edge_um=edge_um,
                            names=VIMI_BANDS, name="gf5-vimi", dtype=dtype)


def _wavenumber_srf(srf: SpectralResponse, what: str) -> None:
    if srf.unit != "cm-1":
        raise ValueError(f"{what} needs a response on a wavenumber grid (unit 'cm-1'), got {srf.unit!r}")


def band_radiance(spectral_radiance: Float[ArrayLike, "*batch nu"],
                  srf: SpectralResponse) -> Float[Array, "*batch band"]:
    """Band radiance (W m⁻² sr⁻¹ (cm⁻¹)⁻¹): the response-weighted mean of a spectral radiance per wavenumber.

    **Arguments:** ``spectral_radiance`` ``(*batch, nu)`` on ``srf.wavelengths`` (cm⁻¹); ``srf`` with unit ``"cm-1"``.

    Raises:
        ValueError: for a response not on a wavenumber grid or a grid-length mismatch.
    """
    _wavenumber_srf(srf, "band_radiance")
    return convolve(spectral_radiance, srf)


def _weighted(spectral, weights):
    """Per-band weighted sums of per-band spectra: ``(*b, band, nu)`` × ``(band, nu)`` → ``(*b, band)``."""
    return jnp.einsum("...kj,kj->...k", spectral, weights)


def _band_planck_all(t, nu, weights):
    """B_b(T), ∂B_b/∂T and the spectral B, ∂B/∂T, ∂B/∂ν̃ for per-band temperatures ``t`` ``(*b, band)``."""
    b, dbdt, dbdnu = planck_wavenumber_derivatives(nu, t[..., None])  # (*b, band, nu)
    return _weighted(b, weights), _weighted(dbdt, weights), (b, dbdt, dbdnu)


def band_planck(t_k: Float[ArrayLike, "..."], srf: SpectralResponse, *,
                per_band: bool = False) -> Float[Array, "*batch band"]:
    r"""Band-averaged Planck radiance :math:`B_b(T) = \sum_j W_{bj} B(\tilde\nu_j, T)` (W m⁻² sr⁻¹ (cm⁻¹)⁻¹).

    **Arguments:** ``t_k``: temperature (K), ``(*batch,)`` applied to every band, or ``(*batch, band)`` with
    ``per_band=True`` (one temperature per band); ``srf``: a wavenumber response.

    **Returns:** ``(*batch, band)`` in the dtype of ``t_k``.

    Example:
        >>> srf = vimi_response(np.arange(800.0, 1326.0))
        >>> band_planck(jnp.array([290.0, 300.0]), srf).shape
        (2, 4)
    """
    _wavenumber_srf(srf, "band_planck")
    t = jnp.asarray(t_k)
    t = t if jnp.issubdtype(t.dtype, jnp.floating) else t.astype(jnp.result_type(float))
    if per_band:
        if t.ndim == 0 or t.shape[-1] != srf.n_bands:
            raise ValueError(f"per_band temperatures need a last axis of {srf.n_bands} bands, got shape {t.shape}")
        nu, w = srf.wavelengths.astype(t.dtype), srf.weights.astype(t.dtype)
        return _weighted(planck_wavenumber(nu, t[..., None]), w)
    return convolve(planck_wavenumber(srf.wavelengths.astype(t.dtype), t[..., None]), srf)


@partial(jax.custom_jvp, nondiff_argnums=(3,))
def _band_bt(radiance, nu, weights, iterations):
    ok = radiance > 0
    b_nu = planck_wavenumber(nu, jnp.full_like(nu, EFFECTIVE_WAVENUMBER_T_K))
    b_ref = jnp.sum(weights * b_nu, axis=-1)
    nu_eff = jnp.sum(weights * nu * b_nu, axis=-1) / b_ref  # radiance-weighted effective wavenumber per band
    target = jnp.where(ok, radiance, jnp.broadcast_to(b_ref, radiance.shape))
    u = 1.0 / brightness_temperature_wavenumber(jnp.broadcast_to(nu_eff, target.shape), target)
    log_target = jnp.log(target)
    for _ in range(iterations):  # Newton on f(u) = ln B_b(1/u) − ln L, u = 1/T: f'(u) = −T² (∂B_b/∂T) / B_b
        t = 1.0 / u
        bb, dbb, _ = _band_planck_all(t, nu, weights)
        u = u + (jnp.log(bb) - log_target) * bb / (t * t * dbb)
    return jnp.where(ok, 1.0 / u, jnp.full_like(radiance, jnp.nan))


@_band_bt.defjvp
def _band_bt_jvp(iterations, primals, tangents):
    """Implicit derivative of B_b(T) = L: dT = (dL − Σ dW B − Σ W ∂B/∂ν̃ dν̃) / Σ W ∂B/∂T (zero where L ≤ 0)."""
    radiance, nu, weights = primals
    d_radiance, d_nu, d_weights = tangents
    t = _band_bt(radiance, nu, weights, iterations)
    ok = jnp.isfinite(t)
    t_safe = jnp.where(ok, t, jnp.full_like(t, EFFECTIVE_WAVENUMBER_T_K))
    _, dbb, (b, _, dbdnu) = _band_planck_all(t_safe, nu, weights)
    numerator = d_radiance - _weighted(b, d_weights) - jnp.einsum("...kj,kj,kj->...k", dbdnu, weights, d_nu)
    return t, jnp.where(ok, numerator / dbb, jnp.zeros_like(t))


def _band_support(srf: SpectralResponse):
    """Per-band grids and weights ``(band, k)`` restricted to the non-zero weights (padded with zero weights) when
    the weights are concrete; the full grid ``(band, nu)`` inside a trace.  Same sums, fewer Planck evaluations."""
    nu = jnp.asarray(srf.wavelengths)
    if isinstance(srf.weights, jax.core.Tracer):
        return jnp.broadcast_to(nu, srf.weights.shape), jnp.asarray(srf.weights)
    w = np.asarray(srf.weights)
    support = [np.flatnonzero(row > 0) for row in w]
    k = max(i.size for i in support)
    idx = np.stack([np.concatenate([i, np.full(k - i.size, i[0])]) for i in support])
    keep = np.arange(k)[None, :] < np.array([i.size for i in support])[:, None]
    return nu[idx], jnp.asarray(np.where(keep, np.take_along_axis(w, idx, axis=1), 0.0), dtype=srf.weights.dtype)


#: One compiled program per shape, also when called eagerly (the Newton loop is many small operations).
_band_bt_jit = jax.jit(_band_bt, static_argnums=3)


def band_brightness_temperature(band_radiance: Float[ArrayLike, "*batch band"], srf: SpectralResponse, *,
                                iterations: int = NEWTON_ITERATIONS) -> Float[Array, "*batch band"]:
    r"""Band brightness temperature (K): the exact inverse of :func:`band_planck` (per band),
    :math:`B_b(T_b) = L_b`.

    Starts from the monochromatic inverse at the band's radiance-weighted effective wavenumber
    :math:`\tilde\nu_{e,b} = \sum_j W_{bj}\tilde\nu_j B(\tilde\nu_j, 300\,K) / \sum_j W_{bj} B(\tilde\nu_j, 300\,K)`
    and takes ``iterations`` Newton steps in :math:`1/T` on :math:`\ln B_b` (a fixed count: jit/vmap friendly).
    Derivatives (``jax.custom_jvp``) are those of the exact solution by the implicit-function theorem,
    :math:`\partial T_b/\partial L_b = 1/(\partial B_b/\partial T)`, also with respect to the response's weights and
    grid.  Round trip over 150–400 K (VIMI bands): ≤ 1e-9 K in float64; in float32 ≤ 1e-4 K, the rounding of
    the float32 radiance (tests allow 5e-4 K).

    **Arguments:** ``band_radiance`` ``(*batch, band)`` (W m⁻² sr⁻¹ (cm⁻¹)⁻¹); ``srf``: the wavenumber response
    the radiance was averaged with; ``iterations``: Newton steps.

    **Returns:** ``(*batch, band)`` in the dtype of ``band_radiance``; NaN where the radiance is ≤ 0 (no
    exception, so it can run inside ``jit``; the gradient there is 0).

    Example:
        >>> srf = vimi_response(np.arange(800.0, 1326.0))
        >>> t = band_brightness_temperature(band_planck(jnp.array(295.0), srf), srf)
        >>> [round(float(x), 6) for x in t]
        [295.0, 295.0, 295.0, 295.0]
    """
    _wavenumber_srf(srf, "band_brightness_temperature")
    rad = jnp.asarray(band_radiance)
    rad = rad if jnp.issubdtype(rad.dtype, jnp.floating) else rad.astype(jnp.result_type(float))
    if rad.ndim == 0 or rad.shape[-1] != srf.n_bands:
        raise ValueError(f"band radiance needs a last axis of {srf.n_bands} bands, got shape {rad.shape}")
    nu, weights = _band_support(srf)
    return _band_bt_jit(rad, nu.astype(rad.dtype), weights.astype(rad.dtype), int(iterations))


class ShiftSensitivity(eqx.Module):
    """Brightness-temperature response to a common shift of the band centres (K, ``(*batch, band)`` each).

    **Fields:** ``nominal`` (BT with the nominal bands), ``minus`` (BT with centres − shift, minus nominal),
    ``plus`` (BT with centres + shift, minus nominal); ``shift_um`` (static, µm).
    """

    nominal: Float[Array, "*batch band"]
    minus: Float[Array, "*batch band"]
    plus: Float[Array, "*batch band"]
    shift_um: float = eqx.field(static=True)


def band_shift_sensitivity(terms, emissivity: Float[ArrayLike, "*#batch nu"], t_surface: Float[ArrayLike, "*#batch"],
                           *, shift_um: float = 0.05, centres_um: Sequence[float] = VIMI_CENTRES_UM,
                           widths_um: Sequence[float] = VIMI_WIDTHS_UM, edge_um: float = DEFAULT_EDGE_UM,
                           names: Sequence[str] = VIMI_BANDS) -> ShiftSensitivity:
    r"""How much the TOA band brightness temperatures change when every band centre moves by ±``shift_um``.

    The spectral TOA radiance :math:`\tau[\varepsilon B(T_s) + (1-\varepsilon)L^\downarrow] + L^\uparrow` is
    computed once (:func:`~leafjax.physics.thermal.toa_radiance`) and band-averaged with the nominal and the shifted
    responses (:func:`thermal_response` on ``terms.wavenumber``; widths and edges unchanged).

    **Arguments:** ``terms``: :class:`~leafjax.physics.thermal.AtmosphericTerms` (concrete wavenumber grid);
    ``emissivity`` ``(nu,)`` or ``(*batch, nu)``; ``t_surface`` (K) ``(*batch,)``; ``shift_um`` (µm, > 0);
    ``centres_um``, ``widths_um``, ``edge_um``, ``names``: the bands (default GF-5 VIMI).

    **Returns:** a :class:`ShiftSensitivity` (K).

    Raises:
        ValueError: for a non-positive shift or a shifted band off the grid.
    """
    from ._toa import toa_radiance  # _toa builds on this module

    if not shift_um > 0:
        raise ValueError(f"shift_um must be positive, got {shift_um}")
    grid = np.asarray(terms.wavenumber)
    radiance = toa_radiance(terms, emissivity, t_surface)
    c = np.asarray(centres_um, dtype=np.float64)

    def bt(offset):
        srf = thermal_response(c + offset, widths_um, grid, edge_um=edge_um, names=names, dtype=radiance.dtype)
        return band_brightness_temperature(band_radiance(radiance, srf), srf)

    nominal = bt(0.0)
    return ShiftSensitivity(nominal=nominal, minus=bt(-shift_um) - nominal, plus=bt(shift_um) - nominal,
                            shift_um=float(shift_um))
