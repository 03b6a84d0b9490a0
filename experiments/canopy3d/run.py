"""3-D canopy radiative transfer in voxel scenes: the homogeneous limit against 4SAIL, and leaf, understorey and
soil spectra retrieved from images of a heterogeneous scene of known structure (after 3D-Diff, Qi et al. 2025).

Stages (``--stages``, default all):

- ``homogeneous``: turbid layers (leaf angles: Campbell with mean 57.3°, the 4SAIL "spherical"; LAI 1, 3, 5; red and NIR leaves; Lambertian soil) at
  nadir, 30° (hotspot side) and 60° (forward) views, sun at 30°: the exact single scattering of the fast path and
  the Monte Carlo single scattering and total BRF against leafjax 4SAIL with the hotspot off (hotspot = 0), since a
  turbid voxel medium has no hotspot; plus the Monte Carlo energy budget.
- ``retrieval``: a 5 m × 5 m periodic stand of birch (ellipsoid crowns, spherical leaves) and spruce (cones, mean
  leaf angle 40°) above a 0.5 m understorey and the soil; truth spectra from PROSPECT-D and the packaged soil
  basis on 400–2400 nm every 20 nm; three views (nadir, 30° hotspot side, 30° forward) at 0.25 m pixels.
  Retrieval of the free spectra (LM per wavelength through the shared inversion core), with truth images (a)
  from the same tallies (inverse crime, said so), noise-free and with 2 % relative noise, and (b) from an
  independent Monte Carlo run of the same engine (other random numbers, 2× the photons): the model error of a
  finite tally.  The independent engine (Mitsuba) is in the ``independent`` stage.  The smoothness prior
  (L-BFGS) and the PROSPECT-per-component retrieval are in the library and its tests, but are left out here: on the
  2-core CPU each costs tens of minutes at this size (``_retrievals(..., prospect=True, smoothness=(0, 1e-3))``).
- ``photons``: the model-tally noise against an independent truth (2× photons): model tallies of 1× and 4×
  the photons and of the fast path (exact single scattering), 21 wavelengths.  Not in the default stages.
- ``discrete`` and ``independent`` (need ``pip install leafjax[mitsuba]``; see :mod:`._cross`): explicit leaf
  discs rendered by Mitsuba against their voxelisation (discrete vs turbid), and the free retrieval from Mitsuba
  images of a two-species + understorey + soil scene of explicit leaves (the independent-engine truth).
- ``resolution``: the same scene at 2.5, 0.25 and 0.05 m pixels (11 wavelengths), 2 % noise: RMSE and relative
  RMSE of the retrieved spectra against the pixel size.

Writes ``results/<stage>.csv`` and ``results/summary_<stages>.md``.  ``--quick`` does not shrink the Mitsuba stages.  Usage::

    python -m experiments.canopy3d.run [--photons 262144] [--scene-photons 65536] [--stages homogeneous,retrieval,resolution,photons,discrete,independent] [--quick]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)  # entry point

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import leafjax as lj  # noqa: E402
from leafjax.inversion import ImageObservation, retrieve_voxel_prospect, retrieve_voxel_spectra  # noqa: E402
from leafjax.physics.canopy import CanopyParams, sail  # noqa: E402
from leafjax.physics.soil import default_soil_basis  # noqa: E402
from leafjax.physics.soil._soil import BasisSoilParams  # noqa: E402
from leafjax.physics import voxel as V  # noqa: E402

HERE = Path(__file__).resolve().parent
VIEWS = ((0.0, 0.0), (30.0, 0.0), (30.0, 180.0))  # (vza, vaa); sun at saa = 0: vaa 0 = hotspot side
SZA = 30.0
LEAVES = {"birch": (1.5, 45.0, 10.0, 0.5, 0.0, 0.012, 0.005), "spruce": (2.2, 30.0, 8.0, 0.2, 0.0, 0.025, 0.012),
          "understorey": (1.4, 55.0, 12.0, 1.5, 0.0, 0.010, 0.004)}
SOIL_COEFFS = (0.8, -0.4, 0.2, 0.1)
RESOLUTION_WL = np.array([450, 550, 650, 700, 750, 800, 900, 1100, 1600, 2000, 2200], float)


def machine() -> str:
    model = platform.processor() or "CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model)
    except OSError:
        pass
    return f"{platform.machine()} {model}, {jax.device_count()} JAX device(s) " \
           f"({jax.default_backend()}), {__import__('os').cpu_count()} cores"


def _canopy_first(poly, sp):
    """The canopy (leaf) single scattering of a one-pixel polynomial: order-1 terms without the soil."""
    expo = np.asarray(poly.exponents)[np.asarray(poly.monomial)]
    return poly.select((expo.sum(axis=1) == 1) & (expo[:, -1] == 0))(sp)[0]


def markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    fmt = lambda v: f"{v:.5g}" if isinstance(v, float) else str(v)  # noqa: E731
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
                     + ["| " + " | ".join(fmt(v) for v in r) + " |" for r in df.itertuples(index=False)])


# ---- homogeneous limit ----------------------------------------------------------------------------------------
def homogeneous(photons: int) -> pd.DataFrame:
    rho = jnp.array([[0.05, 0.45]])
    tau = jnp.array([[0.03, 0.45]])
    soil = jnp.array([0.10, 0.20])
    sp = V.ComponentSpectra(rho, tau, soil)
    geoms = ((0.0, 0.0), (30.0, 0.0), (60.0, 180.0))
    rows = []
    for lai in (1.0, 3.0, 5.0):
        scene = V.homogeneous_scene(lai, 1.0, lidf=57.29577951, shape=(4, 4, 10), extent=(1.0, 1.0))
        t0 = time.perf_counter()
        mc = V.monte_carlo_tallies(scene, jax.random.key(int(lai)), n_photons=photons, sza=SZA, views=geoms,
                                   max_order=60, batch_size=1 << 15)
        t_mc = time.perf_counter() - t0
        budget = V.energy_budget(mc, sp)
        total = sum(budget[k] for k in V.ENERGY_TERMS)
        for i, (vza, vaa) in enumerate(geoms):
            raa = (0.0 - vaa) % 360.0
            params = CanopyParams(lai=jnp.asarray(lai), lidf_a=jnp.asarray(57.29577951), hotspot=jnp.asarray(0.0),
                                  sza=jnp.asarray(SZA), vza=jnp.asarray(vza), raa=jnp.asarray(raa),
                                  lidf_type="campbell")
            ref = sail(rho, tau, soil[None], params)
            exact1 = _canopy_first(V.single_scattering(scene, sza=SZA, vza=vza, vaa=vaa, samples=2), sp)
            mc1 = _canopy_first(mc.images[i], sp)
            mct = V.render(mc, sp, i, tail=True)[0, 0]
            ref1 = ref.rsos[0]
            for b, band in enumerate(("red", "NIR")):
                rows.append(dict(lai=lai, vza=vza, raa=raa, band=band, sail_single=float(ref1[b]),
                                 exact_single=float(exact1[b]), mc_single=float(mc1[b]), sail_total=float(ref.rsot[0, b]),
                                 mc_total=float(mct[b]), energy_sum=float(total[b]), photons=mc.n_photons,
                                 trace_s=t_mc))
    df = pd.DataFrame(rows)
    for k in ("exact_single", "mc_single", "mc_total"):
        ref = df["sail_total"] if k == "mc_total" else df["sail_single"]
        df[f"{k}_err_pct"] = 100.0 * (df[k] / ref - 1.0)
    return df


# ---- the heterogeneous scene ----------------------------------------------------------------------------------
def stand() -> V.VoxelScene:
    trees = [dict(x=1.2, y=1.2, crown_base=1.2, crown_top=3.6, crown_radius=1.1, species="birch", lad=2.5),
             dict(x=3.8, y=1.0, crown_base=1.0, crown_top=3.2, crown_radius=1.0, species="birch", lad=2.5),
             dict(x=2.6, y=3.6, crown_base=0.9, crown_top=3.9, crown_radius=1.0, species="spruce", lad=3.5,
                  shape="cone"),
             dict(x=0.6, y=3.9, crown_base=1.0, crown_top=3.0, crown_radius=0.7, species="spruce", lad=3.5,
                  shape="cone")]
    return V.crowns_scene(trees, extent=(5.0, 5.0), height=4.0, shape=(20, 20, 16),
                          species_lidf={"birch": None, "spruce": 40.0}, understorey_lai=1.0,
                          understorey_height=0.5)


def truth_spectra(wl) -> tuple[V.ComponentSpectra, object, object]:
    model = lj.ProspectD(wavelengths=wl)
    out = [model(lj.ProspectDParams(*LEAVES[c])) for c in ("birch", "spruce", "understorey")]
    basis = default_soil_basis(4, wavelengths=wl)
    soil = basis(BasisSoilParams(jnp.asarray(SOIL_COEFFS)))
    sp = V.ComponentSpectra(jnp.stack([o.reflectance for o in out]), jnp.stack([o.transmittance for o in out]),
                            jnp.clip(soil, 1e-3, 0.99))
    return sp, model, basis


def _noisy(images, rel, key):
    return [im * (1.0 + rel * jax.random.normal(jax.random.fold_in(key, i), im.shape, im.dtype))
            for i, im in enumerate(images)]


def _scores(name, truth, fit_rho, fit_tau, fit_soil, components, extra) -> list[dict]:
    rows = []
    for i, c in enumerate(components):
        for what, a, b in (("rho", fit_rho[i], truth.rho[i]), ("tau", fit_tau[i], truth.tau[i])):
            rows.append(dict(method=name, component=c, spectrum=what, rmse=float(jnp.sqrt(jnp.mean((a - b) ** 2))),
                             rel_rmse_pct=float(100 * jnp.sqrt(jnp.mean(((a - b) / b) ** 2))), **extra))
    rows.append(dict(method=name, component="soil", spectrum="rho",
                     rmse=float(jnp.sqrt(jnp.mean((fit_soil - truth.soil) ** 2))),
                     rel_rmse_pct=float(100 * jnp.sqrt(jnp.mean(((fit_soil - truth.soil) / truth.soil) ** 2))),
                     **extra))
    return rows


def _retrievals(tallies, images, truth, model, basis, components, extra, prospect=False, smoothness=(0.0,)):
    obs = [ImageObservation(tallies, v, im) for v, im in enumerate(images)]
    rows = []
    for lam in smoothness:
        t0 = time.perf_counter()
        res = retrieve_voxel_spectra(obs, components, smoothness=lam, n_starts=2, lbfgs_steps=100)
        jax.block_until_ready(res.rho)
        rows += _scores(f"free (lambda={lam:g})", truth, res.rho, res.tau, res.soil, components,
                        dict(extra, seconds=time.perf_counter() - t0))
        print(f"    free lambda={lam:g}: {time.perf_counter() - t0:.0f} s, max RMSE {max(r['rmse'] for r in rows[-7:]):.4f}",
              flush=True)
    if prospect:
        t0 = time.perf_counter()
        result, sp = retrieve_voxel_prospect(obs, model, basis, components)
        rows += _scores("PROSPECT-D + soil basis", truth, sp.rho, sp.tau, sp.soil, components,
                        dict(extra, seconds=time.perf_counter() - t0))
        print(f"    PROSPECT: {time.perf_counter() - t0:.0f} s, max RMSE {max(r['rmse'] for r in rows[-7:]):.4f}",
              flush=True)
    return rows


def retrieval(photons: int) -> pd.DataFrame:
    scene = stand()
    wl = np.arange(400.0, 2401.0, 20.0)
    truth, model, basis = truth_spectra(wl)
    comps = scene.components
    t0 = time.perf_counter()
    tal = V.monte_carlo_tallies(scene, jax.random.key(0), n_photons=photons, sza=SZA, views=VIEWS, pixel_size=0.25,
                                max_order=30)
    t_trace = time.perf_counter() - t0
    lai = dict(zip(comps, np.round(np.asarray(scene.lai()), 3)))
    print(f"  scene LAI {lai}; traced {tal.n_photons} photons in {t_trace:.0f} s")
    clean = [V.render(tal, truth, v, tail=True) for v in range(len(VIEWS))]
    rows = []
    rows += _retrievals(tal, clean, truth, model, basis, comps, dict(truth="same tallies (inverse crime)", noise=0.0))
    rows += _retrievals(tal, _noisy(clean, 0.02, jax.random.key(99)), truth, model, basis, comps,
                        dict(truth="same tallies (inverse crime)", noise=0.02))
    t0 = time.perf_counter()
    ind = V.monte_carlo_tallies(scene, jax.random.key(12345), n_photons=2 * photons, sza=SZA, views=VIEWS,
                                pixel_size=0.25, max_order=30)
    print(f"  independent-photon truth: {ind.n_photons} photons in {time.perf_counter() - t0:.0f} s")
    indep = [V.render(ind, truth, v, tail=True) for v in range(len(VIEWS))]
    rows += _retrievals(tal, indep, truth, model, basis, comps, dict(truth="independent photons (2x)", noise=0.0))
    df = pd.DataFrame(rows)
    df["photons"], df["trace_s"] = tal.n_photons, t_trace
    return df


def resolution(photons: int) -> pd.DataFrame:
    scene = stand()
    truth, model, basis = truth_spectra(RESOLUTION_WL)
    rows = []
    for px in (2.5, 0.25, 0.05):
        t0 = time.perf_counter()
        tal = V.monte_carlo_tallies(scene, jax.random.key(1), n_photons=photons, sza=SZA, views=VIEWS, pixel_size=px,
                                    max_order=30)
        t_trace = time.perf_counter() - t0
        print(f"  {px} m pixels: traced in {t_trace:.0f} s, {sum(p.coeff.shape[0] for p in tal.images)} terms")
        clean = [V.render(tal, truth, v, tail=True) for v in range(len(VIEWS))]
        rows += _retrievals(tal, _noisy(clean, 0.02, jax.random.key(7)), truth, model, basis, scene.components,
                            dict(pixel_m=px, noise=0.02, truth="same tallies (inverse crime)"), prospect=False,
                            smoothness=(0.0,))
    return pd.DataFrame(rows)


def photons_stage(photons: int) -> pd.DataFrame:
    """Model-tally noise against an independent truth: the retrieval of ``retrieval`` (21 wavelengths) from the
    images of an independent run (2× ``photons``), with model tallies of ``photons`` and 4× ``photons`` Monte
    Carlo paths, and of the fast path (exact single scattering + ``photons`` paths for orders ≥ 2)."""
    scene = stand()
    wl = np.arange(400.0, 2401.0, 100.0)
    truth, model, basis = truth_spectra(wl)
    kw = dict(sza=SZA, views=VIEWS, pixel_size=0.25, max_order=30)
    t0 = time.perf_counter()
    ind = V.monte_carlo_tallies(scene, jax.random.key(12345), n_photons=2 * photons, **kw)
    print(f"  independent-photon truth: {ind.n_photons} photons in {time.perf_counter() - t0:.0f} s", flush=True)
    indep = [V.render(ind, truth, v, tail=True) for v in range(len(VIEWS))]
    models = {f"Monte Carlo, {photons} photons": lambda: V.monte_carlo_tallies(
                  scene, jax.random.key(0), n_photons=photons, **kw),
              f"fast path (exact single + {photons} photons)": lambda: V.fast_tallies(
                  scene, jax.random.key(0), n_photons=photons, **kw),
              f"Monte Carlo, {4 * photons} photons": lambda: V.monte_carlo_tallies(
                  scene, jax.random.key(0), n_photons=4 * photons, **kw)}
    rows = []
    for name, make in models.items():
        t0 = time.perf_counter()
        tal = make()
        t_trace = time.perf_counter() - t0
        print(f"  model {name}: traced in {t_trace:.0f} s", flush=True)
        rows += _retrievals(tal, indep, truth, model, basis, scene.components,
                            dict(model=name, truth=f"independent photons ({ind.n_photons})", trace_s=t_trace))
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photons", type=int, default=1 << 18, help="photons per homogeneous-scene trace")
    ap.add_argument("--scene-photons", type=int, default=1 << 16, help="photons per heterogeneous-scene trace")
    ap.add_argument("--stages", default="homogeneous,retrieval,resolution")
    ap.add_argument("--quick", action="store_true", help="32k photons (a smoke run; figures not for reporting)")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    a = ap.parse_args(argv)
    unknown = sorted(set(a.stages.split(",")) - set(STAGES))
    if unknown:
        ap.error(f"unknown stage(s) {unknown}; choose from {sorted(STAGES)}")
    photons = 1 << 15 if a.quick else a.photons
    scene_photons = 1 << 14 if a.quick else a.scene_photons
    a.out.mkdir(parents=True, exist_ok=True)
    lines = [f"# canopy3d results: {a.stages}\n\nMachine: {machine()}. Photons per trace: {photons} (homogeneous), {scene_photons} (heterogeneous).\n"]
    for stage in a.stages.split(","):
        t0 = time.perf_counter()
        print(f"[{stage}]")
        df = STAGES[stage](photons if stage == "homogeneous" else scene_photons)
        df.to_csv(a.out / f"{stage}.csv", index=False)
        lines += [f"## {stage} ({time.perf_counter() - t0:.0f} s)\n", markdown(df), ""]
        print(df.round(4).to_string(index=False))
    (a.out / f"summary_{a.stages.replace(',', '_')}.md").write_text("\n".join(lines) + "\n")


def _cross_stage(name: str):
    def stage(photons: int) -> pd.DataFrame:  # photons: the Mitsuba stages use their own defaults
        from . import _cross

        return getattr(_cross, name)()
    return stage


STAGES = {"homogeneous": homogeneous, "retrieval": retrieval, "resolution": resolution, "photons": photons_stage,
          "discrete": _cross_stage("discrete_vs_turbid"), "independent": _cross_stage("independent_retrieval")}

if __name__ == "__main__":
    main()
