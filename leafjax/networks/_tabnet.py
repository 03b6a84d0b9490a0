"""TabNet: sequential attentive feature selection with sparsemax (Arik & Pfister 2021, AAAI 35:6679)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from ._base import AbstractBlock, AbstractNetwork, MLPHead, check_input


def sparsemax(z: Float[Array, "*batch k"]) -> Float[Array, "*batch k"]:
    r"""Sparsemax along the last axis: the Euclidean projection of ``z`` onto the probability simplex,

    .. math:: \mathrm{sparsemax}(z) = \max(z - \tau(z), 0), \quad
              \tau = \frac{\sum_{j \le k(z)} z_{(j)} - 1}{k(z)},\;
              k(z) = \max\{k : 1 + k z_{(k)} > \textstyle\sum_{j \le k} z_{(j)}\}

    with :math:`z_{(j)}` sorted in decreasing order.  Outputs are non-negative, sum to one and are exactly
    zero outside the support.  Differentiable almost everywhere (through ``sort``).

    Reference: Martins & Astudillo (2016) "From softmax to sparsemax", ICML.

    Example:
        >>> import jax.numpy as jnp
        >>> sparsemax(jnp.array([[2.0, 1.0, -1.0]])).tolist()
        [[1.0, 0.0, 0.0]]
    """
    k = z.shape[-1]
    z_sorted = -jnp.sort(-z, axis=-1)
    cumsum = jnp.cumsum(z_sorted, axis=-1)
    ks = jnp.reshape(jnp.arange(1, k + 1, dtype=z.dtype), (1,) * (z.ndim - 1) + (k,))
    support = 1.0 + ks * z_sorted > cumsum
    k_z = jnp.sum(support, axis=-1, keepdims=True)
    tau = (jnp.take_along_axis(cumsum, k_z - 1, axis=-1) - 1.0) / k_z.astype(z.dtype)
    return jnp.maximum(z - tau, 0.0)


class GLULayer(nnx.Module):
    """``Linear(in, 2 out) -> LayerNorm -> GLU``: :math:`a \\odot \\sigma(b)` on the two halves."""

    def __init__(self, c_in: int, c_out: int, *, param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.linear = nnx.Linear(c_in, 2 * c_out, use_bias=False, param_dtype=param_dtype, rngs=rngs)
        self.norm = nnx.LayerNorm(2 * c_out, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, h):
        return jax.nn.glu(self.norm(self.linear(h)), axis=-1)


class GLUBlock(nnx.Module):
    """Stack of GLU layers with residual connections scaled by :math:`\\sqrt{0.5}` (the first layer has no
    residual when ``first_residual=False``, i.e. when its input width differs)."""

    def __init__(self, c_in: int, c_out: int, n_layers: int, *, first_residual: bool, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        self.first_residual = first_residual
        self.layers = nnx.List([GLULayer(c_in if i == 0 else c_out, c_out, param_dtype=param_dtype, rngs=rngs)
                                for i in range(n_layers)])

    def __call__(self, h):
        for i, layer in enumerate(self.layers):
            h = layer(h) if (i == 0 and not self.first_residual) else (h + layer(h)) * math.sqrt(0.5)
        return h


class TabNetStem(nnx.Module):
    """Feature-transformer layers shared by all decision steps, and the initial step's specific layers."""

    def __init__(self, n_features: int, width: int, n_shared: int, n_independent: int, *, param_dtype, rngs):
        self.shared = GLUBlock(n_features, width, n_shared, first_residual=False, param_dtype=param_dtype, rngs=rngs)
        self.initial = GLUBlock(width, width, n_independent, first_residual=True, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x):
        return self.initial(self.shared(x))


