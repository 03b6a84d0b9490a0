r"""Pre-training samples for land-surface temperature: TIGR profiles × land emissivities × LST offsets × view angles.

Rows come in *views* of ``surfaces_per_view`` consecutive rows.  Each view draws, from its own PRNG key
(``fold_in``: the rows do not depend on the chunk size):

* a profile of the pool (uniform), whose surface air temperature :math:`T_a` and column water vapour are recorded;
* the view zenith angle :math:`\theta \sim U(\texttt{vza\_deg})`;

and each row of the view, from its own key:

* a surface: a random convex mixture of 1 to ``max_members`` distinct library spectra (member count uniform,
  weights Dirichlet(``dirichlet_alpha``) over the chosen members), so that the network sees a continuum of surfaces
  between the library spectra rather than a few discrete ones (linear areal mixing of emissivity, neglecting
  cavity effects between the members);
* the skin temperature :math:`T_s = T_a + \Delta`, :math:`\Delta \sim U(\texttt{lst\_offset\_k})`.

The band model gives the atmospheric terms of each view at :math:`\theta` on its channel grid (computed once per
view and shared by its rows: the atmospheric terms do not depend on the surface, which is how MODTRAN-based
training sets are built — terms per profile and angle, surfaces combined analytically; it divides the cost of
the band model, the bulk of the compute, by ``surfaces_per_view``); the top-of-atmosphere radiance
:math:`L = \tau[\varepsilon B(T_s) + (1-\varepsilon)L^\downarrow] + L^\uparrow` is averaged over the band responses
and inverted to band brightness temperatures (:func:`leafjax.physics.thermal.toa_brightness_temperature`);
optional Gaussian noise of standard deviation ``noise_k`` (K, the sensor NEdT) is added to each band BT.

References: Wan, Z. & Dozier, J. (1996) IEEE TGRS 34:892–905 (generalized split-window simulation over
atmospheric profiles, surface emissivities, skin-air temperature differences and view angles);
Jiménez-Muñoz, J. C. & Sobrino, J. A. (2003) JGR 108(D22):4688; Heidarian et al. (2025) Remote Sens. 17:3803
(TIGR × ASTER emissivities × MODTRAN pre-training set).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._parameters import spec
from ..physics.thermal._toa import AtmosphericTerms, toa_brightness_temperature

#: Default skin-minus-air temperature range (K).  At night the skin cools radiatively below the air (a few K to
#: ~10 K under clear, dry skies); by day solar heating lifts it above the air, by up to ~15–20 K over dry bare
#: soil and rock.  Split-window coefficient sets are fitted over ranges of this kind (Wan & Dozier 1996;
#: Jiménez-Muñoz & Sobrino 2003); the asymmetric default covers day and night overpasses.
LST_OFFSET_K: tuple[float, float] = (-10.0, 20.0)
#: Default view zenith range (degrees): a wide-swath imager's scan (the range split-window tables are built for;
#: Wan & Dozier 1996 tabulate up to ~65°).
VZA_DEG: tuple[float, float] = (0.0, 60.0)
#: Most library spectra mixed into one surface.
MAX_MEMBERS: int = 3
#: Dirichlet concentration of the mixing weights (1: uniform on the simplex of the chosen members).
DIRICHLET_ALPHA: float = 1.0
#: Rows sharing one (profile, view angle) draw: 8 keeps ~12,500 distinct atmospheric states per 100,000 rows
#: (each of the ~2,200 pool profiles seen at ~6 angles) and makes the band model a small share of the cost.
SURFACES_PER_VIEW: int = 8
#: Views per batch of the band model inside a chunk (its arrays, ``(batch, layer, channel, k-term)``, then stay
#: cache-sized: on 2 CPU cores a batch of 128 runs ~3× faster per view than one of 1024).
VIEW_BATCH: int = 128


@dataclasses.dataclass(frozen=True)
class LstPrior:
    """Sampling ranges of the LST pre-training simulation (hashable: a static argument of the compiled chunk).

    **Fields:** ``lst_offset_k`` (K, ``(low, high)``: LST minus the profile's surface air temperature, uniform;
    default :data:`LST_OFFSET_K`), ``vza_deg`` (degrees, ``(low, high)`` within 0–89, uniform; default
    :data:`VZA_DEG`), ``max_members`` (1.. spectra mixed per surface; 1 = pure library spectra),
    ``dirichlet_alpha`` (> 0, concentration of the mixing weights) and ``surfaces_per_view`` (≥ 1: consecutive
    rows sharing one profile and view angle, each with its own surface and LST; default
    :data:`SURFACES_PER_VIEW`; 1 = every row its own atmosphere).
    """

    lst_offset_k: tuple[float, float] = LST_OFFSET_K
    vza_deg: tuple[float, float] = VZA_DEG
    max_members: int = MAX_MEMBERS
    dirichlet_alpha: float = DIRICHLET_ALPHA
    surfaces_per_view: int = SURFACES_PER_VIEW

    def __post_init__(self):
        for name in ("lst_offset_k", "vza_deg"):
            v = getattr(self, name)
            if len(v) != 2 or not all(math.isfinite(float(x)) for x in v) or float(v[0]) > float(v[1]):
                raise ValueError(f"LstPrior.{name} must be finite (low, high) with low <= high, got {v}")
            object.__setattr__(self, name, (float(v[0]), float(v[1])))
        vmax = spec("vza").high
        if self.vza_deg[0] < 0.0 or self.vza_deg[1] > vmax:
            raise ValueError(f"LstPrior.vza_deg must lie within 0-{vmax:g} degrees, got {self.vza_deg}")
        if int(self.max_members) != self.max_members or self.max_members < 1:
            raise ValueError(f"LstPrior.max_members must be a positive integer, got {self.max_members}")
        if int(self.surfaces_per_view) != self.surfaces_per_view or self.surfaces_per_view < 1:
            raise ValueError(f"LstPrior.surfaces_per_view must be a positive integer, got {self.surfaces_per_view}")
        if not (math.isfinite(self.dirichlet_alpha) and self.dirichlet_alpha > 0):
            raise ValueError(f"LstPrior.dirichlet_alpha must be a finite number > 0, got {self.dirichlet_alpha}")


def lst_columns(band_names: Sequence[str]) -> tuple[str, ...]:
    """Output columns, in order: ``lst, t_air, wvc, vza, bt_<band>…, emissivity_<band>…, profile, emissivity_id``."""
    return ("lst", "t_air", "wvc", "vza", *(f"bt_{b}" for b in band_names),
            *(f"emissivity_{b}" for b in band_names), "profile", "emissivity_id")


def _draw_view(key, n_profiles: int, prior: LstPrior, dtype):
    """One view's random choices: profile index and view zenith angle (degrees)."""
    kp, kv = jax.random.split(key)
    return jax.random.randint(kp, (), 0, n_profiles), jax.random.uniform(kv, (), dtype, *prior.vza_deg)


