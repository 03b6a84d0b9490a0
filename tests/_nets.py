"""Tiny network sizes and data shared by the network/transfer tests (kept small for 2 shared CPU cores)."""

from __future__ import annotations

import numpy as np

N_BANDS = 32
N_TRAITS = 3

#: (registry name, size kwargs) of one tiny instance of every network.
TINY = [
    ("glm", {}),
    ("resnet", {"d": 8, "n_blocks": 2}),
    ("tabnet", {"n_d": 4, "n_a": 4, "n_steps": 2, "n_shared": 1, "n_independent": 1}),
    ("transformer", {"patch_size": 8, "d": 8, "num_heads": 2, "n_blocks": 2}),
    ("cnn", {"channels": (2, 4, 4), "kernel_size": 3, "pool": 2, "head_hidden": 4}),
]
TINY_IDS = [name for name, _ in TINY]


def linear_data(n: int, seed: int = 0, nan_every: int = 0):
    """Spectra-like ``X (n, N_BANDS)`` and linear targets ``Y (n, N_TRAITS)`` with optional NaNs."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, N_BANDS))
    y = x @ rng.normal(size=(N_BANDS, N_TRAITS)) + 0.01 * rng.normal(size=(n, N_TRAITS))
    if nan_every:
        y[::nan_every, 1] = np.nan
    return x, y
