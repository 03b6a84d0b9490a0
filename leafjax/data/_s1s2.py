"""Reader of Sentinel-1/Sentinel-2 LAI chips named as in the multi-temporal LAI challenge ("Leaf Nothing Behind",
2023; the sample ``lai_s1s2_sample/`` of the shared data folder — nothing of it is bundled with leafjax).

A folder holds ``s1/``, ``s2/`` and ``s2-mask/``, each with one GeoTIFF per chip and time step, named

    ``<Country>_<Area>_<DateFrom>_<DateTo>-<IdxTime>-<#MeasurementBefore>-<Row>-<Column>.tiff``

(e.g. ``KALININGRAD_GUSEV_2018-04-07_2018-04-19-0-0-7-23.tiff``): ``IdxTime`` 0, 1, 2 is t−2, t−1, t; the dates
are the window of the triplet (the acquisition date of each time step is not in the name); ``Row``/``Column``
place the 256 × 256 chip in a larger image.  Contents, as found in the sample:

* ``s1/``: Sentinel-1 backscatter σ⁰ in **dB**, float32, 2 bands in the order **[VH, VV]** (medians about
  −18 and −10 dB; the challenge documentation says [VV, VH], the values say otherwise — returned here as named
  channels ``vh``, ``vv``, :data:`S1_CHANNELS`).  Required at all three time steps.
* ``s2/``: the Sentinel-2 LAI product (m² m⁻², float64) at t−2 and t−1 (and t where present; not in the sample).
  Small negative values (down to about −0.2) occur in the product and are kept.
* ``s2-mask/``: the Sentinel-2 scene classification (SCL, classes 0–11, :data:`SCL_CLASSES`) stored as float64;
  converted to integers here (a value that is no class 0–11 becomes −1, with a warning).  The challenge scores
  pixels of classes 2–6 (:data:`VALID_SCL`).

A corrupt LAI file (the sample's ``s2/LATVIA_LITHUANIA_…-0-…tiff`` is a copy of its mask) is detected by content
(:func:`lai_file_problem`: identical to its mask, or integer-valued within the SCL range) and flagged: a
``RuntimeWarning`` names it, its LAI is all NaN, ``lai_status`` says ``"corrupt"``; reading never fails for it.
GeoTIFFs are read with the imagery extra (rioxarray, through :mod:`leafjax.io`).
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np

#: Sub-folders of a challenge data folder.
S1_DIR, S2_DIR, MASK_DIR = "s1", "s2", "s2-mask"
#: Channel order of the ``s1/`` files (and of :attr:`S1S2Chip.s1`): VH then VV.
S1_CHANNELS: tuple[str, ...] = ("vh", "vv")
#: The three time steps of a chip (``IdxTime`` 0, 1, 2).
TIME_STEPS: tuple[str, ...] = ("t-2", "t-1", "t")
#: Scene-classification classes of the challenge documentation (ESA Sentinel-2 L2A SCL).
SCL_CLASSES: dict[int, str] = {0: "no data", 1: "saturated or defective", 2: "cast shadows", 3: "cloud shadows",
                               4: "vegetation", 5: "not vegetated", 6: "water", 7: "unclassified",
                               8: "cloud medium probability", 9: "cloud high probability", 10: "thin cirrus",
                               11: "snow or ice"}
#: SCL classes whose pixels the challenge scores (masked MSE over classes 2–6).
VALID_SCL: tuple[int, ...] = (2, 3, 4, 5, 6)
#: A chip file name (see the module docstring).
CHIP_NAME = re.compile(r"^(?P<scene>.+?)_(?P<date_from>\d{4}-\d{2}-\d{2})_(?P<date_to>\d{4}-\d{2}-\d{2})"
                       r"-(?P<time>[012])-(?P<before>\d+)-(?P<row>\d+)-(?P<column>\d+)\.tiff?$")


@dataclasses.dataclass(frozen=True)
class ChipName:
    """The parts of a chip file name: ``scene`` (``<Country>_<Area>``), ``date_from``/``date_to``
    (``datetime64[D]``), ``time`` (0, 1, 2 = t−2, t−1, t), ``before`` (#MeasurementBefore), ``row``, ``column``."""

    scene: str
    date_from: np.datetime64
    date_to: np.datetime64
    time: int
    before: int
    row: int
    column: int

    @property
    def chip(self) -> str:
        """The chip's name without the time step, e.g. ``KALININGRAD_GUSEV_2018-04-07_2018-04-19-0-7-23``."""
        return f"{self.scene}_{self.date_from}_{self.date_to}-{self.before}-{self.row}-{self.column}"

    def file(self, time: int, suffix: str = ".tiff") -> str:
        """The file name of time step ``time`` of this chip."""
        return f"{self.scene}_{self.date_from}_{self.date_to}-{time}-{self.before}-{self.row}-{self.column}{suffix}"


def parse_chip_name(name: str) -> ChipName:
    """Split a challenge file name into :class:`ChipName` (one-line ``ValueError`` if it does not match).

    Example:
        >>> n = parse_chip_name("KALININGRAD_GUSEV_2018-04-07_2018-04-19-1-0-7-23.tiff")
        >>> n.scene, str(n.date_to), n.time, n.chip
        ('KALININGRAD_GUSEV', '2018-04-19', 1, 'KALININGRAD_GUSEV_2018-04-07_2018-04-19-0-7-23')
    """
    m = CHIP_NAME.match(Path(name).name)
    if m is None:
        raise ValueError(f"{name}: not a challenge chip name <Country>_<Area>_<DateFrom>_<DateTo>-<IdxTime>-"
                         f"<#MeasurementBefore>-<Row>-<Column>.tiff")
    g = m.groupdict()
    return ChipName(g["scene"], np.datetime64(g["date_from"], "D"), np.datetime64(g["date_to"], "D"),
                    int(g["time"]), int(g["before"]), int(g["row"]), int(g["column"]))


@dataclasses.dataclass(frozen=True)
class S1S2Chip:
    """One chip at its three time steps (NumPy arrays; ``y``, ``x`` = 256, 256 in the sample).

    **Fields:**
    - ``name``: :class:`ChipName` (``scene``, ``date_from``, ``date_to``, ``row``, ``column``; ``name.chip``).
    - ``s1``: ``(time=3, channel=2, y, x)`` float32 σ⁰ in dB, channels :data:`S1_CHANNELS` = ``[vh, vv]``.
    - ``lai``: ``(time=3, y, x)`` float64 LAI (m² m⁻²), NaN where not ``valid`` (and at missing or corrupt times).
    - ``scl``: ``(time=3, y, x)`` int16 SCL class, −1 where the mask is missing or a value is no class 0–11.
    - ``clear``: ``(3, y, x)`` bool, SCL class in :data:`VALID_SCL` (2–6; the challenge's scoring mask).
    - ``valid``: ``(3, y, x)`` bool, ``clear`` and a finite LAI from an intact file.
    - ``lai_status``: per time step ``"ok"``, ``"missing"`` (no ``s2/`` file), ``"unmasked"`` (no ``s2-mask/``
      file: no valid pixel) or ``"corrupt: <reason>"`` (:func:`lai_file_problem`).
    - ``crs`` (WKT string or ``None``), ``transform`` (affine coefficients ``(a, b, c, d, e, f)``), ``folder``.
    """

    name: ChipName
    s1: np.ndarray
    lai: np.ndarray
    scl: np.ndarray
    clear: np.ndarray
    valid: np.ndarray
    lai_status: tuple[str, ...]
    crs: str | None
    transform: tuple[float, ...]
    folder: Path

    @property
    def scene(self) -> str:
        """``<Country>_<Area>``, e.g. ``KALININGRAD_GUSEV``."""
        return self.name.scene

    @property
    def vh(self) -> np.ndarray:
        """VH backscatter ``(3, y, x)`` dB."""
        return self.s1[:, S1_CHANNELS.index("vh")]

    @property
    def vv(self) -> np.ndarray:
        """VV backscatter ``(3, y, x)`` dB."""
        return self.s1[:, S1_CHANNELS.index("vv")]

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.s1.shape[-2]), int(self.s1.shape[-1])