class TabNetStep(AbstractBlock):
    r"""One decision step: attentive transformer then step-specific feature transformer.

    Mask :math:`M = \mathrm{sparsemax}(P \odot \mathrm{LN}(W a_{i-1}))` over the ``n_features`` inputs; the
    masked input :math:`M \odot x` goes through the shared then the step-specific GLU layers.  Returns the
    feature-transformer output ``(batch, n_d + n_a)`` and the mask ``(batch, n_features)``.
    """

    def __init__(self, n_features: int, n_d: int, n_a: int, n_independent: int, *, param_dtype, rngs):
        self.out_features = n_d + n_a
        self.attention = nnx.Linear(n_a, n_features, use_bias=False, param_dtype=param_dtype, rngs=rngs)
        self.attention_norm = nnx.LayerNorm(n_features, param_dtype=param_dtype, rngs=rngs)
        self.transformer = GLUBlock(n_d + n_a, n_d + n_a, n_independent, first_residual=True,
                                    param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x, a_prev, prior, shared: GLUBlock):
        mask = sparsemax(prior * self.attention_norm(self.attention(a_prev)))
        return self.transformer(shared(mask * x)), mask


class TabNet(AbstractNetwork):
    r"""TabNet regressor (Arik & Pfister 2021).

    For steps :math:`i = 1..N_{steps}`: mask :math:`M_i` from the attentive transformer with prior
    :math:`P_i = \prod_{j<i} (\gamma - M_j)`; features :math:`[d_i, a_i] = f_i(M_i \odot x)`; the decision
    is :math:`\sum_i \mathrm{relu}(d_i)`, mapped to the outputs by a linear head.

    **Arguments:** ``n_inputs`` (wl), ``n_outputs``, ``n_d`` / ``n_a`` (decision / attention widths, 16),
    ``n_steps`` (3), ``gamma`` (relaxation, 1.3), ``n_shared`` / ``n_independent`` (GLU layers, 2 / 2), ``rngs``.

    Groups: ``stem`` = shared + initial feature transformer, ``blocks`` = decision steps (each returns
    ``(features, mask)``), ``head`` = final linear.  Deviation from the paper: layer norm replaces ghost batch
    norm, so that predictions do not depend on batch composition and frozen parts stay exactly frozen; the
    sparsity (mask-entropy) regulariser is available as :meth:`mask_entropy` but not added by default.
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, n_d: int = 16, n_a: int = 16, n_steps: int = 3,
                 gamma: float = 1.3, n_shared: int = 2, n_independent: int = 2, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        self.n_inputs, self.n_outputs, self.n_d, self.gamma = n_inputs, n_outputs, n_d, gamma
        self.stem = TabNetStem(n_inputs, n_d + n_a, n_shared, n_independent, param_dtype=param_dtype, rngs=rngs)
        self.blocks = nnx.List([TabNetStep(n_inputs, n_d, n_a, n_independent, param_dtype=param_dtype, rngs=rngs)
                                for _ in range(n_steps)])
        self.head = MLPHead(n_d, n_outputs, param_dtype=param_dtype, rngs=rngs)

    def masks(self, x: Float[Array, "batch wl"]) -> list[Float[Array, "batch wl"]]:
        """Feature-selection masks of every step (each row sums to one)."""
        return self._forward(x)[1]

    def mask_entropy(self, x: Float[Array, "batch wl"], eps: float = 1e-10) -> Float[Array, ""]:
        """Mean entropy of the masks (the paper's sparsity regulariser, to be weighted by ``lambda_sparse``)."""
        ms = self._forward(x)[1]
        return sum(jnp.mean(jnp.sum(-m * jnp.log(m + eps), axis=-1)) for m in ms) / len(ms)

    def _forward(self, x):
        check_input(x, self.n_inputs)
        a = self.stem(x)[:, self.n_d:]
        prior = jnp.ones_like(x)
        decision = jnp.zeros((x.shape[0], self.n_d), dtype=a.dtype)
        masks = []
        for step in self.blocks:
            h, mask = step(x, a, prior, self.stem.shared)
            decision = decision + jax.nn.relu(h[:, : self.n_d])
            a = h[:, self.n_d:]
            prior = prior * (self.gamma - mask)
            masks.append(mask)
        return self.head(decision), masks

    def __call__(self, x: Float[Array, "batch wl"]) -> Float[Array, "batch n_out"]:
        return self._forward(x)[0]