def _draw_surface(key, n_spectra: int, n_bands: int, prior: LstPrior, dtype):
    """One row's surface choices: mixture members ``(k,)`` and weights ``(k,)``, LST offset, band noise."""
    km, kn, kw, ko, ke = jax.random.split(key, 5)
    k = min(prior.max_members, n_spectra)
    members = jax.random.choice(km, n_spectra, (k,), replace=False)
    n_active = jax.random.randint(kn, (), 1, k + 1)
    g = jax.random.gamma(kw, jnp.asarray(prior.dirichlet_alpha, dtype), (k,), dtype=dtype)
    g = jnp.where(jnp.arange(k) < n_active, jnp.maximum(g, jnp.finfo(dtype).tiny), 0.0)
    offset = jax.random.uniform(ko, (), dtype, *prior.lst_offset_k)
    return members, g / jnp.sum(g), offset, jax.random.normal(ke, (n_bands,), dtype)


def _view_terms(band_model, profiles, profile, vza):
    """Band-model terms of the views ``(profile, vza)`` (``(view,)`` each), in batches of :data:`VIEW_BATCH`:
    ``(transmittance, path_radiance, downwelling)``, ``(view, nu)`` each."""
    def one(x):
        t = band_model(profiles[x[0]], x[1])
        return t.transmittance, t.path_radiance, t.downwelling

    return jax.lax.map(one, (profile, vza), batch_size=min(VIEW_BATCH, vza.shape[0]))


