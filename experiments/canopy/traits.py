"""Canopy trait retrieval on simulated Sentinel-2 pixels: hybrid networks vs LM inversion of PROSAIL.

    PYTHONPATH=. python experiments/canopy/traits.py [--n-train 20480] [--epochs 100] [--n-test 512] [--n-lm 128]

Training and test pixels are independent draws (different keys) of the default PROSAIL prior
(:func:`leafjax.simulation.default_prosail_prior`: every leaf trait, lai 0–7, mean leaf angle 30–80°, hotspot,
soil brightness/dryness and sun/view geometry random), simulated on a 5-nm grid, convolved to the Sentinel-2A
bands, with additive Gaussian band noise σ = 0.005.  Networks (:func:`leafjax.transfer.train_hybrid` on the same
training set) predict lai, chl, ewt and fcover from the 10 bands and the angle cosines.  The LM inversion
(:func:`leafjax.inversion.invert_canopy`, default free set lai, chl, ewt, lma, mean leaf angle, soil brightness,
the rest fixed at ``DEFAULT_FIXED``) runs on the first ``n_lm`` test pixels; ``linear-lstsq`` is the
closed-form least-squares fit on the same features (the optimum the GLM approaches).  Writes
``results/traits.csv`` and prints a markdown table (RMSE, R²) with timings.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import numpy as np

from leafjax.inversion import invert_canopy
from leafjax.physics.canopy import Prosail
from leafjax.spectral import GaussianNoise, load_srf
from leafjax.transfer import predict_hybrid, train_hybrid
from leafjax.transfer import HYBRID_TRAITS, simulate_band_training_set

RESULTS = Path(__file__).parent / "results"


def scores(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """``(RMSE, R²)`` with R² = 1 − SSE/SST (can be negative)."""
    err = np.asarray(pred, np.float64) - truth
    return float(np.sqrt(np.mean(err ** 2))), float(1.0 - np.sum(err ** 2) / np.sum((truth - truth.mean()) ** 2))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-train", type=int, default=20480)
    ap.add_argument("--n-test", type=int, default=512)
    ap.add_argument("--n-lm", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--networks", default="glm,resnet")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    wl = np.arange(400, 2401, 5)
    srf, model = load_srf("sentinel-2a", wl), Prosail(wavelengths=wl)
    noise = GaussianNoise(additive=0.005)
    k_train, k_test, k_net = jax.random.split(jax.random.key(args.seed), 3)
    rows = []
    t0 = time.perf_counter()
    x, y, _ = simulate_band_training_set(model, srf, args.n_train, k_train, noise=noise, chunk_size=512)
    xt, yt, ct = simulate_band_training_set(model, srf, args.n_test, k_test, noise=noise, chunk_size=512)
    print(f"simulated {args.n_train} + {args.n_test} pixels in {time.perf_counter() - t0:.1f} s")
    # closed-form least squares on the same features: the ceiling a linear model (GLM) can reach
    t0 = time.perf_counter()
    coef = np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)[0]
    pred_ols = np.c_[xt, np.ones(len(xt))] @ coef
    for i, t in enumerate(HYBRID_TRAITS):
        rows.append(("linear-lstsq", t, *scores(pred_ols[:, i], yt[:, i]), args.n_test, time.perf_counter() - t0))
    for net in args.networks.split(","):
        t0 = time.perf_counter()
        reg, hist = train_hybrid(model, srf, args.n_train, k_net, network=net, epochs=args.epochs,
                                 training_set=(x, y))
        pred = predict_hybrid(reg, xt[:, :-3], ct)
        sec = time.perf_counter() - t0
        print(f"{net}: {len(hist.train_loss)} epochs, val loss {hist.val_loss[-1]:.4f}, {sec:.1f} s")
        for i, t in enumerate(HYBRID_TRAITS):
            rows.append((f"hybrid-{net}", t, *scores(pred[t], yt[:, i]), args.n_test, sec))
            # the same network on the LM's pixels, for a like-for-like comparison
            rows.append((f"hybrid-{net}", t, *scores(pred[t][:args.n_lm], yt[:args.n_lm, i]), args.n_lm, sec))
    t0 = time.perf_counter()
    m = args.n_lm
    res = invert_canopy(xt[:m, :-3], {k: ct[k][:m] for k in ("sza", "vza", "raa")}, srf, model, sigma=0.005)
    jax.block_until_ready(res.rmse)
    sec = time.perf_counter() - t0
    conv = float(np.mean(np.asarray(res.status) == 0))
    print(f"LM: {m} pixels in {sec:.1f} s (incl. compilation), converged {conv:.0%}")
    for i, t in enumerate(HYBRID_TRAITS):
        rows.append(("LM-PROSAIL", t, *scores(np.asarray(res.params[t]), yt[:m, i]), m, sec))
    import pandas as pd

    df = pd.DataFrame(rows, columns=["method", "trait", "rmse", "r2", "n_test", "seconds"])
    df = df.sort_values(["n_test", "method"], kind="stable", ascending=[False, True])
    RESULTS.mkdir(exist_ok=True)
    df.to_csv(RESULTS / "traits.csv", index=False)
    print(df.to_markdown(index=False, floatfmt=".3g") if _has_tabulate() else df.to_string(index=False))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
