r"""Voxelisation of triangle meshes of leaves, and random canopies of flat leaf discs.

:func:`voxelise_mesh` turns a leaf mesh (one-sided leaf area in triangles, as in the RAMI-IV "actual canopy"
scenes) into a :class:`VoxelScene`: each triangle is cut exactly along the voxel grid planes (Sutherland–Hodgman
clipping of convex polygons, vectorised over all triangles, one plane at a time), each piece adds its area to the
leaf-area density of its voxel (m² m⁻³: area / voxel volume) and each triangle adds its whole area to its
component's inclination histogram (the angle of its normal from the vertical, folded to [0°, 90°] since leaves are
two-sided), so leaf area is conserved to rounding error.  The box is periodic in ``x`` and ``y``: a piece lying
outside ``[0, Lx) × [0, Ly)`` is counted in the voxel of its wrapped position.  :func:`leaf_disc_mesh` makes a
random canopy of flat regular polygons (leaf discs) to voxelise.

Lengths are in metres, angles in degrees, as in :mod:`leafjax.physics.voxel._builders`.

References:
    Sutherland, I. E., Hodgman, G. W. (1974) Reentrant polygon clipping. Commun. ACM 17(1):32–42,
    doi:10.1145/360767.360802.
    Widlowski, J.-L. et al. (2015) The fourth phase of the RAMI exercise (RAMI-IV), Remote Sens. Environ.
    166:138–153, doi:10.1016/j.rse.2015.06.011 (leaf-mesh "actual canopy" scenes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from jaxtyping import ArrayLike

from ..canopy._lidf import angle_class_edges
from ._builders import _ArrayIn, _grid, _lidf_row, _positive, _scene, _spherical
from ._scene import VoxelScene

#: Triangles clipped per batch by :func:`voxelise_mesh` (bounds the memory of the vectorised clipping).
CHUNK_FACES: int = 1 << 15
#: Relative tolerance on vertex heights outside ``[0, height]`` (rounding); such pieces count in the edge layers.
Z_TOLERANCE: float = 1e-9
#: Fraction of a class width kept clear of its edges when :func:`leaf_disc_mesh` draws inclinations, so that the
#: mesh's inclination histogram is exactly the drawn class counts despite rounding of the vertices.
CLASS_EDGE_MARGIN: float = 1e-6


def _pad(p: np.ndarray, width: int) -> np.ndarray:
    """Polygons ``(N, M, 3)`` padded to ``width ≥ M`` vertex slots with copies of their first vertex."""
    if p.shape[1] >= width:
        return p
    return np.concatenate([p, np.repeat(p[:, :1], width - p.shape[1], axis=1)], axis=1)


def _clip(p: np.ndarray, n: np.ndarray, axis: int, c: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sutherland–Hodgman split of convex polygons ``p`` ``(N, M, 3)`` with ``n`` ``(N,)`` vertices each at the
    planes ``x[axis] = c`` ``(N,)``: ``[(below, n_below), (above, n_above)]``, the parts with ``x[axis] ≤ c`` and
    ``≥ c``.  Both parts share the same intersection points, set exactly on the plane; unused vertex slots repeat
    the first vertex (so that fan sums of cross products stay exact)."""
    big_n, m = p.shape[:2]
    slot = np.arange(m)[None]
    valid = slot < n[:, None]
    nxt = np.where(slot + 1 < n[:, None], slot + 1, 0)
    rows = np.arange(big_n)[:, None]
    d = p[..., axis] - c[:, None]
    d_next = d[rows, nxt]
    below = d <= 0.0
    cross = valid & (below != (d_next <= 0.0))
    t = np.divide(d, d - d_next, out=np.zeros_like(d), where=cross)
    x = p + t[..., None] * (p[rows, nxt] - p)
    x[..., axis] = c[:, None]
    cand = np.stack([p, x], axis=2).reshape(big_n, 2 * m, 3)  # vertex i, then the crossing of edge (i, i+1)
    parts = []
    for keep in (valid & below, valid & ~below):
        flag = np.stack([keep, cross], axis=2).reshape(big_n, 2 * m)
        count = flag.sum(axis=1)
        width = max(int(count.max(initial=0)), 3)
        out = np.zeros((big_n, width, 3))
        r, s = np.nonzero(flag)
        out[r, (np.cumsum(flag, axis=1) - 1)[r, s]] = cand[r, s]
        unused = np.arange(width)[None] >= count[:, None]
        parts.append((np.where(unused[..., None], out[:, :1], out), count))
    return parts


