"""Readers of the thermal-infrared reference data (the land-surface-temperature system), in canonical units.

The files live in a ``thermal/`` data folder (the shared data folder; nothing of them is bundled with leafjax):

* ``lwir_atmospheres.h5`` — the line-by-line *truth*: 80 atmospheres (43 levels, surface first) with LBLRTM
  (v12.8, nadir) spectral transmittance, path radiance and hemispheric downwelling radiance, 800–1325 cm⁻¹ every
  1 cm⁻¹, and 22 emissivity spectra (:func:`load_lwir_truth`).  File units: ``P`` Pa, ``H2O``/``O3`` ppmv,
  radiances µW cm⁻² sr⁻¹ (cm⁻¹)⁻¹; here hPa, ppmv and W m⁻² sr⁻¹ (cm⁻¹)⁻¹ (× :data:`MICROWATT_CM2_TO_W_M2`).
* ``tigr2311_profiles.npz`` — the TIGR-2000 set, 2,311 profiles on the same 43 levels (:func:`load_tigr`); its
  ``O3`` is a volume fraction (× 10⁶ → ppmv), ``P`` hPa; ``lwir_rows`` maps each truth atmosphere to its TIGR row.
* ``mt_ckd_h2o_continuum.nc`` — MT_CKD 4.3 water-vapour continuum coefficients (:func:`load_continuum`).
* ``us_standard_atmosphere.csv`` — the US-Standard profile of the trace gases of the LBLRTM run
  (:func:`load_us_standard`).

The truth is split once, by column water vapour, into *calibration* atmospheres (to fit the band model) and
*site* atmospheres (only for synthetic observations): :func:`split_truth`.  ``h5py`` is imported lazily (optional
dependency, extra ``thermal``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .._constants import MOLAR_MASS_DRY_AIR, MOLAR_MASS_WATER, STANDARD_GRAVITY
from ..physics.thermal import Atmosphere, atmosphere, toa_brightness_temperature
from ..physics.thermal._continuum import Continuum
from ..physics.thermal._toa import AtmosphericTerms

#: File names inside the ``thermal/`` folder.
TRUTH_FILE = "lwir_atmospheres.h5"
TIGR_FILE = "tigr2311_profiles.npz"
CONTINUUM_FILE = "mt_ckd_h2o_continuum.nc"
US_STANDARD_FILE = "us_standard_atmosphere.csv"
#: µW cm⁻² sr⁻¹ (cm⁻¹)⁻¹ → W m⁻² sr⁻¹ (cm⁻¹)⁻¹ (10⁻⁶ W per µW × 10⁴ cm² per m²).
MICROWATT_CM2_TO_W_M2: float = 1.0e-2
#: Volume fraction → ppmv.
PPMV: float = 1.0e6
#: Pa → hPa.
HPA_PER_PA: float = 1.0e-2
#: The land emissivity spectra of the truth file (columns 1..21; column 0 is metal-like, mean 0.05).
LAND_EMISSIVITY_COLUMNS: tuple[int, ...] = tuple(range(1, 22))


@dataclasses.dataclass(frozen=True)
class LwirTruth:
    """The LBLRTM reference (nadir), canonical units.

    **Fields:** ``atmospheres`` (batched :class:`~leafjax.physics.thermal.Atmosphere`, 80 profiles × 43 levels,
    hPa/K/ppmv); ``wavenumber`` ``(526,)`` cm⁻¹; ``transmittance``, ``path_radiance``, ``downwelling``
    ``(80, 526)`` (1; W m⁻² sr⁻¹ (cm⁻¹)⁻¹; the downwelling is the hemispheric mean F↓/π); ``emissivity``
    ``(22, 526)``; ``column_water_vapour`` ``(80,)`` g cm⁻²; ``tigr_rows`` ``(80,)`` (row of each atmosphere in the
    TIGR set); ``altitude`` ``(43,)`` km; ``continuum``: the MT_CKD table of the same folder
    (:func:`load_continuum`), or ``None`` when the folder has none.
    """

    atmospheres: Atmosphere
    wavenumber: np.ndarray
    transmittance: np.ndarray
    path_radiance: np.ndarray
    downwelling: np.ndarray
    emissivity: np.ndarray
    column_water_vapour: np.ndarray
    tigr_rows: np.ndarray
    altitude: np.ndarray
    continuum: Continuum | None = None

    def terms(self, idx=slice(None)) -> AtmosphericTerms:
        """The truth :class:`~leafjax.physics.thermal.AtmosphericTerms` of atmospheres ``idx`` (nadir, 1 cm⁻¹)."""
        import jax.numpy as jnp

        return AtmosphericTerms(jnp.asarray(self.wavenumber), jnp.asarray(self.transmittance[idx]),
                                jnp.asarray(self.path_radiance[idx]), jnp.asarray(self.downwelling[idx]))


@dataclasses.dataclass(frozen=True)
class TigrProfiles:
    """The TIGR-2000 profiles: ``atmospheres`` (batched, 2311 × 43 levels, hPa/K/ppmv), ``altitude`` ``(2311, 43)``
    km, ``lwir_rows`` ``(80,)`` (the rows that are the truth atmospheres: keep them out of pre-training)."""

    atmospheres: Atmosphere
    altitude: np.ndarray
    lwir_rows: np.ndarray


def _path(folder, name: str) -> Path:
    path = Path(folder) / name
    if not path.is_file():
        raise FileNotFoundError(f"thermal data file {name} not found in {Path(folder)}")
    return path


def _column_water_vapour(p_hpa: np.ndarray, h2o_ppmv: np.ndarray) -> np.ndarray:
    """:meth:`Atmosphere.column_water_vapour` in float64 NumPy (g cm⁻²), so that the split never depends on
    JAX's default precision."""
    x = h2o_ppmv * 1e-6
    q = x * MOLAR_MASS_WATER / (MOLAR_MASS_DRY_AIR + x * MOLAR_MASS_WATER)
    dp = (p_hpa[..., :-1] - p_hpa[..., 1:]) * 100.0
    return np.sum(0.5 * (q[..., :-1] + q[..., 1:]) * dp, axis=-1) / STANDARD_GRAVITY / 10.0


