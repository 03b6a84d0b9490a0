r"""Solar position (zenith, azimuth) from UTC time and place, and the sun–sensor relative azimuth.

Host-level NumPy float64 (not traced): the sun's geometry of a scene is computed once per pixel before the
differentiable model runs.  The algorithm is the one of Meeus (1998, *Astronomical Algorithms*, 2nd ed.):

1. Julian day from UTC; terrestrial time ``TT = UT + ΔT`` (``delta_t``, default 69 s) for the solar theory.
2. Geometric mean longitude :math:`L_0`, mean anomaly :math:`M`, equation of the centre :math:`C` and
   radius vector :math:`R` of the sun (Meeus ch. 25, "low accuracy", stated as 0.01° in longitude).
3. Nutation in longitude and obliquity, four-term series (Meeus ch. 22); aberration :math:`-20.4898''/R`;
   true obliquity (Meeus eq. 22.2); apparent right ascension and declination.
4. Greenwich apparent sidereal time (Meeus eq. 12.4 plus the equation of the equinoxes
   :math:`\Delta\psi\cos\varepsilon`), local hour angle, horizontal coordinates (Meeus ch. 13).
5. Topocentric correction of the zenith for the solar parallax :math:`\xi = 8.794''/R` (observer at sea level;
   ``Δz = ξ sin z``, Meeus ch. 40 to first order).

The zenith returned is the *geometric* (refraction-free) topocentric zenith: what radiative transfer needs (and
what the Sentinel-2 metadata report).  Atmospheric refraction (≈ 0.5° at the horizon) is not applied.

Measured accuracy against the NREL SPA (Reda & Andreas 2004, ±0.0003°; ``pvlib`` ``nrel_numpy``) on random
times 1990–2040 and places with ``|lat| ≤ 70°`` (tests/physics/test_sky.py): see :data:`ACCURACY_DEG`.

References:
    Meeus, J. (1998) Astronomical Algorithms, 2nd ed., Willmann-Bell (ch. 7, 12, 13, 22, 25, 40).
    Reda, I., Andreas, A. (2004) Solar position algorithm for solar radiation applications, Solar Energy
    76:577–589, doi:10.1016/j.solener.2003.12.003 (the reference the accuracy is measured against).
"""

from __future__ import annotations

import datetime as _dt

import jax
import jax.numpy as jnp
import numpy as np

#: Bound (degrees) on the difference to the NREL SPA, measured on 2000 random times 1990–2040 at ``|lat| ≤ 70°``:
#: zenith (max 0.0086°) and angular distance on the sky (max 0.0096°).  The azimuth difference grows as
#: 1/sin(zenith) near the zenith (max 0.016° for zenith ≥ 20°, 0.11° for zenith ≥ 0.5°).
ACCURACY_DEG: float = 0.01
#: Default TT − UT (seconds) of the solar theory: ΔT was 57–69 s over 1990–2022 (IERS); its effect on the
#: sun's position is below 0.001° for any value in 50–80 s.
DELTA_T_S: float = 69.0

_J2000 = np.datetime64("2000-01-01T12:00:00", "ns")
_DAY_NS = 86_400e9


def _one_utc(x) -> np.datetime64:
    """One time value as a naive UTC ``datetime64[ns]``."""
    if isinstance(x, np.datetime64):
        out = x.astype("datetime64[ns]")
    elif isinstance(x, str):
        text = x.strip()
        text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            value = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"time {x!r} is not an ISO-8601 date-time") from None
        return _one_utc(value)
    elif isinstance(x, _dt.datetime):
        if x.tzinfo is not None:
            x = x.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        out = np.datetime64(x, "ns")
    elif hasattr(x, "to_datetime64"):  # pandas Timestamp: the value is stored in UTC
        out = np.datetime64(x.to_datetime64(), "ns")
    elif isinstance(x, _dt.date):
        out = np.datetime64(x, "ns")
    else:
        raise ValueError(f"time must be a datetime64, an ISO-8601 string or a Timestamp, got {type(x).__name__}")
    if np.isnat(out):
        raise ValueError("time contains NaT (not a time)")
    return out


