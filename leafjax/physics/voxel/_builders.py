r"""Builders of voxel scenes: homogeneous turbid layers, RAMI-like floating spheres, tree crowns and hedgerows.

All builders work in NumPy (float64) and return a :class:`VoxelScene` whose arrays have the requested ``dtype``
(default: JAX's default float, float64 when ``jax_enable_x64`` is set).  Lengths are in metres, leaf-area
densities in m² of one-sided leaf area per m³, leaf angles in degrees.  The box is ``extent = (Lx, Ly)`` wide,
``height`` tall and cut into ``shape = (nx, ny, nz)`` voxels; it is periodic in ``x`` and ``y`` (a solid crossing
a lateral edge re-enters on the other side) and layer ``k = 0`` lies on the soil.

Solids (spheres, crowns) are voxelised by supersampling: each voxel is cut into ``supersample³`` equal sub-cells
and the fraction of their centres inside the solid is the voxel's volume fraction (error ∝ the sub-cell size;
≈ 1 % of a sphere's volume for ~15 sub-cells per radius).  Box-shaped rows and layers get exact fractions.

A leaf-angle distribution argument (``lidf``) is ``None`` (spherical, :func:`spherical_lidf`), a number (the
mean leaf angle of :func:`leafjax.physics.canopy.campbell_lidf`, degrees) or an array of class fractions.

References:
    Widlowski, J.-L. et al. (2007) Third RAdiation transfer Model Intercomparison (RAMI) exercise, J. Geophys.
    Res. 112:D09111, doi:10.1029/2006JD007821 (the HOM turbid-medium and HET01 floating-spheres scenes).
    Widlowski, J.-L. et al. (2015) The fourth phase of the RAMI exercise (RAMI-IV), Remote Sens. Environ.
    166:138–153, doi:10.1016/j.rse.2015.06.011 (the abstract HOM/HET and actual-canopy scene descriptions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Union

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..canopy._lidf import angle_class_edges, campbell_lidf
from ._scene import VoxelScene

#: Array inputs: arrays, numbers or nested sequences (validated with one-line ``ValueError`` messages).
_ArrayIn = Union[ArrayLike, Sequence[Any]]
#: Crown shapes of :class:`Tree`.
CROWN_SHAPES: tuple[str, ...] = ("ellipsoid", "cone")
#: Attempts per sphere of the rejection sampler :func:`random_spheres`.
MAX_SPHERE_ATTEMPTS: int = 10_000


def _dtype(dtype):
    return jnp.result_type(float) if dtype is None else jnp.dtype(dtype)


def _spherical(angle_classes: str) -> np.ndarray:
    mu = np.cos(np.deg2rad(angle_class_edges(angle_classes)))
    f = mu[:-1] - mu[1:]
    return f / f.sum()


def spherical_lidf(dtype=None, angle_classes: str = "prosail") -> Float[Array, " n"]:
    r"""The spherical leaf-angle distribution (leaf normals uniform on the hemisphere, density :math:`\sin\theta`):
    class fractions :math:`F_l = \cos\theta_{l,\mathrm{lo}} - \cos\theta_{l,\mathrm{hi}}` over the class edges,
    shape ``(n_classes,)``.  ``angle_classes``: see :data:`leafjax.physics.canopy.ANGLE_CLASS_EDGES_DEG`.

    Example:
        >>> spherical_lidf().shape
        (18,)
    """
    return jnp.asarray(_spherical(angle_classes), _dtype(dtype))


def _lidf_row(value, angle_classes: str, name: str = "lidf") -> np.ndarray:
    """A component's class fractions from ``None`` (spherical), a mean leaf angle (degrees) or fractions."""
    if value is None:
        return _spherical(angle_classes)
    n = angle_class_edges(angle_classes).size - 1
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        if not 0.0 < float(v) < 90.0:
            raise ValueError(f"{name} as a mean leaf angle must lie in (0, 90) degrees, got {float(v)}")
        f = np.asarray(campbell_lidf(float(v), angle_classes=angle_classes), dtype=np.float64)
        return f / f.sum()
    if v.shape != (n,) or not np.all(np.isfinite(v)) or np.any(v < 0) or abs(v.sum() - 1.0) > 1e-4:
        raise ValueError(f"{name} must be None, a mean leaf angle (degrees) or {n} non-negative class fractions "
                         f"summing to 1 (angle_classes={angle_classes!r}), got shape {v.shape}")
    return v / v.sum()


