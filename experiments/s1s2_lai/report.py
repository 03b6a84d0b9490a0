"""Markdown tables of a run's ``results.json``."""

from __future__ import annotations


def _f(x, nd=4):
    return "–" if x is None else f"{x:.{nd}f}"


def _score_rows(rows, against="product", strata=("all", "clear_t-1", "cloudy_t-1")) -> list[str]:
    by = {}
    for r in rows:
        if r["against"] == against:
            by.setdefault(r["method"], {})[r["stratum"]] = r
    out = ["| method | " + " | ".join(f"RMSE {s} [95 %]" for s in strata) + " | ratio to persistence (all / cloudy) |",
           "|---|" + "---|" * (len(strata) + 1)]
    for m, d in by.items():
        cells = [f"{_f(d[s]['rmse'])} [{_f(d[s]['rmse_lo'])}, {_f(d[s]['rmse_hi'])}]" if s in d else "–"
                 for s in strata]
        ratio = " / ".join(_f(d[s].get("ratio_to_reference"), 3) if s in d else "–" for s in ("all", "cloudy_t-1"))
        out.append(f"| {m} | " + " | ".join(cells) + f" | {ratio} |")
    return out


def tables(res: dict) -> str:
    lines = [f"# Multi-temporal S1/S2 LAI: {res['data']}", "",
             f"Config `{res['config']}`, seed {res['seed']}, machine: {res['machine']}, jax {res['jax']}. "
             f"Chips: {res['chips']}. Target-valid pixels of the test chips: {res['target_valid_share']:.1%}; "
             f"of those cloudy at t−1: {res['cloudy_t-1_share']:.1%}.", "",
             "## Test chips of the source region (held-out parcels, weather and dates), LAI/5 scale",
             "", "Against the simulated S2 LAI product at t (the challenge's target):", ""]
    lines += _score_rows(res["scores"], "product")
    lines += ["", "Same pixels, against the true LAI(t):", ""]
    lines += _score_rows(res["scores"], "truth")
    lines += ["", f"Water-cloud inversion of S1(t) alone, on its {res['water_cloud']['pixels']} pixels "
              f"(converged {res['water_cloud']['converged']:.1%}, LAI at a bound {res['water_cloud']['lai_at_bound']:.1%}):", ""]
    lines += _score_rows(res["water_cloud_scores"], "product")
    lines += ["", "## Ablations: RMSE(ablated) − RMSE(fused), LAI/5 [95 % bootstrap over chips]", "",
              "| ablation | model | all | clear t−1 | cloudy t−1 |", "|---|---|---|---|---|"]
    by = {}
    for r in res["ablations"]:
        by.setdefault((r["ablation"], r["ablated"]), {})[r["stratum"]] = r
    for (a, m), d in by.items():
        cells = [f"{d[s]['effect']:+.4f} [{d[s]['effect_lo']:+.4f}, {d[s]['effect_hi']:+.4f}]" if s in d else "–"
                 for s in ("all", "clear_t-1", "cloudy_t-1")]
        lines.append(f"| {a} | {m} | " + " | ".join(cells) + " |")
    lines += ["", "## Transfer to the shifted region (test chips), LAI/5", ""]
    lines += _score_rows(res["transfer"], "product")
    lines += ["", "## The t−1 task (inputs S1 t−2, t−1 and LAI t−2; target the LAI product at t−1), LAI/5", "",
              "| data | method | RMSE | RMSE where t−2 clear | R² | pixels |", "|---|---|---|---|---|---|"]
    for r in res["t-1_task"]:
        lines.append(f"| {r['data']} | {r['method']} | {_f(r['rmse'])} | {_f(r['rmse_clear_t-2'])} | "
                     f"{_f(r['r2'], 3)} | {r['pixels']} |")
    lines += ["", "## Training", "", "| model | params | epochs run | best epoch | seconds |", "|---|---|---|---|---|"]
    for k, v in res["train"].items():
        lines.append(f"| {k} | {v.get('params', '–')} | {v['epochs_run']} | {v['best_epoch']} | {v['seconds']} |")
    for k, v in res["transfer_train"].items():
        lines.append(f"| transfer {k} | – | {v['epochs_run']} | {v['best_epoch']} | {v['seconds']} |")
    for k, v in [("t-1 fine-tuning", res["t-1_train"])]:
        lines.append(f"| {k} | – | {v['epochs_run']} | {v['best_epoch']} | {v['seconds']} |")
    return "\n".join(lines) + "\n"