def _root(folder) -> Path:
    root = Path(folder)
    if not (root / S1_DIR).is_dir() and (root / "lai_s1s2_sample" / S1_DIR).is_dir():
        root = root / "lai_s1s2_sample"  # the shared data folder itself
    if not (root / S1_DIR).is_dir():
        raise FileNotFoundError(f"no {S1_DIR}/ folder in {Path(folder)} (expected {S1_DIR}/, {S2_DIR}/, "
                                f"{MASK_DIR}/)")
    return root


def s1s2_chip_names(folder) -> list[str]:
    """The chips (:attr:`ChipName.chip`) of a challenge folder (or of the shared data folder's sample), sorted;
    taken from ``s1/`` (files whose names do not follow the challenge naming are ignored)."""
    out = set()
    for p in (_root(folder) / S1_DIR).iterdir():
        if CHIP_NAME.match(p.name):
            out.add(parse_chip_name(p.name).chip)
    return sorted(out)


def _read_raster(path: Path):
    """``(array (band, y, x), crs WKT or None, transform tuple)`` of a GeoTIFF, through leafjax.io's reader."""
    from ..io._raster import _imagery, _read_gtiff

    _imagery()
    try:
        da, _, _ = _read_gtiff(path, None)
        values = np.asarray(da.values)
    except Exception as e:  # noqa: BLE001 - rasterio raises many types for unreadable files
        raise ValueError(f"{path}: cannot read the raster ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
                         ) from None
    crs = da.rio.crs
    return values, (None if crs is None else crs.to_wkt()), tuple(da.rio.transform())[:6]