def load_lwir_truth(folder) -> LwirTruth:
    """Read ``lwir_atmospheres.h5`` from the ``thermal/`` ``folder`` (see :class:`LwirTruth`; needs ``h5py``),
    with the TIGR row map and the MT_CKD continuum of the same folder when they are there.

    Raises:
        FileNotFoundError: naming the missing file.
    """
    path = _path(folder, TRUTH_FILE)
    import h5py

    with h5py.File(path, "r") as f:
        raw = {k: np.asarray(f[k][()], dtype=np.float64) for k in ("P", "T", "H2O", "O3", "X", "tau", "La", "Ld",
                                                                     "emis", "z")}
    atm = atmosphere(raw["P"] * HPA_PER_PA, raw["T"], raw["H2O"], raw["O3"])
    tigr_rows = np.zeros(raw["T"].shape[0], dtype=np.int64) - 1
    tigr_path = Path(folder) / TIGR_FILE
    if tigr_path.is_file():
        with np.load(tigr_path) as z:
            tigr_rows = np.asarray(z["lwir_rows"], dtype=np.int64)
    continuum = load_continuum(folder) if (Path(folder) / CONTINUUM_FILE).is_file() else None
    return LwirTruth(atmospheres=atm, wavenumber=raw["X"], transmittance=raw["tau"].T,
                     path_radiance=raw["La"].T * MICROWATT_CM2_TO_W_M2,
                     downwelling=raw["Ld"].T * MICROWATT_CM2_TO_W_M2, emissivity=raw["emis"].T,
                     column_water_vapour=_column_water_vapour(raw["P"] * HPA_PER_PA, raw["H2O"]),
                     tigr_rows=tigr_rows, altitude=np.abs(raw["z"]), continuum=continuum)


