r"""The deterministic fast path: exact single scattering by ray marching, multiple scattering from Monte Carlo
recollision statistics.

**Single scattering** (first-order leaf and soil scattering, no Monte Carlo noise).  For photons entering the top
with unit horizontal flux in the travel direction :math:`d` (zenith cosine :math:`\mu_s`), the first-collision
density on component :math:`c` with leaf normal :math:`n` is :math:`u_c(\mathbf x)\,F_c(n)\,|d\cdot n|\,
e^{-\tau_s(\mathbf x)}/\mu_s`; a bi-Lambertian leaf sends to the view :math:`v` (zenith cosine :math:`\mu_v`) the
BRF :math:`|n\cdot v|/\mu_v\,e^{-\tau_v(\mathbf x)}` times :math:`\rho_c` (``v`` on the lit side) or
:math:`\tau_c`.  Hence the BRF of pixel :math:`P` (area :math:`A_P`)

.. math::
    R_1(P) = \frac{1}{A_P}\int_{V_P}\sum_c \frac{u_c(\mathbf x)}{\mu_s\mu_v}\,e^{-\tau_s(\mathbf x)-\tau_v(\mathbf x)}
             \big[Q^\rho_c\,\rho_c + Q^\tau_c\,\tau_c\big]\,dV
             + \frac{1}{A_P}\int_{S_P} e^{-\tau_s - \tau_v}\,\rho_s\,dA,

with :math:`Q^{\rho,\tau}_c = \sum_l F_{c,l}\,\overline{|d\cdot n||n\cdot v|\,1_{\rho,\tau}}^{\,\phi}` (azimuth
average by a midpoint rule of :data:`AZIMUTH_NODES` nodes; the same inclination-class centres as the tracer),
:math:`V_P, S_P` the canopy volume and soil area seen through pixel :math:`P` along :math:`v`, and
:math:`\tau_{s,v}` the optical depths to the top along the sun and view directions, computed exactly by
:func:`._raymarch.optical_depth_to_top`.  The volume and area integrals use a midpoint rule on ``samples³``
sub-cells per voxel (``samples²`` per soil cell), the vertical part of each sub-cell integrated exactly for its
voxel's extinction (exact for horizontally uniform layers): deterministic, converging as the sub-cells shrink.  This is
the first-order term of the Monte Carlo estimator of :mod:`._tally` in expectation (a turbid medium has no hotspot
here either: the sun and view paths are independent).

**Multiple scattering** (:func:`fast_tallies`): orders ``2 … K`` of a (short, e.g. ``K = 6``) Monte Carlo run
plus its recollision tail (:func:`._engine.render`), the single-scattering terms of which are replaced by the exact
ones — so the image detail, dominated by single scattering at fine pixels, carries no Monte Carlo noise.
"""

from __future__ import annotations

import math
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..canopy._lidf import angle_class_centres
from ._engine import SceneTallies, monte_carlo_tallies
from ._raymarch import direction, exit_point, optical_depth_to_top
from ._scene import VoxelScene
from ._tally import SpectralPolynomial, aggregate, image_shape

#: Leaf-azimuth nodes of the midpoint rule of the scattering integrals Q.
AZIMUTH_NODES: int = 720


def scattering_weights(scene: VoxelScene, d: tuple[float, float, float], v: tuple[float, float, float]
                       ) -> tuple[Array, Array]:
    r""":math:`Q^\rho_c, Q^\tau_c` (shape ``(c,)`` each) for travel direction ``d`` and view ``v`` (unit vectors)."""
    dt = scene.lidf.dtype
    theta = jnp.deg2rad(jnp.asarray(angle_class_centres(scene.angle_classes), dt))  # (l,)
    phi = (jnp.arange(AZIMUTH_NODES, dtype=dt) + 0.5) * (2.0 * math.pi / AZIMUTH_NODES)  # (a,)
    st, ct = jnp.sin(theta)[:, None], jnp.cos(theta)[:, None]
    n = jnp.stack([st * jnp.cos(phi)[None], st * jnp.sin(phi)[None], jnp.broadcast_to(ct, (theta.size, phi.size))],
                  axis=-1)  # (l, a, 3)
    nd, nv = n @ jnp.asarray(d, dt), n @ jnp.asarray(v, dt)
    reflect = (nd < 0) == (nv > 0)
    prod = jnp.abs(nd) * jnp.abs(nv)
    q_rho = jnp.mean(jnp.where(reflect, prod, 0.0), axis=1)  # (l,)
    q_tau = jnp.mean(jnp.where(reflect, 0.0, prod), axis=1)
    return scene.lidf @ q_rho, scene.lidf @ q_tau