def scl_classes(values, source: str = "mask") -> np.ndarray:
    """SCL values (e.g. the float64 of the ``s2-mask/`` files) as int16 classes 0–11; anything else (NaN,
    fractions, values > 11) is −1, with a ``RuntimeWarning`` naming ``source`` and the count."""
    from ..io._raster import _classes

    out = _classes(values)
    out = np.where(out > max(SCL_CLASSES), -1, out).astype(np.int16)
    bad = int(np.sum(out < 0))
    if bad:
        warnings.warn(f"leafjax: {source}: {bad} values are no SCL class 0-11; marked -1 (invalid)", RuntimeWarning,
                      stacklevel=3)
    return out


def lai_file_problem(lai: np.ndarray, mask: np.ndarray | None) -> str | None:
    """Why an LAI array is not an LAI product, or ``None``: ``"identical to its s2-mask file"``, or
    ``"integer-valued within the SCL class range 0-11"`` (at least two distinct classes; a real LAI product is
    continuous), or ``"no finite value"``."""
    finite = np.isfinite(lai)
    if not finite.any():
        return "no finite value"
    if mask is not None and mask.shape == lai.shape and np.array_equal(lai, mask, equal_nan=True):
        return "identical to its s2-mask file"
    v = lai[finite]
    if np.all(v == np.round(v)) and v.min() >= 0 and v.max() <= max(SCL_CLASSES) and np.unique(v).size >= 2:
        return "integer-valued within the SCL class range 0-11"
    return None


def _chip_name(chip) -> ChipName:
    """A :class:`ChipName` from itself, a file name of the chip, or its :attr:`ChipName.chip` string."""
    if isinstance(chip, ChipName):
        return chip
    text = Path(str(chip)).name
    if CHIP_NAME.match(text):
        return parse_chip_name(text)
    head, before, row, column = (text.rsplit("-", 3) + ["", "", ""])[:4]
    return parse_chip_name(f"{head}-0-{before}-{row}-{column}.tiff")


