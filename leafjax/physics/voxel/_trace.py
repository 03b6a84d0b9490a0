r"""Monte Carlo photon paths through a voxel scene, traced once for all wavelengths.

Photons enter the top of the periodic box uniformly, travelling in the solar direction, and move by delta
(Woodcock) tracking against the majorant :math:`\bar\sigma = \max_{\mathbf x}\sum_c u_c\,\max_\Omega G_c`: a
tentative flight :math:`s = -\ln\xi/\bar\sigma`, accepted as a real collision with probability
:math:`\sigma(\mathbf x, \Omega)/\bar\sigma` on the component :math:`c` with probability :math:`\sigma_c/\sigma`
(unbiased for any heterogeneous medium; Woodcock et al. 1965).  At a leaf the normal is drawn from the
projected-area distribution :math:`\propto F_{c,l}\,|\Omega\cdot n|` (the inclination class by its
:math:`F_{c,l}\chi_l`, the azimuth by inverting the cumulative of :math:`|A + B\cos\phi|` by bisection); the photon
is reflected or transmitted with probability ½ each (weight × 2) into the cosine lobe of the matching side.  At the
soil it is reflected into the upper cosine lobe.  Nothing here depends on wavelength: a path of events is a
λ-independent weight and a vector of exponents — how many times it was reflected and transmitted by each component
and reflected by the soil — so its spectral contribution is the monomial
:math:`w\prod_c \rho_c^{a_c}\tau_c^{b_c}\,\rho_s^{n_s}` (see :mod:`._tally`).

The loop has a fixed shape (``n`` photons × ``max_order + 1`` event slots); a path is truncated after
``max_order`` scattering events (its remaining energy is kept as the *residual*, see the tail model in
:mod:`._tally`).  Given a spectrum the same loop can also carry the spectral weight itself (``carry``), the direct
spectral Monte Carlo that the tallies must reproduce exactly.

Reference:
    Woodcock, E. et al. (1965) Techniques used in the GEM code for Monte Carlo neutronics calculations in reactors
    and other systems of complex geometry. ANL-7050, Argonne National Laboratory.
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ..canopy import leaf_projection
from ..canopy._lidf import angle_class_centres
from ._raymarch import direction
from ._scene import VoxelScene

#: Event kinds stored per slot.
NONE, LEAF, SOIL, ESCAPE, RESIDUAL = 0, 1, 2, 3, 4
#: Bisection steps of the leaf-azimuth inversion (the bracket [0, π] shrinks to 7e-10 rad, far below the noise).
_AZIMUTH_BISECTIONS = 32


class PathEvents(eqx.Module):
    """The events of ``n`` photon paths, slot ``k`` holding the event after ``k`` scatterings.

    **Fields** (``s = max_order + 1`` slots):
    - ``kind``: :data:`NONE`, :data:`LEAF`, :data:`SOIL`, :data:`ESCAPE` (left the top) or :data:`RESIDUAL`
      (truncated, or still in flight when ``max_steps`` ran out), shape ``(n, s)``.
    - ``component``: the leaf component hit (``LEAF`` only), shape ``(n, s)``.
    - ``weight``: the λ-independent weight *before* the event, shape ``(n, s)``.
    - ``exponents``: exponents before the event, ``[ρ_0..ρ_{C−1}, τ_0..τ_{C−1}, ρ_s]``, shape ``(n, s, 2C+1)``.
    - ``position`` (m), ``normal`` (the leaf normal, +z at the soil) and ``incoming`` (the direction of travel
      before the event), shape ``(n, s, 3)``.
    - ``spectral``: the carried spectral weight before the event, shape ``(n, s, wl)`` (direct mode only).
    - ``n_photons``: static photon count; ``unfinished``: photons still in flight when ``max_steps`` ran out.
    """

    kind: Int[Array, "n s"]
    component: Int[Array, "n s"]
    weight: Float[Array, "n s"]
    exponents: Int[Array, "n s e"]
    position: Float[Array, "n s 3"]
    normal: Float[Array, "n s 3"]
    incoming: Float[Array, "n s 3"]
    spectral: Float[Array, "n s wl"] | None
    unfinished: Int[Array, ""]
    n_photons: int = eqx.field(static=True)


def _basis(m: Array) -> tuple[Array, Array]:
    """Two unit vectors orthogonal to the unit vectors ``m`` (shape ``(n, 3)``; Frisvad-style branch-free)."""
    a = jnp.where(jnp.abs(m[:, 2:3]) < 0.9, jnp.array([[0.0, 0.0, 1.0]], m.dtype),
                  jnp.array([[1.0, 0.0, 0.0]], m.dtype))
    t1 = jnp.cross(jnp.broadcast_to(a, m.shape), m)
    t1 = t1 / jnp.linalg.norm(t1, axis=1, keepdims=True)
    return t1, jnp.cross(m, t1)


def cosine_lobe(m: Array, u1: Array, u2: Array) -> Array:
    """Directions drawn from the cosine-weighted hemisphere around the unit axes ``m`` (shape ``(n, 3)``)."""
    t1, t2 = _basis(m)
    r, phi = jnp.sqrt(u1), 2.0 * math.pi * u2
    cz = jnp.sqrt(jnp.maximum(1.0 - u1, 0.0))
    out = (r * jnp.cos(phi))[:, None] * t1 + (r * jnp.sin(phi))[:, None] * t2 + cz[:, None] * m
    return out / jnp.linalg.norm(out, axis=1, keepdims=True)


def _leaf_azimuth(a: Array, b: Array, u: Array) -> Array:
    r"""Relative azimuth :math:`\Delta\in[0, \pi]` with density :math:`\propto |a + b\cos\Delta|` (``b ≥ 0``),
    by bisection on the exact cumulative :math:`g(\Delta) = a\Delta + b\sin\Delta` folded at its zero."""
    ratio = jnp.where(b > 0, -a / jnp.where(b > 0, b, 1.0), jnp.sign(-a) * 2.0)
    x0 = jnp.where(jnp.abs(ratio) < 1.0, jnp.arccos(jnp.clip(ratio, -1.0, 1.0)), math.pi)
    s = jnp.where(a + b >= 0, 1.0, -1.0)
    g = lambda x: a * x + b * jnp.sin(x)  # noqa: E731
    cdf = lambda x: s * jnp.where(x <= x0, g(x), 2.0 * g(x0) - g(x))  # noqa: E731
    target = u * cdf(jnp.full_like(a, math.pi))

    def body(_, lo_hi):
        lo, hi = lo_hi
        mid = 0.5 * (lo + hi)
        below = cdf(mid) < target
        return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

    lo, hi = jax.lax.fori_loop(0, _AZIMUTH_BISECTIONS, body, (jnp.zeros_like(a), jnp.full_like(a, math.pi)))
    return 0.5 * (lo + hi)


def sample_leaf_normal(lidf: Array, d: Array, u: Array, angle_classes: str) -> Array:
    """Leaf normals (upper hemisphere) hit by photons travelling along ``d`` (shape ``(n, 3)``), drawn from
    :math:`F_l\\,|d\\cdot n|`; ``lidf`` shape ``(n, n_classes)``, ``u`` three uniforms, shape ``(n, 3)``."""
    chi = leaf_projection(d[:, 2], angle_classes)
    p = lidf * chi
    cum = jnp.cumsum(p, axis=1)
    cls = jnp.sum(cum < u[:, :1] * cum[:, -1:], axis=1)
    cls = jnp.minimum(cls, lidf.shape[1] - 1)
    theta_l = jnp.deg2rad(jnp.asarray(angle_class_centres(angle_classes), d.dtype))[cls]
    sd = jnp.sqrt(jnp.maximum(1.0 - d[:, 2] ** 2, 0.0))
    a, b = jnp.cos(theta_l) * d[:, 2], jnp.sin(theta_l) * sd
    delta = _leaf_azimuth(a, b, u[:, 1]) * jnp.where(u[:, 2] < 0.5, 1.0, -1.0)
    phi = jnp.arctan2(d[:, 1], d[:, 0]) + delta
    st = jnp.sin(theta_l)
    return jnp.stack([st * jnp.cos(phi), st * jnp.sin(phi), jnp.cos(theta_l)], axis=1)


def _majorant(scene: VoxelScene) -> Array:
    return jnp.max(jnp.einsum("c,cxyz->xyz", scene.g_max(), scene.lad))


@functools.partial(jax.jit, static_argnames=("n_photons", "sza", "saa", "max_order", "max_steps"))
def trace_paths(scene: VoxelScene, key: PRNGKeyArray, *, n_photons: int, sza: float, saa: float = 0.0,
                max_order: int = 30, max_steps: int | None = None,
                carry: Float[Array, "e wl"] | None = None) -> PathEvents:
    """Trace ``n_photons`` solar photons through ``scene`` (see the module docstring).

    **Arguments:**
    - ``key``: PRNG key; the same key gives the same paths whatever the spectra.
    - ``sza``, ``saa``: solar zenith and azimuth (degrees; static), azimuth from +x towards +y.
    - ``max_order``: scattering events kept per path (static); ``max_steps``: cap on tracking steps (static,
      default ``64·(max_order + 1)``), photons still in flight then are kept as residual and counted.
    - ``carry``: optional per-exponent spectra ``[ρ_0..ρ_{C−1}, τ_0..τ_{C−1}, ρ_s]``, shape ``(2C+1, wl)``: the
      direct spectral Monte Carlo, carrying the spectral weight along each path.

    **Returns:** :class:`PathEvents`.
    """
    n, c = n_photons, scene.n_components
    e = 2 * c + 1
    slots = max_order + 1
    steps = 64 * slots if max_steps is None else max_steps
    dt = scene.lad.dtype
    lx, ly = scene.extent
    h = scene.height
    box = jnp.asarray([[lx, ly]], dt)
    vsize = jnp.asarray(scene.voxel_size, dt)[None]
    nx, ny, nz = scene.shape
    sig_bar = _majorant(scene)
    inv_bar = jnp.where(sig_bar > 0, 1.0 / jnp.where(sig_bar > 0, sig_bar, 1.0), jnp.inf)
    rows = jnp.arange(n)

    k0, key = jax.random.split(key)
    xy0 = jax.random.uniform(k0, (n, 2), dt) * box
    pos = jnp.concatenate([xy0, jnp.full((n, 1), h, dt)], axis=1)
    d = jnp.broadcast_to(-jnp.asarray(direction(sza, saa), dt), (n, 3))  # travel away from the sun
    wl = 0 if carry is None else carry.shape[1]
    ev = dict(kind=jnp.zeros((n, slots), jnp.int8), component=jnp.zeros((n, slots), jnp.int8),
              weight=jnp.zeros((n, slots), dt), exponents=jnp.zeros((n, slots, e), jnp.int8),
              position=jnp.zeros((n, slots, 3), dt), normal=jnp.zeros((n, slots, 3), dt),
              incoming=jnp.zeros((n, slots, 3), dt), spectral=jnp.zeros((n, slots, wl), dt))
    state = dict(pos=pos, d=d, w=jnp.ones(n, dt), expo=jnp.zeros((n, e), jnp.int8),
                 order=jnp.zeros(n, jnp.int32), alive=jnp.ones(n, bool), spec=jnp.ones((n, wl), dt))

    def record(ev, st, mask, kind, comp, normal):
        slot = jnp.minimum(st["order"], max_order)
        put = lambda arr, val: arr.at[rows, slot].set(jnp.where(  # noqa: E731
            mask.reshape((n,) + (1,) * (val.ndim - 1)), val, arr[rows, slot]))
        return dict(kind=put(ev["kind"], jnp.full(n, kind, jnp.int8) if isinstance(kind, int) else kind),
                    component=put(ev["component"], comp.astype(jnp.int8)), weight=put(ev["weight"], st["w"]),
                    exponents=put(ev["exponents"], st["expo"]), position=put(ev["position"], st["pos"]),
                    normal=put(ev["normal"], normal), incoming=put(ev["incoming"], st["d"]),
                    spectral=put(ev["spectral"], st["spec"]))

    def cond(loop):
        i, st, _ = loop
        return (i < steps) & jnp.any(st["alive"])

    def body(loop):
        i, st, ev = loop
        u = jax.random.uniform(jax.random.fold_in(key, i), (n, 9), dt)
        pos, d, alive = st["pos"], st["d"], st["alive"]
        t = -jnp.log(jnp.maximum(u[:, 0], jnp.finfo(dt).tiny)) * inv_bar
        t_soil = jnp.where(d[:, 2] < 0, -pos[:, 2] / jnp.where(d[:, 2] < 0, d[:, 2], -1.0), jnp.inf)
        t_top = jnp.where(d[:, 2] > 0, (h - pos[:, 2]) / jnp.where(d[:, 2] > 0, d[:, 2], 1.0), jnp.inf)
        soil = alive & (t_soil <= t)
        escape = alive & (t_top <= t) & ~soil
        inside = alive & ~soil & ~escape
        t_move = jnp.where(soil, t_soil, jnp.where(inside, t, 0.0))
        new = pos + t_move[:, None] * d
        new = jnp.concatenate([jnp.mod(new[:, :2], box), jnp.where(soil, 0.0, new[:, 2])[:, None]], axis=1)
        ijk = jnp.floor(new / vsize).astype(jnp.int32)
        lad = scene.lad[:, jnp.mod(ijk[:, 0], nx), jnp.mod(ijk[:, 1], ny), jnp.clip(ijk[:, 2], 0, nz - 1)].T
        sig_c = lad * scene.g_function(d[:, 2])
        sig = jnp.sum(sig_c, axis=1)
        leaf = inside & (u[:, 1] * sig_bar < sig)
        comp = jnp.sum(jnp.cumsum(sig_c, axis=1) < (u[:, 2] * sig)[:, None], axis=1)
        comp = jnp.minimum(comp, c - 1)
        normal = sample_leaf_normal(scene.lidf[comp], d, u[:, 3:6], scene.angle_classes)
        normal = jnp.where(soil[:, None], jnp.array([[0.0, 0.0, 1.0]], dt), normal)
        st = dict(st, pos=new)
        scatter = leaf | soil
        kind = jnp.where(escape, ESCAPE, jnp.where(leaf, LEAF, SOIL)).astype(jnp.int8)
        ev = record(ev, st, escape | scatter, kind, comp, normal)
        # New direction: the lit side of the leaf faces -d; reflect (u < ½) into its lobe, else transmit.
        lit = normal * jnp.where(jnp.sum(normal * d, axis=1) < 0, 1.0, -1.0)[:, None]
        reflect = u[:, 6] < 0.5
        axis = jnp.where((reflect | soil)[:, None], lit, -lit)
        d_new = cosine_lobe(axis, u[:, 7], u[:, 8])
        which = jnp.where(soil, 2 * c, jnp.where(reflect, comp, c + comp))
        bump = jax.nn.one_hot(which, e, dtype=jnp.int8) * scatter[:, None].astype(jnp.int8)
        factor = jnp.where(leaf, 2.0, 1.0)
        w = jnp.where(scatter, st["w"] * factor, st["w"])
        spec = st["spec"]
        if carry is not None:
            spec = jnp.where(scatter[:, None], spec * factor[:, None] * carry[which].astype(dt), spec)
        order = st["order"] + scatter.astype(jnp.int32)
        st = dict(pos=new, d=jnp.where(scatter[:, None], d_new, d), w=w, expo=st["expo"] + bump, order=order,
                  alive=alive & ~escape, spec=spec)
        # A path truncated after its max_order-th scattering stops here; its state is frozen from now on and
        # recorded as the residual after the loop.
        st = dict(st, alive=st["alive"] & (order < max_order))
        return i + 1, st, ev

    _, st, ev = jax.lax.while_loop(cond, body, (jnp.asarray(0), state, ev))
    left = st["alive"]
    residual = left | (st["order"] >= max_order)
    st = dict(st, order=jnp.full(n, max_order, jnp.int32))
    zeros = jnp.zeros(n, jnp.int32)
    ev = record(ev, st, residual, RESIDUAL, zeros, jnp.zeros((n, 3), dt))
    return PathEvents(kind=ev["kind"], component=ev["component"], weight=ev["weight"], exponents=ev["exponents"],
                      position=ev["position"], normal=ev["normal"], incoming=ev["incoming"],
                      spectral=None if carry is None else ev["spectral"], unfinished=jnp.sum(left),
                      n_photons=n)