def load_tigr(folder) -> TigrProfiles:
    """Read ``tigr2311_profiles.npz`` (O₃ volume fraction → ppmv); see :class:`TigrProfiles`.

    Raises:
        FileNotFoundError: naming the missing file.
    """
    with np.load(_path(folder, TIGR_FILE)) as z:
        p, t, h2o, o3 = (np.asarray(z[k], dtype=np.float64) for k in ("P", "T", "H2O", "O3"))
        alt, rows = np.asarray(z["z"], dtype=np.float64), np.asarray(z["lwir_rows"], dtype=np.int64)
    import jax.numpy as jnp

    # not validated: a few TIGR profiles fail the batch rules; ``simulation.pretraining_pool`` drops them
    atm = Atmosphere(jnp.asarray(p), jnp.asarray(t), jnp.asarray(h2o), jnp.asarray(o3 * PPMV))
    return TigrProfiles(atmospheres=atm, altitude=alt, lwir_rows=rows)


def load_continuum(folder) -> Continuum:
    """Read the MT_CKD continuum table ``mt_ckd_h2o_continuum.nc`` (netCDF-3, ``scipy.io.netcdf_file``).

    Raises:
        FileNotFoundError: naming the missing file.
    """
    from scipy.io import netcdf_file

    f = netcdf_file(_path(folder, CONTINUUM_FILE), "r", mmap=False)
    try:
        v = {k: np.asarray(f.variables[k].data, dtype=np.float64) for k in
             ("wavenumbers", "self_absco_ref", "for_absco_ref", "self_texp", "ref_press", "ref_temp")}
    finally:
        f.close()
    return Continuum(v["wavenumbers"], v["self_absco_ref"], v["for_absco_ref"], v["self_texp"],
                     float(v["ref_press"]), float(v["ref_temp"]))


def load_us_standard(folder) -> dict[str, np.ndarray]:
    """Read the US-Standard profile ``us_standard_atmosphere.csv``: ``{"pressure" (hPa), "temperature" (K),
    "altitude" (km, layer bottom), "h2o", "co2", "o3", "n2o", "co", "ch4", "o2", "n2", "ar" (ppmv)}``, 66 rows
    surface first.

    Raises:
        FileNotFoundError: naming the missing file.
    """
    path = _path(folder, US_STANDARD_FILE)
    with open(path, encoding="utf-8") as fh:
        header = [h.strip().split(" ")[0].lower() for h in fh.readline().split(",")]
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    col = {h: data[:, i] for i, h in enumerate(header)}
    out = {"pressure": col["p"] * HPA_PER_PA, "temperature": col["t"], "altitude": col["z0"]}
    for gas in ("h2o", "co2", "o3", "n2o", "co", "ch4", "o2", "n2", "ar"):
        out[gas] = col[gas] * PPMV
    return out


def split_truth(truth: LwirTruth) -> tuple[np.ndarray, np.ndarray]:
    """Split the truth atmospheres once by column water vapour: ``(calibration_idx, site_idx)``, each ascending.

    Rule: sort by WVC (stable); sorted positions 0, 2, 4, … are calibration atmospheres, 1, 3, 5, … site
    atmospheres (deterministic, disjoint, 40/40 for the 80 atmospheres, both spanning the WVC range).
    """
    order = np.argsort(np.asarray(truth.column_water_vapour), kind="stable")
    return np.sort(order[0::2]), np.sort(order[1::2])


def truth_band_brightness_temperature(truth: LwirTruth, idx, emissivity, t_surface, srf) -> np.ndarray:
    """Truth TOA band brightness temperatures (K, nadir) ``(n, band)``: the LBLRTM terms of atmospheres ``idx``
    ``(n,)``, surfaces of ``emissivity`` ``(n, 526)`` or ``(526,)`` on ``truth.wavenumber`` at ``t_surface``
    ``(n,)`` K, through :func:`~leafjax.physics.thermal.toa_brightness_temperature` with the response ``srf``
    (on ``truth.wavenumber``).

    Raises:
        ValueError: if the emissivity is not on the truth grid.
    """
    idx = np.asarray(idx, dtype=np.int64).ravel()
    e = np.asarray(emissivity, dtype=np.float64)
    if e.shape[-1] != truth.wavenumber.shape[0]:
        raise ValueError(f"emissivity must be on the truth grid ({truth.wavenumber.shape[0]} wavenumbers), "
                         f"got shape {e.shape}")
    return np.asarray(toa_brightness_temperature(truth.terms(idx), e, np.asarray(t_surface, np.float64), srf))