def read_s1s2_chip(folder, chip) -> S1S2Chip:
    """Read one chip of a challenge folder: see :class:`S1S2Chip` and the module docstring.

    **Arguments:** ``folder`` (holding ``s1/``, ``s2/``, ``s2-mask/``, or the shared data folder); ``chip`` (a
    name of :func:`s1s2_chip_names`, a file name of the chip at any time step, or a :class:`ChipName`).

    Raises:
        FileNotFoundError: if an ``s1/`` file of the chip is missing.
        ValueError: for unreadable files, a wrong band count or chips of different sizes (one line).
    """
    root = _root(folder)
    name = _chip_name(chip)
    s1, crs, transform = [], None, ()
    for t in range(3):
        path = root / S1_DIR / name.file(t)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing Sentinel-1 file of chip {name.chip} ({TIME_STEPS[t]})")
        values, crs, transform = _read_raster(path)
        if values.shape[0] != len(S1_CHANNELS):
            raise ValueError(f"{path}: expected {len(S1_CHANNELS)} bands [VH, VV], found {values.shape[0]}")
        s1.append(values.astype(np.float32))
    s1 = np.stack(s1)
    shape = s1.shape[-2:]
    _check_s1(s1, name)
    lai = np.full((3, *shape), np.nan)
    scl = np.full((3, *shape), -1, np.int16)
    status = []
    for t in range(3):
        lai_path, mask_path = root / S2_DIR / name.file(t), root / MASK_DIR / name.file(t)
        raw_mask = None
        if mask_path.is_file():
            raw_mask = _band(mask_path, shape)
            scl[t] = scl_classes(raw_mask, mask_path.name)
        if not lai_path.is_file():
            status.append("missing")
            continue
        values = _band(lai_path, shape)
        problem = lai_file_problem(values, raw_mask)
        if problem is not None:
            warnings.warn(f"leafjax: {S2_DIR}/{lai_path.name}: not a usable LAI product ({problem}); its LAI is "
                          f"set to NaN", RuntimeWarning, stacklevel=2)
            status.append(f"corrupt: {problem}")
            continue
        if raw_mask is None:
            warnings.warn(f"leafjax: {MASK_DIR}/{lai_path.name} is missing: the LAI of {TIME_STEPS[t]} has no "
                          f"valid pixel", RuntimeWarning, stacklevel=2)
            status.append("unmasked")
            continue
        lai[t] = values
        status.append("ok")
    clear = np.isin(scl, VALID_SCL)
    valid = clear & np.isfinite(lai)
    lai = np.where(valid, lai, np.nan)
    return S1S2Chip(name, s1, lai, scl, clear, valid, tuple(status), crs, transform, root)


def _band(path: Path, shape) -> np.ndarray:
    values, _, _ = _read_raster(path)
    if values.shape[0] != 1 or values.shape[1:] != tuple(shape):
        raise ValueError(f"{path}: expected one band of {shape[0]} x {shape[1]} pixels, got shape {values.shape}")
    return values[0].astype(np.float64)


def _check_s1(s1: np.ndarray, name: ChipName) -> None:
    """Warn if the backscatter does not look like dB or the channels like [VH, VV] (VH is the weaker)."""
    med = np.nanmedian(s1, axis=(0, 2, 3))
    if np.any(med > 0):
        warnings.warn(f"leafjax: s1/{name.chip}: channel medians {med.round(1).tolist()} are positive; the files "
                      f"should hold dB (negative over land)", RuntimeWarning, stacklevel=3)
    elif med[0] > med[1]:
        warnings.warn(f"leafjax: s1/{name.chip}: the first channel (read as VH) has the higher median "
                      f"({med[0]:.1f} vs {med[1]:.1f} dB); the channel order may be [VV, VH]", RuntimeWarning,
                      stacklevel=3)


def load_s1s2_sample(folder) -> list[S1S2Chip]:
    """Every chip of a challenge folder (``lai_s1s2_sample/`` or the shared data folder holding it), sorted by
    name (:func:`read_s1s2_chip` each; the corrupt LAI file of the sample gives one ``RuntimeWarning``).

    Example (needs the shared data)::

        chips = load_s1s2_sample("../shared/data")
        [c.lai_status for c in chips]   # ('ok', 'ok', 'missing'), ('corrupt: identical …', 'ok', 'missing'), …
    """
    root = _root(folder)
    return [read_s1s2_chip(root, chip) for chip in s1s2_chip_names(root)]
