"""Batched training of many small models: ``fit_many`` against one ``fit`` per model, in the same run.

The workload is the one of the leave-one-dataset-out experiment: ``M`` independent fine-tunings (held-out
datasets × seeds) of one network on ``k`` labelled target spectra each, starting from one pre-trained model.
Both paths run the same compiled training loop (``fit`` is ``fit_many`` with ``M = 1``); the batched path
trains all ``M`` models in one call, the models stacked and the step ``vmap``-ped over them.  Compilation is
timed separately (one warm-up call of each path with the same shapes).

Usage::

    python benchmarks/batched_fits.py                       # resnet, M = 64, k = 20, 401 bands, 100 epochs
    python benchmarks/batched_fits.py --networks glm resnet tabnet transformer cnn --models 256 --json out.json
    python benchmarks/batched_fits.py --quick               # CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np
from flax import nnx

from leafjax.networks import make_regressor
from leafjax.transfer import fit, fit_many

SIZES = {"glm": {}, "resnet": {}, "tabnet": {}, "transformer": {}, "cnn": {}}


def _data(m: int, k: int, n_bands: int, seed: int):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_bands, 1)) / np.sqrt(n_bands)
    out = []
    for _ in range(m):
        x = rng.random((k, n_bands)).astype(np.float32)
        out.append((x, x @ w + 0.05 * rng.normal(size=(k, 1))))
    return out


def benchmark(name: str, *, models: int, k: int, n_bands: int, epochs: int, sequential: int, seed: int = 0) -> dict:
    """Time ``models`` fits batched and ``sequential`` fits one by one (extrapolated to ``models``)."""
    data = _data(models, k, n_bands, seed)
    base = make_regressor(name, *data[0], rngs=nnx.Rngs(seed), **SIZES[name])
    kw = dict(epochs=epochs, patience=None, batch_size=64, val_fraction=0.2)
    seeds = list(range(models))
    t0 = time.perf_counter()
    fit(base, data[0], seed=0, **kw)
    compile_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(sequential):
        fit(base, data[i], seed=i, **kw)
    per_fit = (time.perf_counter() - t0) / sequential
    t0 = time.perf_counter()
    fit_many(base, data, seeds=seeds, **kw)
    compile_batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    trained, hist = fit_many(base, data, seeds=seeds, **kw)
    jax.block_until_ready(jax.tree.leaves(nnx.state(trained[-1])))
    batched = time.perf_counter() - t0
    samples = sum(len(h.train_indices) * h.epochs_run for h in hist)  # training rows seen
    return {"network": name, "models": models, "k": k, "bands": n_bands, "epochs": epochs,
            "one_by_one_s": per_fit * models, "batched_s": batched, "speedup": per_fit * models / batched,
            "fits_per_s": models / batched, "samples_per_s": samples / batched,
            "compile_single_s": compile_single, "compile_batched_s": compile_batched - batched}


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", nargs="+", default=["resnet"], choices=list(SIZES))
    ap.add_argument("--models", type=int, default=None, help="M models trained together (default 64; 16 quick)")
    ap.add_argument("--k", type=int, default=20, help="training rows per model (k target samples)")
    ap.add_argument("--bands", type=int, default=401, help="spectral bands (400-2400 nm at 5 nm: 401)")
    ap.add_argument("--epochs", type=int, default=None, help="default 100 (20 quick)")
    ap.add_argument("--sequential", type=int, default=None, help="fits timed one by one (default 8; 4 quick)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    models = args.models or (16 if args.quick else 64)
    epochs = args.epochs or (20 if args.quick else 100)
    sequential = min(models, args.sequential or (4 if args.quick else 8))
    device = jax.devices()[0]
    print(f"# batched vs one-by-one fits on {device.platform}:{device.device_kind} (jax {jax.__version__}); "
          f"M={models}, k={args.k}, {args.bands} bands, {epochs} epochs, no early stopping")
    print("| network | one by one (s) | batched (s) | speed-up | fits/s | samples/s | compile 1 / M (s) |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for name in args.networks:
        r = benchmark(name, models=models, k=args.k, n_bands=args.bands, epochs=epochs, sequential=sequential)
        rows.append({**r, "device": f"{device.platform}:{device.device_kind}"})
        print(f"| {name} | {r['one_by_one_s']:.1f} | {r['batched_s']:.2f} | {r['speedup']:.1f}x | "
              f"{r['fits_per_s']:.1f} | {r['samples_per_s']:.3g} | {r['compile_single_s']:.1f} / "
              f"{r['compile_batched_s']:.1f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
