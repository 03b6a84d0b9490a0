"""Small random Sentinel-1/2 LAI chip batches shared by the network, training and transfer tests (16×16 chips)."""

from __future__ import annotations

import numpy as np

from leafjax.preprocessing import s1s2_inputs, s1s2_targets


def s1s2_batch(n: int = 8, size: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """A dict batch of ``n`` chips ``size × size`` (:func:`~leafjax.preprocessing.s1s2_inputs` and
    :func:`~leafjax.preprocessing.s1s2_targets`): smooth LAI fields that grow from t−2 to t, VH backscatter that
    rises with LAI, random SCL classes (about a third of the pixels not valid)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    base = 2.5 + 1.5 * np.sin(xx[None] / 4.0 + phase) * np.cos(yy[None] / 5.0)
    growth = rng.uniform(0.0, 0.5, (n, 1, 1))
    lai = np.stack([base, base + growth, base + 2 * growth], axis=1)  # (n, 3, h, w): t-2, t-1, t
    vh = -20.0 + 1.5 * lai + rng.normal(0, 0.5, lai.shape)
    vv = -12.0 + 0.5 * lai + rng.normal(0, 0.5, lai.shape)
    s1 = np.stack([vh, vv], axis=2)  # (n, 3, 2, h, w)
    scl = rng.choice([0, 3, 4, 4, 4, 5, 8, 9, 4], size=(n, 3, size, size))
    batch = s1s2_inputs(s1, lai[:, :2], scl[:, :2], rng.integers(1, 366, n))
    batch.update(s1s2_targets(lai[:, 2], scl[:, 2]))
    return batch
