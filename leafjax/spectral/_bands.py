"""Band names of the packaged sensors and their aliases, and band tables given as centres and widths.

Canonical names are those of the packaged response tables: Sentinel-2 MSI ``B2`` … ``B8``, ``B8A``, ``B11``,
``B12`` (ESA writes ``B02``, product files ``B8A``/``b8a``); Landsat 8/9 OLI ``CoastalAerosol``, ``Blue``, ``Green``,
``Red``, ``NIR``, ``SWIR1``, ``SWIR2``, ``Pan``, ``Cirrus``, i.e. OLI bands 1–9 (USGS files name them ``B1`` …
``B9``, Collection 2 surface reflectance ``SR_B1`` … ``SR_B7``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Sequence

import numpy as np

#: Bands of the packaged Sentinel-2 MSI response tables (B1, B9 and B10 are atmospheric bands, not packaged).
S2_BANDS: tuple[str, ...] = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")
#: Landsat 8/9 OLI bands 1–9 by their table names (index + 1 = the USGS band number).
OLI_BANDS: tuple[str, ...] = ("CoastalAerosol", "Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2", "Pan", "Cirrus")
#: Packaged sensor → its canonical band names.
SENSOR_BANDS: dict[str, tuple[str, ...]] = {
    "sentinel-2a": S2_BANDS, "sentinel-2b": S2_BANDS, "sentinel-2c": S2_BANDS,
    "landsat-8": OLI_BANDS, "landsat-9": OLI_BANDS,
}
#: Short sensor names accepted besides the keys of :data:`SENSOR_BANDS` (compared without ``-``/``_``, any case).
SENSOR_ALIASES: dict[str, str] = {
    "s2a": "sentinel-2a", "s2b": "sentinel-2b", "s2c": "sentinel-2c", "sentinel2a": "sentinel-2a",
    "sentinel2b": "sentinel-2b", "sentinel2c": "sentinel-2c", "l8": "landsat-8", "l9": "landsat-9",
    "lc08": "landsat-8", "lc09": "landsat-9", "landsat8": "landsat-8", "landsat9": "landsat-9",
}
_S2_NAME = re.compile(r"^B0*([0-9]{1,2})(A?)$")
_OLI_NUMBER = re.compile(r"^(?:SR_)?B0*([0-9]{1,2})$")
_OLI_WORDS = {"COASTAL": "CoastalAerosol", "AEROSOL": "CoastalAerosol", "PANCHROMATIC": "Pan"}


def sensor_key(sensor: str) -> str | None:
    """The packaged sensor a name refers to (``"S2A"``, ``"sentinel_2a"`` → ``"sentinel-2a"``), else ``None``."""
    key = str(sensor).strip().lower().replace("_", "-")
    if key in SENSOR_BANDS:
        return key
    return SENSOR_ALIASES.get(key.replace("-", ""))


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).upper()


def canonical_band(name: str, sensor: str, *, bands: Sequence[str] | None = None) -> str:
    """The canonical name of band ``name`` of ``sensor``.

    **Arguments:**
    - ``name``: a band name or alias: Sentinel-2 ``"B02"``, ``"b8a"``, ``"B8a"`` (→ ``"B2"``, ``"B8A"``); Landsat
      8/9 ``"B1"`` … ``"B9"``, ``"SR_B4"`` (→ ``"Red"``) or a table name in any case (``"nir"`` → ``"NIR"``,
      ``"swir_1"`` → ``"SWIR1"``).
    - ``sensor``: a packaged sensor (``"sentinel-2a"``, ``"landsat-8"``, …; short forms ``"S2A"``, ``"L8"``) or
      any other name (a user sensor).
    - ``bands``: the sensor's band names when known (e.g. a :class:`SpectralResponse`'s ``band_names``); default:
      those of the packaged sensor.  For a user sensor without ``bands`` the name is returned stripped (no alias
      is known); with ``bands`` it is matched case-insensitively.

    **Returns:** the canonical band name (one of ``bands``).

    Raises:
        ValueError: for a name that is none of the sensor's bands (the message lists them).

    Example:
        >>> canonical_band("B02", "sentinel-2a"), canonical_band("SR_B5", "landsat-8")
        ('B2', 'NIR')
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"band name must be a non-empty string, got {name!r}")
    key = sensor_key(sensor)
    known = tuple(bands) if bands is not None else SENSOR_BANDS.get(key) if key else None
    text = name.strip()
    if known is None:
        return text
    squashed = _squash(text)
    candidate = None
    if key in ("sentinel-2a", "sentinel-2b", "sentinel-2c"):
        m = _S2_NAME.match(squashed)
        if m:
            candidate = f"B{int(m.group(1))}{m.group(2)}"
    elif key in ("landsat-8", "landsat-9"):
        m = _OLI_NUMBER.match(text.upper())
        if m and 1 <= int(m.group(1)) <= len(OLI_BANDS):
            candidate = OLI_BANDS[int(m.group(1)) - 1]
        else:
            candidate = _OLI_WORDS.get(squashed, next((b for b in OLI_BANDS if _squash(b) == squashed), None))
    if candidate in known:
        return candidate
    exact = [b for b in known if _squash(b) == squashed]
    if len(exact) == 1:
        return exact[0]
    raise ValueError(f"unknown band {name!r} of {sensor}; its bands are: {', '.join(known)}")


def is_centres_fwhm_header(header: Sequence[str]) -> bool:
    """Whether a CSV header is a band table ``band,centre,fwhm`` (``center`` also accepted; any case)."""
    h = [c.strip().lower() for c in header]
    return len(h) == 3 and h[0] == "band" and h[1] in ("centre", "center") and h[2] == "fwhm"


def read_centres_fwhm(path: str | Path) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Band names, centres and FWHM (nm) of a CSV table with the header ``band,centre,fwhm`` (one band a row).

    Raises:
        ValueError: for another header, a missing or non-numeric value, duplicate names or non-positive widths.
    """
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows or not is_centres_fwhm_header(rows[0]):
        raise ValueError(f"{path}: expected the header 'band,centre,fwhm', got {rows[0] if rows else 'nothing'}")
    names, centres, widths = [], [], []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != 3:
            raise ValueError(f"{path}, line {i}: expected 3 fields (band, centre, fwhm), got {len(row)}")
        try:
            c, f = float(row[1]), float(row[2])
        except ValueError:
            raise ValueError(f"{path}, line {i}: centre and fwhm must be numbers (nm), got {row[1:]}") from None
        if not (np.isfinite(c) and np.isfinite(f) and f > 0 and c > 0):
            raise ValueError(f"{path}, line {i}: centre and fwhm must be finite and positive (nm)")
        names.append(row[0].strip())
        centres.append(c)
        widths.append(f)
    if not names:
        raise ValueError(f"{path}: no bands")
    if len(set(names)) != len(names) or not all(names):
        raise ValueError(f"{path}: band names must be unique and non-empty")
    return tuple(names), np.asarray(centres), np.asarray(widths)
