r"""Component spectra of a 3-D voxel scene retrieved from canopy reflectance images of known structure.

The structure (a :class:`~leafjax.physics.voxel.VoxelScene`) and the sun/view geometry are known; each image has
been traced once into :class:`~leafjax.physics.voxel.SceneTallies`, whose polynomials give the image — and its
exact Jacobian — at any component spectra.  Observations are one or more images ``(nx, ny, wl)`` at any pixel
size and view (:class:`ImageObservation`), on one wavelength grid.  Two retrievals (after Qi et al. 2025, 3D-Diff):

**(a) Spectrally free** (:func:`retrieve_voxel_spectra`): per wavelength and component the leaf single-scattering
albedo :math:`\omega_c = \rho_c + \tau_c \in (0, \omega_{max})` and the reflected fraction
:math:`f_c = \rho_c/\omega_c \in (0, 1)` — so :math:`\rho_c, \tau_c > 0` and :math:`\rho_c + \tau_c < 1` — and
the soil reflectance :math:`r_s \in (0, 1)`.  Without the smoothness prior the wavelengths decouple: one row per
wavelength, ``2C + 1`` bounded parameters, one residual per pixel of every image, solved by the shared batch
inversion core (:func:`leafjax.inversion.invert` with :class:`VoxelSpectraProblem`, any solver; Laplace
uncertainties and quality flags per wavelength).  With the second-difference prior of weight :math:`\lambda`

.. math:: \tfrac12\sum_{\lambda}\lVert (R(\lambda) - y(\lambda))\odot w\rVert^2
          + \tfrac{\lambda}{2}\sum_{x\in\{\rho_c, \tau_c, r_s\}}\sum_b (x_{b-1} - 2x_b + x_{b+1})^2

is then minimised from that start by L-BFGS (as in the 1-D retrieval :func:`retrieve_free_spectra`).

**(b) Parametric** (:class:`VoxelProspectProblem`): a PROSPECT model per component (its parameters shared by all
pixels) and an :class:`~leafjax.physics.soil.BasisSoil` for the soil, one row with ``Σ pixels × wl`` residuals,
solved by the same :func:`invert`.

Identifiability: a component's :math:`\rho` and :math:`\tau` separate through the leaf-angle and view dependence
of the single-scattering weights and through the pixels where it is seen lit or from below; a component never hit
by a path that reaches a sensor (e.g. fully shaded soil in every image) is not identified — its wavelength rows
have large ``std`` and its estimate stays at the prior/start.

Reference:
    Qi, J., Wei, S., Xia, X., Xie, D. (2025) Remote Sens. Environ., doi:10.1016/j.rse.2025.115115.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..physics.voxel import ComponentSpectra, SceneTallies, render
from ._invert import invert
from ._problem import AbstractProblem
from ._result import InversionResult
from ._retrieval import MAX_LEAF_ALBEDO, PROSPECT_RETRIEVAL_BOUNDS, SOIL_COEFFICIENT_BOUND, _lbfgs
from ._retrieval import second_difference_penalty

#: Bounds of the free parametrisation: reflected fraction ρ/(ρ+τ) and soil reflectance (fractions).
FRACTION_BOUNDS: tuple[float, float] = (1e-3, 1.0 - 1e-3)
SOIL_BOUNDS: tuple[float, float] = (1e-4, 1.0 - 1e-4)
ALBEDO_BOUNDS: tuple[float, float] = (1e-4, MAX_LEAF_ALBEDO)
#: Plausible range of an image pixel's BRF: not bounded by 1 (the hotspot, and the Monte Carlo estimate of a small
#: pixel hit by few paths can exceed it: 1.3 at 0.05 m pixels and 16k photons in the canopy3d stand), so only gross
#: errors (e.g. percent or DN images) are flagged out_of_range (the wavelength is then not inverted).
PIXEL_BRF_RANGE: tuple[float, float] = (-1.0, 10.0)
#: Starting points of the free retrieval (albedo, reflected fraction, soil), tried in order with ``n_starts``.
FREE_STARTS: tuple[tuple[float, float, float], ...] = ((0.6, 0.5, 0.2), (0.15, 0.6, 0.1), (0.9, 0.5, 0.3),
                                                       (0.3, 0.4, 0.5))


class ImageObservation(NamedTuple):
    """One observed image: the scene's ``tallies`` (traced for its sun), the ``view`` index into
    ``tallies.views`` and the ``image`` ``(nx, ny, wl)`` of BRF (fractions), on ``tallies.image_shape``."""

    tallies: SceneTallies
    view: int
    image: ArrayLike


def _check_observations(observations: Sequence[ImageObservation]) -> tuple[int, int]:
    """Validate shapes; return ``(n_components, wl)``."""
    if not observations:
        raise ValueError("pass at least one ImageObservation")
    c = wl = None
    for i, ob in enumerate(observations):
        if not isinstance(ob, ImageObservation):
            raise ValueError(f"observation {i} must be an ImageObservation(tallies, view, image)")
        n_c = (ob.tallies.images[0].exponents.shape[1] - 1) // 2
        if not 0 <= ob.view < len(ob.tallies.views):
            raise ValueError(f"observation {i}: view {ob.view} not in the {len(ob.tallies.views)} traced views")
        shape = np.shape(ob.image)
        if len(shape) != 3 or tuple(shape[:2]) != ob.tallies.image_shape:
            raise ValueError(f"observation {i}: image must be (nx, ny, wl) with (nx, ny) = "
                             f"{ob.tallies.image_shape}, got {shape}")
        if c is None:
            c, wl = n_c, shape[2]
        elif (n_c, shape[2]) != (c, wl):
            raise ValueError(f"observation {i} has {n_c} components and {shape[2]} wavelengths, the first {c} "
                             f"and {wl}")
    return c, wl


def _images(tallies: tuple[SceneTallies, ...], views: tuple[int, ...], spectra: ComponentSpectra,
            tail: bool) -> Float[Array, "n_obs wl"]:
    """All modelled pixels, stacked ``(Σ pixels, wl)``."""
    out = [render(t, spectra, v, tail=tail) for t, v in zip(tallies, views)]
    return jnp.concatenate([o.reshape(-1, o.shape[-1]) for o in out], axis=0)


def stack_observations(observations: Sequence[ImageObservation], dtype=None) -> Float[Array, "n_obs wl"]:
    """The observed pixels of all images, stacked in the order of the model, ``(Σ pixels, wl)``."""
    return jnp.concatenate([jnp.asarray(ob.image, dtype).reshape(-1, np.shape(ob.image)[2])
                            for ob in observations], axis=0)


def free_parameter_names(components: Sequence[str]) -> tuple[str, ...]:
    """``(<c>_albedo, <c>_rho_fraction for each component…, "soil")``."""
    return tuple(n for c in components for n in (f"{c}_albedo", f"{c}_rho_fraction")) + ("soil",)


def theta_to_spectra(theta: Float[Array, "b p"], n_components: int) -> ComponentSpectra:
    """Bounded per-row parameters (rows = wavelengths) → :class:`ComponentSpectra` with ``wl = b``."""
    omega, frac = theta[:, 0:2 * n_components:2], theta[:, 1:2 * n_components:2]
    rho = omega * frac
    return ComponentSpectra(rho=rho.T, tau=(omega - rho).T, soil=theta[:, 2 * n_components])


class VoxelSpectraProblem(AbstractProblem):
    """Free component spectra, one row per wavelength (see the module docstring); final.

    Build with :func:`make_voxel_spectra_problem`.  Observation vector of a row: every pixel of every image at
    that wavelength, ``(n_obs,)``; reported estimates per row: the free parameters and, derived (with their
    propagated 1-σ), ``<c>_rho``, ``<c>_tau`` of each component.
    """

    free: tuple[str, ...] = eqx.field(static=True)
    low: Float[Array, " p"]
    high: Float[Array, " p"]
    band_weight: Float[Array, " n_obs"]
    tallies: tuple[SceneTallies, ...]
    views: tuple[int, ...] = eqx.field(static=True)
    components: tuple[str, ...] = eqx.field(static=True)
    tail: bool = eqx.field(static=True, default=True)

    def predict(self, theta, context):
        spectra = theta_to_spectra(theta, len(self.components))
        return _images(self.tallies, self.views, spectra, self.tail).T

    def estimates(self, theta, context):
        return {n: theta[:, i] for i, n in enumerate(self.free)}

    def derived(self, theta, context):
        sp = theta_to_spectra(theta, len(self.components))
        out = {}
        for i, c in enumerate(self.components):
            out[f"{c}_rho"], out[f"{c}_tau"] = sp.rho[i], sp.tau[i]
        return out

    def observation_range(self):
        """Pixel BRF: :data:`PIXEL_BRF_RANGE` (not the fraction checks: a pixel's BRF may exceed 1)."""
        return PIXEL_BRF_RANGE

    def initial_guess(self, obs, weight, context, n_starts):
        c = len(self.components)
        starts = [[a, f] * c + [s] for a, f, s in FREE_STARTS[:n_starts]]
        theta = jnp.asarray(starts, self.dtype)
        z = self.to_unconstrained(theta)
        return jnp.broadcast_to(z[None], (obs.shape[0],) + z.shape)

    def context(self, fixed, size, batch):
        if fixed:
            raise ValueError(f"a voxel spectra problem has no fixed parameters, got {sorted(fixed)}")
        return {}


def make_voxel_spectra_problem(observations: Sequence[ImageObservation], components: Sequence[str] | None = None, *,
                               image_weights: Sequence[float] | None = None, tail: bool = True,
                               dtype=None) -> VoxelSpectraProblem:
    """The :class:`VoxelSpectraProblem` of ``observations``; ``components`` names them (default ``c0, c1, …``);
    ``image_weights`` (one per image, default 1) weight every pixel of an image (e.g. ``1/σ``, or
    ``1/sqrt(pixels)`` to give images of different resolution equal say); ``tail`` the recollision tail."""
    c, _ = _check_observations(observations)
    names = tuple(components) if components is not None else tuple(f"c{i}" for i in range(c))
    if len(names) != c:
        raise ValueError(f"{len(names)} component names for {c} components")
    dt = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    iw = [1.0] * len(observations) if image_weights is None else [float(w) for w in image_weights]
    if len(iw) != len(observations) or not all(np.isfinite(w) and w >= 0 for w in iw):
        raise ValueError(f"image_weights must be {len(observations)} non-negative numbers, got {image_weights!r}")
    weight = np.concatenate([np.full(int(np.prod(ob.tallies.image_shape)), w) for ob, w in zip(observations, iw)])
    low = [ALBEDO_BOUNDS[0], FRACTION_BOUNDS[0]] * c + [SOIL_BOUNDS[0]]
    high = [ALBEDO_BOUNDS[1], FRACTION_BOUNDS[1]] * c + [SOIL_BOUNDS[1]]
    return VoxelSpectraProblem(free=free_parameter_names(names), low=jnp.asarray(low, dt), high=jnp.asarray(high, dt),
                               band_weight=jnp.asarray(weight, dt), tallies=tuple(ob.tallies for ob in observations),
                               views=tuple(int(ob.view) for ob in observations), components=names, tail=tail)


class VoxelRetrieval(eqx.Module):
    """Retrieved component spectra: ``rho``, ``tau`` ``(c, wl)``, ``soil`` ``(wl,)`` (fractions); ``per_band``: the
    per-wavelength :class:`~leafjax.inversion.InversionResult` of the shared core (rows = wavelengths; its
    ``std``, ``quality`` and ``status`` refer to that unregularised stage); ``fitted``: the model pixels at the
    final spectra ``(n_obs, wl)``; ``loss``: the final objective (with the prior); ``components``: names."""

    rho: Float[Array, "c wl"]
    tau: Float[Array, "c wl"]
    soil: Float[Array, " wl"]
    per_band: InversionResult
    fitted: Float[Array, "n_obs wl"]
    loss: Float[Array, ""]
    components: tuple[str, ...] = eqx.field(static=True)

    def spectra(self) -> ComponentSpectra:
        return ComponentSpectra(self.rho, self.tau, self.soil)


def retrieve_voxel_spectra(observations: Sequence[ImageObservation], components: Sequence[str] | None = None, *,
                           smoothness: float = 0.0, solver=None, n_starts: int = 2,
                           image_weights: Sequence[float] | None = None, noise_std: float | None = None,
                           tail: bool = True, lbfgs_steps: int = 300) -> VoxelRetrieval:
    """Approach (a) of the module docstring: per-wavelength inversion by :func:`invert` (``solver``: any batched
    solver, default Levenberg–Marquardt; ``n_starts`` of :data:`FREE_STARTS`), then, if ``smoothness > 0``,
    L-BFGS on the joint objective with the second-difference prior (``lbfgs_steps`` iterations).

    **Arguments:** ``observations`` (:class:`ImageObservation`, one wavelength grid), ``components`` (names),
    ``image_weights`` (see :func:`make_voxel_spectra_problem`), ``noise_std`` (observation σ for the
    uncertainties, fractions; ``None``: estimated per wavelength), ``tail``.

    **Returns:** :class:`VoxelRetrieval`.
    """
    if not (np.isfinite(smoothness) and smoothness >= 0):
        raise ValueError(f"smoothness must be a non-negative number, got {smoothness!r}")
    if not 1 <= n_starts <= len(FREE_STARTS):
        raise ValueError(f"n_starts must be in [1, {len(FREE_STARTS)}], got {n_starts}")
    problem = make_voxel_spectra_problem(observations, components, image_weights=image_weights, tail=tail)
    obs = stack_observations(observations, problem.dtype)  # (n_obs, wl)
    per_band = invert(problem, obs.T, solver=solver, n_starts=n_starts, noise_std=noise_std)
    theta = jnp.stack([per_band.estimates[n] for n in problem.free], axis=1)  # (wl, p)
    c = len(problem.components)
    z = problem.to_unconstrained(theta)
    if smoothness > 0 and lbfgs_steps > 0:
        z = _smooth(problem, obs, z, float(smoothness), int(lbfgs_steps))
    return _finish(problem, obs, z, per_band, float(smoothness), c)


@eqx.filter_jit
def _objective(problem: VoxelSpectraProblem, obs, z, smoothness):
    c = len(problem.components)
    sp = theta_to_spectra(problem.to_bounded(z), c)
    model = _images(problem.tallies, problem.views, sp, problem.tail)
    finite = jnp.isfinite(obs)
    r = jnp.where(finite, model - jnp.where(finite, obs, 0.0), 0.0) * problem.band_weight[:, None]
    prior = second_difference_penalty(jnp.concatenate([sp.rho, sp.tau, sp.soil[None]], axis=0))
    return 0.5 * jnp.sum(r * r) + 0.5 * smoothness * prior


@eqx.filter_jit
def _smooth_jit(problem, obs, z, smoothness, steps: int):
    return _lbfgs(lambda zz: _objective(problem, obs, zz, smoothness), z, steps)[0]


def _smooth(problem, obs, z, smoothness, steps):
    z_new = _smooth_jit(problem, obs, z, jnp.asarray(smoothness, z.dtype), steps)
    # keep the start if the line search failed somewhere (non-finite) — never return a worse fit
    ok = bool(jnp.all(jnp.isfinite(z_new)))
    return z_new if ok else z


def _finish(problem, obs, z, per_band, smoothness, c) -> VoxelRetrieval:
    sp = theta_to_spectra(problem.to_bounded(z), c)
    fitted = _images(problem.tallies, problem.views, sp, problem.tail)
    loss = _objective(problem, obs, z, jnp.asarray(smoothness, z.dtype))
    return VoxelRetrieval(rho=sp.rho, tau=sp.tau, soil=sp.soil, per_band=per_band, fitted=fitted, loss=loss,
                          components=problem.components)


class VoxelProspectProblem(AbstractProblem):
    """Approach (b): PROSPECT parameters per component and soil-basis coefficients, one row per scene; final.

    Build with :func:`make_voxel_prospect_problem`.  Observation vector: every pixel of every image at every
    wavelength, pixel-major ``(Σ pixels · wl,)``; free names ``<component>.<prospect name>`` and ``soil_<k>``.
    """

    free: tuple[str, ...] = eqx.field(static=True)
    low: Float[Array, " p"]
    high: Float[Array, " p"]
    band_weight: Float[Array, " n_obs"]
    tallies: tuple[SceneTallies, ...]
    leaf_model: eqx.Module
    soil_model: eqx.Module
    views: tuple[int, ...] = eqx.field(static=True)
    components: tuple[str, ...] = eqx.field(static=True)
    leaf_names: tuple[str, ...] = eqx.field(static=True)
    start: Float[Array, " p"]
    tail: bool = eqx.field(static=True, default=True)

    def spectra(self, theta: Float[Array, " p"]) -> ComponentSpectra:
        """Component spectra at one row's bounded parameters."""
        from ..physics.soil._soil import BasisSoilParams

        k = len(self.leaf_names)
        rho, tau = [], []
        for i in range(len(self.components)):
            p = theta[i * k:(i + 1) * k]
            out = self.leaf_model(self.leaf_model.params_type(**{n: p[j] for j, n in enumerate(self.leaf_names)}))
            rho.append(out.reflectance)
            tau.append(out.transmittance)
        soil = self.soil_model(BasisSoilParams(theta[len(self.components) * k:]))
        return ComponentSpectra(jnp.stack(rho), jnp.stack(tau), soil)

    def predict(self, theta, context):
        one = lambda t: _images(self.tallies, self.views, self.spectra(t), self.tail).reshape(-1)  # noqa: E731
        return jax.vmap(one)(theta)

    def estimates(self, theta, context):
        return {n: theta[:, i] for i, n in enumerate(self.free)}

    def observation_range(self):
        """Pixel BRF: :data:`PIXEL_BRF_RANGE` (not the fraction checks: a pixel's BRF may exceed 1)."""
        return PIXEL_BRF_RANGE

    def initial_guess(self, obs, weight, context, n_starts):
        z = self.to_unconstrained(self.start[None])
        return jnp.broadcast_to(z[None], (obs.shape[0], n_starts, z.shape[-1]))

    def context(self, fixed, size, batch):
        if fixed:
            raise ValueError(f"a voxel PROSPECT problem has no fixed parameters, got {sorted(fixed)}")
        return {}


#: Starting PROSPECT values of the parametric retrieval (canonical units).
PROSPECT_START: Mapping[str, float] = {"n_struct": 1.5, "chl": 40.0, "car": 8.0, "ant": 1.0, "brown": 0.1,
                                       "ewt": 0.012, "lma": 0.006, "prot": 0.001, "cbc": 0.005}


def make_voxel_prospect_problem(observations: Sequence[ImageObservation], leaf_model, soil_model,
                                components: Sequence[str] | None = None, *, tail: bool = True
                                ) -> VoxelProspectProblem:
    """The :class:`VoxelProspectProblem` of ``observations`` with ``leaf_model`` (a PROSPECT model on the image
    wavelengths, the same for every component) and ``soil_model`` (:class:`~leafjax.physics.soil.BasisSoil`)."""
    c, wl = _check_observations(observations)
    names = tuple(components) if components is not None else tuple(f"c{i}" for i in range(c))
    if len(names) != c:
        raise ValueError(f"{len(names)} component names for {c} components")
    if leaf_model.wavelengths.shape[0] != wl or soil_model.wavelengths.shape[0] != wl:
        raise ValueError(f"leaf and soil models must be on the {wl} image wavelengths")
    leaf_names = tuple(leaf_model.params_type.names)
    k = soil_model.n_components
    dt = leaf_model.wavelengths.dtype
    low = [PROSPECT_RETRIEVAL_BOUNDS[n][0] for n in leaf_names] * c + [-SOIL_COEFFICIENT_BOUND] * k
    high = [PROSPECT_RETRIEVAL_BOUNDS[n][1] for n in leaf_names] * c + [SOIL_COEFFICIENT_BOUND] * k
    start = [PROSPECT_START[n] for n in leaf_names] * c + [0.0] * k
    free = tuple(f"{cn}.{n}" for cn in names for n in leaf_names) + tuple(f"soil_{i}" for i in range(k))
    n_obs = sum(int(np.prod(ob.tallies.image_shape)) for ob in observations) * wl
    return VoxelProspectProblem(free=free, low=jnp.asarray(low, dt), high=jnp.asarray(high, dt),
                                band_weight=jnp.ones(n_obs, dt), tallies=tuple(ob.tallies for ob in observations),
                                leaf_model=leaf_model, soil_model=soil_model,
                                views=tuple(int(ob.view) for ob in observations), components=names,
                                leaf_names=leaf_names, start=jnp.asarray(start, dt), tail=tail)


def retrieve_voxel_prospect(observations: Sequence[ImageObservation], leaf_model, soil_model,
                            components: Sequence[str] | None = None, *, solver=None, tail: bool = True,
                            noise_std: float | None = None) -> tuple[InversionResult, ComponentSpectra]:
    """Approach (b): invert :func:`make_voxel_prospect_problem` with the shared core; returns the
    :class:`~leafjax.inversion.InversionResult` (one row) and the component spectra at its estimates."""
    problem = make_voxel_prospect_problem(observations, leaf_model, soil_model, components, tail=tail)
    obs = stack_observations(observations, problem.dtype).reshape(1, -1)
    result = invert(problem, obs, solver=solver, noise_std=noise_std)
    theta = jnp.stack([result.estimates[n][0] for n in problem.free])
    return result, problem.spectra(theta)
