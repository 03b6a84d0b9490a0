"""Generalised linear model on the (standardised) spectrum, optionally on a projection of it."""

from __future__ import annotations

from typing import Literal

import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, Float

from ._base import AbstractBlock, AbstractNetwork, MLPHead, check_input


class FixedProjection(nnx.Variable):
    """A non-trainable projection basis (e.g. PCA loadings); never selected by ``nnx.Param`` filters."""


def pca_basis(x: Float[np.ndarray, "n wl"], n_components: int) -> Float[np.ndarray, "wl k"]:
    """Leading ``n_components`` principal axes of (already standardised) spectra ``x``, shape ``(wl, k)``.

    Computed by SVD of the centred data; the sign of each axis is fixed so that its largest-magnitude
    loading is positive (deterministic).
    """
    x = np.asarray(x, dtype=np.float64)
    if n_components > min(x.shape):
        raise ValueError(f"n_components={n_components} exceeds min(n, wl)={min(x.shape)}")
    _, _, vt = np.linalg.svd(x - x.mean(axis=0, keepdims=True), full_matrices=False)
    v = vt[:n_components].T
    sign = np.sign(v[np.argmax(np.abs(v), axis=0), np.arange(n_components)])
    return v * sign[None, :]


class LearnedProjection(AbstractBlock):
    """Linear projection ``(batch, wl) -> (batch, k)`` without bias, trained with the model."""

    def __init__(self, n_inputs: int, n_components: int, *, rngs: nnx.Rngs, param_dtype=jnp.float32):
        self.out_features = n_components
        self.linear = nnx.Linear(n_inputs, n_components, use_bias=False, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x):
        return self.linear(x)


class PCAProjection(AbstractBlock):
    """Fixed projection onto principal axes ``(batch, wl) -> (batch, k)`` (a ``FixedProjection`` variable)."""

    def __init__(self, basis: Float[np.ndarray, "wl k"], *, param_dtype=jnp.float32):
        self.out_features = basis.shape[1]
        self.basis = FixedProjection(jnp.asarray(basis, dtype=param_dtype))

    def __call__(self, x):
        return x @ self.basis[...]


class GLM(AbstractNetwork):
    r"""Generalised linear model with identity link on standardised spectra and targets:

    .. math:: \hat y = W^\top P^\top x + b

    where :math:`P` is the identity (``projection=None``), a learned ``(wl, k)`` matrix (``"learned"``), or the
    leading ``k`` principal axes of the training spectra (``"pca"``, fixed; principal-component regression).
    The loss (masked Gaussian likelihood, i.e. MSE) makes this a multi-output GLM; with ``weight_decay`` in the
    optimiser it is ridge regression.

    **Arguments:** ``n_inputs`` (wl), ``n_outputs`` (traits), ``projection``, ``n_components`` (k),
    ``pca_data`` (standardised training spectra ``(n, wl)`` for ``"pca"``; ``None`` gives a zero basis to be
    filled by :func:`leafjax.transfer.load_checkpoint`), ``rngs``.

    Groups: ``stem`` = the projection (or ``None``), ``blocks`` = empty, ``head`` = the linear map.
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, projection: Literal[None, "learned", "pca"] = None,
                 n_components: int = 20, pca_data=None, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        if projection is None:
            self.stem, d = None, n_inputs
        elif projection == "learned":
            self.stem, d = LearnedProjection(n_inputs, n_components, rngs=rngs, param_dtype=param_dtype), n_components
        elif projection == "pca":
            basis = (np.zeros((n_inputs, n_components)) if pca_data is None
                     else pca_basis(pca_data, n_components))
            self.stem, d = PCAProjection(basis, param_dtype=param_dtype), n_components
        else:
            raise ValueError(f"projection must be None, 'learned' or 'pca', got {projection!r}")
        self.blocks = nnx.List([])
        self.head = MLPHead(d, n_outputs, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch n_out"]:
        check_input(x, self.n_inputs)
        h = x if self.stem is None else self.stem(x)
        return self.head(h)
