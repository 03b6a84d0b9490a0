"""Cross-engine checks of the voxel engine against an independent one: Mitsuba 3 path tracing of explicit leaves.

Two stages for ``run.py`` (each returns a ``pandas.DataFrame``; Mitsuba from ``pip install leafjax[mitsuba]``):

- :func:`discrete_vs_turbid`: a random canopy of flat leaf discs (LAI 3, spherical, radius 0.05 m, 1.5 m box) as
  discrete leaves (Mitsuba, :func:`leafjax.physics.voxel.mitsuba_image`) against its exact voxelisation as a
  turbid medium (the leafjax voxel Monte Carlo) and against 4SAIL (turbid, hotspot off, and with the hotspot
  parameter set to leaf size / canopy depth), box-mean BRF in the red and NIR at nadir, 30° on the hotspot side
  and 60° forward, sun at 30°.
- :func:`independent_retrieval`: a heterogeneous scene of explicit leaves — two clumped crowns of different
  species (disc radius, leaf angles, density) above a planophile understorey of discs and a soil — with
  PROSPECT-D truth spectra; Mitsuba renders the observed images, leafjax voxelises the same mesh, traces its
  tallies and retrieves the free spectra (:func:`leafjax.inversion.retrieve_voxel_spectra`).  RMSE of ρ, τ per
  component and of the soil against the truth, with an inverse-crime baseline (images from the same tallies) for
  scale.  The views avoid the hotspot by default (see the discrete/turbid stage: only discrete leaves have one).

Run standalone: ``python -m experiments.canopy3d._cross [--quick]``.
"""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from leafjax.physics import voxel as V
from leafjax.physics.canopy import CanopyParams, sail

SZA, SAA = 30.0, 0.0
SIDES = 8  # leaf_disc_mesh's default polygon
BANDS = {"red": (0.05, 0.03), "NIR": (0.45, 0.45)}  # leaf (rho, tau); soil below
SOIL = {"red": 0.10, "NIR": 0.20}
CROSS_VIEWS = ((0.0, 0.0), (30.0, 0.0), (60.0, 180.0))
#: Views of the retrieval: nadir, 30° forward and 30° across the principal plane (sun at 30°, saa 0).
RETRIEVAL_VIEWS = ((0.0, 0.0), (30.0, 180.0), (30.0, 90.0))


def disc_area(radius: float, sides: int = SIDES) -> float:
    """One-sided area of a regular ``sides``-gon of circumradius ``radius`` (m²)."""
    return 0.5 * sides * radius ** 2 * math.sin(2.0 * math.pi / sides)


def _merge(parts):
    """Concatenate meshes ``[(vertices, faces, component), ...]`` into one ``(vertices, faces, component_of_face)``."""
    vs, fs, cs, base = [], [], [], 0
    for v, f, c in parts:
        vs.append(v)
        fs.append(f + base)
        cs.append(np.full(f.shape[0], c, np.int64))
        base += v.shape[0]
    return np.concatenate(vs), np.concatenate(fs), np.concatenate(cs)


def crown_discs(seed: int, centre, semi_axes, lad: float, radius: float, lidf=None):
    """Leaf discs with centres uniform in an ellipsoid crown (``centre``, ``semi_axes`` (m)) at leaf-area density
    ``lad`` (m² m⁻³): discs drawn in the bounding box and kept if their centre is inside; ``(vertices, faces)``."""
    c, a = np.asarray(centre, float), np.asarray(semi_axes, float)
    n_box = round(lad * 8.0 * a.prod() / disc_area(radius))  # box volume 8abc; ~52 % kept
    v, f = V.leaf_disc_mesh(seed, n_box, radius=radius, extent=(2 * a[0], 2 * a[1]),
                            z_range=(c[2] - a[2], c[2] + a[2]), lidf=lidf)
    v = v + np.array([c[0] - a[0], c[1] - a[1], 0.0])
    centres = v.reshape(n_box, SIDES, 3).mean(axis=1)
    keep = np.sum(((centres - c) / a) ** 2, axis=1) <= 1.0
    v = v.reshape(n_box, SIDES, 3)[keep].reshape(-1, 3)
    per_leaf = f.shape[0] // max(n_box, 1)
    return v, f[: keep.sum() * per_leaf]