def _subcell_points(shape, size, samples: int, dt) -> np.ndarray:
    axes = [(np.arange(n * samples) + 0.5) * (h / samples) for n, h in zip(shape, size)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(shape))


def single_scattering(scene: VoxelScene, *, sza: float, saa: float = 0.0, vza: float = 0.0, vaa: float = 0.0,
                      pixel_size: float | None = None, samples: int = 2) -> SpectralPolynomial:
    """The exact single-scattering image of one view as a polynomial of order 1 (targets: pixels, row-major over
    :func:`._tally.image_shape`); angles in degrees (relative azimuth ``saa − vaa``, 0 = hotspot side),
    ``pixel_size`` (m) as in :func:`._engine.monte_carlo_tallies`, ``samples`` sub-cells per voxel edge."""
    if not (isinstance(samples, int) and samples >= 1):
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    if not (0.0 <= sza < 89.0 and 0.0 <= vza < 89.0):
        raise ValueError(f"sza and vza must be in [0, 89) degrees, got {sza}, {vza}")
    c = scene.n_components
    dt = scene.lad.dtype
    sun, v = direction(sza, saa), direction(vza, vaa)
    d = tuple(-x for x in sun)
    mu_s, mu_v = sun[2], v[2]
    nx, ny = image_shape(scene, pixel_size)
    a_pix = (scene.extent[0] * scene.extent[1]) / (nx * ny)
    px = max(scene.extent) if pixel_size is None else pixel_size
    q_rho, q_tau = scattering_weights(scene, d, v)

    def pixels(points):
        ij = jnp.floor(exit_point(points, v, scene.height, scene.extent) / px).astype(jnp.int32)
        return np.asarray(jnp.clip(ij[:, 0], 0, nx - 1) * ny + jnp.clip(ij[:, 1], 0, ny - 1))

    def transmittance(points):
        tau_s = optical_depth_to_top(scene.extinction(mu_s), scene.voxel_size, points, sun)
        tau_v = optical_depth_to_top(scene.extinction(mu_v), scene.voxel_size, points, v)
        return jnp.exp(-tau_s - tau_v)

    # canopy: sub-cell centres of every voxel holding leaves
    pts = _subcell_points(scene.shape, scene.voxel_size, samples, dt)
    vox = np.floor(pts / np.asarray(scene.voxel_size)).astype(int)
    lad = np.asarray(scene.lad)[:, vox[:, 0], vox[:, 1], vox[:, 2]].T  # (p, c)
    keep = lad.sum(axis=1) > 0
    pts, lad = pts[keep], lad[keep]
    dv = math.prod(scene.voxel_size) / samples**3
    tr = np.asarray(transmittance(jnp.asarray(pts, dt))) if len(pts) else np.zeros(0)
    # the vertical integral across a sub-cell done exactly for the local voxel's extinction: e^{-τ} varies as
    # e^{κ(z - z0)} with κ = σ_s/μ_s + σ_v/μ_v, so the midpoint value is scaled by sinh(κh/2)/(κh/2)
    kappa = (np.asarray(scene.extinction(mu_s))[vox[keep, 0], vox[keep, 1], vox[keep, 2]] / mu_s
             + np.asarray(scene.extinction(mu_v))[vox[keep, 0], vox[keep, 1], vox[keep, 2]] / mu_v)
    tr = tr * np.sinc(1j * kappa * scene.voxel_size[2] / (2 * samples) / np.pi).real
    base = lad * (tr * dv / (mu_s * mu_v * a_pix))[:, None]  # (p, c)
    pix = pixels(jnp.asarray(pts, dt)) if len(pts) else np.zeros(0, int)
    eye = np.eye(2 * c + 1, dtype=np.int16)
    rows_t, rows_e, rows_w = [], [], []
    for j in range(c):
        for k, q in ((j, float(q_rho[j])), (c + j, float(q_tau[j]))):
            rows_t.append(pix)
            rows_e.append(np.broadcast_to(eye[k], (len(pix), 2 * c + 1)))
            rows_w.append(base[:, j] * q)
    # soil: sub-cell centres of the ground
    g = _subcell_points(scene.shape[:2], scene.voxel_size[:2], samples, dt)
    g = np.concatenate([g, np.zeros((len(g), 1))], axis=1)
    da = scene.voxel_size[0] * scene.voxel_size[1] / samples**2
    rows_t.append(pixels(jnp.asarray(g, dt)))
    rows_e.append(np.broadcast_to(eye[2 * c], (len(g), 2 * c + 1)))
    rows_w.append(np.asarray(transmittance(jnp.asarray(g, dt))) * da / a_pix)
    return aggregate(np.concatenate(rows_t), np.concatenate(rows_e), np.concatenate(rows_w), nx * ny, dtype=dt)


