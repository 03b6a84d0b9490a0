"""Checkpoints: npz (no pickle) + JSON round trip of every network, including wrapped models."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from flax import nnx

from leafjax.networks import make_regressor
from leafjax.transfer import load_checkpoint, prepare_finetuning, save_checkpoint

from _nets import TINY, linear_data


def _assert_same(a, b):
    la, lb = jax.tree_util.tree_flatten_with_path(nnx.state(a)), jax.tree_util.tree_flatten_with_path(nnx.state(b))
    assert la[1] == lb[1]
    for (pa, va), (pb, vb) in zip(la[0], lb[0]):
        assert pa == pb and np.array_equal(np.asarray(va), np.asarray(vb)), pa


# save/load is generic over the state; three structurally different networks (nested lists, fixed variables,
# attention) plus the wrapped CNN below keep the suite fast
ROUND_TRIP = [(n, kw) for n, kw in TINY if n in ("tabnet", "transformer")] + [
    ("glm", {"projection": "pca", "n_components": 3})]


@pytest.mark.parametrize("name,kwargs", ROUND_TRIP, ids=["tabnet", "transformer", "glm-pca"])
def test_round_trip(name, kwargs, tmp_path):
    x, y = linear_data(12)
    model = make_regressor(name, x, y, rngs=nnx.Rngs(0), trait_names=["a", "b", "c"], **kwargs)
    save_checkpoint(tmp_path / "ckpt", model)
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["network"] == name and config["trait_names"] == ["a", "b", "c"]
    with np.load(tmp_path / "ckpt" / "state.npz", allow_pickle=False) as z:  # loads without pickle
        assert all(z[k].dtype != object for k in z.files)
    loaded = load_checkpoint(tmp_path / "ckpt")
    _assert_same(model, loaded)
    assert type(loaded.net) is type(model.net)


@pytest.mark.parametrize("method", ["lora", "adapters"])
def test_round_trip_wrapped(method, tmp_path):
    x, y = linear_data(12)
    model = make_regressor("cnn", x, y, rngs=nnx.Rngs(0), channels=(2, 4), kernel_size=3, pool=2, head_hidden=0)
    wrapped, _ = prepare_finetuning(model, method, seed=3)
    # make the wrapper parameters non-trivial so that a wrong restore would show
    state = nnx.state(wrapped)
    nnx.update(wrapped, jax.tree.map(lambda a: a + 0.5, state))
    save_checkpoint(tmp_path / "w", wrapped)
    loaded = load_checkpoint(tmp_path / "w")
    _assert_same(wrapped, loaded)
    f = nnx.jit(lambda m, x: m(x))
    np.testing.assert_array_equal(f(loaded, x), f(wrapped, x))


def test_mismatch_is_an_error(tmp_path):
    x, y = linear_data(12)
    model = make_regressor("resnet", x, y, rngs=nnx.Rngs(0), d=4, n_blocks=1)
    save_checkpoint(tmp_path / "m", model)
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["size_kwargs"]["d"] = 6
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="stored"):
        load_checkpoint(tmp_path / "m")
