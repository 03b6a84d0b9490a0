r"""Monte Carlo tallies of a scene: trace once (in batches), evaluate images and budgets at any spectra.

:func:`monte_carlo_tallies` traces photons in fixed-size batches (one compiled loop, reused), turns the events of
each batch into polynomial rows for every requested view and the energy budget, and collects them into
:class:`SceneTallies`.  :func:`render` evaluates an image at given component spectra (differentiable);
:func:`energy_budget` the reflected / absorbed / residual fractions.

The truncation tail: a path stopped after ``max_order`` scatterings keeps its energy as the residual.  With
``tail=True`` the image adds, per pixel, the geometric series of the further orders predicted from the
recollision probability :math:`p` (Knyazikhin et al. 1998; Huang et al. 2007): the order ``K+1, K+2, …``
contributions are those of order ``K`` times :math:`q, q^2, …` with :math:`q(\lambda) = p\,\bar\omega(\lambda)`,
:math:`\bar\omega` the single-scattering albedo averaged over the components hit at order ``K`` and :math:`p` the
measured fraction of order-``K−1`` scatterings that scatter again — so the tail adds
:math:`R_K\,q/(1 - q)`, still exactly differentiable.

References:
    Knyazikhin, Y. et al. (1998) J. Geophys. Res. 103:32239–32256, doi:10.1029/98JD02461.
    Huang, D. et al. (2007) Remote Sens. Environ. 106:106–122, doi:10.1016/j.rse.2006.08.001.
"""

from __future__ import annotations

from typing import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ._scene import VoxelScene
from ._tally import ENERGY_TERMS, ComponentSpectra, SpectralPolynomial, aggregate, energy_rows, image_rows, image_shape
from ._trace import LEAF, SOIL, trace_paths


class SceneTallies(eqx.Module):
    """Polynomial tallies of one traced scene and illumination.

    **Fields:** ``images``: one :class:`SpectralPolynomial` per view (targets: pixels, row-major over
    ``image_shape``); ``energy``: the budget (targets ``reflected, absorbed_canopy, absorbed_soil, residual``);
    ``weights``: per-basis share of the order-``K`` scatterings (for the tail ω̄), shape ``(e,)``;
    ``recollision``: the measured p; static ``views`` ((vza, vaa) degrees), ``sun`` ((sza, saa) degrees),
    ``image_shape``, ``pixel_size`` (m, ``None``: one pixel), ``n_photons``, ``max_order``; ``unfinished``: photons cut by
    ``max_steps``.
    """

    images: tuple[SpectralPolynomial, ...]
    energy: SpectralPolynomial
    weights: Float[Array, " e"]
    recollision: Float[Array, ""]
    unfinished: int = eqx.field(static=True)
    views: tuple[tuple[float, float], ...] = eqx.field(static=True)
    sun: tuple[float, float] = eqx.field(static=True)
    image_shape: tuple[int, int] = eqx.field(static=True)
    pixel_size: float | None = eqx.field(static=True)
    n_photons: int = eqx.field(static=True)
    max_order: int = eqx.field(static=True)


def _check(scene, n_photons, sza, views, max_order, batch_size):
    if not (isinstance(n_photons, int) and n_photons > 0):
        raise ValueError(f"n_photons must be a positive integer, got {n_photons!r}")
    if not 0.0 <= sza < 89.0:
        raise ValueError(f"sza must be in [0, 89) degrees, got {sza}")
    for vza, _ in views:
        if not 0.0 <= vza < 89.0:
            raise ValueError(f"view zenith angles must be in [0, 89) degrees, got {vza}")
    if not 1 <= max_order <= 120:
        raise ValueError(f"max_order must be in [1, 120], got {max_order}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")


