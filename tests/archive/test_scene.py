"""The scene task through the archive engine (:mod:`leafjax.archive._scene`): maps on the input's grid, SCL and
nodata masks, resumption to an identical output, time series, folders, and one real Witzwil scene.

The synthetic scene (``tests/_scenes.py``) holds PROSAIL-simulated Sentinel-2 L2A digital numbers of six
canopies; the retrieval is the look-up-table route at a small size (2,000 entries, k = 10) to stay fast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rioxarray")

from _scenes import CLOUD, NAME, NODATA, SPECTRA, prosail_spectra, simulate, write_scene  # noqa: E402

from leafjax._flags import Quality  # noqa: E402
from leafjax.archive import SceneArchiveTask, map_scenes  # noqa: E402
from leafjax.io import read_maps  # noqa: E402

ROUTE = (("n", 2000), ("k", 10), ("prior", "atbd"))
TASK = SceneArchiveTask(scale=(1e-4,), offset=(-0.1,), method="lut", route_options=ROUTE, tile_size=12,
                        products=("lai", "ccc", "fcover"))
WITZWIL = Path(__file__).resolve().parents[3] / "shared" / "data" / "s2_crop_traits" / "witzwil_2022"
SECOND = "S2B_MSIL2A_20220310T102739_N0400_R108_T32TLT_20220310T134645.tif"


class _FailAfterTwoTiles(SceneArchiveTask):
    """The scene task, interrupted after two tiles (test only); same manifest as :class:`SceneArchiveTask`."""

    def config(self) -> dict:
        return {**super().config(), "task": "SceneArchiveTask"}

    def run(self, state, chunk):
        state["done"] = state.get("done", 0) + 1
        if state["done"] > 2:
            raise RuntimeError("interrupted")
        return super().run(state, chunk)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    refl, lai = simulate()
    d = tmp_path_factory.mktemp("scenes")
    # the second scene is cut one pixel smaller, on the same 10-m lattice (as two of the Witzwil extracts)
    return write_scene(d / NAME, refl), write_scene(d / SECOND, refl[1:, 1:], origin=(1, 1), nodata=((0, 0),)), lai


@pytest.fixture(scope="module")
def tif_maps(scene, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps") / "maps.tif"
    summary = map_scenes(scene[0], out, task=TASK)
    return out, summary


def test_maps_on_the_input_grid_with_masks(scene, tif_maps):
    import rioxarray

    out, summary = tif_maps
    assert summary["chunks"] == 4 and summary["rows"] == 480 and summary["format"] == "tif"
    src = rioxarray.open_rasterio(scene[0])
    ds = read_maps(out)
    assert ds.rio.crs == src.rio.crs and tuple(ds.rio.transform()) == tuple(src.rio.transform())
    assert list(ds.data_vars) == ["lai", "ccc", "fcover", "lai_std", "ccc_std", "fcover_std", "rmse", "status",
                                  "quality_flags"]
    flags = ds["quality_flags"].values.astype(np.int64)
    lai = ds["lai"].values
    for i, j in CLOUD:
        assert flags[i, j] & int(Quality.CLOUD) and np.isnan(lai[i, j]) and ds["status"].values[i, j] == 2
    for i, j in NODATA:
        assert flags[i, j] & int(Quality.NODATA) and np.isnan(lai[i, j])
    masked = np.zeros(lai.shape, bool)
    for i, j in (*CLOUD, *NODATA):
        masked[i, j] = True
    assert np.isfinite(lai[~masked]).all() and summary["status"]["invalid_input"] == 5
    truth = scene[2][~masked]
    assert np.corrcoef(lai[~masked], truth)[0, 1] > 0.95
    assert np.all(ds["lai_std"].values[~masked] > 0)


def test_interrupted_run_resumes_to_an_identical_output(scene, tif_maps, tmp_path):
    out = tmp_path / "maps.tif"
    failing = _FailAfterTwoTiles(scale=(1e-4,), offset=(-0.1,), method="lut", route_options=ROUTE, tile_size=12,
                                 products=("lai", "ccc", "fcover"))
    with pytest.raises(RuntimeError, match="interrupted"):
        map_scenes(scene[0], out, task=failing)
    assert not out.exists() and len(list((tmp_path / "maps.tif.parts").glob("chunk-*.parquet"))) == 2
    summary = map_scenes(scene[0], out, task=TASK)
    assert summary["chunks_reused"] == 2 and summary["chunks_computed"] == 2
    a, b = read_maps(tif_maps[0]), read_maps(out)
    for v in a.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values)
    assert not (tmp_path / "maps.tif.parts").exists()


def test_time_series_to_zarr_and_one_geotiff_per_scene(scene, tif_maps, tmp_path):
    one = read_maps(tif_maps[0])
    summary = map_scenes([scene[1], scene[0]], tmp_path / "series.zarr", task=TASK)  # sorted by time
    assert summary["rows"] == 480 + 19 * 23
    ds = read_maps(tmp_path / "series.zarr")
    assert ds.sizes == {"time": 2, "y": 20, "x": 24} and ds["quality_flags"].dtype == np.int32
    assert [str(t)[:19] for t in ds["time"].values] == ["2022-03-05T10:29:21", "2022-03-10T10:27:39"]
    assert ds.rio.crs == one.rio.crs and tuple(ds.rio.transform()) == tuple(one.rio.transform())
    np.testing.assert_array_equal(ds["lai"].values[0], one["lai"].values)
    later = ds["lai"].values[1]
    assert np.isnan(later[0]).all() and np.isnan(later[:, 0]).all() and np.isfinite(later[1:, 1:]).mean() > 0.98
    assert np.all(ds["quality_flags"].values[1, 0] & int(Quality.NODATA))
    folder = tmp_path / "maps"
    map_scenes(scene[:2], str(folder) + "/", task=TASK)
    files = sorted(p.name for p in folder.iterdir())
    assert files == [Path(NAME).stem + "_maps.tif", Path(SECOND).stem + "_maps.tif"]
    np.testing.assert_array_equal(read_maps(folder / files[0])["lai"].values, one["lai"].values)
    with pytest.raises(FileExistsError, match="exists; pass --overwrite"):
        map_scenes(scene[:2], str(folder) + "/", task=TASK)


def test_outputs_that_cannot_hold_the_scenes_are_refused_before_compute(scene, tmp_path):
    with pytest.raises(ValueError, match="a GeoTIFF holds one scene, got 2"):
        map_scenes(scene[:2], tmp_path / "two.tif", task=TASK)
    with pytest.raises(ValueError, match="unknown output format '.png'"):
        map_scenes(scene[0], tmp_path / "x.png", task=TASK)
    with pytest.raises(ValueError, match="look like digital numbers"):
        map_scenes(scene[0], tmp_path / "dn.tif", task=SceneArchiveTask(method="lut", route_options=ROUTE))
    assert list(tmp_path.iterdir()) == []  # nothing computed, no parts left


def test_pixel_table_output(scene, tif_maps, tmp_path):
    import pandas as pd

    map_scenes(scene[0], tmp_path / "pixels.parquet", task=TASK)
    df = pd.read_parquet(tmp_path / "pixels.parquet")
    assert len(df) == 480 and list(df.columns[:3]) == ["scene", "row", "col"]
    lai = read_maps(tif_maps[0])["lai"].values
    np.testing.assert_array_equal(df["lai"].to_numpy(np.float32), lai[df["row"], df["col"]])
    assert (df.loc[(df.row == 2) & (df.col == 3), "quality_flags"] == "cloud").all()


@pytest.mark.skipif(not WITZWIL.is_dir(), reason="shared data (../shared) not present")
def test_real_witzwil_scene(tmp_path):
    path = WITZWIL / "S2A_MSIL2A_20220305T102921_N0400_R108_T32TLT_20220305T135811.tif"
    task = SceneArchiveTask(sensor="auto", method="lut", route_options=ROUTE, tile_size=64, products=("lai",))
    summary = map_scenes(path, tmp_path / "witzwil.tif", task=task)
    assert summary["rows"] == 62 * 42
    ds = read_maps(tmp_path / "witzwil.tif")
    lai = ds["lai"].values
    assert lai.shape == (62, 42) and np.isfinite(lai).mean() > 0.95
    assert np.nanmin(lai) >= 0 and np.nanmax(lai) <= 8
    # the 10-m bands of this extract are 0 (nodata) on part of the parcel: flagged, retrieved from the others
    assert summary["quality_flags"].get("missing_bands", 0) == 1204


@pytest.mark.slow
def test_the_synthetic_spectra_are_prosail():
    np.testing.assert_allclose(prosail_spectra(), SPECTRA, atol=1e-6)


def test_pixel_geometry_follows_the_sun_at_each_pixel(scene):
    pvlib = pytest.importorskip("pvlib")
    import pandas as pd

    from leafjax.archive import ArchiveSettings
    from leafjax.archive._scene import pixel_lonlat

    task = SceneArchiveTask(scale=(1e-4,), offset=(-0.1,), tile_size=12, vza=4.0, vaa=100.0)
    info = task.open(scene[0], ArchiveSettings(model="scene"))
    i, chunk = next(iter(task.chunks(info, 0, skip=frozenset({0}))))
    assert i == 1 and (chunk.y0, chunk.x0) == (0, 12)
    geo = task.geometry(chunk)
    lon, lat = pixel_lonlat(chunk.x, chunk.y, chunk.crs)
    assert 46.9 < lat.mean() < 47.0 and 7.0 < lon.mean() < 7.1  # Witzwil
    sun = pvlib.solarposition.get_solarposition(pd.DatetimeIndex(["2022-03-05T10:29:21Z"] * lat.size),
                                                lat.reshape(-1), lon.reshape(-1), method="nrel_numpy")
    np.testing.assert_allclose(geo["sza"], sun["zenith"].to_numpy(), atol=0.01)
    np.testing.assert_allclose(geo["raa"], np.abs(sun["azimuth"].to_numpy() - 100.0), atol=0.01)
    assert np.all(geo["vza"] == 4.0) and np.ptp(geo["sza"]) > 0  # per pixel, not per scene
