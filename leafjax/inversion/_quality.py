r"""Quality of observations and fits as data: the bits of :class:`leafjax._flags.Quality` for every row.

**Input checks** (:func:`spectrum_quality`, made on the observation before any compute; jit-safe): with the used
bands ``u`` (the mask, default all) and the finite used values ``v``,

- ``missing_bands``: a used band is NaN/inf (it is masked) but not all; ``no_valid_band``: ``v`` is empty;
- ``out_of_range``: a value of ``v`` outside :data:`~leafjax._flags.VALUE_RANGE` ``[-0.05, 1.05]``;
  ``negative``: one in ``[-0.05, 0)``; ``above_one``: one in ``(1, 1.05]``;
- ``all_zero``: every value of ``v`` is 0; ``flat``: ``max v - min v <`` :data:`FLAT_PTP`;
- ``suspected_percent``: ``max v`` in ``(1.05, 100]``.

Rows with a bit of :data:`~leafjax._flags.NOT_INVERTED` are not inverted (status ``invalid_input``, NaN estimates).

**Fit checks** (:func:`fit_quality`, on the solution; ``ε`` the expected RMSE, see :func:`leafjax.inversion.invert`):
``not_converged`` (status ``max_steps``), ``at_bound`` (an estimate within :data:`AT_BOUND_FRACTION` of its
range from a bound; per parameter in ``InversionResult.at_bound``), ``poor_fit`` (RMSE > :data:`POOR_FIT_FACTOR`
``· ε``) and ``suspected_wavelength_shift``: where the problem knows the wavelength :math:`\lambda_i` of every
observation, the residual :math:`r = y - F` is regressed on the derivative of the fitted spectrum,
:math:`r \approx \delta\,\mathrm dF/\mathrm d\lambda` (finite differences within each contiguous segment of the
grid: a segment ends where the wavelength decreases, as between R and T, or jumps by more than 3 median steps),

.. math:: \delta = \frac{\sum_i r_i F'_i}{\sum_i F'^2_i}, \qquad
          \text{explained} = \frac{(\sum_i r_i F'_i)^2}{\sum_i F'^2_i \sum_i r_i^2},

over the used bands: a spectrum measured at :math:`\lambda + s` but labelled :math:`\lambda` gives
:math:`\delta \approx s`.  The flag is set when :math:`|\delta| \ge` :data:`SHIFT_NM`, explained
:math:`\ge` :data:`SHIFT_EXPLAINED` and RMSE > :data:`SHIFT_FIT_FACTOR` ``· ε``.

Example:
    >>> import numpy as np
    >>> from leafjax._flags import quality_names
    >>> q = spectrum_quality(np.array([[0.1, 0.4, np.nan], [0.0, 0.0, 0.0], [10.0, 40.0, 50.0]]))
    >>> [quality_names(int(b)) for b in q]
    [['missing_bands'], ['all_zero', 'flat'], ['out_of_range', 'suspected_percent']]
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .._flags import NOT_INVERTED, VALUE_RANGE, Quality
from ._result import Status

#: A spectrum whose finite values span less than this (observation units) is ``flat``.
FLAT_PTP: float = 1e-3
#: Largest value of a ``suspected_percent`` spectrum (larger ones are only ``out_of_range``).
PERCENT_MAX: float = 100.0
#: An estimate within this fraction of ``high - low`` from a bound is ``at_bound``.
AT_BOUND_FRACTION: float = 1e-3
#: ``poor_fit`` when the RMSE exceeds this multiple of the expected RMSE.
POOR_FIT_FACTOR: float = 3.0
#: ``suspected_wavelength_shift`` needs a shift of at least this many nm ...
SHIFT_NM: float = 3.0
#: ... explaining at least this share of the residual sum of squares ...
SHIFT_EXPLAINED: float = 0.5
#: ... and an RMSE above this multiple of the expected RMSE.
SHIFT_FIT_FACTOR: float = 2.0
#: Share of rows above 1.05 from which :func:`check_percent` refuses the observations.
PERCENT_SHARE: float = 0.5


def _bit(flag: Quality, cond: Array) -> Array:
    return jnp.where(cond, jnp.int32(int(flag)), jnp.int32(0))


def _one_spectrum(x: Array, use: Array) -> Array:
    lo, hi = VALUE_RANGE
    finite = use & jnp.isfinite(x)
    some = jnp.any(finite, -1)
    v = jnp.where(finite, x, 0.0)
    vmax = jnp.max(jnp.where(finite, x, -jnp.inf), -1)
    vmin = jnp.min(jnp.where(finite, x, jnp.inf), -1)
    bits = [_bit(Quality.MISSING_BANDS, some & jnp.any(use & ~jnp.isfinite(x), -1)),
            _bit(Quality.NO_VALID_BAND, ~some),
            _bit(Quality.OUT_OF_RANGE, jnp.any(finite & ((v < lo) | (v > hi)), -1)),
            _bit(Quality.NEGATIVE, jnp.any(finite & (v >= lo) & (v < 0.0), -1)),
            _bit(Quality.ABOVE_ONE, jnp.any(finite & (v > 1.0) & (v <= hi), -1)),
            _bit(Quality.ALL_ZERO, some & jnp.all(~finite | (v == 0.0), -1)),
            _bit(Quality.FLAT, some & (vmax - vmin < FLAT_PTP)),
            _bit(Quality.SUSPECTED_PERCENT, some & (vmax > hi) & (vmax <= PERCENT_MAX))]
    return functools.reduce(jnp.bitwise_or, bits)


def _in_range(x: Array, use: Array, value_range: tuple[float, float]) -> Array:
    lo, hi = value_range
    finite = use & jnp.isfinite(x)
    some = jnp.any(finite, -1)
    bits = [_bit(Quality.MISSING_BANDS, some & jnp.any(use & ~jnp.isfinite(x), -1)),
            _bit(Quality.NO_VALID_BAND, ~some),
            _bit(Quality.OUT_OF_RANGE, jnp.any(finite & ((x < lo) | (x > hi)), -1))]
    return functools.reduce(jnp.bitwise_or, bits)


@functools.partial(jax.jit, static_argnames=("n_spectra", "value_range"))
def spectrum_quality(observed: Float[ArrayLike, "*b n"], mask: ArrayLike | None = None,
                     n_spectra: int = 1, value_range: tuple[float, float] | None = None) -> Int[Array, "*b"]:
    """Input quality bits (``int32`` ``(*b,)``) of observations ``(*b, n)`` (fractions; see the module docstring).

    ``mask``: bands to use (True; default all), broadcast to ``observed``.  ``n_spectra``: the observation is
    that many spectra side by side (e.g. 2 for ``[R, T]``): each is checked on its own and the bits are OR-ed.
    ``value_range``: for observations that are not fractions (e.g. brightness temperatures, K), the plausible
    ``(low, high)``: only ``missing_bands``, ``no_valid_band`` and ``out_of_range`` are then checked.
    Works under ``jit``/``vmap``.
    """
    x = jnp.asarray(observed)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)
    use = jnp.ones(x.shape, bool) if mask is None else jnp.broadcast_to(jnp.asarray(mask, bool), x.shape)
    n = x.shape[-1]
    if n_spectra < 1 or n % n_spectra:
        raise ValueError(f"{n} bands cannot hold {n_spectra} spectra of equal length")
    k = n // n_spectra
    if value_range is not None:
        return _in_range(x, use, (float(value_range[0]), float(value_range[1])))
    parts = [_one_spectrum(x[..., i * k:(i + 1) * k], use[..., i * k:(i + 1) * k]) for i in range(n_spectra)]
    return functools.reduce(jnp.bitwise_or, parts)


def not_inverted(quality: Int[Array, "*b"]) -> Bool[Array, "*b"]:
    """Rows that are not inverted: any bit of :data:`~leafjax._flags.NOT_INVERTED` set."""
    return (quality & jnp.int32(int(NOT_INVERTED))) != 0


# ---- argument checks (before any compute) --------------------------------------------------------------------------
def check_options(n_starts=1, noise_std=None, expected_rmse=None) -> None:
    """One-line ``ValueError`` for ``n_starts`` not an integer ≥ 1, or ``noise_std``/``expected_rmse`` not
    finite and > 0."""
    if isinstance(n_starts, bool) or not isinstance(n_starts, (int, np.integer)) or n_starts < 1:
        raise ValueError(f"n_starts must be an integer >= 1, got {n_starts!r}")
    for name, v in (("noise_std", noise_std), ("expected_rmse", expected_rmse)):
        if v is None or isinstance(v, jax.core.Tracer):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a positive number, got {v!r}") from None
        if not (math.isfinite(f) and f > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")


def check_free(free, names) -> tuple[str, ...]:
    """``free`` as a tuple; ``ValueError`` if it is empty, repeats a name or names one not in ``names``."""
    if isinstance(free, str):
        free = (free,)
    free = tuple(free)
    if not free:
        raise ValueError(f"free must name at least one parameter to estimate (choose among {', '.join(names)})")
    seen = [n for i, n in enumerate(free) if n in free[:i]]
    if seen:
        raise ValueError(f"free lists {seen[0]!r} twice")
    unknown = [n for n in free if n not in names]
    if unknown:
        raise ValueError(f"cannot estimate {unknown[0]!r}; choose among {', '.join(names)}")
    return free


@jax.jit
def _percent_share(x: Array, use: Array) -> Array:
    high = use & jnp.isfinite(x) & (x > VALUE_RANGE[1])
    return jnp.mean(jnp.any(high, -1).astype(jnp.float32))


def check_percent(observed, mask=None, what: str = "observations") -> None:
    """Raise a one-line ``ValueError`` when more than half of the rows of concrete ``observed`` ``(*b, n)`` have a
    finite (used) value above 1.05: percent passed as fractions.  Traced values are not checked."""
    if observed is None or isinstance(observed, jax.core.Tracer) or isinstance(mask, jax.core.Tracer):
        return
    x = jnp.asarray(observed)
    if x.size == 0 or x.ndim < 1:
        return
    x = x.reshape(-1, x.shape[-1])
    use = jnp.ones(x.shape, bool) if mask is None else jnp.broadcast_to(jnp.asarray(mask, bool).reshape(
        (-1, x.shape[-1]) if jnp.ndim(mask) > 1 else (x.shape[-1],)), x.shape)
    share = float(_percent_share(x, use))
    if share > PERCENT_SHARE:
        raise ValueError(f"{share:.0%} of the {what} have values above {VALUE_RANGE[1]}: they look like percent; "
                         f"divide them by 100 (or pass percent_check=False)")


# ---- fit checks ----------------------------------------------------------------------------------------------------
def shift_fit(residual: Float[Array, "b n"], fitted: Float[Array, "b n"], used: Bool[Array, "b n"],
              wavelengths: Float[Array, " n"]) -> tuple[Float[Array, " b"], Float[Array, " b"]]:
    """Least-squares wavelength shift ``δ`` (nm) of ``residual ≈ δ·dF/dλ`` and the share of the residual sum of
    squares it explains, per row (module docstring); ``residual = observed - fitted`` on the ``used`` bands."""
    dt = fitted.dtype
    wl = jnp.asarray(wavelengths, dt)
    dwl = wl[1:] - wl[:-1]
    step = jnp.nanmedian(jnp.where(dwl > 0, dwl, jnp.nan))
    link = (dwl > 0) & (dwl <= 3.0 * step)  # bands i and i+1 are neighbours of one segment
    slope = jnp.where(link[None, :], (fitted[:, 1:] - fitted[:, :-1]) / jnp.where(link, dwl, 1.0)[None, :],
                      0.0)  # (b, n-1)
    zero = jnp.zeros_like(fitted[:, :1])
    fwd, bwd = jnp.concatenate([slope, zero], -1), jnp.concatenate([zero, slope], -1)
    lf = jnp.concatenate([link, jnp.zeros((1,), bool)]).astype(dt)[None, :]
    lb = jnp.concatenate([jnp.zeros((1,), bool), link]).astype(dt)[None, :]
    deriv = (fwd * lf + bwd * lb) / jnp.maximum(lf + lb, 1.0)
    r = jnp.where(used, residual, 0.0)
    d = jnp.where(used, deriv, 0.0)
    rd, dd, rr = jnp.sum(r * d, -1), jnp.sum(d * d, -1), jnp.sum(r * r, -1)
    tiny = jnp.finfo(dt).tiny
    delta = rd / jnp.maximum(dd, tiny)
    explained = rd * rd / jnp.maximum(dd * rr, tiny)
    return delta, explained


def fit_quality(theta: Float[Array, "b p"], low: Float[Array, " p"], high: Float[Array, " p"],
                status: Int[Array, " b"], rmse: Float[Array, " b"], expected: Float[Array, ""],
                residual: Float[Array, "b n"], fitted: Float[Array, "b n"], used: Bool[Array, "b n"],
                wavelengths: Float[Array, " n"] | None) -> tuple[Int[Array, " b"], Bool[Array, "b p"]]:
    """Fit bits (``int32`` ``(b,)``: NOT_CONVERGED, AT_BOUND, POOR_FIT, SUSPECTED_WAVELENGTH_SHIFT) and the
    per-parameter at-bound mask ``(b, p)`` of inverted rows (status ``converged`` or ``max_steps``)."""
    inverted = (status == Status.CONVERGED) | (status == Status.MAX_STEPS)
    tol = AT_BOUND_FRACTION * (high - low)[None, :]
    at_bound = inverted[:, None] & ((theta - low[None, :] <= tol) | (high[None, :] - theta <= tol))
    bits = [_bit(Quality.NOT_CONVERGED, status == Status.MAX_STEPS),
            _bit(Quality.AT_BOUND, jnp.any(at_bound, -1)),
            _bit(Quality.POOR_FIT, inverted & (rmse > POOR_FIT_FACTOR * expected))]
    if wavelengths is not None:
        delta, explained = shift_fit(residual, fitted, used, wavelengths)
        shifted = (inverted & (jnp.abs(delta) >= SHIFT_NM) & (explained >= SHIFT_EXPLAINED)
                   & (rmse > SHIFT_FIT_FACTOR * expected))
        bits.append(_bit(Quality.SUSPECTED_WAVELENGTH_SHIFT, shifted))
    return functools.reduce(jnp.bitwise_or, bits), at_bound


def with_at_bound(quality: Int[ArrayLike, "*b"], at_bound: dict[str, Bool[ArrayLike, "*b"]]) -> Int[Array, "*b"]:
    """``quality`` with its AT_BOUND bit recomputed from the per-parameter ``at_bound`` masks (after some
    parameters were replaced by those of another inversion, e.g. the optimal-subdomain strategy)."""
    q = jnp.asarray(quality, jnp.int32) & jnp.int32(~int(Quality.AT_BOUND))
    if not at_bound:
        return q
    return q | _bit(Quality.AT_BOUND, functools.reduce(jnp.logical_or, [jnp.asarray(v) for v in at_bound.values()]))
