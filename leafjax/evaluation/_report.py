"""Reports: CSV and Markdown tables, and predicted-vs-measured figures (matplotlib imported lazily, so the
library imports without it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._constants import TRAITS


def to_markdown(frame: pd.DataFrame, *, floatfmt: str = ".4g") -> str:
    """A GitHub-flavoured Markdown table (no dependency on ``tabulate``)."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else format(float(v), floatfmt)
        return str(v)
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body]) + "\n"


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table as ``<name>.csv`` and ``<name>.md`` in ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        csv, md = out / f"{name}.csv", out / f"{name}.md"
        frame.to_csv(csv, index=False, float_format="%.6g")
        md.write_text(to_markdown(frame))
        paths += [csv, md]
    return paths


def plot_predicted_vs_measured(predictions: pd.DataFrame, trait: str, k: int, out_path: str | Path, *,
                               methods: Sequence[str] | None = None, seed: int | None = None) -> Path:
    """One panel per method: predicted vs measured ``trait`` for split size ``k`` (one seed: the smallest by
    default; LODO has seed −1), coloured by held-out dataset, with the 1:1 line.  Saves a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    sel = predictions[(predictions["trait"] == trait) & (predictions["k"] == k)]
    if sel.empty:
        raise ValueError(f"no predictions for trait {trait!r} and k={k}")
    seed = int(sel["seed"].min()) if seed is None else seed
    sel = sel[sel["seed"] == seed]
    methods = list(methods) if methods is not None else list(pd.unique(sel["method"]))
    datasets = sorted(pd.unique(sel["held_out"]))
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, max(len(datasets), 2)))
    lo = float(np.nanmin(sel[["measured", "predicted"]].to_numpy()))
    hi = float(np.nanmax(sel[["measured", "predicted"]].to_numpy()))
    unit = TRAITS[trait].unit if trait in TRAITS else ""
    fig, axes = plt.subplots(1, len(methods), figsize=(3.4 * len(methods), 3.6), squeeze=False)
    for ax, m in zip(axes[0], methods):
        g = sel[sel["method"] == m]
        for c, d in zip(colours, datasets):
            gd = g[g["held_out"] == d]
            ax.scatter(gd["measured"], gd["predicted"], s=6, color=c, label=d, alpha=0.7)
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_title(m, fontsize=9)
        ax.set_xlabel(f"measured {trait} ({unit})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.yaxis.set_major_locator(MaxNLocator(5))
    axes[0][0].set_ylabel(f"predicted {trait} ({unit})", fontsize=8)
    axes[0][-1].legend(fontsize=5, loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=2)
    fig.suptitle(f"{trait}, k = {k}" + (" (LODO)" if k == 0 else f", seed {seed}"), fontsize=10)
    fig.tight_layout()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=120)
    plt.close(fig)
    return out_path
