"""Seasonality features: two triangle waves of the date, a quarter of a year apart (Wang et al., LeafNothingBehind).

The date enters the Sentinel-1/2 LAI networks as two continuous, periodic, piecewise-linear values in [−1, 1]: the
first peaks at mid-year (+1 on 1 July, −1 on 1 January: the winter–summer axis), the second is the same wave
delayed by a quarter of a year (−1 on 1 April, +1 on 1 October: the spring–autumn axis).  Together they place
every date on a diamond, so that no two dates of a year share both values and 31 December sits next to 1 January.
"""

from __future__ import annotations

import numpy as np

#: Days per year of :func:`seasonality` (the mean Gregorian year).
DAYS_PER_YEAR: float = 365.25
#: The delay of the second wave, as a fraction of a year.
QUARTER: float = 0.25


def triangle_wave(phase):
    r"""Triangle wave of period 1: :math:`\mathrm{tri}(p) = 1 - 4\,|(p \bmod 1) - 1/2|` (−1 at integers, +1 at
    half-integers, slope ±4).  ``phase``: any shape, a NumPy or JAX array (JAX arrays stay JAX arrays, so the
    function is jit-able); returns the same shape.

    Example:
        >>> import numpy as np
        >>> triangle_wave(np.array([0.0, 0.25, 0.5, 0.75, 1.0])).tolist()
        [-1.0, 0.0, 1.0, 0.0, -1.0]
    """
    xp = _namespace(phase)
    return 1.0 - 4.0 * xp.abs(phase - xp.floor(phase) - 0.5)


def year_fraction(month, day):
    """The fraction of the year of the reference code: ``(day / 30 + month - 1) / 12`` (months of 30 days;
    ``month`` 1–12, ``day`` 1–31; any broadcastable shapes).  Use it to reproduce the reference's features from
    calendar dates; :func:`seasonality` takes the day of the year."""
    return (np.asarray(day, dtype=np.float64) / 30.0 + np.asarray(month, dtype=np.float64) - 1.0) / 12.0


def seasonality(day_of_year=None, *, fraction=None, days_per_year: float = DAYS_PER_YEAR):
    r"""The two seasonality features of a date: ``(..., 2)`` with

    .. math:: s_1 = \mathrm{tri}(f), \qquad s_2 = \mathrm{tri}(f - 1/4), \qquad f = \mathrm{doy} / 365.25,

    :func:`triangle_wave` ``tri`` (−1 in January, +1 in July; −1 in April, +1 in October).

    **Arguments:** ``day_of_year``: day of the year (1 = 1 January; any shape, floats allowed), or instead
    ``fraction`` (the fraction of the year ``f`` directly, e.g. from :func:`year_fraction`, which makes the
    features identical to the reference code's ``periodlin_map(f), periodlin_map(f - 0.25)``);
    ``days_per_year``.  NumPy or JAX arrays (JAX stays JAX).

    **Returns:** ``day_of_year.shape + (2,)``, in [−1, 1].

    Example:
        >>> import numpy as np
        >>> np.round(seasonality(np.array([1, 182, 365])), 2).tolist()
        [[-0.99, -0.01], [0.99, -0.01], [-1.0, 0.0]]

    Reference: Wang et al. (2023) "Leveraging multi-temporal Sentinel-1 and 2 satellite data for leaf area index
    estimation with deep learning" (code: github.com/valentingol/LeafNothingBehind, ``_name_to_time_info``).
    """
    if (day_of_year is None) == (fraction is None):
        raise ValueError("give exactly one of day_of_year and fraction")
    if fraction is None:
        xp = _namespace(day_of_year)
        fraction = xp.asarray(day_of_year) / days_per_year
    xp = _namespace(fraction)
    fraction = xp.asarray(fraction)
    return xp.stack([triangle_wave(fraction), triangle_wave(fraction - QUARTER)], axis=-1)


def seasonality_maps(features, height: int, width: int):
    """Seasonality features ``(batch, 2)`` (or any ``(batch, k)``) broadcast to image channels ``(batch, k,
    height, width)`` (constant over the chip), for networks that take every input as an image channel."""
    xp = _namespace(features)
    features = xp.asarray(features)
    if features.ndim != 2:
        raise ValueError(f"expected features (batch, k), got shape {features.shape}")
    return xp.broadcast_to(features[:, :, None, None], (*features.shape, height, width))


def _namespace(a):
    """``jax.numpy`` for JAX arrays and tracers, else NumPy (JAX is imported only when it already is)."""
    import sys

    jax = sys.modules.get("jax")
    if jax is not None and isinstance(a, jax.Array):
        return jax.numpy
    return np
