"""Per-campaign means of the validation rows beside leafjax's committed estimates and the peer's: the figures of
the error analysis in this folder's README.

    python -m experiments.s2_crop_traits.campaigns   # seconds; reads the shared tables and results/estimates.csv

A campaign is a location and year (:func:`~experiments.s2_crop_traits.data.campaign`); per campaign and in-situ
date (day) it prints the row count, the mean in-situ value, the mean red (B04) and near-infrared (B8A) reflectance, the
mean estimate of each leafjax route and the peer's two means.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .data import TRAITS, campaign, default_data_dir


def table(data_dir: Path, results: Path, trait: str) -> pd.DataFrame:
    rows = pd.read_csv(Path(data_dir) / f"{trait}_s2_insitu.csv")
    rows["campaign"], rows["row"] = campaign(rows), range(len(rows))
    rows["date"] = rows["date_insitu"].str[:10]
    est = pd.read_csv(Path(results) / "estimates.csv")
    est = est[est["table"] == trait].pivot(index="row", columns="route", values="estimate")
    rows = rows.join(est, on="row")
    peer, peer_ph = TRAITS[trait]
    cols = {"n": (trait, "size"), "insitu": (trait, "mean"), "B04": ("B04", "mean"), "B8A": ("B8A", "mean"),
            **{r: (r, "mean") for r in est.columns}, "peer": (peer, "mean"), "peer_phenology": (peer_ph, "mean")}
    return rows.groupby(["campaign", "date"]).agg(**cols).round(3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "results")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 200)
    for trait in TRAITS:
        print(f"== {trait}\n{table(args.data, args.results, trait).to_string()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