def utc_datetime64(time) -> np.ndarray:
    """``time`` (datetime64, ISO-8601 string(s), ``datetime`` or pandas Timestamp(s); scalar or array) as a
    ``datetime64[ns]`` array in UTC.  Timezone-aware values are converted to UTC; naive ones are taken as UTC.

    Raises:
        ValueError: for a value that is not a time, or NaT.
    """
    arr = np.asarray(time)
    if arr.dtype.kind == "M":
        out = arr.astype("datetime64[ns]")
        if np.any(np.isnat(out)):
            raise ValueError("time contains NaT (not a time)")
        return out
    if arr.dtype.kind not in "OUS":
        raise ValueError(f"time must be datetime64 values or ISO-8601 strings, got dtype {arr.dtype}")
    flat = [_one_utc(v) for v in np.asarray(time, dtype=object).reshape(-1)]
    return np.asarray(flat, dtype="datetime64[ns]").reshape(arr.shape)


def _check_place(lat: np.ndarray, lon: np.ndarray) -> None:
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise ValueError("lat and lon must be finite")
    if np.any(np.abs(lat) > 90.0):
        raise ValueError(f"lat must lie in [-90, 90] degrees, got {lat[np.abs(lat) > 90.0].flat[0]:g}")
    bad = (lon < -180.0) | (lon >= 360.0)
    if np.any(bad):
        raise ValueError(f"lon must lie in [-180, 360) degrees, got {lon[bad].flat[0]:g}")


def _sun_equatorial(jd_ut, delta_t: float):
    """Apparent right ascension, declination (rad), radius vector (AU) and Greenwich apparent sidereal time (deg)
    of the sun at Julian days ``jd_ut`` (UT)."""
    d_ut = jd_ut - 2451545.0
    t = (d_ut + delta_t / 86400.0) / 36525.0  # Julian centuries of TT from J2000.0
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t**2
    m = np.deg2rad(357.52911 + 35999.05029 * t - 0.0001537 * t**2)
    e = 0.016708634 - 0.000042037 * t - 0.0000001267 * t**2
    c = ((1.914602 - 0.004817 * t - 0.000014 * t**2) * np.sin(m) + (0.019993 - 0.000101 * t) * np.sin(2 * m)
         + 0.000289 * np.sin(3 * m))
    r = 1.000001018 * (1.0 - e**2) / (1.0 + e * np.cos(m + np.deg2rad(c)))
    # nutation (Meeus ch. 22, four terms; arcseconds)
    omega = np.deg2rad(125.04452 - 1934.136261 * t)
    l_sun = np.deg2rad(280.4665 + 36000.7698 * t)
    l_moon = np.deg2rad(218.3165 + 481267.8813 * t)
    dpsi = (-17.20 * np.sin(omega) - 1.32 * np.sin(2 * l_sun) - 0.23 * np.sin(2 * l_moon)
            + 0.21 * np.sin(2 * omega)) / 3600.0
    deps = (9.20 * np.cos(omega) + 0.57 * np.cos(2 * l_sun) + 0.10 * np.cos(2 * l_moon)
            - 0.09 * np.cos(2 * omega)) / 3600.0
    eps0 = 23.0 + 26.0 / 60.0 + (21.448 - 46.8150 * t - 0.00059 * t**2 + 0.001813 * t**3) / 3600.0
    eps = np.deg2rad(eps0 + deps)
    lam = np.deg2rad(l0 + c + dpsi - 20.4898 / 3600.0 / r)
    alpha = np.arctan2(np.cos(eps) * np.sin(lam), np.cos(lam))
    delta = np.arcsin(np.sin(eps) * np.sin(lam))
    t_ut = d_ut / 36525.0
    gmst = 280.46061837 + 360.98564736629 * d_ut + 0.000387933 * t_ut**2 - t_ut**3 / 38710000.0
    gast = gmst + dpsi * np.cos(eps)
    return alpha, delta, r, gast


