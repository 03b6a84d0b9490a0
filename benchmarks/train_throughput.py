"""Training throughput (samples/s) of every leafjax network, one jit-compiled step of the generic loop.

Times ``leafjax.transfer.make_train_step`` (the step that ``fit`` runs: forward, masked loss, backward,
AdamW update) at a realistic batch size on whatever device JAX sees, after one compiling warm-up step.

Usage::

    python benchmarks/train_throughput.py                 # batch 256, 2001 bands, 5 traits, 50 steps
    python benchmarks/train_throughput.py --quick         # batch 64, 10 steps (a CPU smoke run)
    python benchmarks/train_throughput.py --networks glm tabnet --batch-size 1024 --json out.json
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from leafjax.networks import NETWORKS, make_regressor
from leafjax.transfer import make_train_step

#: Network sizes used for the benchmark (the registry defaults; GLM on a 20-component learned projection too).
SIZES: dict[str, dict] = {
    "glm": {},
    "glm-learned": {"projection": "learned", "n_components": 20},
    "resnet": {},
    "tabnet": {},
    "transformer": {},
    "cnn": {},
}


def benchmark(name: str, *, batch_size: int, n_bands: int, n_traits: int, steps: int, seed: int = 0) -> dict:
    """Time ``steps`` training steps of network ``name``; returns a row of the results table."""
    rng = np.random.default_rng(seed)
    n = 4 * batch_size
    x = rng.random((n, n_bands)).astype(np.float32)
    y = rng.normal(size=(n, n_traits)).astype(np.float32)
    y[::3, 0] = np.nan
    network = name.split("-")[0]
    model = make_regressor(network, x, y, rngs=nnx.Rngs(seed), **SIZES[name])
    n_params = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(nnx.state(model, nnx.Param)))
    step, state, _ = make_train_step(model, optax.adamw(1e-3, weight_decay=1e-4))
    xd, yd, md = jnp.asarray(x), jnp.asarray(np.nan_to_num(y)), jnp.asarray(np.isfinite(y))
    valid = jnp.ones(batch_size, bool)
    batches = [jnp.asarray(rng.permutation(n)[:batch_size]) for _ in range(4)]
    t0 = time.perf_counter()
    state, loss = step(state, xd, yd, md, batches[0], valid)
    jax.block_until_ready(loss)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(steps):
        state, loss = step(state, xd, yd, md, batches[i % 4], valid)
    jax.block_until_ready((state, loss))
    elapsed = time.perf_counter() - t0
    return {"network": name, "params": n_params, "batch_size": batch_size, "bands": n_bands, "steps": steps,
            "compile_s": compile_s, "step_ms": 1e3 * elapsed / steps, "samples_per_s": steps * batch_size / elapsed,
            "final_loss": float(loss)}


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--batch-size", type=int, default=None, help="default 256 (64 with --quick)")
    parser.add_argument("--bands", type=int, default=2001, help="spectral bands (400-2400 nm at 1 nm: 2001)")
    parser.add_argument("--traits", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 50; 10 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small batch and few steps (CPU smoke run)")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    batch = args.batch_size or (64 if args.quick else 256)
    steps = args.steps or (10 if args.quick else 50)
    device = jax.devices()[0]
    print(f"# leafjax training throughput on {device.platform}:{device.device_kind} (jax {jax.__version__}), "
          f"batch {batch}, {args.bands} bands, {args.traits} traits, {steps} timed steps, float32")
    print(f"{'network':<12} {'params':>9} {'compile s':>10} {'step ms':>9} {'samples/s':>11}")
    rows = []
    for name in args.networks:
        row = benchmark(name, batch_size=batch, n_bands=args.bands, n_traits=args.traits, steps=steps)
        rows.append(row)
        print(f"{name:<12} {row['params']:>9d} {row['compile_s']:>10.2f} {row['step_ms']:>9.2f} "
              f"{row['samples_per_s']:>11.0f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": f"{device.platform}:{device.device_kind}", "jax": jax.__version__, "rows": rows},
                      f, indent=2)
    return rows


assert set(n.split("-")[0] for n in SIZES) == set(NETWORKS)

if __name__ == "__main__":
    main()
