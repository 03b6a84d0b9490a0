r"""Spectral tallies: canopy images and energy budgets as exact polynomials in the component spectra.

For bi-Lambertian leaves and a Lambertian soil, every Monte Carlo event contributes a λ-independent coefficient
times a monomial :math:`\prod_j a_j^{e_j}` of the *bases* :math:`a = [\rho_0..\rho_{C-1}, \tau_0..\tau_{C-1},
\rho_s]`.  Collecting equal monomials per target (an image pixel, or a term of the energy budget) gives

.. math::
    R_t(\lambda) = \sum_m w_{tm} \prod_j a_j(\lambda)^{e_{mj}},

evaluated at any number of wavelengths, with its exact gradient with respect to every :math:`a_j(\lambda)` (and so
to PROSPECT or soil parameters by the chain rule): no Monte Carlo noise in the gradient beyond that of the fixed
coefficients.

**Image estimator** (a local estimate at every scattering event; orthographic sensor above the box):
an event at :math:`\mathbf x` on a leaf of normal :math:`n` contributes to the pixel where the view ray leaves the
top

.. math::
    \Delta\mathrm{BRF} = \frac{N_{\mathrm{pix}}}{N}\, w\,\frac{|n\cdot v|}{\cos\theta_v}\,
    e^{-\tau_v(\mathbf x)}\;\times\;(\rho_c \text{ if } v \text{ is on the lit side, else } \tau_c),

and a soil event :math:`\frac{N_{\mathrm{pix}}}{N} w\, e^{-\tau_v}\rho_s`, with :math:`\tau_v` the exact optical
depth along the view ray (:func:`._raymarch.optical_depth_to_top`).  The image mean is the scene BRF.

**Energy budget** per incident photon: reflected (photons leaving the top), absorbed by each component
(:math:`1 - \rho_c - \tau_c` of what hits it), absorbed by the soil (:math:`1 - \rho_s`) and the residual energy
of truncated paths; the four sum to 1 in expectation.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ._raymarch import direction, exit_point, optical_depth_to_top
from ._scene import VoxelScene
from ._trace import ESCAPE, LEAF, RESIDUAL, SOIL, PathEvents

#: Spectra floor inside the logarithm of the monomial evaluation (reflectances of exactly 0 give monomials of 0).
_FLOOR = 1e-30
#: Names of the energy-budget targets, in order.
ENERGY_TERMS = ("reflected", "absorbed_canopy", "absorbed_soil", "residual")


class ComponentSpectra(eqx.Module):
    """Reflectance and transmittance of each component and the soil reflectance, on one wavelength grid.

    **Fields:** ``rho``, ``tau``: shape ``(n_components, wl)``; ``soil``: shape ``(wl,)`` (all dimensionless).
    """

    rho: Float[Array, "c wl"]
    tau: Float[Array, "c wl"]
    soil: Float[Array, " wl"]

    def bases(self) -> Float[Array, "e wl"]:
        """``[ρ_0..ρ_{C−1}, τ_0..τ_{C−1}, ρ_s]``, shape ``(2C+1, wl)``."""
        return jnp.concatenate([self.rho, self.tau, self.soil[None]], axis=0)


class SpectralPolynomial(eqx.Module):
    """A sparse polynomial per target: ``Σ coeff · Π bases**exponents`` over its terms.

    **Fields:** ``exponents``: unique monomials, shape ``(m, e)``; ``target``, ``monomial``: per term, shape
    ``(t,)``; ``coeff``: λ-independent term coefficients, shape ``(t,)``; ``n_targets``: static.
    """

    exponents: Int[Array, "m e"]
    target: Int[Array, " t"]
    monomial: Int[Array, " t"]
    coeff: Float[Array, " t"]
    n_targets: int = eqx.field(static=True)

    def __call__(self, spectra: ComponentSpectra | Float[Array, "e wl"]) -> Float[Array, "n wl"]:
        """Evaluate every target at every wavelength, shape ``(n_targets, wl)``."""
        return self.sum_terms(self.terms(spectra))

    def terms(self, spectra: ComponentSpectra | Float[Array, "e wl"]) -> Float[Array, "t wl"]:
        """The value of every term (coefficient × monomial) at every wavelength, shape ``(t, wl)``."""
        a = spectra.bases() if isinstance(spectra, ComponentSpectra) else spectra
        if a.shape[0] != self.exponents.shape[1]:
            raise ValueError(f"spectra have {a.shape[0]} bases, the polynomial {self.exponents.shape[1]}")
        log_a = jnp.log(jnp.maximum(a, _FLOOR))
        mono = jnp.exp(self.exponents.astype(a.dtype) @ log_a)
        return self.coeff.astype(a.dtype)[:, None] * mono[self.monomial]

    def sum_terms(self, values: Float[Array, "t wl"], keep: Array | None = None) -> Float[Array, "n wl"]:
        """Sum term values per target, shape ``(n_targets, wl)``; ``keep`` (shape ``(t,)``, may be traced)
        restricts the sum to some terms."""
        if keep is not None:
            values = jnp.where(keep[:, None], values, 0.0)
        return jax.ops.segment_sum(values, self.target, num_segments=self.n_targets)

    def orders(self) -> Int[Array, " t"]:
        """Scattering order of each term (the total degree of its monomial)."""
        return jnp.sum(self.exponents, axis=1)[self.monomial]

    def select(self, keep: ArrayLike) -> SpectralPolynomial:
        """The polynomial restricted to the terms where ``keep`` (shape ``(t,)``, concrete) is true."""
        keep = np.asarray(keep, bool)
        return SpectralPolynomial(self.exponents, self.target[keep], self.monomial[keep], self.coeff[keep],
                                  self.n_targets)


def aggregate(target: np.ndarray, exponents: np.ndarray, coeff: np.ndarray, n_targets: int,
              dtype=None) -> SpectralPolynomial:
    """Collect rows ``(target, exponents, coeff)`` into a :class:`SpectralPolynomial` (host-side, NumPy):
    equal monomials of a target are summed; zero coefficients dropped."""
    keep = coeff != 0
    target, exponents, coeff = target[keep], exponents[keep], coeff[keep]
    mono, m_idx = np.unique(exponents.astype(np.int16), axis=0, return_inverse=True)
    m_idx = m_idx.reshape(-1)
    key = target.astype(np.int64) * max(len(mono), 1) + m_idx
    ukey, inv = np.unique(key, return_inverse=True)
    summed = np.bincount(inv.reshape(-1), weights=coeff, minlength=len(ukey))
    dt = coeff.dtype if dtype is None else dtype
    return SpectralPolynomial(jnp.asarray(mono.reshape(-1, exponents.shape[1]), jnp.int32),
                              jnp.asarray(ukey // max(len(mono), 1), jnp.int32),
                              jnp.asarray(ukey % max(len(mono), 1), jnp.int32), jnp.asarray(summed, dt), n_targets)


def image_shape(scene: VoxelScene, pixel_size: float | None) -> tuple[int, int]:
    """Pixels ``(n_x, n_y)`` of an image of the box at ``pixel_size`` (m), which must divide its extent;
    ``None``: one pixel for the whole box."""
    if pixel_size is None:
        return 1, 1
    out = []
    for length in scene.extent:
        k = round(length / pixel_size)
        if pixel_size <= 0 or k < 1 or abs(k * pixel_size - length) > 1e-6 * length:
            raise ValueError(f"pixel_size {pixel_size} m must divide the scene extent {scene.extent} m")
        out.append(k)
    return out[0], out[1]


@functools.partial(jax.jit, static_argnames=("vza", "vaa", "pixel_size"))
def view_events(scene: VoxelScene, events: PathEvents, *, vza: float, vaa: float,
                pixel_size: float | None) -> tuple[Array, Array, Array, Array]:
    """Per event (flattened, shape ``(n·s,)``): the pixel, the λ-independent contribution
    ``w |n·v|/cos θv e^{−τv}`` (0 for non-scattering events), the index of the basis it multiplies
    (ρ_c, τ_c or ρ_s) and the exponents after the event, shape ``(n·s, e)``."""
    c = scene.n_components
    v = direction(vza, vaa)
    vv = jnp.asarray(v, scene.lad.dtype)[None]
    flat = lambda x: x.reshape((-1,) + x.shape[2:])  # noqa: E731
    kind, comp, w = flat(events.kind), flat(events.component).astype(jnp.int32), flat(events.weight)
    pos, normal, d = flat(events.position), flat(events.normal), flat(events.incoming)
    leaf, soil = kind == LEAF, kind == SOIL
    lit = jnp.sum(normal * d, axis=1) < 0  # the +normal face is lit
    view_side = jnp.sum(normal * vv, axis=1) > 0
    reflect = lit == view_side
    factor = jnp.where(leaf, jnp.abs(normal @ vv[0]) / v[2], jnp.where(soil, 1.0, 0.0))
    tau = optical_depth_to_top(scene.extinction(v[2]), scene.voxel_size, pos, v)
    contrib = w * factor * jnp.exp(-tau)
    which = jnp.where(soil, 2 * c, jnp.where(reflect, comp, c + comp))
    nx, ny = image_shape(scene, pixel_size)
    xy = exit_point(pos, v, scene.height, scene.extent)
    ij = jnp.floor(xy / (max(scene.extent) if pixel_size is None else pixel_size)).astype(jnp.int32)
    pixel = jnp.clip(ij[:, 0], 0, nx - 1) * ny + jnp.clip(ij[:, 1], 0, ny - 1)
    expo = flat(events.exponents).astype(jnp.int32) + jax.nn.one_hot(which, 2 * c + 1, dtype=jnp.int32)
    return pixel, contrib, which, expo


def image_rows(scene: VoxelScene, events: PathEvents, *, vza: float, vaa: float, pixel_size: float | None):
    """Host rows ``(pixel, exponents, coeff)`` of the image polynomial, coefficients not yet divided by the
    photon count."""
    pixel, contrib, _, expo = view_events(scene, events, vza=vza, vaa=vaa, pixel_size=pixel_size)
    nx, ny = image_shape(scene, pixel_size)
    return np.asarray(pixel), np.asarray(expo), np.asarray(contrib) * (nx * ny)


def direct_image(scene: VoxelScene, events: PathEvents, carry: Float[Array, "e wl"], *, vza: float, vaa: float,
                 pixel_size: float | None) -> Float[Array, "pix wl"]:
    """The image computed directly from the spectral weights carried by the tracer (``trace_paths(carry=…)``),
    without exponents: the direct spectral Monte Carlo, shape ``(n_pixels, wl)``."""
    if events.spectral is None:
        raise ValueError("these paths carry no spectral weight; trace them with carry=bases")
    pixel, contrib, which, _ = view_events(scene, events, vza=vza, vaa=vaa, pixel_size=pixel_size)
    nx, ny = image_shape(scene, pixel_size)
    spec = events.spectral.reshape(-1, events.spectral.shape[-1])
    w = jnp.where(events.weight.reshape(-1) > 0, events.weight.reshape(-1), 1.0)
    val = (contrib / w)[:, None] * spec * carry[which]
    return jax.ops.segment_sum(val, pixel, num_segments=nx * ny) * (nx * ny) / events.n_photons


def energy_rows(scene: VoxelScene, events: PathEvents):
    """Host rows ``(target, exponents, coeff)`` of the energy budget (targets :data:`ENERGY_TERMS`),
    coefficients not yet divided by the photon count."""
    c = scene.n_components
    kind = np.asarray(events.kind).reshape(-1)
    comp = np.asarray(events.component).reshape(-1).astype(np.int64)
    w = np.asarray(events.weight).reshape(-1)
    expo = np.asarray(events.exponents).reshape(-1, 2 * c + 1).astype(np.int16)
    eye = np.eye(2 * c + 1, dtype=np.int16)
    leaf, soil = kind == LEAF, kind == SOIL
    parts = [(np.zeros(np.sum(kind == ESCAPE), int), expo[kind == ESCAPE], w[kind == ESCAPE]),
             (np.full(np.sum(kind == RESIDUAL), 3), expo[kind == RESIDUAL], w[kind == RESIDUAL]),
             (np.ones(leaf.sum(), int), expo[leaf], w[leaf]),
             (np.ones(leaf.sum(), int), expo[leaf] + eye[comp[leaf]], -w[leaf]),
             (np.ones(leaf.sum(), int), expo[leaf] + eye[c + comp[leaf]], -w[leaf]),
             (np.full(soil.sum(), 2), expo[soil], w[soil]),
             (np.full(soil.sum(), 2), expo[soil] + eye[2 * c], -w[soil])]
    return tuple(np.concatenate(x) for x in zip(*parts))
