"""Figures of the SYNTHETIC experiment (matplotlib, PNG): cross-region RMSE bars with 95 % site-bootstrap
intervals per direction, and predicted-vs-label scatter of the best method against the generalised split-window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLOURS = {"split-window": "#777777", "physical": "#8c564b", "pretrained": "#bcbd22", "finetuned": "#1f77b4",
           "direct": "#d62728", "ablation": "#9467bd"}


def _bars(ax, s: pd.DataFrame, title: str) -> None:
    s = s.sort_values("rmse")
    y = np.arange(len(s))
    err = np.stack([s["rmse"] - s["rmse_lo"], s["rmse_hi"] - s["rmse"]]).clip(min=0)
    ax.barh(y, s["rmse"], xerr=err, color=[COLOURS.get(f, "k") for f in s["family"]], capsize=2)
    ax.set_yticks(y, s["method"], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("cross-region RMSE (K)")
    ax.set_title(title, fontsize=8)


def write_figures(scores: pd.DataFrame, preds: dict, splits: dict, out: Path, label: str) -> list[str]:
    """``rmse_<against>.png`` (bars, both directions) and ``scatter_best_vs_sw.png``; returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    dirs = list(splits)
    for against in ("insitu", "true"):
        fig, axes = plt.subplots(1, len(dirs), figsize=(5.5 * len(dirs), 9))
        for ax, d in zip(np.atleast_1d(axes), dirs):
            s = scores[(scores["direction"] == d) & (scores["against"] == against)]
            _bars(ax, s, f"{d} (test region {d[-1]})")
        fig.suptitle(f"{label}\nRMSE against the {'in-situ label' if against == 'insitu' else 'true LST'}, "
                     "95 % bootstrap over test sites", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / f"rmse_{against}.png", dpi=110)
        plt.close(fig)
        names.append(f"rmse_{against}.png")
    fig, axes = plt.subplots(1, len(dirs), figsize=(5 * len(dirs), 4.6))
    for ax, d in zip(np.atleast_1d(axes), dirs):
        s = scores[(scores["direction"] == d) & (scores["against"] == "insitu")
                   & ~scores["family"].isin(["ablation"])]
        best = s.sort_values("rmse").iloc[0]
        key = (best["family"], best["method"])
        label_y = splits[d][1][0]["lst_insitu"].to_numpy(float)
        for k, c, name in ((("split-window", "sw_gsw"), "#777777", "SW (gsw)"), (key, "#1f77b4", best["method"])):
            if k in preds[d]:
                p = preds[d][k][0]
                r = s[(s["family"] == k[0]) & (s["method"] == k[1])]["rmse"].iloc[0]
                ax.scatter(label_y, p, s=5, alpha=0.5, color=c, label=f"{name}: RMSE {r:.2f} K (mean of seeds)")
        lo, hi = np.nanmin(label_y) - 5, np.nanmax(label_y) + 5
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.6)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("in-situ LST label (K, synthetic)")
        ax.set_ylabel("retrieved LST (K), seed 0")
        ax.set_title(f"{d}", fontsize=8)
        ax.legend(fontsize=6, loc="upper left")
    fig.suptitle(f"{label}: best method vs split-window", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "scatter_best_vs_sw.png", dpi=110)
    plt.close(fig)
    names.append("scatter_best_vs_sw.png")
    return names
