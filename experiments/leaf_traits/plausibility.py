"""Label plausibility of a folder of leaf datasets in the shared format: which trait labels the checks of
:func:`leafjax.data.label_plausibility` flag, per dataset, trait and reason (the table of ``docs/leaf_traits.md``).

Usage::

    python -m experiments.leaf_traits.plausibility [--data ../shared/data/leaf_spectra] [--out DIR]

Writes ``label_plausibility.csv`` (counts per dataset × trait × reason) and ``label_flags.csv`` (every flagged
label: dataset, sample id, trait, value, reasons) to ``--out`` (default ``experiments/leaf_traits/results``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from leafjax.data import label_plausibility, load_shared_datasets

HERE = Path(__file__).resolve().parent


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("..") / "shared" / "data" / "leaf_spectra")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    ds = load_shared_datasets(a.data)
    checks = label_plausibility(ds)
    report = checks.report()
    a.out.mkdir(parents=True, exist_ok=True)
    report.to_csv(a.out / "label_plausibility.csv", index=False)
    rows = []
    sample = ds.meta["sample_id"]
    for trait in checks.flags.columns:
        for i in np.flatnonzero(checks.flags[trait].to_numpy() != ""):
            rows.append({"dataset": ds.meta["dataset"].iloc[i], "sample_id": sample.iloc[i], "trait": trait,
                         "value": float(ds.trait(trait)[i]), "reasons": checks.flags[trait].iloc[i]})
    flagged = pd.DataFrame(rows, columns=["dataset", "sample_id", "trait", "value", "reasons"])
    flagged.to_csv(a.out / "label_flags.csv", index=False)
    labelled = int(np.sum(checks.labelled.to_numpy()))
    print(f"{len(ds)} leaves of {ds.meta['dataset'].nunique()} datasets; {len(flagged)} of {labelled} labels "
          f"flagged ({time.perf_counter() - t0:.1f} s)")
    with pd.option_context("display.width", 160):
        print(flagged.to_string(index=False))


if __name__ == "__main__":
    main()
