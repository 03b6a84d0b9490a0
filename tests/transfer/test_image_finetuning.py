"""Every fine-tuning method prepares the U-Net and the fused Sentinel-1/2 model (Strontium): a non-empty subset of
the parameters trains (all for "full" only), gradual unfreezing has head, one stage per block and stem, LoRA wraps
every convolution and dense kernel (2-D kernels included), adapters follow every block, and both wrappers start
as the identity."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from leafjax.networks import Aluminium, Sodium, Strontium, UNet
from leafjax.networks.wrappers import AdaptedBlock, LoRAConv, LoRALinear
from leafjax.transfer import FINETUNE_METHODS, group_of, prepare_finetuning

from _s1s2_batches import s1s2_batch

SMALL = dict(base_channels=4, depth=1)


def _unet():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 3, 8, 8)), jnp.float32)
    return UNet(3, 1, base_channels=4, depth=1, rngs=nnx.Rngs(0)), x


def _strontium():
    x = jax.tree.map(jnp.asarray, s1s2_batch(2, 8, seed=0))
    branches = Sodium(rngs=nnx.Rngs(0), **SMALL), Aluminium(rngs=nnx.Rngs(1), **SMALL)
    return Strontium(*branches, base_channels=4, depth=1, rngs=nnx.Rngs(2)), x


def _size(model, filt) -> int:
    return sum(v.size for v in jax.tree.leaves(nnx.state(model, filt)))


@pytest.mark.parametrize("build", [_unet, _strontium], ids=["unet", "strontium"])
def test_every_image_network_is_ready_for_every_method(build):
    model, x = build()
    forward = nnx.jit(lambda m, x: m(x))
    reference = np.asarray(forward(model, x))
    n_kernels = sum(isinstance(m, (nnx.Conv, nnx.Linear)) for _, m in nnx.iter_graph(model))
    for method in FINETUNE_METHODS:
        wrapped, stages = prepare_finetuning(model, method, seed=1)
        n_all, n_first = _size(wrapped, nnx.Param), _size(wrapped, stages[0])
        assert 0 < n_first <= n_all and (n_first == n_all) == (method == "full"), method
        trains = {group_of(p) for p, _ in nnx.to_flat_state(nnx.state(wrapped, stages[0]))}
        if method == "head":
            assert trains == {("head",)}
        if method == "gradual":
            assert len(stages) == model.n_blocks + 2
            last = {group_of(p) for p, _ in nnx.to_flat_state(nnx.state(wrapped, stages[-1]))}
            assert trains == {("head",)} and ("stem",) in last and _size(wrapped, stages[-1]) == n_all
        if method == "lora":
            graph = [m for _, m in nnx.iter_graph(wrapped)]
            assert sum(isinstance(m, (LoRAConv, LoRALinear)) for m in graph) == n_kernels
            assert any(isinstance(m, LoRAConv) and m.lora_a.ndim == 4 for m in graph)
        if method == "adapters":
            assert all(isinstance(b, AdaptedBlock) for b in wrapped.blocks) and len(wrapped.blocks) == model.n_blocks
        if method in ("adapters", "lora"):  # structural wrappers start as the identity
            np.testing.assert_allclose(np.asarray(forward(wrapped, x)), reference, rtol=1e-5, atol=1e-5)