def solar_position(time, lat, lon, *, delta_t: float = DELTA_T_S) -> tuple[np.ndarray, np.ndarray]:
    """Solar zenith and azimuth angles (degrees, NumPy float64, vectorised).

    **Arguments:**
    - ``time``: UTC time(s): ``numpy.datetime64`` (array), ISO-8601 string(s) (``"2022-03-05T10:29:21Z"``;
      an offset such as ``+01:00`` is converted to UTC, no offset means UTC), ``datetime`` or pandas
      ``Timestamp`` (array of those).
    - ``lat``: geodetic latitude (degrees north, in [-90, 90]); ``lon``: longitude (degrees east, in
      [-180, 360)).  ``time``, ``lat`` and ``lon`` broadcast against each other.
    - ``delta_t``: TT − UT in seconds (default :data:`DELTA_T_S`).

    **Returns:** ``(sza, saa)``, the broadcast shape: ``sza`` the geometric (refraction-free) topocentric solar
    zenith angle in [0, 180] (> 90 at night); ``saa`` the solar azimuth in [0, 360), clockwise from north (90 =
    east).  Accuracy: :data:`ACCURACY_DEG` against the NREL SPA.

    Raises:
        ValueError: for a latitude outside [-90, 90], a longitude outside [-180, 360), non-finite places, or a
            value that is not a time.

    Example:
        >>> sza, saa = solar_position("2022-03-05T10:29:21Z", 46.983, 7.0876)  # Sentinel-2A over Witzwil
        >>> round(float(sza), 1), round(float(saa), 1)
        (55.4, 157.5)
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    _check_place(lat, lon)
    t = utc_datetime64(time)
    jd = 2451545.0 + (t - _J2000).astype(np.float64) / _DAY_NS
    alpha, delta, r, gast = _sun_equatorial(jd, float(delta_t))
    hour = np.deg2rad(gast + lon) - alpha  # local hour angle (rad)
    phi = np.deg2rad(lat)
    cos_z = np.sin(phi) * np.sin(delta) + np.cos(phi) * np.cos(delta) * np.cos(hour)
    zen = np.arccos(np.clip(cos_z, -1.0, 1.0))
    zen = zen + np.deg2rad(8.794 / 3600.0) / r * np.sin(zen)  # topocentric (solar parallax)
    az = np.arctan2(np.sin(hour) * np.cos(delta),
                    np.cos(hour) * np.sin(phi) * np.cos(delta) - np.sin(delta) * np.cos(phi))
    saa = np.mod(np.rad2deg(az) + 180.0, 360.0)
    return np.asarray(np.rad2deg(zen)), np.asarray(np.where(saa >= 360.0, 0.0, saa))


def relative_azimuth(saa, vaa):
    """Relative azimuth of 4SAIL, ``|saa − vaa|`` folded into [0, 180] degrees.

    ``saa``: solar azimuth; ``vaa``: view azimuth, the azimuth of the *sensor* seen from the pixel (the
    Sentinel-2 and Landsat metadata convention); both degrees clockwise from north.  ``raa = 0`` when the sun and
    the sensor lie in the same direction: the sensor looks along the sun's rays and sees the backscatter
    (hotspot) side, which is 4SAIL's convention (:func:`leafjax.physics.canopy.canopy_geometry`: the hotspot
    distance :math:`\\sqrt{\\tan^2\\theta_s + \\tan^2\\theta_o - 2\\tan\\theta_s\\tan\\theta_o\\cos\\psi}`
    vanishes at ``ψ = 0``, ``θs = θo``).  Works on NumPy (float64 result) and JAX arrays (traceable).
    """
    xp = np
    if isinstance(saa, jax.Array) or isinstance(vaa, jax.Array):
        xp = jnp
    else:
        saa, vaa = np.asarray(saa, dtype=np.float64), np.asarray(vaa, dtype=np.float64)
    d = xp.mod(xp.abs(saa - vaa), 360.0)
    return xp.where(d > 180.0, 360.0 - d, d)
