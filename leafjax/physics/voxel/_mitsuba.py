r"""An independent truth engine: Monte Carlo path tracing of explicit leaf meshes with Mitsuba 3 (Eradiate build).

:func:`mitsuba_image` renders a triangle mesh of flat leaves (bi-Lambertian: reflectance :math:`\rho_c` and
transmittance :math:`\tau_c` per component, both sides alike) over a Lambertian soil under a directional sun with
the unidirectional path tracer of Mitsuba 3 (``path`` integrator, next-event estimation of the sun), and returns the
bidirectional reflectance factor image on the **same pixel grid and convention** as
:func:`leafjax.physics.voxel.render`: pixel ``(i, j)`` of size ``pixel_size`` holds the radiance leaving the top
plane ``z = height`` of the box inside ``[i p, (i+1) p) × [j p, (j+1) p)`` towards the view direction
:func:`~leafjax.physics.voxel.direction` ``(vza, vaa)`` (azimuth from +x towards +y; relative azimuth
``saa − vaa``, 0 = hotspot side).  Nothing is shared with the voxel engine but the mesh and the spectra: leaves are
explicit surfaces (no turbid medium, no G-function, no voxel), intersected by Mitsuba's own BVH and sampled by its
own BSDF code — so agreement is a cross-engine check.

**Sensor.**  Rays are generated here, not by a Mitsuba sensor: ``spp`` origins per pixel, uniform in the pixel on
the plane ``z = height``, each traced along ``−v`` by ``integrator.sample`` (one vectorised wavefront per batch),
which returns the radiance :math:`L` arriving from the scene.  With a ``directional`` emitter of irradiance
:math:`E = 1` (Mitsuba's convention: the irradiance on a plane *normal* to the sun),

.. math:: \mathrm{BRF} = \frac{\pi L}{E \cos\theta_s},

so a bare Lambertian soil gives its reflectance exactly (tested) and a horizontal semi-transparent plate
:math:`\rho + \tau^2\rho_s / (1 - \rho\rho_s)`.

**Periodic boundaries** are emulated by tiling: ``tiles × tiles`` copies of the mesh (each triangle first wrapped
into the box by its lowest corner, as :func:`~leafjax.physics.voxel.voxelise_mesh` does) over one soil rectangle
under all of them, the image being taken over the central tile only.  By default the number of tiles is chosen so
that the view and sun rays through the central tile, plus a lateral margin of one box height for the multiple
scattering, stay inside the tiled patch (:func:`auto_tiles`).

**Spectra.**  The RGB variant renders three wavelengths per pass (the colour channels are independent scalar
bands here; all values are used as plain numbers, no colour conversion); ``wl`` wavelengths take ``⌈wl/3⌉``
passes over the same random numbers (common random numbers: smooth spectra).  Mitsuba computes in float32.

Needs ``pip install leafjax[mitsuba]`` (``eradiate-mitsuba``, with the ``bilambertian`` BSDF; its LLVM variants
need an LLVM shared library, e.g. ``libLLVM-15``, found by Dr.Jit at run time).  Mitsuba is imported only when
rendering, so importing this module needs nothing.

References:
    Nimier-David, M., Vicini, D., Zeltner, T., Jakob, W. (2019) Mitsuba 2: a retargetable forward and inverse
    renderer. ACM Trans. Graph. 38(6):203, doi:10.1145/3355089.3356498.
    Jakob, W., Speierer, S., Roussel, N., Vicini, D. (2022) Dr.Jit: a just-in-time compiler for differentiable
    rendering. ACM Trans. Graph. 41(4):124, doi:10.1145/3528223.3530099 (Mitsuba 3).
    Leroy, V., Nollet, Y., Schunke, S., Govaerts, Y. et al. (2022) Eradiate: a new-generation radiative transfer
    model for Earth observation, https://www.eradiate.eu (the ``bilambertian`` BSDF, package ``eradiate-mitsuba``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._builders import _ArrayIn
from ._mesh import check_mesh

#: Mitsuba variant used by default (vectorised LLVM back end, three bands per pass).
DEFAULT_VARIANT: str = "llvm_ad_rgb"
#: Path depth from which Mitsuba's Russian roulette may end paths (unbiased; ~1.7x faster than none, same noise).
RR_DEPTH: int = 5
#: Rays traced per vectorised wavefront (bounds the memory of one batch).
MAX_WAVEFRONT: int = 1 << 20
#: Lateral margin (in box heights) that :func:`auto_tiles` keeps around the rays through the central tile.
TILE_MARGIN_HEIGHTS: float = 1.0
_INSTALL = "mitsuba_image needs eradiate-mitsuba: pip install leafjax[mitsuba]"


def _import_mitsuba(variant: str):
    """Import Mitsuba and set ``variant``; one-line ImportError / ValueError otherwise."""
    try:
        import mitsuba as mi
    except ImportError as err:
        raise ImportError(_INSTALL) from err
    if variant not in mi.variants() or not variant.endswith("_rgb") or variant.startswith("scalar"):
        raise ValueError(f"mitsuba variant {variant!r} must be a vectorised RGB one of this build's {mi.variants()}")
    mi.set_variant(variant)
    try:
        mi.load_dict({"type": "bilambertian"})
    except Exception as err:  # plain mitsuba has no diffuse-transmission BSDF
        raise ImportError(f"this mitsuba build has no bilambertian BSDF; {_INSTALL}") from err
    return mi


def auto_tiles(extent: Sequence[float], height: float, sza: float, vza: float) -> int:
    """The odd number of tiles per side such that the sun and view rays through the central tile of a box of
    ``extent`` ``(Lx, Ly)`` and ``height`` (m), displaced laterally by ``height · tan(zenith)``, plus
    :data:`TILE_MARGIN_HEIGHTS` box heights, stay inside the tiled patch (at least 3)."""
    run = height * math.tan(math.radians(max(sza, vza))) + TILE_MARGIN_HEIGHTS * height
    return 2 * max(1, math.ceil(run / min(extent))) + 1


def _angle(x, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number (degrees), got {x!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite (degrees), got {v}")
    return v


def _check(vertices, faces, component_of_face, rho, tau, soil, extent, height, sza, saa, vza, vaa, pixel_size,
           spp, seed, tiles, max_depth):
    """Validate every input with one-line ``ValueError`` messages; return the normalised values."""
    v, f = check_mesh(vertices, faces)
    r, t, s = (np.asarray(a, dtype=np.float64) for a in (rho, tau, soil))
    if r.ndim != 2 or t.shape != r.shape or s.shape != (r.shape[1],):
        raise ValueError(f"rho and tau must have shape (c, wl) and soil (wl,), got {r.shape}, {t.shape}, {s.shape}")
    if r.shape[0] < 1 or r.shape[1] < 1:
        raise ValueError(f"rho must have at least one component and one wavelength, got shape {r.shape}")
    if not (np.all(np.isfinite(r + t)) and np.all(np.isfinite(s))) or np.any(r < 0) or np.any(t < 0) or \
            np.any(r + t > 1.0) or np.any(s < 0) or np.any(s > 1):
        raise ValueError("spectra must be finite with rho, tau >= 0, rho + tau <= 1 and 0 <= soil <= 1")
    comp = np.zeros(f.shape[0], np.int64) if component_of_face is None else np.asarray(component_of_face)
    if comp.shape != (f.shape[0],) or (comp.size and (not np.issubdtype(comp.dtype, np.integer)
                                                      or comp.min() < 0 or comp.max() >= r.shape[0])):
        raise ValueError(f"component_of_face must be {f.shape[0]} integers in [0, {r.shape[0]}) (one per face), "
                         f"got shape {comp.shape} of {comp.dtype}")
    ext = np.asarray(extent, dtype=np.float64)
    if ext.shape != (2,) or not np.all(np.isfinite(ext)) or np.any(ext <= 0):
        raise ValueError(f"extent must be two positive lengths (Lx, Ly) in m, got {extent!r}")
    h = _angle(height, "height")
    if not h > 0:
        raise ValueError(f"height must be positive (m), got {h}")
    if f.size:
        z = v[np.unique(f), 2]
        if z.min() < -1e-9 * h or z.max() > h * (1 + 1e-9):
            raise ValueError(f"mesh vertex heights [{z.min()}, {z.max()}] m must lie in [0, height = {h}] m")
    angles = [_angle(a, n) for a, n in ((sza, "sza"), (saa, "saa"), (vza, "vza"), (vaa, "vaa"))]
    for a, n in ((angles[0], "sza"), (angles[2], "vza")):
        if not 0.0 <= a < 89.0:
            raise ValueError(f"{n} must be in [0, 89) degrees, got {a}")
    p = _angle(pixel_size, "pixel_size")
    shape = []
    for length in ext:
        k = round(length / p) if p > 0 else 0
        if p <= 0 or k < 1 or abs(k * p - length) > 1e-6 * length:
            raise ValueError(f"pixel_size {p} m must divide the scene extent {tuple(ext.tolist())} m")
        shape.append(k)
    for x, n, lo in ((spp, "spp", 1), (seed, "seed", 0), (max_depth, "max_depth", 1)):
        if not isinstance(x, (int, np.integer)) or isinstance(x, bool) or x < lo:
            raise ValueError(f"{n} must be an integer >= {lo}, got {x!r}")
    if tiles is not None and (not isinstance(tiles, (int, np.integer)) or isinstance(tiles, bool) or tiles < 1
                              or tiles % 2 == 0):
        raise ValueError(f"tiles must be None or an odd positive integer, got {tiles!r}")
    return v, f, comp.astype(np.int64), r, t, s, ext, h, angles, p, tuple(shape)


def _wrapped_triangles(v: np.ndarray, f: np.ndarray, ext: np.ndarray) -> np.ndarray:
    """Triangles ``(f, 3, 3)``, each shifted by whole box widths so that its lowest corner lies in the box."""
    tri = v[f].copy()
    tri[..., :2] -= ext * np.floor(tri[..., :2].min(axis=1, keepdims=True) / ext)
    return tri


def _scene(mi, tri, comp, n_components, ext, sun, tiles):
    """The Mitsuba scene: one mesh per component (all tiles), the soil rectangle and the sun."""
    k = tiles // 2
    offsets = np.array([(i * ext[0], j * ext[1], 0.0) for i in range(-k, k + 1) for j in range(-k, k + 1)])
    grey = {"type": "rgb", "value": [0.5, 0.5, 0.5]}
    desc = {"type": "scene"}
    for c in range(n_components):
        mine = tri[comp == c]
        if not mine.shape[0]:
            continue
        pts = (mine[None] + offsets[:, None, None]).reshape(-1, 3)
        props = mi.Properties()
        props["bsdf"] = mi.load_dict({"type": "bilambertian", "reflectance": dict(grey), "transmittance": dict(grey)})
        mesh = mi.Mesh(f"component{c}", pts.shape[0], pts.shape[0] // 3, props=props)
        params = mi.traverse(mesh)
        params["vertex_positions"] = mi.Float(pts.astype(np.float32).ravel())
        params["faces"] = mi.UInt32(np.arange(pts.shape[0], dtype=np.uint32))
        params.update()
        desc[f"component{c}"] = mesh
    centre = [0.5 * ext[0], 0.5 * ext[1], 0.0]
    desc["soil"] = {"type": "rectangle", "bsdf": {"type": "diffuse", "reflectance": dict(grey)},
                    "to_world": mi.ScalarTransform4f().translate(centre).scale([0.5 * tiles * ext[0],
                                                                               0.5 * tiles * ext[1], 1.0])}
    desc["sun"] = {"type": "directional", "direction": [-sun[0], -sun[1], -sun[2]],
                   "irradiance": {"type": "rgb", "value": [1.0, 1.0, 1.0]}}
    return mi.load_dict(desc)


def _direction(zenith: float, azimuth: float) -> tuple[float, float, float]:
    """The upward unit vector of :func:`leafjax.physics.voxel.direction` (same convention, no JAX needed)."""
    t, p = math.radians(zenith), math.radians(azimuth)
    return math.sin(t) * math.cos(p), math.sin(t) * math.sin(p), math.cos(t)


def mitsuba_image(vertices: _ArrayIn, faces: _ArrayIn, component_of_face: _ArrayIn | None, rho: _ArrayIn,
                  tau: _ArrayIn, soil: _ArrayIn, *, extent: Sequence[float], height: float, sza: float,
                  saa: float = 0.0, vza: float = 0.0, vaa: float = 0.0, pixel_size: float, spp: int = 256,
                  seed: int = 0, tiles: int | None = None, max_depth: int = 64,
                  variant: str = DEFAULT_VARIANT) -> np.ndarray:
    r"""BRF image of a bi-Lambertian leaf mesh over a Lambertian soil, path traced by Mitsuba 3 (module docstring).

    **Arguments:**
    - ``vertices`` (m), shape ``(v, 3)``; ``faces``: vertex indices, shape ``(f, 3)``; ``component_of_face``:
      component index per face, shape ``(f,)`` (``None``: all component 0) — e.g. from
      :func:`~leafjax.physics.voxel.leaf_disc_mesh`.  Vertex heights must lie in ``[0, height]``.
    - ``rho``, ``tau``: leaf reflectance and transmittance per component, shape ``(c, wl)``; ``soil``: soil
      reflectance, shape ``(wl,)`` (fractions, ``ρ + τ ≤ 1``).
    - ``extent``: ``(Lx, Ly)`` of the periodic box (m); ``height``: its top (m), the plane where a view ray is
      assigned to its pixel (use the voxel scene's ``height`` to compare pixel by pixel).
    - ``sza``, ``saa``, ``vza``, ``vaa``: sun and view zenith and azimuth (degrees, azimuth from +x towards +y).
    - ``pixel_size`` (m), dividing both extents; ``spp``: rays per pixel; ``seed``: random seed; ``tiles``: odd
      number of mesh copies per side (``None``: :func:`auto_tiles`); ``max_depth``: longest path (Mitsuba's depth:
      ``max_depth − 1`` scattering events before the last connection to the sun); ``variant``: Mitsuba variant
      (a vectorised RGB one, ``llvm_ad_rgb`` or ``cuda_ad_rgb``; default :data:`DEFAULT_VARIANT`).

    **Returns:** BRF (dimensionless), float64 NumPy array of shape ``(nx, ny, wl)`` with ``nx = Lx/pixel_size``,
    row-major like :func:`~leafjax.physics.voxel.render`; its mean is the box BRF.

    Raises:
        ValueError: bad inputs (one line), checked before Mitsuba is imported.
        ImportError: Mitsuba (``eradiate-mitsuba``) is not installed (``pip install leafjax[mitsuba]``).
    """
    v, f, comp, r, t, s, ext, h, (sza, saa, vza, vaa), p, (nx, ny) = _check(
        vertices, faces, component_of_face, rho, tau, soil, extent, height, sza, saa, vza, vaa, pixel_size, spp,
        seed, tiles, max_depth)
    tiles = auto_tiles(tuple(ext.tolist()), h, sza, vza) if tiles is None else int(tiles)
    mi = _import_mitsuba(variant)
    import drjit as dr

    bands = 3
    sun, view = _direction(sza, saa), _direction(vza, vaa)
    scene = _scene(mi, _wrapped_triangles(v, f, ext), comp, r.shape[0], ext, sun, tiles)
    scene_params = mi.traverse(scene)
    integrator = mi.load_dict({"type": "path", "max_depth": int(max_depth), "rr_depth": RR_DEPTH,
                               "hide_emitters": True})
    n_pix = nx * ny
    per_batch = max(1, min(int(spp), MAX_WAVEFRONT // n_pix))
    batches = [(b, min(per_batch, spp - b * per_batch)) for b in range(-(-spp // per_batch))]
    wl = r.shape[1]
    out = np.zeros((n_pix, wl))
    lift = h * 1e-3 + 1e-3  # start the rays just above the top plane (nothing lies there)
    for start in range(0, wl, bands):
        idx = np.minimum(np.arange(start, start + bands), wl - 1)
        for c in range(r.shape[0]):
            if f"component{c}.bsdf.reflectance.value" in scene_params:
                scene_params[f"component{c}.bsdf.reflectance.value"] = mi.Color3f(*r[c, idx].tolist())
                scene_params[f"component{c}.bsdf.transmittance.value"] = mi.Color3f(*t[c, idx].tolist())
        scene_params["soil.bsdf.reflectance.value"] = mi.Color3f(*s[idx].tolist())
        scene_params.update()
        acc = np.zeros((bands, n_pix))
        for b, n_s in batches:
            n = n_s * n_pix
            sampler = mi.load_dict({"type": "independent"})
            sampler.seed(int(seed) * 7919 + b, n)
            pix = np.arange(n, dtype=np.int64) % n_pix
            u = sampler.next_2d()
            x = mi.Float(((pix // ny) * p).astype(np.float32)) + u.x * p
            y = mi.Float(((pix % ny) * p).astype(np.float32)) + u.y * p
            origin = mi.Point3f(x + view[0] * lift / view[2], y + view[1] * lift / view[2], h + lift)
            ray = mi.RayDifferential3f(origin, mi.Vector3f(-view[0], -view[1], -view[2]))
            radiance, _, _ = integrator.sample(scene, sampler, ray)
            dr.eval(radiance)
            values = np.asarray(radiance, dtype=np.float64).reshape(3, n)
            for k in range(bands):
                acc[k] += np.bincount(pix, weights=values[k], minlength=n_pix)
        keep = np.arange(start, start + bands) < wl
        out[:, idx[keep]] = (acc[keep] / spp).T
    return (math.pi * out / math.cos(math.radians(sza))).reshape(nx, ny, wl)