def _positive(value, name: str) -> float:
    v = np.asarray(value, dtype=np.float64)
    if v.ndim != 0 or not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number (m), got {value!r}")
    return float(v)


def _non_negative(value, name: str, unit: str) -> float:
    v = np.asarray(value, dtype=np.float64)
    if v.ndim != 0 or not np.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative finite number ({unit}), got {value!r}")
    return float(v)


def _grid(extent, height, shape) -> tuple[tuple[int, int, int], tuple[float, float, float]]:
    """Validated ``(nx, ny, nz)`` and voxel size ``(dx, dy, dz)`` (m)."""
    ext = np.asarray(extent, dtype=np.float64)
    if ext.shape != (2,) or not np.all(np.isfinite(ext)) or np.any(ext <= 0):
        raise ValueError(f"extent must be two positive lengths (Lx, Ly) in m, got {extent!r}")
    h = _positive(height, "height")
    sh = tuple(shape) if isinstance(shape, (tuple, list)) else ()
    if len(sh) != 3 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in sh):
        raise ValueError(f"shape must be three positive integers (nx, ny, nz), got {shape!r}")
    nx, ny, nz = (int(n) for n in sh)
    return (nx, ny, nz), (float(ext[0]) / nx, float(ext[1]) / ny, h / nz)


def _supersample(value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"supersample must be a positive integer, got {value!r}")
    return int(value)


def _scene(lad: np.ndarray, lidfs: Sequence[np.ndarray], voxel_size, components, angle_classes, dtype) -> VoxelScene:
    dt = _dtype(dtype)
    return VoxelScene(lad=jnp.asarray(lad, dt), lidf=jnp.asarray(np.stack(lidfs), dt),
                      voxel_size=tuple(float(v) for v in voxel_size), components=tuple(components),
                      angle_classes=angle_classes)


def homogeneous_scene(lai: ArrayLike, height: ArrayLike = 1.0, *, lidf=None, shape: Sequence[int] = (1, 1, 10),
                      extent: Sequence[float] = (1.0, 1.0), component: str = "leaves", angle_classes: str = "prosail",
                      dtype=None) -> VoxelScene:
    """One turbid layer filling the box uniformly (the RAMI HOM scenes): leaf-area density ``lai/height``
    (m² m⁻³) in every voxel, so that the scene's LAI is ``lai`` (m² m⁻²).

    **Arguments:** ``lai`` (≥ 0), ``height`` (m), ``lidf`` (see the module docstring; default spherical),
    ``shape`` ``(nx, ny, nz)``, ``extent`` ``(Lx, Ly)`` (m), ``component`` (its name), ``dtype``.

    Example:
        >>> round(float(homogeneous_scene(3.0, 2.0).lai()[0]), 6)
        3.0
    """
    lai_v = _non_negative(lai, "lai", "m² m⁻²")
    sh, vs = _grid(extent, height, shape)
    f = _lidf_row(lidf, angle_classes)
    lad = np.full((1, *sh), lai_v / (sh[2] * vs[2]))
    return _scene(lad, [f], vs, (component,), angle_classes, dtype)


#: A solid for supersampling: (lower corner, upper corner) of its bounding box (m) and its inside test.
_Solid = tuple[np.ndarray, np.ndarray, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]]