@eqx.filter_jit
def _chunk(key, rows, band_model, profiles, wvc, emissivities, srf, noise_k, prior: LstPrior):
    """Simulate the rows ``rows`` (global row numbers, ``(chunk,)``, starting at a multiple of
    ``prior.surfaces_per_view``, a divisor of the chunk): one compiled program per chunk shape."""
    dtype = emissivities.dtype
    m = prior.surfaces_per_view
    key_view, key_surface = jax.random.split(key)
    views = rows[::m] // m
    fold = jax.vmap(jax.random.fold_in, in_axes=(None, 0))
    profile, vza = jax.vmap(lambda k: _draw_view(k, wvc.shape[0], prior, dtype))(fold(key_view, views))
    draw = jax.vmap(lambda k: _draw_surface(k, emissivities.shape[0], srf.n_bands, prior, dtype))
    members, weights, offset, noise = draw(fold(key_surface, rows))
    tau, path, down = _view_terms(band_model, profiles, profile, vza)
    row_view = jnp.arange(rows.shape[0]) // m
    terms = AtmosphericTerms(jnp.asarray(band_model.wavenumber, dtype), tau[row_view], path[row_view],
                             down[row_view])
    t_air = profiles.surface_air_temperature[profile][row_view]
    lst = t_air + offset
    eps = jnp.einsum("bk,bkn->bn", weights, emissivities[members])
    bt = toa_brightness_temperature(terms, eps, lst, srf) + noise_k * noise
    eps_band = eps @ jnp.asarray(srf.weights, dtype).T
    dominant = jnp.take_along_axis(members, jnp.argmax(weights, axis=-1)[:, None], axis=-1)[:, 0]
    return lst, t_air, wvc[profile][row_view], vza[row_view], bt, eps_band, profile[row_view], dominant


def _check(n, band_model, profiles, emissivities, srf, prior, chunk_size, noise_k, profile_ids, emissivity_ids):
    if int(n) != n or not 1 <= n < 2**31:
        raise ValueError(f"n must be a positive integer below 2**31, got {n}")
    if int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    if not (math.isfinite(noise_k) and noise_k >= 0):
        raise ValueError(f"noise_k must be a finite number >= 0 (K), got {noise_k}")
    if not isinstance(prior, LstPrior):
        raise TypeError(f"prior must be an LstPrior, got {type(prior).__name__}")
    if chunk_size % prior.surfaces_per_view and chunk_size < n:
        raise ValueError(f"chunk_size ({chunk_size}) must be a multiple of prior.surfaces_per_view "
                         f"({prior.surfaces_per_view}) when it is smaller than n")
    nu = np.asarray(band_model.wavenumber)
    if np.ndim(emissivities) != 2 or np.shape(emissivities)[1] != nu.size or np.shape(emissivities)[0] < 1:
        raise ValueError(f"emissivities must be (spectrum, {nu.size}) on the band model's channel grid, got shape "
                         f"{np.shape(emissivities)}")
    e = np.asarray(emissivities)
    if not (np.all(np.isfinite(e)) and np.all(e > 0.0) and np.all(e <= 1.0)):
        raise ValueError("emissivities must be finite and within (0, 1]")
    grid = np.asarray(srf.wavelengths)
    if srf.unit != "cm-1" or grid.shape != nu.shape or not np.allclose(grid, nu, rtol=1e-9, atol=1e-9):
        raise ValueError("the band responses (srf) must be on the band model's channel grid (wavenumber, cm-1)")
    if profiles.temperature.ndim != 2 or profiles.temperature.shape[0] < 1:
        raise ValueError(f"profiles must be a 1-D batch of atmospheres, got temperature of shape "
                         f"{tuple(profiles.temperature.shape)}")
    profiles.validate()
    for name, ids, size in (("profile_ids", profile_ids, profiles.temperature.shape[0]),
                            ("emissivity_ids", emissivity_ids, e.shape[0])):
        if ids is not None and np.shape(ids) != (size,):
            raise ValueError(f"{name} must have shape ({size},), got {np.shape(ids)}")


