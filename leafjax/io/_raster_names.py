"""Names in satellite scenes: acquisition time and platform from product names and metadata, band names from
band descriptions (no xarray and no JAX here; used by :mod:`leafjax.io._raster`).

Sentinel-2 product names follow ``MMM_MSIXXX_YYYYMMDDTHHMMSS_Nxxyy_ROOO_Txxxxx_<Product discriminator>``
(ESA, *Sentinel-2 Products Specification Document*, S2-PDGS-TAS-DI-PSD, §4.3): e.g.
``S2A_MSIL2A_20220305T102921_N0400_R108_T32TLT_20220305T135811`` is Sentinel-2A, level 2A, sensing started
2022-03-05 10:29:21 UTC, processing baseline 04.00.  Landsat Collection-2 product ids
``LC08_L2SP_195027_20220305_20220315_02_T1`` give the platform and the acquisition date (no time of day).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

#: Sentinel-2 product name: platform, level, sensing start, processing baseline.
S2_PRODUCT = re.compile(r"(S2[ABCD])_MSI(L1C|L2A|L2B)_(\d{8}T\d{6})_N(\d{4})")
#: Landsat Collection-2 product id: platform (LC08/LC09/LO08...), acquisition date.
LANDSAT_PRODUCT = re.compile(r"L[COTEM]0?(\d)_L\w{3}_\d{6}_(\d{8})_\d{8}_\d{2}_")
#: Platform prefix -> sensor name of :data:`leafjax.spectral.SENSORS`.
PLATFORMS: dict[str, str] = {"S2A": "sentinel-2a", "S2B": "sentinel-2b", "S2C": "sentinel-2c",
                             "LC08": "landsat-8", "LC09": "landsat-9", "LO08": "landsat-8", "LO09": "landsat-9"}
#: Metadata keys (case-insensitive) read for the acquisition time, in this order.
TIME_KEYS: tuple[str, ...] = ("acquisition_time", "acquisition_utc", "time", "datetime", "sensing_time",
                              "product_start_time", "datatake_1_datatake_sensing_start", "date_acquired",
                              "tifftag_datetime")
#: Names of optional per-pixel (or per-scene, as metadata) angle bands, degrees.
ANGLE_NAMES: tuple[str, ...] = ("sza", "saa", "vza", "vaa")


def product_info(path: str | Path) -> dict:
    """``{"platform", "sensor", "level", "time", "baseline"}`` from a Sentinel-2 product name (or a Landsat id) in
    the file name of ``path``; missing entries are absent.

    Example:
        >>> info = product_info("S2A_MSIL2A_20220305T102921_N0400_R108_T32TLT_20220305T135811.tif")
        >>> info["sensor"], str(info["time"]), info["baseline"]
        ('sentinel-2a', '2022-03-05T10:29:21', 4.0)
    """
    name = Path(str(path).rstrip("/\\")).name
    m = S2_PRODUCT.search(name)
    if m:
        t = m.group(3)
        iso = f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[9:11]}:{t[11:13]}:{t[13:15]}"
        return {"platform": m.group(1), "sensor": PLATFORMS.get(m.group(1), m.group(1).lower()),
                "level": m.group(2), "time": np.datetime64(iso, "s"), "baseline": int(m.group(4)) / 100.0}
    m = LANDSAT_PRODUCT.search(name)
    if m:
        d = m.group(2)
        platform = name[:4].upper()
        out = {"platform": platform, "time": np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:8]}", "s")}
        if platform in PLATFORMS:
            out["sensor"] = PLATFORMS[platform]
        return out
    return {}


def parse_time(value, source: str = "time") -> np.datetime64:
    """A UTC time (``numpy.datetime64[s]``) from a datetime64, an ISO-8601 string (a trailing ``Z`` or ``+00:00``
    accepted; other offsets are converted to UTC), a GDAL ``YYYY:MM:DD HH:MM:SS`` string or a datetime; one-line
    ``ValueError`` naming ``source`` otherwise."""
    import datetime as dt

    if isinstance(value, np.datetime64):
        return value.astype("datetime64[s]")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return np.datetime64(value.replace(microsecond=0), "s")
    text = str(value).strip()
    if re.fullmatch(r"\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}", text):  # TIFFTAG_DATETIME
        text = text[:4] + "-" + text[5:7] + "-" + text[8:10] + "T" + text[11:]
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{source}: {text[:40]!r} is not an ISO-8601 time (e.g. 2022-03-05T10:29:21Z)") from None
    return parse_time(parsed, source)


def metadata_time(attrs: Mapping) -> np.datetime64 | None:
    """The acquisition time in metadata ``attrs`` (first of :data:`TIME_KEYS`, case-insensitive), or ``None``."""
    lower = {str(k).lower(): v for k, v in attrs.items()}
    for key in TIME_KEYS:
        if key in lower and lower[key] not in (None, ""):
            return parse_time(lower[key], f"metadata {key}")
    return None


def band_descriptions(attrs: Mapping, n_bands: int, coords: Sequence | None = None) -> list[str]:
    """Band names of an image with ``n_bands`` bands: the ``long_name`` (GDAL band descriptions, a tuple or one
    string), else a ``band`` coordinate of strings, else ``band_1`` ... (GDAL's default)."""
    names = attrs.get("long_name")
    if isinstance(names, str):
        names = [names] if n_bands == 1 else None
    if names is not None and len(names) == n_bands and all(str(n).strip() for n in names):
        return [str(n).strip() for n in names]
    if coords is not None and len(coords) == n_bands and all(isinstance(c, str) for c in coords):
        return [str(c).strip() for c in coords]
    return [f"band_{i + 1}" for i in range(n_bands)]


def per_band(value, n_bands: int, name: str) -> np.ndarray:
    """``value`` (a number, or one per band) as a float64 array ``(n_bands,)``; one-line ``ValueError`` for a
    wrong count or a value that is not a finite number."""
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64)).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, n_bands)
    if arr.size != n_bands:
        raise ValueError(f"{name}: expected one value or {n_bands} (one per band), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got {arr.tolist()[:4]}")
    return arr
