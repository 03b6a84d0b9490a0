"""Plain fully connected network (multi-layer perceptron, the "DNN" of tabular regression studies)."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from ._base import AbstractBlock, AbstractNetwork, check_input

#: Activations by name (a name, not a function, so that the network's size kwargs stay JSON for checkpoints).
ACTIVATIONS: dict[str, Callable[[Array], Array]] = {"relu": jax.nn.relu, "gelu": jax.nn.gelu, "silu": jax.nn.silu,
                                                    "tanh": jnp.tanh}


def _activation(name: str) -> Callable[[Array], Array]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


class DenseBlock(AbstractBlock):
    """``activation(Linear(d_in, d_out) h)`` on ``(batch, d_in)`` -> ``(batch, d_out)``."""

    def __init__(self, d_in: int, d_out: int, *, activation: str = "relu", param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        self.out_features = d_out
        self.activation = activation
        self.linear = nnx.Linear(d_in, d_out, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, h: Float[Array, "batch d_in"]) -> Float[Array, "batch d_out"]:
        return _activation(self.activation)(self.linear(h))


class MLP(AbstractNetwork):
    r"""Plain multi-layer perceptron: ``depth`` hidden layers of ``width`` units, then a linear output.

    .. math:: h_0 = \phi(W_0 x + b_0),\quad h_i = \phi(W_i h_{i-1} + b_i)\ (i = 1 \dots \text{depth}-1),
              \quad \hat y = W_o h_{\text{depth}-1} + b_o

    Groups (for fine-tuning, :mod:`leafjax.transfer`): ``stem`` = the first hidden layer (``Linear(n_inputs,
    width)``, its activation applied by the network), ``blocks`` = the ``depth - 1`` further hidden layers
    (:class:`DenseBlock`), ``head`` = the output ``Linear(width, n_outputs)``.  Gradual unfreezing therefore
    trains the output layer, then the hidden layers from the last to the first; adapters sit after each
    :class:`DenseBlock`; LoRA wraps every ``Linear``.  ``depth=1`` gives a single hidden layer (no blocks).

    **Arguments:** ``n_inputs`` (features), ``n_outputs``, ``width`` (default 64), ``depth`` (hidden layers,
    default 3), ``activation`` (``"relu"`` default, ``"gelu"``, ``"silu"``, ``"tanh"``), ``rngs``.
    Input ``(batch, n_inputs)`` (standardised features), output ``(batch, n_outputs)``.

    The default 3 × 64 ReLU is a small fully connected network of the size used for tabular thermal-infrared
    retrievals with about a dozen inputs (Heidarian et al. 2025, Remote Sensing 17:3803, "DNN"; their exact
    architecture is not reproduced).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> net = MLP(12, 1, rngs=nnx.Rngs(0))
        >>> net(jnp.zeros((5, 12), jnp.float32)).shape, net.n_blocks
        ((5, 1), 2)
    """

    def __init__(self, n_inputs: int, n_outputs: int, *, width: int = 64, depth: int = 3,
                 activation: str = "relu", param_dtype=jnp.float32, rngs: nnx.Rngs):
        if depth < 1 or width < 1:
            raise ValueError(f"need depth >= 1 and width >= 1, got depth={depth}, width={width}")
        _activation(activation)  # validate the name now
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        self.activation = activation
        self.stem = nnx.Linear(n_inputs, width, param_dtype=param_dtype, rngs=rngs)
        self.blocks = nnx.List([DenseBlock(width, width, activation=activation, param_dtype=param_dtype, rngs=rngs)
                                for _ in range(depth - 1)])
        self.head = nnx.Linear(width, n_outputs, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x: Float[Array, "batch n_in"]) -> Float[Array, "batch n_out"]:
        check_input(x, self.n_inputs)
        h = _activation(self.activation)(self.stem(x))
        for block in self.blocks:
            h = block(h)
        return self.head(h)
