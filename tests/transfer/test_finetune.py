"""Fine-tuning methods on every network: frozen parameters stay bit-identical, wrappers start as identities,
gradual unfreezing follows its schedule."""

from __future__ import annotations

import jax
import numpy as np
import optax
import pytest
from flax import nnx

from leafjax.networks import make_regressor
from leafjax.transfer import (
    LoRAConv,
    LoRALinear,
    fit,
    fit_many,
    group_of,
    prepare_finetuning,
    unfreezing_order,
)

from _nets import TINY, linear_data

FIT = dict(optimiser=optax.adam(1e-2), epochs=1, batch_size=8, val_fraction=0.0)


def _flat(model, filt=...):
    state = nnx.state(model) if filt is ... else nnx.state(model, filt)
    return {p: np.asarray(v[...] if hasattr(v, "__getitem__") and not isinstance(v, np.ndarray) else v)
            for p, v in nnx.to_flat_state(state)}


@pytest.fixture(scope="module")
def data():
    return linear_data(24)


# LoRA and adapters change the model's structure: every network; head-only is a pure filter: two networks
# (one with and one without blocks returning tuples) keep the suite fast.
CASES = [pytest.param(n, kw, m, id=f"{n}-{m}") for n, kw in TINY for m in ("adapters", "lora")] + [
    pytest.param(n, kw, "head", id=f"{n}-head") for n, kw in TINY if n in ("resnet", "tabnet")]


@pytest.mark.parametrize("name,kwargs,method", CASES)
@pytest.mark.slow
def test_frozen_parameters_bit_identical(name, kwargs, method, data):
    x, y = data
    model = make_regressor(name, x, y, rngs=nnx.Rngs(0), **kwargs)
    wrapped, (trainable,) = prepare_finetuning(model, method, seed=1)
    forward = nnx.jit(lambda m, x: m(x))
    if method != "head":  # wrappers start as the identity (zero-initialised B / up-projection)
        np.testing.assert_allclose(forward(wrapped, x), forward(model, x), rtol=1e-5, atol=1e-6)  # up to XLA fusion
    before = _flat(wrapped)
    # two models trained together (the batched loop; the second set has another size) and each checked
    tuned_all, _ = fit_many(wrapped, [data, linear_data(17, seed=1)], seeds=[0, 1], trainable=trainable, **FIT)
    train_paths = set(_flat(wrapped, trainable))
    frozen = [p for p in before if p not in train_paths]
    assert frozen and train_paths
    for tuned in tuned_all:
        after = _flat(tuned)
        assert before.keys() == after.keys()
        for p in frozen:
            assert np.array_equal(before[p], after[p]), f"frozen {p} changed"
        assert any(not np.array_equal(before[p], after[p]) for p in train_paths)
    assert any(not np.array_equal(_flat(tuned_all[0])[p], _flat(tuned_all[1])[p]) for p in train_paths)
    if method == "lora":
        kinds = {type(m) for _, m in nnx.iter_graph(wrapped) if isinstance(m, nnx.Module)}
        assert LoRALinear in kinds
        assert (LoRAConv in kinds) == (name == "cnn")
        # every dense/conv kernel in the model sits inside a LoRA wrapper
        for path, m in nnx.iter_graph(wrapped):
            if isinstance(m, (nnx.Linear, nnx.Conv)):
                assert path[-1] == "base", path
    if method == "adapters":
        lora_or_adapter = [p for p in train_paths if group_of(p) != ("head",)]
        assert bool(lora_or_adapter) == (name != "glm")  # GLM without projection has no block/stem to adapt


@pytest.mark.slow
def test_gradual_unfreezing_follows_schedule(data):
    x, y = data
    model = make_regressor("resnet", x, y, rngs=nnx.Rngs(0), d=8, n_blocks=2)
    order = unfreezing_order(model)
    assert order == [("head",), ("blocks", 1), ("blocks", 0), ("stem",)]
    model, stages = prepare_finetuning(model, "gradual")
    assert len(stages) == 4
    previous = _flat(model, nnx.Param)
    for s, trainable in enumerate(stages):
        trained_groups = {group_of(p) for p in _flat(model, trainable)}
        assert trained_groups == set(order[: s + 1])
        model, _ = fit(model, data, trainable=trainable, epoch_offset=s, **FIT)
        current = _flat(model, nnx.Param)
        for p in current:
            changed = not np.array_equal(previous[p], current[p])
            if group_of(p) not in order[: s + 1]:
                assert not changed, f"stage {s}: {p} (not yet unfrozen) changed"
        for g in order[: s + 1]:  # every unfrozen group moved
            assert any(not np.array_equal(previous[p], current[p]) for p in current if group_of(p) == g)
        previous = current


def test_gradual_with_fewer_stages_and_finetune_entry_point(data):
    from leafjax.transfer import finetune

    x, y = data
    model = make_regressor("transformer", x, y, rngs=nnx.Rngs(0), patch_size=8, d=8, num_heads=2, n_blocks=2)
    tuned, histories = finetune(model, data, "gradual", method_kwargs={"n_stages": 2}, **FIT)
    assert len(histories) == 2
    before, after = _flat(model, nnx.Param), _flat(tuned, nnx.Param)
    for p in before:
        if group_of(p) not in (("head",), ("blocks", 1)):
            assert np.array_equal(before[p], after[p]), p
    with pytest.raises(ValueError):
        prepare_finetuning(model, "bitfit")


def test_lora_equals_merged_low_rank_kernel():
    """With non-zero B, LoRA computes the layer with kernel W + (alpha/r) A B (dense and 1-D conv,
    including stride and dilation)."""
    import jax.numpy as jnp

    rngs = nnx.Rngs(0)
    x = jax.random.normal(jax.random.key(1), (3, 20, 4), dtype=jnp.float32)
    for base in (nnx.Linear(4, 5, rngs=rngs),
                 nnx.Conv(4, 5, 3, strides=2, kernel_dilation=2, padding="SAME", rngs=rngs),
                 nnx.Conv(4, 5, 5, padding="VALID", rngs=rngs)):
        wrapped = (LoRALinear if isinstance(base, nnx.Linear) else LoRAConv)(base, 2, 6.0, rngs=rngs)
        wrapped.lora_b[...] = jax.random.normal(jax.random.key(2), wrapped.lora_b.shape, dtype=jnp.float32)
        merged = nnx.clone(base)
        delta = jnp.tensordot(wrapped.lora_a[...], wrapped.lora_b[...], axes=1) * 3.0
        merged.kernel[...] = base.kernel[...] + delta
        f = nnx.jit(lambda m, x: m(x))
        np.testing.assert_allclose(f(wrapped, x), f(merged, x), rtol=1e-4, atol=1e-5)