def _split(p: np.ndarray, n: np.ndarray, tags: np.ndarray, axis: int, h: float,
           n_cells: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut polygons at the grid planes ``x[axis] = m·h`` into pieces lying in one cell each; returns the pieces,
    their vertex counts and ``tags`` with the cell index appended as a last column (unwrapped; clamped to
    ``[0, n_cells)`` if ``n_cells`` is given)."""
    valid = np.arange(p.shape[1])[None] < n[:, None]
    coord = p[..., axis]
    lo = np.floor(np.where(valid, coord, np.inf).min(axis=1) / h).astype(np.int64)
    hi = np.ceil(np.where(valid, coord, -np.inf).max(axis=1) / h).astype(np.int64) - 1
    if n_cells is not None:
        lo, hi = np.clip(lo, 0, n_cells - 1), np.clip(hi, 0, n_cells - 1)
    hi = np.maximum(hi, lo)
    pieces = []
    while True:
        done = lo >= hi
        pieces.append((p[done], n[done], np.column_stack([tags[done], lo[done]])))
        p, n, tags, lo, hi = p[~done], n[~done], tags[~done], lo[~done], hi[~done]
        if not p.shape[0]:
            break
        (below, n_below), (above, n_above) = _clip(p, n, axis, (lo + 1) * h)
        keep = n_below >= 3
        pieces.append((below[keep], n_below[keep], np.column_stack([tags[keep], lo[keep]])))
        keep = n_above >= 3
        p, n, tags, lo, hi = above[keep], n_above[keep], tags[keep], lo[keep] + 1, hi[keep]
    width = max(q.shape[1] for q, _, _ in pieces)
    return (np.concatenate([_pad(q, width) for q, _, _ in pieces]), np.concatenate([k for _, k, _ in pieces]),
            np.concatenate([g for _, _, g in pieces]))


def _polygon_area(p: np.ndarray) -> np.ndarray:
    """One-sided areas of planar polygons ``(N, M, 3)`` padded with their first vertex, shape ``(N,)``."""
    e = p[:, 1:] - p[:, :1]
    a, b = e[:, :-1], e[:, 1:]
    c = [(a[..., i] * b[..., j] - a[..., j] * b[..., i]).sum(axis=1) for i, j in ((1, 2), (2, 0), (0, 1))]
    return 0.5 * np.sqrt(c[0] ** 2 + c[1] ** 2 + c[2] ** 2)


def _names(components) -> tuple[str, ...]:
    if isinstance(components, str) or not isinstance(components, Sequence) or not components or \
            not all(isinstance(c, str) and c for c in components) or len(set(components)) != len(components):
        raise ValueError(f"components must be a non-empty sequence of unique names, got {components!r}")
    return tuple(components)


def check_mesh(vertices: _ArrayIn, faces: _ArrayIn) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices (v, 3) float64, faces (f, 3) int64)`` of a triangle mesh, or a one-line ``ValueError``."""
    v = np.asarray(vertices, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 3 or not np.all(np.isfinite(v)):
        raise ValueError(f"vertices must be finite with shape (v, 3) (m), got shape {v.shape}")
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3 or (f.size and not np.issubdtype(f.dtype, np.integer)):
        raise ValueError(f"faces must be integer vertex indices of shape (f, 3), got shape {f.shape} of {f.dtype}")
    f = f.astype(np.int64)
    if f.size and (f.min() < 0 or f.max() >= v.shape[0]):
        raise ValueError(f"faces must index the {v.shape[0]} vertices, got indices in [{f.min()}, {f.max()}]")
    return v, f


def voxelise_mesh(vertices: _ArrayIn, faces: _ArrayIn, *, extent: Sequence[float], height: ArrayLike,
                  shape: Sequence[int], component_of_face: _ArrayIn | None = None,
                  components: Sequence[str] = ("leaves",), angle_classes: str = "prosail",
                  dtype=None) -> VoxelScene:
    """A voxel scene from a triangle mesh of leaves (exact clipping, periodic in ``x`` and ``y``).

    Each voxel's leaf-area density of component ``c`` is the one-sided area (m²) of the parts of the component's
    triangles inside it divided by its volume (m³), so ``Σ lad·dx·dy·dz`` is the component's mesh area to rounding
    error.  Triangles may lie anywhere in ``x`` and ``y`` (their pieces are wrapped into the box) but must lie in
    ``0 ≤ z ≤ height``.  Each component's ``lidf`` is the area-weighted histogram of its triangles' inclinations
    (the angle of the normal from the vertical, folded to [0°, 90°]) over the classes of ``angle_classes``, one
    distribution for the whole scene; a component without area gets zero ``lad`` and the spherical lidf.

    **Arguments:** ``vertices`` shape ``(v, 3)`` (m), ``faces`` integer shape ``(f, 3)`` (vertex indices),
    ``extent`` ``(Lx, Ly)`` (m), ``height`` (m), ``shape`` ``(nx, ny, nz)``, ``component_of_face`` integer shape
    ``(f,)`` indexing ``components`` (default: all faces in component 0), ``components`` (names),
    ``angle_classes``, ``dtype``.

    Raises:
        ValueError: for bad inputs (one line), before any computation.

    Example:
        >>> v = np.array([[0.0, 0.0, 0.5], [2.0, 0.0, 0.5], [2.0, 2.0, 0.5], [0.0, 2.0, 0.5]])
        >>> scene = voxelise_mesh(v, [[0, 1, 2], [0, 2, 3]], extent=(2.0, 2.0), height=1.0, shape=(4, 4, 4))
        >>> round(float(scene.lai()[0]), 12), float(scene.lidf[0, 0])
        (1.0, 1.0)
    """
    v, f = check_mesh(vertices, faces)
    names = _names(components)
    if component_of_face is None:
        comp = np.zeros(f.shape[0], dtype=np.int64)
    else:
        comp = np.asarray(component_of_face)
        if comp.shape != (f.shape[0],) or (comp.size and not np.issubdtype(comp.dtype, np.integer)) or \
                (comp.size and (comp.min() < 0 or comp.max() >= len(names))):
            raise ValueError(f"component_of_face must be {f.shape[0]} integers in [0, {len(names)}) (one per face, "
                             f"indexing components {names}), got shape {comp.shape} of {comp.dtype}")
        comp = comp.astype(np.int64)
    (nx, ny, nz), (dx, dy, dz) = _grid(extent, height, shape)
    edges = angle_class_edges(angle_classes)
    h = nz * dz
    tri = v[f]  # (f, 3 vertices, 3 coordinates)
    z_out = (tri[..., 2] < -Z_TOLERANCE * h) | (tri[..., 2] > h * (1.0 + Z_TOLERANCE))
    if np.any(z_out):
        i = int(np.nonzero(z_out.any(axis=1))[0][0])
        raise ValueError(f"face {i} has vertex heights {tri[i, :, 2].tolist()} m outside [0, height = {h}] m")

    ext = np.array([nx * dx, ny * dy])
    tri[..., :2] -= ext * np.floor(tri[..., :2].min(axis=1, keepdims=True) / ext)  # lowest corner into the box
    n_vox, n_cls = nx * ny * nz, edges.size - 1
    area = np.zeros(len(names) * n_vox)
    for start in range(0, f.shape[0], CHUNK_FACES):
        p = tri[start:start + CHUNK_FACES]
        n, tags = np.full(p.shape[0], 3), np.arange(start, start + p.shape[0])[:, None]
        for axis, step, cells in ((0, dx, None), (1, dy, None), (2, dz, nz)):
            p, n, tags = _split(p, n, tags, axis, step, cells)
        flat = ((tags[:, 1] % nx) * ny + tags[:, 2] % ny) * nz + tags[:, 3]
        area += np.bincount(comp[tags[:, 0]] * n_vox + flat, weights=_polygon_area(p), minlength=area.size)

    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    face_area = 0.5 * np.linalg.norm(normal, axis=1)
    incl = np.rad2deg(np.arctan2(np.hypot(normal[:, 0], normal[:, 1]), np.abs(normal[:, 2])))
    cls = np.clip(np.searchsorted(edges, incl, side="right") - 1, 0, n_cls - 1)
    hist = np.bincount(comp * n_cls + cls, weights=face_area, minlength=len(names) * n_cls).reshape(-1, n_cls)
    total = hist.sum(axis=1)
    lidfs = [row / t if t > 0 else _spherical(angle_classes) for row, t in zip(hist, total)]
    lad = area.reshape(len(names), nx, ny, nz) / (dx * dy * dz)
    return _scene(lad, lidfs, (dx, dy, dz), names, angle_classes, dtype)


def _rng(key_or_seed: Any) -> np.random.Generator:
    """``np.random.default_rng`` seeded as in :func:`random_spheres`: an int seed, or a JAX PRNG key's data."""
    if isinstance(key_or_seed, (int, np.integer)) and not isinstance(key_or_seed, bool):
        if key_or_seed < 0:
            raise ValueError(f"key_or_seed as an int seed must be non-negative, got {key_or_seed}")
        return np.random.default_rng(int(key_or_seed))
    import jax
    import jax.numpy as jnp

    try:
        key = jnp.asarray(key_or_seed)
    except TypeError:
        key = None
    if key is None or not (jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or key.dtype == jnp.uint32):
        raise ValueError(f"key_or_seed must be an int seed or a JAX PRNG key, got {type(key_or_seed).__name__}")
    data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    return np.random.default_rng(np.asarray(data, dtype=np.uint32).ravel().tolist())


def _class_counts(fractions: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to ``n`` nearest to ``n·fractions`` (largest remainders; ties to the lower class)."""
    q = fractions * n
    counts = np.floor(q).astype(np.int64)
    order = np.argsort(-(q - counts), kind="stable")
    counts[order[:n - int(counts.sum())]] += 1
    return counts


def leaf_disc_mesh(key_or_seed: Any, n_leaves: int, *, radius: ArrayLike, extent: Sequence[float],
                   z_range: Sequence[float], lidf=None, n_sides: int = 8,
                   angle_classes: str = "prosail") -> tuple[np.ndarray, np.ndarray]:
    """A random canopy of ``n_leaves`` flat leaf discs: regular ``n_sides``-gons of circumradius ``radius`` (m),
    each fanned into ``n_sides − 2`` triangles; returns ``(vertices, faces)`` of shapes
    ``(n_leaves·n_sides, 3)`` (m) and ``(n_leaves·(n_sides − 2), 3)`` for :func:`voxelise_mesh`.

    Centres are uniform in ``[0, Lx) × [0, Ly) × z_range`` (vertices are not wrapped: :func:`voxelise_mesh`
    wraps the pieces).  Inclinations follow ``lidf`` (see :mod:`leafjax.physics.voxel._builders`; default
    spherical) by stratification: the counts per class are the integers nearest to ``n_leaves`` × the class
    fractions (largest remainders), assigned to the leaves in random order, so the mesh's area histogram matches
    ``lidf`` within ``1/n_leaves`` per class; within its class a leaf's inclination is uniform (kept
    :data:`CLASS_EDGE_MARGIN` of the class width off its edges).  Azimuths and in-plane rotations are uniform.
    Each leaf's one-sided area is ``n_sides/2 · radius² · sin(2π/n_sides)``.

    ``key_or_seed`` is an int seed or a JAX PRNG key (as for :func:`random_spheres`).  ``z_range`` ``(z_min,
    z_max)`` needs ``radius ≤ z_min ≤ z_max``, so that every leaf lies above the soil; voxelise with a ``height``
    of at least ``z_max + radius``.

    Example:
        >>> v, f = leaf_disc_mesh(0, 10, radius=0.05, extent=(1.0, 1.0), z_range=(0.1, 0.9))
        >>> v.shape, f.shape
        ((80, 3), (60, 3))
    """
    if not isinstance(n_leaves, (int, np.integer)) or isinstance(n_leaves, bool) or n_leaves < 0:
        raise ValueError(f"n_leaves must be a non-negative integer, got {n_leaves!r}")
    if not isinstance(n_sides, (int, np.integer)) or isinstance(n_sides, bool) or n_sides < 3:
        raise ValueError(f"n_sides must be an integer ≥ 3, got {n_sides!r}")
    n, sides = int(n_leaves), int(n_sides)
    r = _positive(radius, "radius")
    ext = np.asarray(extent, dtype=np.float64)
    if ext.shape != (2,) or not np.all(np.isfinite(ext)) or np.any(ext <= 0):
        raise ValueError(f"extent must be two positive lengths (Lx, Ly) in m, got {extent!r}")
    zr = np.asarray(z_range, dtype=np.float64)
    if zr.shape != (2,) or not np.all(np.isfinite(zr)) or not r <= zr[0] <= zr[1]:
        raise ValueError(f"z_range must be (z_min, z_max) with radius = {r} ≤ z_min ≤ z_max (m), got {z_range!r}")
    fractions = _lidf_row(lidf, angle_classes)
    edges = angle_class_edges(angle_classes)
    rng = _rng(key_or_seed)

    centres = rng.uniform([0.0, 0.0, zr[0]], [ext[0], ext[1], zr[1]], size=(n, 3))
    azimuth = rng.uniform(0.0, 2.0 * math.pi, n)
    phase = rng.uniform(0.0, 2.0 * math.pi, n)
    cls = rng.permutation(np.repeat(np.arange(fractions.size), _class_counts(fractions, n)))
    width = edges[cls + 1] - edges[cls]
    theta = np.deg2rad(edges[cls] + width * (CLASS_EDGE_MARGIN + (1.0 - 2.0 * CLASS_EDGE_MARGIN) * rng.uniform(size=n)))
    ct, st, ca, sa = np.cos(theta), np.sin(theta), np.cos(azimuth), np.sin(azimuth)
    u = np.stack([ct * ca, ct * sa, -st], axis=1)  # two unit vectors spanning the leaf plane (normal: θ, φ)
    w = np.stack([-sa, ca, np.zeros(n)], axis=1)
    alpha = phase[:, None] + 2.0 * math.pi * np.arange(sides)[None] / sides
    verts = centres[:, None] + r * (np.cos(alpha)[..., None] * u[:, None] + np.sin(alpha)[..., None] * w[:, None])
    verts[..., 2] = np.maximum(verts[..., 2], 0.0)  # rounding below the soil
    k = np.arange(1, sides - 1)
    fan = np.stack([np.zeros_like(k), k, k + 1], axis=1)
    faces = (np.arange(n)[:, None, None] * sides + fan[None]).reshape(-1, 3)
    return verts.reshape(-1, 3), faces.astype(np.int64)