def iter_simulate_lst(key, n: int, band_model, profiles, emissivities, srf, prior: LstPrior | None = None, *,
                      chunk_size: int = 8192, noise_k: float = 0.0, profile_ids: Sequence[int] | np.ndarray | None = None,
                      emissivity_ids: Sequence[int] | np.ndarray | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Yield the samples of :func:`simulate_lst` in chunks of ``chunk_size`` rows (dicts of NumPy columns).

    Every chunk is computed at the full ``chunk_size`` (the last one padded, the padding dropped), so one program
    is compiled per chunk size; arguments are checked before anything is computed.
    """
    prior = LstPrior() if prior is None else prior
    _check(n, band_model, profiles, emissivities, srf, prior, chunk_size, noise_k, profile_ids, emissivity_ids)
    dtype = jnp.asarray(profiles.temperature).dtype
    e = jnp.asarray(emissivities, dtype)
    wvc = jnp.asarray(profiles.column_water_vapour(), dtype)
    pid = None if profile_ids is None else np.asarray(profile_ids, dtype=np.int64)
    eid = None if emissivity_ids is None else np.asarray(emissivity_ids, dtype=np.int64)
    names = lst_columns(srf.band_names)
    m = prior.surfaces_per_view
    size = min(int(chunk_size), -(-int(n) // m) * m)  # a single chunk: n rounded up to whole views

    def launch(start):  # asynchronous dispatch: the next chunk computes while the previous one is written
        rows = jnp.arange(start, start + size, dtype=jnp.int32)
        return start, _chunk(key, rows, band_model, profiles, wvc, e, srf, jnp.asarray(noise_k, dtype), prior)

    starts = range(0, int(n), size)
    pending = launch(starts[0])
    for nxt in [*starts[1:], None]:
        start, out = pending
        pending = launch(nxt) if nxt is not None else None
        stop = min(start + size, int(n))
        lst, t_air, w, vza, bt, eps, profile, dominant = (np.asarray(v)[: stop - start] for v in out)
        profile = profile.astype(np.int64) if pid is None else pid[profile]
        dominant = dominant.astype(np.int64) if eid is None else eid[dominant]
        yield dict(zip(names, [lst, t_air, w, vza, *bt.T, *eps.T, profile, dominant], strict=True))


def simulate_lst(key, n: int, band_model, profiles, emissivities, srf, prior: LstPrior | None = None, *,
                 chunk_size: int = 8192, noise_k: float = 0.0, profile_ids: Sequence[int] | np.ndarray | None = None,
                 emissivity_ids: Sequence[int] | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Simulate ``n`` LST pre-training samples (see the module docstring for the sampling scheme).

    **Arguments:**
    - ``key``: a JAX PRNG key (``jax.random.key(seed)``); row ``i`` draws its surface from key ``i`` and its view
      (profile, angle) from key ``i // prior.surfaces_per_view`` of two ``fold_in`` sequences only, so the samples
      do not depend on ``chunk_size``.
    - ``n``: number of samples.
    - ``band_model``: a fitted :class:`leafjax.physics.thermal.BandModel` (callable ``(atm, vza_deg) ->
      AtmosphericTerms`` on its channel grid ``band_model.wavenumber``, cm⁻¹).
    - ``profiles``: a batched :class:`~leafjax.physics.thermal.Atmosphere` ``(profile, level)`` (the pool, e.g.
      ``tigr.atmospheres[pretraining_pool(tigr)]``); its dtype is the simulation dtype.
    - ``emissivities``: ``(spectrum, nu)`` library on the channel grid (:func:`emissivity_library`).
    - ``srf``: band responses on the channel grid (``SpectralResponse``, unit ``"cm-1"``, e.g.
      ``vimi_response(band_model.wavenumber)``).
    - ``prior``: :class:`LstPrior` (default ranges when ``None``).
    - ``chunk_size``: rows per compiled batch (a multiple of ``prior.surfaces_per_view`` unless ≥ ``n``; the band
      model runs inside it in batches of :data:`VIEW_BATCH` views, so memory stays small); ``noise_k``: band-BT noise
      standard deviation (K, Gaussian NEdT); ``profile_ids``/``emissivity_ids``: identifiers written to the
      ``profile``/``emissivity_id`` columns instead of the positions in ``profiles``/``emissivities`` (e.g. TIGR
      rows and emissivity-file columns).

    **Returns:** NumPy columns (``(n,)`` each; :func:`lst_columns`): ``lst`` (K), ``t_air`` (K, surface air
    temperature of the profile), ``wvc`` (g cm⁻²), ``vza`` (degrees), ``bt_<band>`` (K, TOA band brightness
    temperatures, with noise), ``emissivity_<band>`` (band-averaged surface emissivity, the same response weights
    over the channel grid), ``profile`` and ``emissivity_id`` (the dominant mixture member), both ``int64``.
    """
    chunks = list(iter_simulate_lst(key, n, band_model, profiles, emissivities, srf, prior, chunk_size=chunk_size,
                                    noise_k=noise_k, profile_ids=profile_ids, emissivity_ids=emissivity_ids))
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