def _inside_subcells(solid: _Solid, shape, voxel_size, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sub-cell indices ``(i, j, k)`` on the ``(nx·s, ny·s, nz·s)`` grid of the sub-cell centres inside a solid,
    wrapped periodically in ``x`` and ``y`` (indices may repeat when a solid is wider than the box)."""
    lo, hi, inside = solid
    coords, index = [], []
    for a in range(3):
        h, n = voxel_size[a] / s, shape[a] * s
        m = np.arange(math.floor(lo[a] / h - 0.5), math.ceil(hi[a] / h - 0.5) + 1)
        if a == 2:
            m = m[(m >= 0) & (m < n)]
        coords.append((m + 0.5) * h)
        index.append(m % n)
    x, y, z = coords
    mask = np.broadcast_to(inside(x[:, None, None], y[None, :, None], z[None, None, :]), (x.size, y.size, z.size))
    i, j, k = np.nonzero(mask)
    return index[0][i], index[1][j], index[2][k]


def _union_fraction(solids: Sequence[_Solid], shape, voxel_size, s: int) -> np.ndarray:
    """Volume fraction of each voxel inside the union of the solids, shape ``(nx, ny, nz)``."""
    nx, ny, nz = shape
    sub = np.zeros((nx * s, ny * s, nz * s), dtype=bool)
    for solid in solids:
        sub[_inside_subcells(solid, shape, voxel_size, s)] = True
    return sub.reshape(nx, s, ny, s, nz, s).mean(axis=(1, 3, 5))


def _solid_fraction(solid: _Solid, shape, voxel_size, s: int) -> np.ndarray:
    """Volume fraction of each voxel inside one solid (periodic copies added), shape ``(nx, ny, nz)``."""
    i, j, k = _inside_subcells(solid, shape, voxel_size, s)
    flat = ((i // s) * shape[1] + j // s) * shape[2] + k // s
    return np.bincount(flat, minlength=math.prod(shape)).reshape(shape) / s**3


def random_spheres(key_or_seed: Any, n: int, radius: ArrayLike, extent: Sequence[float],
                   z_range: Sequence[float], *, max_attempts: int = MAX_SPHERE_ATTEMPTS) -> np.ndarray:
    """Centres (m) of ``n`` non-overlapping spheres placed at random in a periodic box, shape ``(n, 3)``.

    Centres are drawn uniformly in ``[0, Lx) × [0, Ly) × z_range`` with ``np.random.default_rng(key_or_seed)``
    (an int seed, or a JAX PRNG key whose data seeds the generator) and rejected while they overlap an already
    placed sphere (minimum-image distance below the sum of the radii), as for the RAMI HET01 floating spheres.

    **Arguments:** ``n`` spheres of ``radius`` (m, scalar or ``(n,)``), ``extent`` ``(Lx, Ly)`` (m),
    ``z_range`` ``(z_min, z_max)`` of the centre heights (m), ``max_attempts`` per sphere.

    Raises:
        ValueError: for bad inputs, or when a sphere cannot be placed within ``max_attempts`` draws.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    r = np.broadcast_to(np.asarray(radius, dtype=np.float64), (n,)) if np.ndim(radius) == 0 else \
        np.asarray(radius, dtype=np.float64)
    if r.shape != (n,) or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError(f"radius must be positive (m), a scalar or shape ({n},), got {radius!r}")
    ext = np.asarray(extent, dtype=np.float64)
    if ext.shape != (2,) or not np.all(np.isfinite(ext)) or np.any(ext <= 0):
        raise ValueError(f"extent must be two positive lengths (Lx, Ly) in m, got {extent!r}")
    zr = np.asarray(z_range, dtype=np.float64)
    if zr.shape != (2,) or not np.all(np.isfinite(zr)) or zr[0] > zr[1]:
        raise ValueError(f"z_range must be (z_min, z_max) with z_min ≤ z_max (m), got {z_range!r}")
    if n and 2.0 * r.max() > ext.min():
        raise ValueError(f"sphere diameter {2 * r.max()} m exceeds the box extent {tuple(ext)} m")
    if np.ndim(key_or_seed) == 0 and isinstance(key_or_seed, (int, np.integer)):
        seed = int(key_or_seed)
    else:  # a JAX key (typed or raw uint32 data)
        import jax

        key = jnp.asarray(key_or_seed)
        seed = np.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key,
                          dtype=np.uint32).ravel().tolist()
    rng = np.random.default_rng(seed)
    centres = np.zeros((n, 3))
    for i in range(n):
        for _ in range(max_attempts):
            c = rng.uniform([0.0, 0.0, zr[0]], [ext[0], ext[1], zr[1]])
            d = c - centres[:i]
            d[:, :2] -= ext * np.round(d[:, :2] / ext)
            if np.all(np.einsum("ij,ij->i", d, d) >= (r[i] + r[:i]) ** 2):
                centres[i] = c
                break
        else:
            raise ValueError(f"could not place sphere {i + 1} of {n} without overlap in {max_attempts} attempts; "
                             f"use fewer or smaller spheres or a larger box")
    return centres