# ---- discrete leaves against the turbid medium -----------------------------------------------------------------
def discrete_vs_turbid(*, lai: float = 3.0, radius: float = 0.05, extent: float = 1.5, height: float = 1.0,
                       spp: int = 1 << 17, photons: int = 1 << 17, quick: bool = False,
                       seed: int = 0) -> pd.DataFrame:
    """Box-mean BRF of a leaf-disc canopy: Mitsuba (discrete leaves) vs the voxelised mesh (leafjax voxel Monte
    Carlo, turbid) vs 4SAIL (hotspot 0 and hotspot = leaf diameter / canopy depth); one row per view and band.
    ``spp``: Mitsuba rays over the box (one pixel); ``photons``: voxel-engine photons; ``quick``: 16× fewer of
    both."""
    if quick:
        spp, photons = spp // 16, photons // 16
    z_range = (radius + 0.05, height - radius - 0.05)
    n = round(lai * extent ** 2 / disc_area(radius))
    v, f = V.leaf_disc_mesh(seed, n, radius=radius, extent=(extent, extent), z_range=z_range)
    shape = (max(1, round(extent / 0.25)),) * 2 + (max(1, round(height / 0.1)),)
    scene = V.voxelise_mesh(v, f, extent=(extent, extent), height=height, shape=shape)
    lai_mesh = float(scene.lai()[0])
    rho = np.array([[BANDS[b][0] for b in BANDS]])
    tau = np.array([[BANDS[b][1] for b in BANDS]])
    soil = np.array([SOIL[b] for b in BANDS])
    t0 = time.perf_counter()
    mi = [V.mitsuba_image(v, f, None, rho, tau, soil, extent=(extent, extent), height=height, sza=SZA, saa=SAA,
                          vza=a, vaa=b, pixel_size=extent, spp=spp, seed=seed + 7 * i)[0, 0]
          for i, (a, b) in enumerate(CROSS_VIEWS)]
    t_mi = time.perf_counter() - t0
    t0 = time.perf_counter()
    tal = V.monte_carlo_tallies(scene, jax.random.key(seed), n_photons=photons, sza=SZA, saa=SAA, views=CROSS_VIEWS,
                                max_order=60, batch_size=min(photons, 1 << 15))
    t_vox = time.perf_counter() - t0
    sp = V.ComponentSpectra(jnp.asarray(rho), jnp.asarray(tau), jnp.asarray(soil))
    depth = z_range[1] - z_range[0] + 2.0 * radius
    hot = 2.0 * radius / depth  # 4SAIL's hotspot parameter: leaf size / canopy depth
    rows = []
    for i, (vza, vaa) in enumerate(CROSS_VIEWS):
        raa = (SAA - vaa) % 360.0
        vox = np.asarray(V.render(tal, sp, i, tail=True))[0, 0]
        ref = {}
        for h in (0.0, hot):
            params = CanopyParams(lai=jnp.asarray(lai_mesh), lidf_a=jnp.asarray(57.29577951), hotspot=jnp.asarray(h),
                                  sza=jnp.asarray(SZA), vza=jnp.asarray(vza), raa=jnp.asarray(raa),
                                  lidf_type="campbell")
            ref[h] = np.asarray(sail(jnp.asarray(rho), jnp.asarray(tau), jnp.asarray(soil)[None], params).rsot[0])
        for b, band in enumerate(BANDS):
            m = float(mi[i][b])
            rows.append(dict(vza=vza, raa=raa, band=band, mitsuba_discrete=m, voxel_turbid=float(vox[b]),
                             sail_hotspot0=float(ref[0.0][b]), sail_hotspot=float(ref[hot][b]), hotspot=hot,
                             voxel_vs_mitsuba_pct=100.0 * (vox[b] / m - 1.0),
                             sail_hotspot_vs_mitsuba_pct=100.0 * (ref[hot][b] / m - 1.0), lai=lai_mesh,
                             radius_m=radius, spp=spp, photons=tal.n_photons, mitsuba_s=t_mi, voxel_s=t_vox))
    return pd.DataFrame(rows)


