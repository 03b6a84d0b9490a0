r"""Schwarzschild integration through homogeneous-absorber layers with a source linear in optical depth.

For a layer of (slant) optical depth :math:`\delta`, transmittance :math:`t = e^{-\delta}` and Planck radiances
:math:`B_b`, :math:`B_t` at its bottom and top levels, a source function linear in optical depth gives the
radiance emitted by the layer out of its top (upwards) and bottom (downwards):

.. math::
    I^\uparrow = (1 - t)\left[B_t + (B_b - B_t)F(\delta)\right], \qquad
    I^\downarrow = (1 - t)\left[B_b + (B_t - B_b)F(\delta)\right], \qquad
    F(\delta) = \frac{1}{\delta} - \frac{t}{1 - t}

(:math:`F \to 1/2` for an optically thin layer: its mean temperature; :math:`F \to 0` for a thick one: the
radiance of its near face).  References: Wiscombe (1976) JQSRT 16:637; Clough, Iacono & Moncet (1992) JGR
97:15761 (LBLRTM's linear-in-τ layer source, which these formulas reduce to without the Padé form).

The top-of-atmosphere upwelling path radiance and the surface downwelling radiance are the sums of the layer
emissions attenuated by the layers in between, and the surface-to-space transmittance is :math:`\exp(-\sum\delta)`.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

#: Below this optical depth :math:`F(\delta)` is evaluated by its series :math:`1/2 - \delta/12 + \delta^3/720`
#: (truncation error < δ⁵/30240 ≈ 3·10⁻¹⁰ at the switch; the closed form loses < 2·10⁻⁶ relative in float32
#: above it).
THIN_LAYER_TAU: float = 0.1


def linear_in_tau_factor(delta: Float[Array, "..."], em: Float[Array, "..."] | None = None) -> Float[Array, "..."]:
    r""":math:`F(\delta) = 1/\delta - e^{-\delta}/(1 - e^{-\delta})` (dimensionless, in (0, 1/2]), differentiable
    everywhere for :math:`\delta \ge 0` (double ``where`` around the thin-layer series); ``em``: optionally
    :math:`e^{-\delta} - 1` already computed."""
    em = jnp.expm1(-delta) if em is None else em
    thin = delta < THIN_LAYER_TAU
    d = jnp.where(thin, 1.0, delta)
    e = jnp.where(thin, -0.5, em)
    exact = 1.0 / d + (1.0 + e) / e
    series = 0.5 - delta / 12.0 + delta**3 / 720.0
    return jnp.where(thin, series, exact)


def layer_emission(delta: Float[Array, "..."], b_near: Float[Array, "..."], b_far: Float[Array, "..."],
                   linear: bool = True) -> Float[Array, "..."]:
    """Radiance emitted by layers of optical depth ``delta`` towards the face with Planck radiance ``b_near``
    (``b_far`` at the other face); ``linear=False`` takes the mean of the two (isothermal layer).  One
    transcendental per element (``expm1``)."""
    em = jnp.expm1(-delta)  # t − 1
    f = linear_in_tau_factor(delta, em) if linear else 0.5
    return -em * (b_near + (b_far - b_near) * f)


def upwelling(delta: Float[Array, "*b layer *c"], b_level: Float[Array, "*b level *c"], *, layer_axis: int,
              linear: bool = True) -> tuple[Float[Array, "*b *c"], Float[Array, "*b *c"]]:
    """Surface-to-space transmittance and top-of-atmosphere path radiance (surface black at 0 K).

    **Arguments:** ``delta``: slant optical depth of each layer (surface first) along ``layer_axis``;
    ``b_level``: Planck radiance at the levels (one more than layers along the same axis, broadcastable).
    **Returns:** ``(transmittance, path_radiance)`` with the layer axis summed out.
    """
    n = delta.shape[layer_axis]
    b_bottom = jnp.take(b_level, jnp.arange(n), axis=layer_axis)
    b_top = jnp.take(b_level, jnp.arange(1, n + 1), axis=layer_axis)
    emitted = layer_emission(delta, b_top, b_bottom, linear)
    total = jnp.sum(delta, axis=layer_axis, keepdims=True)
    above = total - jnp.cumsum(delta, axis=layer_axis)  # optical depth between the layer's top and space
    return (jnp.exp(-jnp.squeeze(total, layer_axis)),
            jnp.sum(emitted * jnp.exp(-jnp.maximum(above, 0.0)), axis=layer_axis))


def downwelling(delta: Float[Array, "*b layer *c"], b_level: Float[Array, "*b level *c"], *, layer_axis: int,
                linear: bool = True) -> Float[Array, "*b *c"]:
    """Downwelling radiance at the surface along one slant direction (no radiation from space, 0 K).

    **Arguments:** as :func:`upwelling` (``delta`` is the optical depth along this direction).
    """
    n = delta.shape[layer_axis]
    b_bottom = jnp.take(b_level, jnp.arange(n), axis=layer_axis)
    b_top = jnp.take(b_level, jnp.arange(1, n + 1), axis=layer_axis)
    emitted = layer_emission(delta, b_bottom, b_top, linear)
    below = jnp.cumsum(delta, axis=layer_axis) - delta  # optical depth between the surface and the layer's bottom
    return jnp.sum(emitted * jnp.exp(-below), axis=layer_axis)
