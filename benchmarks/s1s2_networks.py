"""Training throughput (chips/s) of the Sentinel-1/2 LAI networks: Sodium (radar), Aluminium (optical), Strontium
(fused, with its auxiliary losses) and the single U-Net on all inputs stacked (Wang et al., LeafNothingBehind).

Times the compiled step of the generic training loop (``leafjax.training.make_batch_step``: gather of the batch,
forward, masked loss on LAI/5, backward, AdamW update), after one compiling warm-up step, on random chips (the
cost does not depend on the values).

Configurations:

* default (CPU): 64 × 64 chips, U-Nets of widths 16/32/64 (the fusion U-Net 32/64/128), batch 8;
* ``--gpu``: the paper's size: 256 × 256 chips, branches 32/64/128, fusion 64/128/256, batch 16 (the reference
  code's default batch size; its Strontium experiment used 8).

Usage::

    python benchmarks/s1s2_networks.py                 # CPU configuration
    python benchmarks/s1s2_networks.py --gpu           # paper size (on an accelerator)
    python benchmarks/s1s2_networks.py --networks strontium --batch-size 4 --steps 5 --json out.json
    python benchmarks/s1s2_networks.py --loops --networks sodium   # fit_many's two drivers, epochs/s

``--loops`` times whole epochs of ``leafjax.training.fit_many`` (64 chips, 2 epochs after a compiling
warm-up run) with the compiled driver (one program: ``while_loop`` over epochs, ``fori_loop`` over steps) and the
host-driven one (one compiled call per step), the default for convolutional models on CPU, where convolutions in
a compiled loop body run several times slower (jax-ml/jax#12868).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from flax import nnx  # noqa: E402

from _timing import header  # noqa: E402
from leafjax.networks import Aluminium, S1S2UNet, Sodium, Strontium  # noqa: E402
from leafjax.training import FusedMapMSE, MapMSE, make_batch_step  # noqa: E402

NETWORKS = ("sodium", "aluminium", "strontium", "unet")
#: (chip size, branch / single U-Net base width, fusion base width, batch size) per configuration.
CONFIGS = {"cpu": (64, 16, 32, 8), "gpu": (256, 32, 64, 16)}


def random_chips(n: int, size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A dict batch of ``n`` random chips in the networks' layout (``leafjax.preprocessing.s1s2_inputs``)."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    return {"s1": rng.random((n, 3, 2, size, size), f32), "lai": rng.random((n, 2, size, size), f32),
            "lai_mask": (rng.random((n, 2, 6, size, size)) > 0.3).astype(f32),
            "season": rng.uniform(-1, 1, (n, 2)).astype(f32),
            "target": rng.random((n, size, size), f32), "target_mask": rng.random((n, size, size)) > 0.3}


def build(name: str, base: int, fused_base: int, depth: int, seed: int = 0):
    """``(model, loss)`` for network ``name``."""
    rngs = nnx.Rngs(seed)
    if name == "sodium":
        return Sodium(base_channels=base, depth=depth, rngs=rngs), MapMSE()
    if name == "aluminium":
        return Aluminium(base_channels=base, depth=depth, rngs=rngs), MapMSE()
    if name == "unet":
        return S1S2UNet(base_channels=base, depth=depth, rngs=rngs), MapMSE()
    return (Strontium(base_channels=fused_base, depth=depth,
                      branch_kwargs={"base_channels": base, "depth": depth}, rngs=rngs), FusedMapMSE())


def benchmark(name: str, *, size: int, base: int, fused_base: int, depth: int, batch_size: int, steps: int,
              seed: int = 0) -> dict:
    """Time ``steps`` training steps of network ``name``; returns a row of the results table."""
    model, loss = build(name, base, fused_base, depth, seed)
    n_params = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(nnx.state(model, nnx.Param)))
    step, state, _ = make_batch_step(model, optax.adamw(1e-3, weight_decay=1e-4), loss)
    pool = jax.tree.map(jnp.asarray, random_chips(2 * batch_size, size, seed))
    valid = jnp.ones((batch_size,), bool)
    idx = [jnp.arange(batch_size, dtype=jnp.int32) + i * batch_size for i in range(2)]
    t0 = time.perf_counter()
    state, value = step(state, pool, idx[0], valid)
    jax.block_until_ready((state, value))
    compile_s = time.perf_counter() - t0
    state, value = step(state, pool, idx[1], valid)  # second call: no compilation
    jax.block_until_ready((state, value))
    t0 = time.perf_counter()
    for i in range(steps):
        state, value = step(state, pool, idx[i % 2], valid)
    jax.block_until_ready((state, value))
    elapsed = time.perf_counter() - t0
    return {"network": name, "params": n_params, "chip": size, "batch_size": batch_size, "steps": steps,
            "compile_s": compile_s, "step_ms": 1e3 * elapsed / steps, "chips_per_s": steps * batch_size / elapsed,
            "loss": float(value)}


def loop_drivers(name: str, *, size: int, base: int, fused_base: int, depth: int, batch_size: int,
                 n_chips: int = 64, epochs: int = 2) -> dict:
    """Seconds per epoch of ``fit_many`` for network ``name`` with each driver (second runs: compiled once)."""
    from leafjax.training import fit_many

    model, loss = build(name, base, fused_base, depth)
    data = random_chips(n_chips, size)
    row = {"network": name, "chip": size, "batch_size": batch_size, "chips": n_chips}
    for loop in ("compiled", "host"):
        kw = dict(loss=loss, epochs=epochs, batch_size=batch_size, patience=None, val_fraction=0.0, loop=loop)
        fit_many(model, [data], **kw)  # compiles
        t0 = time.perf_counter()
        fit_many(model, [data], **kw)
        row[f"{loop}_s_per_epoch"] = (time.perf_counter() - t0) / epochs
    row["ratio"] = row["compiled_s_per_epoch"] / row["host_s_per_epoch"]
    return row


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="the paper's size (256 x 256 chips, 32/64 base widths)")
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--size", type=int, default=None, help="chip side in pixels (default 64; 256 with --gpu)")
    parser.add_argument("--base", type=int, default=None, help="branch / single U-Net base width (16; 32 with --gpu)")
    parser.add_argument("--fused-base", type=int, default=None, help="fusion U-Net base width (32; 64 with --gpu)")
    parser.add_argument("--depth", type=int, default=2, help="down-samplings per U-Net (the paper: 2)")
    parser.add_argument("--batch-size", type=int, default=None, help="chips per step (8; 16 with --gpu)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 10; 50 with --gpu)")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    parser.add_argument("--loops", action="store_true", help="time fit_many's compiled and host-driven loops")
    args = parser.parse_args(argv)
    size, base, fused, batch = CONFIGS["gpu" if args.gpu else "cpu"]
    size, base = args.size or size, args.base or base
    fused, batch = args.fused_base or fused, args.batch_size or batch
    steps = args.steps or (50 if args.gpu else 10)
    widths = lambda b: "/".join(str(b * 2 ** i) for i in range(args.depth + 1))  # noqa: E731
    if args.loops:
        print("# " + header(f"fit_many drivers, {size}x{size} chips, U-Nets {widths(base)}, batch {batch}"))
        print(f"{'network':<10} {'compiled s/epoch':>17} {'host s/epoch':>13} {'ratio':>7}")
        rows = []
        for name in args.networks:
            row = loop_drivers(name, size=size, base=base, fused_base=fused, depth=args.depth, batch_size=batch)
            rows.append(row)
            print(f"{name:<10} {row['compiled_s_per_epoch']:>17.2f} {row['host_s_per_epoch']:>13.2f} "
                  f"{row['ratio']:>7.1f}", flush=True)
        return rows
    print("# " + header(f"{size}x{size} chips, U-Nets {widths(base)}, fusion {widths(fused)}, batch {batch}, "
                        f"{steps} timed steps, float32"))
    print(f"{'network':<10} {'params':>9} {'compile s':>10} {'step ms':>9} {'chips/s':>9}")
    rows = []
    for name in args.networks:
        row = benchmark(name, size=size, base=base, fused_base=fused, depth=args.depth, batch_size=batch,
                        steps=steps)
        rows.append(row)
        print(f"{name:<10} {row['params']:>9d} {row['compile_s']:>10.2f} {row['step_ms']:>9.1f} "
              f"{row['chips_per_s']:>9.2f}", flush=True)
    if args.json:
        device = jax.devices()[0]
        with open(args.json, "w") as f:
            json.dump({"device": f"{device.platform}:{device.device_kind}", "jax": jax.__version__,
                       "config": {"size": size, "base": base, "fused_base": fused, "depth": args.depth,
                                  "batch_size": batch}, "rows": rows}, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