# ---- retrieval from images of the independent engine -----------------------------------------------------------
COMPONENTS = ("birch", "spruce", "understorey")  # the species of run.truth_spectra, in its row order


def independent_scene(seed: int = 0):
    """The heterogeneous explicit-leaf scene: ``(vertices, faces, component_of_face, extent, height, shape)``.

    A 2.5 m × 2.5 m periodic box, 2 m tall: a "birch" crown (ellipsoid, semi-axes 0.6/0.6/0.5 m at 1.3 m, LAD
    3 m²/m³, spherical discs of radius 0.05 m), a "spruce" crown (0.55/0.55/0.6 m at 1.15 m, LAD 4, erectophile
    discs — Campbell mean 70° — of radius 0.03 m) and a planophile understorey (mean 30°, radius 0.03 m, LAI 1
    in 0.05–0.4 m) above the soil.  Voxelised at 0.25 m."""
    extent, height = 2.5, 2.0
    birch = crown_discs(seed, (0.75, 0.8, 1.3), (0.6, 0.6, 0.5), 3.0, 0.05)
    spruce = crown_discs(seed + 1, (1.8, 1.75, 1.15), (0.55, 0.55, 0.6), 4.0, 0.03, lidf=70.0)
    r_u = 0.03
    n_u = round(1.0 * extent ** 2 / disc_area(r_u))
    under = V.leaf_disc_mesh(seed + 2, n_u, radius=r_u, extent=(extent, extent), z_range=(r_u + 0.02, 0.4 - r_u),
                             lidf=30.0)
    v, f, comp = _merge([(*birch, 0), (*spruce, 1), (*under, 2)])
    return v, f, comp, (extent, extent), height, (10, 10, 8)


def _rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def _retrieve_on_grid(scene, images, truth, views, pixel_size, photons, seed, inverse_crime, info) -> list[dict]:
    """Tallies of one voxelisation and the free retrievals from the Mitsuba images (and its own, if asked)."""
    from leafjax.inversion import ImageObservation, retrieve_voxel_spectra

    from .run import _scores  # lazy: run.py imports this module

    t0 = time.perf_counter()
    tal = V.monte_carlo_tallies(scene, jax.random.key(seed), n_photons=photons, sza=SZA, saa=SAA, views=views,
                                pixel_size=pixel_size, max_order=30, batch_size=min(photons, 1 << 15))
    t_vox = time.perf_counter() - t0
    print(f"  voxel tallies ({info['voxels']}): {tal.n_photons} photons in {t_vox:.0f} s", flush=True)
    model = [np.asarray(V.render(tal, truth, i, tail=True)) for i in range(len(views))]
    cases = [("mitsuba (independent engine)", images)] + ([("voxel, same tallies (inverse crime)", model)]
                                                          if inverse_crime else [])
    rows = []
    for name, obs_images in cases:
        t0 = time.perf_counter()
        obs = [ImageObservation(tal, i, jnp.asarray(im)) for i, im in enumerate(obs_images)]
        res = retrieve_voxel_spectra(obs, COMPONENTS, n_starts=2)
        jax.block_until_ready(res.rho)
        stacked = np.concatenate([im.reshape(-1, im.shape[-1]) for im in obs_images])
        model_px = np.concatenate([im.reshape(-1, im.shape[-1]) for im in model])
        extra = {**info, "truth": name, "image_fit_rmse": _rmse(res.fitted, stacked),
                 "engine_image_rmse": _rmse(model_px, stacked), "box_bias": float(np.mean(model_px - stacked)),
                 "photons": tal.n_photons, "views": len(views), "pixels": stacked.shape[0], "voxel_s": t_vox,
                 "retrieval_s": time.perf_counter() - t0}
        if not name.startswith("mitsuba"):
            extra["spp"] = 0
        rows += _scores(name, truth, res.rho, res.tau, res.soil, COMPONENTS, extra)
        print(f"  {name}: max RMSE {max(r['rmse'] for r in rows[-7:]):.4f} ({extra['retrieval_s']:.0f} s)",
              flush=True)
    return rows