def floating_spheres_scene(centres: _ArrayIn, radius: _ArrayIn, lad: ArrayLike, *, extent: Sequence[float],
                           height: ArrayLike, shape: Sequence[int], lidf=None, component: str = "leaves",
                           supersample: int = 4, angle_classes: str = "prosail", dtype=None) -> VoxelScene:
    """Turbid spheres floating above the soil (the RAMI HET01 "floating spheres" scenes).

    Each voxel gets leaf-area density ``lad`` (m² m⁻³) × its volume fraction inside any sphere (the union;
    supersampled, see the module docstring), with periodic lateral wrap; LAI ≈ ``Σ 4/3 π r³ · lad / (Lx·Ly)``
    for non-overlapping spheres.

    **Arguments:** ``centres`` shape ``(n, 3)`` (m; ``x, y`` anywhere, wrapped), ``radius`` (m, scalar or
    ``(n,)``), ``lad``, ``extent`` ``(Lx, Ly)`` (m), ``height`` (m; every sphere must lie in ``[0, height]``),
    ``shape`` ``(nx, ny, nz)``, ``lidf`` (default spherical), ``component``, ``supersample`` (sub-cells per voxel
    edge), ``dtype``.
    """
    c = np.asarray(centres, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 3 or not np.all(np.isfinite(c)):
        raise ValueError(f"centres must be finite with shape (n, 3) (m), got shape {c.shape}")
    r = np.asarray(radius, dtype=np.float64)
    r = np.broadcast_to(r, (c.shape[0],)) if r.ndim == 0 else r
    if r.shape != (c.shape[0],) or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError(f"radius must be positive (m), a scalar or shape ({c.shape[0]},), got {radius!r}")
    lad_v = _non_negative(lad, "lad", "m² m⁻³")
    sh, vs = _grid(extent, height, shape)
    s = _supersample(supersample)
    f = _lidf_row(lidf, angle_classes)
    h = sh[2] * vs[2]
    bad = np.nonzero((c[:, 2] - r < 0) | (c[:, 2] + r > h))[0]
    if bad.size:
        raise ValueError(f"sphere {bad[0]} (z = {c[bad[0], 2]} m, radius {r[bad[0]]} m) does not fit between the "
                         f"soil and the box top at {h} m")

    def sphere(ci, ri) -> _Solid:
        return ci - ri, ci + ri, lambda x, y, z: (x - ci[0]) ** 2 + (y - ci[1]) ** 2 + (z - ci[2]) ** 2 <= ri**2

    frac = _union_fraction([sphere(ci, ri) for ci, ri in zip(c, r)], sh, vs, s)
    return _scene(lad_v * frac[None], [f], vs, (component,), angle_classes, dtype)


class Tree(NamedTuple):
    """One tree crown (m; ``lad`` m² m⁻³): centre ``(x, y)``, crown from ``crown_base`` to ``crown_top`` with
    horizontal radius ``crown_radius``; ``shape`` ``"ellipsoid"`` (the spheroid inscribed in that cylinder) or
    ``"cone"`` (base disc at ``crown_base``, apex at ``crown_top``); ``species`` names its component."""

    x: float
    y: float
    crown_base: float
    crown_top: float
    crown_radius: float
    shape: str
    species: str
    lad: float


def _tree(t, i: int, h: float) -> Tree:
    try:
        t = Tree(**{"shape": "ellipsoid", **t}) if isinstance(t, Mapping) else Tree(*t)
        x, y, b, top, r, lad = (float(v) for v in (t.x, t.y, t.crown_base, t.crown_top, t.crown_radius, t.lad))
    except (TypeError, ValueError) as e:
        raise ValueError(f"tree {i} must be a Tree or a dict of its fields with numbers: {e}") from None
    if not (np.all(np.isfinite([x, y, b, top, r, lad])) and 0 <= b < top <= h and r > 0 and lad >= 0):
        raise ValueError(f"tree {i} needs 0 ≤ crown_base < crown_top ≤ height = {h} m, crown_radius > 0 and lad ≥ 0, "
                         f"got {t}")
    if t.shape not in CROWN_SHAPES or not isinstance(t.species, str) or not t.species:
        raise ValueError(f"tree {i} needs shape in {CROWN_SHAPES} and a species name, got {t.shape!r}, {t.species!r}")
    return Tree(x, y, b, top, r, t.shape, t.species, lad)


def _crown(t: Tree) -> _Solid:
    lo = np.array([t.x - t.crown_radius, t.y - t.crown_radius, t.crown_base])
    hi = np.array([t.x + t.crown_radius, t.y + t.crown_radius, t.crown_top])
    depth = t.crown_top - t.crown_base
    if t.shape == "ellipsoid":
        zc, a = t.crown_base + 0.5 * depth, 0.5 * depth

        def inside(x, y, z):
            return ((x - t.x) ** 2 + (y - t.y) ** 2) / t.crown_radius**2 + ((z - zc) / a) ** 2 <= 1.0
    else:

        def inside(x, y, z):
            rz = t.crown_radius * (t.crown_top - z) / depth
            return ((x - t.x) ** 2 + (y - t.y) ** 2 <= rz**2) & (z >= t.crown_base) & (z <= t.crown_top)
    return lo, hi, inside


def crowns_scene(trees: Sequence[Any], *, extent: Sequence[float], height: ArrayLike, shape: Sequence[int],
                 species_lidf: Mapping[str, Any], understorey_lai: ArrayLike = 0.0,
                 understorey_height: ArrayLike = 0.3, understorey_lidf=None, supersample: int = 4,
                 angle_classes: str = "prosail", dtype=None) -> VoxelScene:
    """A forest of turbid tree crowns (ellipsoids or cones) above an optional uniform understorey, after the
    RAMI-IV abstract and actual-canopy HET scenes.

    Each tree adds ``lad`` (m² m⁻³) × its supersampled volume fraction (periodic lateral wrap) to the component of
    its species, so each crown's leaf area is conserved (overlapping crowns add up).  The components are the
    species in order of first appearance, then ``"understorey"`` if ``understorey_lai > 0``: a layer from the soil
    to ``understorey_height`` (m) of density ``understorey_lai/understorey_height``, the fraction of a partly
    covered voxel layer counted exactly, so its LAI is exactly ``understorey_lai``.

    **Arguments:** ``trees`` (:class:`Tree` or dicts of its fields; ``shape`` defaults to ``"ellipsoid"`` in a
    dict), ``extent`` ``(Lx, Ly)``, ``height`` (m), ``shape`` ``(nx, ny, nz)``, ``species_lidf`` (species name →
    lidf, see the module docstring), ``understorey_lidf`` (default spherical), ``supersample``, ``dtype``.
    """
    sh, vs = _grid(extent, height, shape)
    h = sh[2] * vs[2]
    s = _supersample(supersample)
    if isinstance(trees, Mapping) or not isinstance(trees, Sequence):
        raise ValueError(f"trees must be a sequence of Tree or dicts, got {type(trees).__name__}")
    tree_list = [_tree(t, i, h) for i, t in enumerate(trees)]
    species = tuple(dict.fromkeys(t.species for t in tree_list))
    missing = [sp for sp in species if sp not in species_lidf]
    if missing:
        raise ValueError(f"species_lidf has no entry for species {missing}")
    lidfs = [_lidf_row(species_lidf[sp], angle_classes, f"species_lidf[{sp!r}]") for sp in species]
    u_lai = _non_negative(understorey_lai, "understorey_lai", "m² m⁻²")
    if u_lai > 0:
        u_h = _positive(understorey_height, "understorey_height")
        if u_h > h or "understorey" in species:
            raise ValueError(f"understorey_height must be ≤ height = {h} m and no species may be named "
                             f"'understorey', got {u_h} m and {species}")
        lidfs.append(_lidf_row(understorey_lidf, angle_classes, "understorey_lidf"))
    if not lidfs:
        raise ValueError("crowns_scene needs at least one tree or understorey_lai > 0")
    components = species + (("understorey",) if u_lai > 0 else ())
    lad = np.zeros((len(components), *sh))
    for t in tree_list:
        lad[species.index(t.species)] += t.lad * _solid_fraction(_crown(t), sh, vs, s)
    if u_lai > 0:
        z = np.arange(sh[2] + 1) * vs[2]
        fz = np.clip(np.minimum(z[1:], u_h) - z[:-1], 0.0, None) / vs[2]
        lad[-1] = (u_lai / u_h) * fz[None, None, :]
    return _scene(lad, lidfs, vs, components, angle_classes, dtype)


def rows_scene(*, row_spacing: ArrayLike, row_width: ArrayLike, row_height: ArrayLike, lad: ArrayLike,
               extent: Sequence[float], height: ArrayLike, shape: Sequence[int], lidf=None, axis: str = "y",
               soil_gap_height: ArrayLike = 0.0, component: str = "leaves", angle_classes: str = "prosail",
               dtype=None) -> VoxelScene:
    """Hedgerow crops: turbid rows of rectangular cross-section ``row_width × (row_height − soil_gap_height)`` (m)
    running along ``axis`` (``"x"`` or ``"y"``), centred at ``(j + ½)·row_spacing`` across it, periodic.

    The voxel fractions are exact (interval overlaps), so LAI = ``lad · row_width/row_spacing ·
    (row_height − soil_gap_height)``.  The box extent across the rows must be a whole number of ``row_spacing``.

    **Arguments:** lengths in m, ``lad`` (m² m⁻³), ``extent`` ``(Lx, Ly)``, ``shape`` ``(nx, ny, nz)``, ``lidf``
    (default spherical), ``soil_gap_height`` (bare stems below the rows, m), ``component``, ``dtype``.
    """
    sh, vs = _grid(extent, height, shape)
    h = sh[2] * vs[2]
    spacing, width = _positive(row_spacing, "row_spacing"), _positive(row_width, "row_width")
    top, gap = _positive(row_height, "row_height"), _non_negative(soil_gap_height, "soil_gap_height", "m")
    lad_v = _non_negative(lad, "lad", "m² m⁻³")
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    across = 0 if axis == "y" else 1
    n_rows = sh[across] * vs[across] / spacing
    if width > spacing or not gap < top <= h or abs(n_rows - round(n_rows)) > 1e-9 * max(n_rows, 1.0):
        raise ValueError(f"rows need row_width ≤ row_spacing, soil_gap_height < row_height ≤ height = {h} m and the "
                         f"extent across them a multiple of row_spacing, got width {width}, spacing {spacing}, "
                         f"gap {gap}, row height {top}, {n_rows:g} rows")
    f = _lidf_row(lidf, angle_classes)
    edges = np.arange(sh[across] + 1) * vs[across]
    lo = (np.arange(round(n_rows)) + 0.5) * spacing - 0.5 * width
    cover = np.clip(np.minimum(edges[1:, None], lo + width) - np.maximum(edges[:-1, None], lo), 0.0, None)
    f_across = cover.sum(axis=1) / vs[across]
    z = np.arange(sh[2] + 1) * vs[2]
    fz = np.clip(np.minimum(z[1:], top) - np.maximum(z[:-1], gap), 0.0, None) / vs[2]
    f_across = f_across[:, None, None] if across == 0 else f_across[None, :, None]
    lad_field = lad_v * f_across * fz[None, None, :] * np.ones(sh)
    return _scene(lad_field[None], [f], vs, (component,), angle_classes, dtype)
