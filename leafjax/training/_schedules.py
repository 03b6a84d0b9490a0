"""Optimisers of the training loop: an optax transformation, or a function of the total number of steps."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax.numpy as jnp
import optax

#: An optax transformation, or ``f(total_steps) -> transformation`` (``total_steps`` may be a traced integer).
Optimiser = optax.GradientTransformation | Callable[[Any], optax.GradientTransformation]


@dataclasses.dataclass(frozen=True)
class AdamWCosine:
    r"""AdamW with linear warm-up over ``warmup_fraction`` of the steps and cosine decay to ``end_fraction``
    of ``learning_rate`` (Loshchilov & Hutter 2019).  Called with the total number of steps :math:`T` (a
    Python int, or a traced integer when models with different totals train together) it returns the optax
    transformation with learning rate at step :math:`c`

    .. math:: \eta(c) = \begin{cases} \eta_0\, c / W & c < W \\
              \eta_0 \big(e + (1 - e)\,\tfrac12 (1 + \cos \pi f)\big),\ f = \mathrm{clip}\big(\tfrac{c - W}{\max(T, W+1) - W}, 0, 1\big)
              & \text{otherwise} \end{cases}

    with :math:`W = \max(1, \lfloor \text{warmup\_fraction}\, T \rfloor)` and :math:`e` = ``end_fraction``.
    Frozen and hashable, so that equal settings reuse the compiled training loop.

    Reference: Loshchilov & Hutter (2019) "Decoupled weight decay regularization", ICLR.
    """

    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    end_fraction: float = 0.01

    def __call__(self, total_steps) -> optax.GradientTransformation:
        total = jnp.asarray(total_steps, jnp.float32)
        warmup = jnp.maximum(1.0, jnp.floor(self.warmup_fraction * total))
        decay = jnp.maximum(total, warmup + 1.0) - warmup
        lr, end = self.learning_rate, self.end_fraction

        def schedule(count):
            c = jnp.asarray(count, jnp.float32)
            frac = jnp.clip((c - warmup) / decay, 0.0, 1.0)
            cosine = lr * (end + (1.0 - end) * 0.5 * (1.0 + jnp.cos(jnp.pi * frac)))
            return jnp.where(c < warmup, lr * c / warmup, cosine)

        return optax.adamw(schedule, weight_decay=self.weight_decay)


def default_optimiser(learning_rate: float = 1e-3, weight_decay: float = 1e-4, warmup_fraction: float = 0.05
                      ) -> AdamWCosine:
    """AdamW with linear warm-up and cosine decay to 1 % (a function of the total number of steps)."""
    return AdamWCosine(learning_rate, weight_decay, warmup_fraction)


def make_tx(optimiser: Optimiser, total) -> optax.GradientTransformation:
    """The transformation of ``optimiser`` for ``total`` steps (an optax transformation is used as is)."""
    return optimiser if isinstance(optimiser, optax.GradientTransformation) else optimiser(total)
