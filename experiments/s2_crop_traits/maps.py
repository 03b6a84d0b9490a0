"""LAI maps of the real 15-date Witzwil series (Sentinel-2 L2A extracts, 62×42 pixels at 10 m; provenance in the
shared ``data/README.md``) with the command-line interface, and the per-date parcel median with its spread.

The maps are written with ``leafjax map`` (the default route) to ``<out>/maps/witzwil_2022.zarr`` (not committed:
derived from the shared data) and read back; the committed outputs are ``witzwil_parcel_median.csv`` and
``witzwil_lai.png``.  The "parcel" is every pixel of the extract that was retrieved (status ``converged``;
nodata, cloud, shadow and cirrus pixels of the scene classification are flagged and not retrieved) and has all
its bands: the extracts' 10-m bands (B02–B04) are 0 outside the parcel polygon while the resampled 20-m bands are
not, so those pixels are retrieved from the other bands, flagged ``missing_bands``, and left out of the median.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def run_maps(scene_dir: Path, out: Path, *, method: str | None = None) -> float:
    """Run ``leafjax map`` on every ``*.tif`` of ``scene_dir``; write the parcel-median table and plot.
    Returns the wall time of the map command (s)."""
    from leafjax.io import read_maps

    scenes = sorted(str(p) for p in Path(scene_dir).glob("*.tif"))
    if not scenes:
        raise FileNotFoundError(f"no scenes (*.tif) in {scene_dir}")
    target = out / "maps" / "witzwil_2022.zarr"
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "leafjax", "map", *scenes, "--out", str(target), "--overwrite", "--no-progress",
           "--products", "lai,ccc,fapar,fcover"]
    if method:
        cmd += ["--method", method]
    t = time.time()
    subprocess.run(cmd, check=True)
    seconds = round(time.time() - t, 1)
    ds = read_maps(target)
    from leafjax._flags import Quality

    ok = (ds["status"].values == 0) & ((ds["quality_flags"].values & int(Quality.MISSING_BANDS)) == 0)
    rows = []
    for i, when in enumerate(pd.DatetimeIndex(ds["time"].values)):
        lai, sd = ds["lai"].values[i][ok[i]], ds["lai_std"].values[i][ok[i]]
        rows.append({"date": when.strftime("%Y-%m-%d"), "pixels": int(ok[i].sum()),
                     "flagged": int((~ok[i]).sum()),
                     "lai_median": float(np.median(lai)) if lai.size else np.nan,
                     "lai_q25": float(np.percentile(lai, 25)) if lai.size else np.nan,
                     "lai_q75": float(np.percentile(lai, 75)) if lai.size else np.nan,
                     "lai_std_median": float(np.median(sd)) if sd.size else np.nan})
    table = pd.DataFrame(rows)
    table.to_csv(out / "witzwil_parcel_median.csv", index=False, float_format="%.3f")
    _plot(table, out / "witzwil_lai.png")
    return seconds


def _plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = pd.to_datetime(table["date"])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.fill_between(d, table["lai_q25"], table["lai_q75"], alpha=0.3, label="interquartile range of pixels")
    ax.errorbar(d, table["lai_median"], yerr=table["lai_std_median"], fmt="o-", capsize=3,
                label="parcel median (bar: median per-pixel σ)")
    ax.set_ylabel("green LAI (m²/m²)")
    ax.set_title("Witzwil winter wheat 2022, Sentinel-2 L2A, leafjax map")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