def _concat(a: SpectralPolynomial, b: SpectralPolynomial) -> SpectralPolynomial:
    """The sum of two polynomials over the same targets (monomial tables stacked; terms kept apart)."""
    m = a.exponents.shape[0]
    return SpectralPolynomial(jnp.concatenate([a.exponents, b.exponents]), jnp.concatenate([a.target, b.target]),
                              jnp.concatenate([a.monomial, b.monomial + m]), jnp.concatenate([a.coeff, b.coeff]),
                              a.n_targets)


def fast_tallies(scene: VoxelScene, key: jax.Array, *, sza: float, saa: float = 0.0,
                 views: Sequence[tuple[float, float]] = ((0.0, 0.0),), pixel_size: float | None = None,
                 n_photons: int = 1 << 16, max_order: int = 6, samples: int = 2,
                 batch_size: int = 1 << 15) -> SceneTallies:
    """Tallies of the fast path (see the module docstring): the exact single scattering of every view plus the
    orders ``2 … max_order`` of ``n_photons`` Monte Carlo paths; :func:`._engine.render` with ``tail=True`` adds the
    recollision tail beyond ``max_order``.  Arguments as in :func:`._engine.monte_carlo_tallies`; ``samples``
    as in :func:`single_scattering`."""
    if max_order < 2:
        raise ValueError(f"max_order must be ≥ 2 for the fast path (order 1 is exact), got {max_order}")
    mc = monte_carlo_tallies(scene, key, n_photons=n_photons, sza=sza, saa=saa, views=views, pixel_size=pixel_size,
                             max_order=max_order, batch_size=batch_size)
    images = []
    for poly, (vza, vaa) in zip(mc.images, mc.views):
        multiple = poly.select(np.asarray(poly.orders()) >= 2)
        single = single_scattering(scene, sza=sza, saa=saa, vza=vza, vaa=vaa, pixel_size=pixel_size,
                                   samples=samples)
        images.append(_concat(single, multiple))
    return SceneTallies(images=tuple(images), energy=mc.energy, weights=mc.weights, recollision=mc.recollision,
                        unfinished=mc.unfinished, views=mc.views, sun=mc.sun, image_shape=mc.image_shape,
                        pixel_size=mc.pixel_size, n_photons=mc.n_photons, max_order=mc.max_order)


def single_scattering_image(scene: VoxelScene, spectra, **kwargs) -> Float[Array, "nx ny wl"]:
    """Convenience: :func:`single_scattering` evaluated at ``spectra``, shape ``(nx, ny, wl)``."""
    poly = single_scattering(scene, **kwargs)
    out = poly(spectra)
    return out.reshape(image_shape(scene, kwargs.get("pixel_size")) + (out.shape[-1],))
