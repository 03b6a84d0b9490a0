"""Masked per-pixel map losses: values against NumPy, padding rows and invalid pixels excluded, float masks, the
fused loss with its auxiliary terms, and hashability (the losses are static arguments of the compiled loop)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from leafjax.training import FusedMapMSE, MapMSE, masked_map_mse, pixel_mask


class _Maps(nnx.Module):
    """A stand-in model with fixed output maps: ``outputs(batch)`` returns ``{"lai": a, "radar": b, "optical": c}``."""

    def __init__(self, maps: dict[str, np.ndarray]):
        self.maps = nnx.Dict({k: nnx.Param(jnp.asarray(v)) for k, v in maps.items()})

    def outputs(self, batch):
        return {k: v[...] for k, v in self.maps.items()}

    def __call__(self, batch):
        return self.maps["lai"][...]


def _data(seed=0, n=3, h=4, w=5):
    rng = np.random.default_rng(seed)
    target = rng.random((n, h, w)).astype(np.float32)
    valid = rng.random((n, h, w)) > 0.3
    maps = {k: rng.random((n, h, w)).astype(np.float32) for k in ("lai", "radar", "optical")}
    return target, valid, maps


def test_masked_map_mse_matches_numpy_over_valid_pixels_of_real_rows():
    target, valid, maps = _data()
    rows = np.array([True, True, False])
    pred = maps["lai"]
    m = valid & rows[:, None, None]
    expected = np.sum(((pred - target) ** 2)[m]) / m.sum()
    got = masked_map_mse(jnp.asarray(pred), jnp.asarray(np.where(valid, target, np.nan)), jnp.asarray(valid),
                         jnp.asarray(rows))
    np.testing.assert_allclose(float(got), expected, rtol=1e-6)
    # float masks (as stored in the challenge files): non-zero = valid
    as_float = masked_map_mse(jnp.asarray(pred), jnp.asarray(target), jnp.asarray(valid, jnp.float32),
                              jnp.asarray(rows))
    np.testing.assert_allclose(float(as_float), expected, rtol=1e-6)
    assert pixel_mask(jnp.asarray(valid, jnp.float64), jnp.asarray(rows)).dtype == jnp.bool_
    # nothing valid: 0, not NaN
    assert float(masked_map_mse(jnp.asarray(pred), jnp.asarray(target), jnp.zeros(valid.shape, bool),
                                jnp.asarray(rows))) == 0.0
    with pytest.raises((ValueError, TypeError)):  # TypeError: the tests' jaxtyping check comes first
        masked_map_mse(jnp.asarray(pred), jnp.asarray(target[:, :2]), jnp.asarray(valid), jnp.asarray(rows))


def test_fused_loss_adds_weighted_branch_terms_and_map_loss_reads_the_batch():
    target, valid, maps = _data(1)
    model = _Maps(maps)
    batch = {"target": jnp.asarray(target), "target_mask": jnp.asarray(valid)}
    rows = jnp.ones((3,), bool)
    each = {k: np.sum(((maps[k] - target) ** 2)[valid]) / valid.sum() for k in maps}
    loss = FusedMapMSE()
    terms = loss.terms(model, batch, rows)
    for k in maps:
        np.testing.assert_allclose(float(terms[k]), each[k], rtol=1e-6)
    # reference configuration: weight 0.1 on the radar branch, 0.15 on the optical branch
    np.testing.assert_allclose(float(loss(model, batch, rows)),
                               each["lai"] + 0.1 * each["radar"] + 0.15 * each["optical"], rtol=1e-6)
    np.testing.assert_allclose(float(FusedMapMSE(aux_weights=())(model, batch, rows)), each["lai"], rtol=1e-6)
    np.testing.assert_allclose(float(MapMSE()(model, batch, rows)), each["lai"], rtol=1e-6)
    with pytest.raises(ValueError, match="no \\['height'\\]"):
        FusedMapMSE(aux_weights=(("height", 1.0),)).terms(model, batch, rows)
    # gradient only through valid pixels
    grads = nnx.grad(lambda m: loss(m, batch, rows))(model)
    for k in maps:
        g = np.asarray(grads.maps[k][...])
        assert np.all(g[~valid] == 0) and np.all(g[valid] != 0)
    # static loop settings: equal losses hash equal (one compilation)
    assert hash(FusedMapMSE()) == hash(FusedMapMSE()) and FusedMapMSE() == FusedMapMSE()
    assert len({MapMSE(), MapMSE(), MapMSE(inputs="image")}) == 2
    jax.block_until_ready(terms)
