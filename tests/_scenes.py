"""Small synthetic Sentinel-2 L2A scenes for the imagery, scene-task and ``leafjax map`` tests.

A 20×24-pixel GeoTIFF (WGS 84 / UTM 32N, 10 m, over Witzwil), 9 bands described ``B02 … B12`` (the 20-m set of
the shared Witzwil extracts: B02–B07, B8A, B11, B12) as L2A digital numbers (reflectance·1e4 + 1000, the
processing-baseline-04.00 offset; uint16, nodata 0) plus an ``SCL`` band.  The reflectances are PROSAIL
(PROSPECT-D + 4SAIL, direct sun) simulations of six canopies (LAI 0.3 … 6) laid out in 4×4-pixel blocks, at
the sun position of the scene's name (2022-03-05 10:29 UTC: sza ≈ 55°, saa ≈ 157°), vza 5°.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Band descriptions written in the file (aliases of the canonical B2 ... B12).
BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12")
#: A Sentinel-2A product name (time 2022-03-05T10:29:21Z, baseline 04.00).
NAME = "S2A_MSIL2A_20220305T102921_N0400_R108_T32TLT_20220305T135811.tif"
#: Pixels set to cloud (SCL 9) and to nodata (all bands 0, SCL 0).
CLOUD = ((2, 3), (2, 4), (11, 17))
NODATA = ((0, 0), (19, 23))
LAI = (0.3, 1.0, 2.0, 3.0, 4.5, 6.0)
X0, Y0 = 354340.0, 5205260.0


#: The six canopies' band reflectances (rows: :data:`LAI`; columns: :data:`BANDS`), as computed by
#: :func:`prosail_spectra` (kept here so the tests need no PROSAIL compilation; checked by a slow test).
SPECTRA = np.array([[0.092818, 0.118241, 0.124201, 0.157209, 0.217332, 0.237901, 0.259237, 0.304131, 0.244928],
                    [0.047428, 0.080602, 0.056638, 0.110767, 0.249999, 0.288573, 0.303796, 0.256681, 0.158138],
                    [0.025062, 0.060452, 0.023586, 0.084768, 0.291712, 0.357034, 0.366299, 0.223396, 0.104693],
                    [0.019142, 0.054926, 0.014774, 0.077226, 0.321951, 0.412369, 0.417863, 0.210871, 0.087032],
                    [0.017590, 0.053918, 0.012220, 0.075609, 0.348991, 0.470070, 0.472251, 0.206668, 0.081172],
                    [0.017728, 0.054718, 0.012115, 0.076544, 0.362791, 0.505100, 0.505498, 0.207681, 0.081302]])


def simulate(ny: int = 20, nx: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """``(reflectance (ny, nx, 9), lai (ny, nx))`` of the synthetic scene (canopy ``(i // 4 + j // 4) % 6``
    at pixel ``(i, j)``)."""
    index = (np.arange(ny)[:, None] // 4 + np.arange(nx)[None, :] // 4) % len(LAI)
    return SPECTRA[index], np.asarray(LAI)[index]


def prosail_spectra() -> np.ndarray:
    """The PROSAIL band reflectances ``(6, 9)`` of :data:`SPECTRA` (PROSPECT-D + 4SAIL, direct sun)."""
    from leafjax.physics.canopy import simulate_prosail
    from leafjax.spectral import convolve, load_srf

    grid = np.arange(400, 2401, dtype=np.float64)
    srf = load_srf("sentinel-2a", grid).select(BANDS)
    lai = np.asarray(LAI)
    n = lai.size

    def full(v):
        return np.full(n, float(v))

    table = {"lai": lai, "chl": full(40), "car": full(10), "ewt": full(0.012), "lma": full(0.005),
             "n_struct": full(1.5), "lidf_a": full(60), "hotspot": full(0.1), "sza": full(55), "vza": full(5),
             "raa": full(157), "soil_brightness": full(1.0), "soil_dryness": full(0.5)}
    return np.asarray(convolve(simulate_prosail(table, wavelengths=grid).rsot, srf), np.float64)


def to_dn(reflectance: np.ndarray) -> np.ndarray:
    """L2A digital numbers (baseline 04.00): ``round((ρ + 0.1)·1e4)`` as uint16."""
    return np.round((reflectance + 0.1) * 1e4).astype(np.uint16)


def write_scene(path: Path, reflectance: np.ndarray, *, cloud=CLOUD, nodata=NODATA, scale_attrs: bool = False,
                origin: tuple[int, int] = (0, 0)) -> Path:
    """Write the scene as a GeoTIFF at ``path`` (see the module docstring); ``scale_attrs``: store
    scale_factor 1e-4 and add_offset -0.1 in the file; ``origin``: (rows, cols) of its first pixel on the
    10-m lattice of the default scene."""
    import rioxarray  # noqa: F401
    import xarray as xr

    ny, nx, nb = reflectance.shape
    dn = to_dn(reflectance)
    scl = np.full((ny, nx), 4, np.uint16)
    for i, j in cloud:
        scl[i, j] = 9
    for i, j in nodata:
        dn[i, j] = 0
        scl[i, j] = 0
    data = np.concatenate([np.moveaxis(dn, -1, 0), scl[None]], axis=0)
    x = X0 + 10.0 * (np.arange(nx) + origin[1]) + 5.0
    y = Y0 - 10.0 * (np.arange(ny) + origin[0]) - 5.0
    da = xr.DataArray(data, dims=("band", "y", "x"), coords={"band": np.arange(1, nb + 2), "y": y, "x": x})
    da.attrs["long_name"] = (*BANDS, "SCL")
    if scale_attrs:
        da.attrs.update(scale_factor=1e-4, add_offset=-0.1)
    da = da.rio.write_crs("EPSG:32632").rio.write_nodata(0)
    da.rio.to_raster(path)
    return Path(path)


def write_dataset(path: Path, reflectance: np.ndarray) -> Path:
    """The same scene as a netCDF or zarr Dataset with one (y, x) variable per band (``B02`` ... and ``SCL``),
    DN with scale_factor/add_offset/_FillValue attributes and a CF grid mapping."""
    import rioxarray  # noqa: F401
    import xarray as xr

    ny, nx, _ = reflectance.shape
    dn = to_dn(reflectance)
    scl = np.full((ny, nx), 4, np.int16)
    for i, j in NODATA:
        dn[i, j] = 0
        scl[i, j] = 0
    x = X0 + 10.0 * np.arange(nx) + 5.0
    y = Y0 - 10.0 * np.arange(ny) - 5.0
    attrs = {"scale_factor": 1e-4, "add_offset": -0.1, "_FillValue": 0}
    ds = xr.Dataset({b: (("y", "x"), dn[..., i].astype(np.int32), attrs) for i, b in enumerate(BANDS)},
                    coords={"y": y, "x": x})
    ds["SCL"] = (("y", "x"), scl)
    ds = ds.rio.write_crs("EPSG:32632")
    if str(path).endswith(".zarr"):
        ds.to_zarr(path, mode="w", zarr_format=2)
    else:
        ds.to_netcdf(path)
    return Path(path)