def monte_carlo_tallies(scene: VoxelScene, key: PRNGKeyArray, *, n_photons: int, sza: float, saa: float = 0.0,
                        views: Sequence[tuple[float, float]] = ((0.0, 0.0),), pixel_size: float | None = None,
                        max_order: int = 30, batch_size: int = 1 << 15,
                        max_steps: int | None = None) -> SceneTallies:
    """Trace ``n_photons`` (rounded up to whole batches) and tally images and the energy budget.

    **Arguments:**
    - ``scene``: :class:`VoxelScene`; ``key``: PRNG key (batch ``b`` uses ``fold_in(key, b)``).
    - ``sza``, ``saa``: solar zenith and azimuth (degrees); ``views``: ``(vza, vaa)`` pairs (degrees; the relative
      azimuth is ``saa − vaa``, 0 = hotspot side).
    - ``pixel_size``: image pixel (m), dividing the scene extent; ``None``: one pixel for the whole box.
    - ``max_order``: scatterings kept per path; ``batch_size``: photons per compiled batch.

    **Returns:** :class:`SceneTallies`.
    """
    views = tuple((float(a), float(b)) for a, b in views)
    _check(scene, n_photons, sza, views, max_order, batch_size)
    pixel_size = None if pixel_size is None else float(pixel_size)
    shape = image_shape(scene, pixel_size)
    n_batches = -(-n_photons // batch_size)
    rows = [[] for _ in views]
    erows, unfinished = [], 0
    c = scene.n_components
    last = np.zeros(2 * c + 1)
    counts = np.zeros(2)
    for b in range(n_batches):
        ev = trace_paths(scene, jax.random.fold_in(key, b), n_photons=batch_size, sza=float(sza), saa=float(saa),
                         max_order=max_order, max_steps=max_steps)
        unfinished += int(ev.unfinished)
        for i, (vza, vaa) in enumerate(views):
            rows[i].append(image_rows(scene, ev, vza=vza, vaa=vaa, pixel_size=pixel_size))
        erows.append(energy_rows(scene, ev))
        kind = np.asarray(ev.kind)
        scat = (kind == LEAF) | (kind == SOIL)
        if max_order >= 2:
            counts += [scat[:, max_order - 2].sum(), scat[:, max_order - 1].sum()]
        k_last = kind[:, max_order - 1]
        comp = np.asarray(ev.component)[:, max_order - 1].astype(int)
        np.add.at(last, comp[k_last == LEAF], 0.5)
        np.add.at(last, c + comp[k_last == LEAF], 0.5)
        last[2 * c] += np.sum(k_last == SOIL)
    n_total = n_batches * batch_size
    dt = scene.lad.dtype

    def collect(parts, n_targets):
        t, e, w = (np.concatenate(x) for x in zip(*parts))
        return aggregate(t, e, w / n_total, n_targets, dtype=dt)

    images = tuple(collect(r, shape[0] * shape[1]) for r in rows)
    energy = collect(erows, 4)
    p = counts[1] / counts[0] if counts[0] > 0 else 0.0
    weights = last / last.sum() if last.sum() > 0 else last
    return SceneTallies(images=images, energy=energy, weights=jnp.asarray(weights, dt),
                        recollision=jnp.asarray(p, dt), unfinished=unfinished, views=views,
                        sun=(float(sza), float(saa)), image_shape=shape, pixel_size=pixel_size,
                        n_photons=n_total, max_order=max_order)


def _albedo_weights(tallies: SceneTallies, spectra: ComponentSpectra) -> Array:
    """ω̄(λ) of the tail: ρ+τ of the leaf components and ρ_s, weighted by their share at order K."""
    omega = jnp.concatenate([spectra.rho + spectra.tau, spectra.rho + spectra.tau, spectra.soil[None]], axis=0)
    return jnp.sum(tallies.weights[:, None] * omega, axis=0)


def render(tallies: SceneTallies, spectra: ComponentSpectra, view: int = 0, *, tail: bool = False,
           max_order: int | None = None) -> Float[Array, "nx ny wl"]:
    """Bidirectional reflectance factor image of view ``view`` at the given spectra, shape
    ``(nx, ny, wl)``; ``tail`` adds the recollision tail beyond the truncation order; ``max_order`` keeps only
    terms up to that order (e.g. 1: single scattering)."""
    poly = tallies.images[view]
    values = poly.terms(spectra)
    orders = poly.orders()
    out = poly.sum_terms(values, None if max_order is None else orders <= max_order)
    if tail:
        last = poly.sum_terms(values, orders == tallies.max_order)
        q = tallies.recollision * _albedo_weights(tallies, spectra)
        out = out + last * (q / (1.0 - q))[None]
    return out.reshape(tallies.image_shape + (out.shape[-1],))


def energy_budget(tallies: SceneTallies, spectra: ComponentSpectra) -> dict[str, Array]:
    """Fractions of the incident solar flux (shape ``(wl,)`` each): ``reflected``, ``absorbed_canopy``,
    ``absorbed_soil`` and ``residual`` (truncated paths); they sum to 1 within Monte Carlo noise."""
    out = tallies.energy(spectra)
    return dict(zip(ENERGY_TERMS, out))