def independent_retrieval(*, quick: bool = False, spp: int = 1024, photons: int = 1 << 17, n_wavelengths: int = 21,
                          views=RETRIEVAL_VIEWS, pixel_size: float = 0.25, seed: int = 0,
                          inverse_crime: bool = True, shapes=None) -> pd.DataFrame:
    """Retrieve the free component spectra from Mitsuba images of :func:`independent_scene` with the voxel
    engine's tallies of its voxelisation; one row per voxel grid, component and spectrum (plus the soil).

    ``spp``: Mitsuba rays per pixel; ``photons``: voxel-engine photons; ``n_wavelengths`` from 400 to 2400 nm;
    ``quick``: 256 rays per pixel, 2^15 photons, 11 wavelengths; ``inverse_crime``: also retrieve from the
    tallies' own images (same photons) for scale, at the first voxel grid; ``shapes``: voxel grids
    ``(nx, ny, nz)`` of the voxelisation to compare (default: the scene's 0.25 m grid and 0.125 m cubes; quick:
    the first only).  Columns: ``voxels`` (the grid), ``truth`` (the images' engine), ``component``,
    ``spectrum``, ``rmse``, ``rel_rmse_pct``, ``image_fit_rmse`` (retrieved model vs observed pixels),
    ``engine_image_rmse`` (voxel model at the truth spectra vs the observed pixels), ``box_bias`` (mean of that
    difference), ``spp``, ``photons``, timings."""
    from .run import truth_spectra  # lazy: run.py imports this module

    if quick:
        spp, photons, n_wavelengths = 256, 1 << 15, 11
    wl = np.linspace(400.0, 2400.0, n_wavelengths)
    truth, _, _ = truth_spectra(wl)
    v, f, comp, extent, height, shape = independent_scene(seed)
    shapes = [shape] if quick and shapes is None else [shape, (20, 20, 16)] if shapes is None else list(shapes)
    lai = dict(zip(COMPONENTS, np.round(np.asarray(V.voxelise_mesh(
        v, f, extent=extent, height=height, shape=shape, component_of_face=comp, components=COMPONENTS).lai()),
        3).tolist()))
    rho, tau, soil = (np.asarray(x) for x in (truth.rho, truth.tau, truth.soil))
    t0 = time.perf_counter()
    images = [V.mitsuba_image(v, f, comp, rho, tau, soil, extent=extent, height=height, sza=SZA, saa=SAA, vza=a,
                              vaa=b, pixel_size=pixel_size, spp=spp, seed=seed + 17 * i)
              for i, (a, b) in enumerate(views)]
    t_mi = time.perf_counter() - t0
    print(f"  scene LAI {lai}, {f.shape[0]} triangles; Mitsuba {len(views)} views x {n_wavelengths} wl at {spp} spp: "
          f"{t_mi:.0f} s", flush=True)
    rows = []
    for k, grid in enumerate(shapes):
        scene = V.voxelise_mesh(v, f, extent=extent, height=height, shape=grid, component_of_face=comp,
                                components=COMPONENTS)
        rows += _retrieve_on_grid(scene, images, truth, views, pixel_size, photons, seed, inverse_crime and k == 0,
                                  dict(voxels="x".join(map(str, grid)), spp=spp, wavelengths=n_wavelengths,
                                       mitsuba_s=t_mi))
    df = pd.DataFrame(rows).drop(columns=["method"])
    return df


if __name__ == "__main__":
    import argparse

    jax.config.update("jax_enable_x64", True)  # entry point (run.py sets it too)

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--stages", default="discrete_vs_turbid,independent_retrieval")
    a = ap.parse_args()
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        for stage in a.stages.split(","):
            t = time.perf_counter()
            out = {"discrete_vs_turbid": discrete_vs_turbid,
                   "independent_retrieval": independent_retrieval}[stage](quick=a.quick)
            print(f"[{stage}] {time.perf_counter() - t:.0f} s")
            print(out.round(4).to_string(index=False))
