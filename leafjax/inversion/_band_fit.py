r"""Fit the layered band model (:class:`leafjax.physics.thermal.BandModel`) to a line-by-line reference.

Every channel is an independent least-squares problem in its ~13 coefficients, solved for all channels at once
by a batched Levenberg–Marquardt iteration (one row per channel; Jacobians by forward-mode tangents,
:func:`._lm.linearise`; Marquardt's diagonal damping; steps longer than :data:`MAX_STEP` in coefficient space
shortened — without that limit some channels jump into an opaque-term basin and stall), in float64.  The
residuals of channel :math:`c` over the calibration atmospheres :math:`a`, in kelvin of brightness temperature
(divided by :math:`\partial B/\partial T` at 280 K):

.. math::
    r^\tau_{ac} = \frac{(\tau^m - \bar\tau)B(\tilde\nu_c, 290\,K)}{B'_c}, \quad
    r^\uparrow_{ac} = \frac{L^{\uparrow m} - \bar L^\uparrow}{B'_c}, \quad
    r^\downarrow_{ac} = w_\downarrow\frac{(\tau L^\downarrow)^m - \overline{\tau L^\downarrow}}{B'_c}, \quad
    r^\theta_c = \lambda(\theta_c - \theta_{0})

(bars: channel means of the 1-cm⁻¹ reference; the transmittance error matters as much as a radiance error of
:math:`\delta\tau\,B(T_s)`; the reflected term is weighted by :math:`w_\downarrow` ≈ a large (1 − ε); the last
term is a weak ridge towards the physical starting point :math:`\theta_0` that keeps unconstrained directions —
e.g. a k-term that has become opaque — from drifting).  The reference is nadir; the downwelling hemispheric.

:func:`cached_band_model` fits once per data, settings and leafjax version and keeps the result in the user's
cache folder (never in the repository: the reference data are unlicensed, see ``docs/thermal.md``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._version import __version__
from ..core._cache import CACHE_DIR_ENV
from ..data._thermal import (CONTINUUM_FILE, LAND_EMISSIVITY_COLUMNS, TRUTH_FILE, LwirTruth, load_lwir_truth,
                             split_truth, truth_band_brightness_temperature)
from ..physics.thermal._atmosphere import Atmosphere
from ..physics.thermal._bandmodel import (BAND_MODEL_VERSION, DEFAULT_CHANNEL_WIDTH, BandCoefficients, BandModel,
                                          channel_grid, channel_means, term_products)
from ..physics.thermal._planck import planck_wavenumber, planck_wavenumber_derivatives
from ..physics.thermal._toa import toa_brightness_temperature
from ._lm import linearise

#: Default fit settings: LM iterations, ridge weight λ (K per unit coefficient), weight of the reflected term
#: w↓, k-terms per channel and downwelling quadrature nodes.
DEFAULT_STEPS: int = 40
DEFAULT_RIDGE: float = 0.03
DEFAULT_DOWNWELLING_WEIGHT: float = 0.3
DEFAULT_TERMS: int = 2
DEFAULT_QUADRATURE: int = 2
#: XLA CPU backend optimisation level of the fit's program (XLA's default).
FIT_OPTIMIZATION_LEVEL: int = 2
#: Longest LM step (Euclidean norm in coefficient space; log-strengths are natural-log units).
MAX_STEP: float = 2.0
#: Temperatures (K) of the residual scaling: B(ν, 290 K) for transmittance, ∂B/∂T at 280 K for radiances.
_T_SURFACE_SCALE_K, _T_DERIVATIVE_K = 290.0, 280.0


def _pack(c: BandCoefficients) -> jax.Array:
    """Coefficients → ``(nu, p)`` rows (fields in declaration order, k-term fields contributing k columns)."""
    leaves = jax.tree.leaves(c)
    return jnp.concatenate([v.reshape(v.shape[0], -1) for v in leaves], axis=1)


def _unpacker(template: BandCoefficients):
    leaves, tree = jax.tree.flatten(template)
    widths = [int(np.prod(v.shape[1:])) for v in leaves]
    shapes = [v.shape[1:] for v in leaves]

    def unpack(z):
        out, i = [], 0
        for w, s in zip(widths, shapes):
            out.append(z[:, i:i + w].reshape(z.shape[0], *s))
            i += w
        return jax.tree.unflatten(tree, out)

    return unpack


def _as64(atm: Atmosphere) -> Atmosphere:
    return jax.tree.map(lambda v: jnp.asarray(np.asarray(v, dtype=np.float64)), atm)


def fit_band_model(truth: LwirTruth, indices, *, channel_width: int = DEFAULT_CHANNEL_WIDTH,
                   steps: int = DEFAULT_STEPS, seed: int = 0, n_terms: int = DEFAULT_TERMS,
                   n_quadrature: int = DEFAULT_QUADRATURE, ridge: float = DEFAULT_RIDGE,
                   downwelling_weight: float = DEFAULT_DOWNWELLING_WEIGHT, linear_in_tau: bool = True,
                   continuum=None) -> BandModel:
    """Fit a :class:`~leafjax.physics.thermal.BandModel` to the nadir reference terms of atmospheres ``indices``.

    **Arguments:**
    - ``truth``: :class:`leafjax.data.LwirTruth` (1-cm⁻¹ transmittance, path radiance, downwelling).
    - ``indices``: the calibration atmospheres (e.g. ``split_truth(truth)[0]``).
    - ``channel_width``: fine-grid samples per channel (cm⁻¹ on the 1-cm⁻¹ grid); ``n_terms``: k-terms;
      ``n_quadrature``: downwelling nodes; ``linear_in_tau``: layer source.
    - ``steps``: LM iterations; ``seed``: seeds a ±0.05 jitter of the starting log-strengths (reproducible);
      ``ridge``, ``downwelling_weight``: λ and w↓ of the module docstring.
    - ``continuum``: MT_CKD table (default ``truth.continuum``).

    **Returns:** the fitted model, arrays in JAX's default float dtype (fitted in float64 regardless).

    Raises:
        ValueError: for no continuum, fewer than 2 calibration atmospheres or bad settings (one line).
    """
    continuum = truth.continuum if continuum is None else continuum
    if continuum is None:
        raise ValueError(f"fit_band_model needs the MT_CKD continuum ({CONTINUUM_FILE} next to the truth file)")
    idx = np.asarray(indices, dtype=np.int64).ravel()
    if idx.size < 2 or n_terms < 1 or steps < 1:
        raise ValueError(f"need >= 2 calibration atmospheres, n_terms >= 1, steps >= 1; got {idx.size}, "
                         f"{n_terms}, {steps}")
    nu = channel_grid(truth.wavenumber, channel_width)
    targets = [channel_means(x[idx], channel_width).T for x in  # (nu, atm)
               (truth.transmittance, truth.path_radiance, truth.transmittance * truth.downwelling)]
    with jax.enable_x64(True):
        model = _fit64(truth.atmospheres[idx], nu, targets, continuum, channel_width, steps, seed, n_terms,
                       n_quadrature, ridge, downwelling_weight, linear_in_tau)
        host = jax.tree.map(np.asarray, model)
    return jax.tree.map(jnp.asarray, host)


#: The settings of :func:`fit_band_model` (keyword-only arguments but the continuum) with their defaults: part
#: of the cache key of :func:`cached_band_model`.
_FIT_SETTINGS: dict = {k: v.default for k, v in inspect.signature(fit_band_model).parameters.items()
                       if v.kind is inspect.Parameter.KEYWORD_ONLY and k != "continuum"}


def _fit64(atm, nu, targets, continuum, width, steps, seed, n_terms, n_quadrature, ridge, w_down, linear):
    atm = _as64(atm)
    c_nu = continuum.at(jnp.asarray(nu))
    start = BandCoefficients.initial(nu.size, n_terms)
    jitter = 0.05 * jax.random.uniform(jax.random.key(seed), start.log_k_line.shape, jnp.float64, -1.0, 1.0)
    start = _replace(start, log_k_line=start.log_k_line + jitter)
    shell = BandModel(jnp.asarray(nu), start, c_nu.self_absco, c_nu.foreign_absco, c_nu.self_texp,
                      channel_width=float(width), n_quadrature=n_quadrature, linear_in_tau=linear,
                      continuum_ref=(continuum.ref_pressure, continuum.ref_temperature))
    _, d_b, _ = planck_wavenumber_derivatives(jnp.asarray(nu), _T_DERIVATIVE_K)
    scale_tau = (planck_wavenumber(jnp.asarray(nu), _T_SURFACE_SCALE_K) / d_b)[:, None]
    inv_db = (1.0 / d_b)[:, None]
    t_tau, t_up, t_tl = (jnp.asarray(t) for t in targets)
    unpack = _unpacker(start)
    z0 = _pack(start)

    def residuals(z):
        m_tau, m_up, m_tl = term_products(_replace(shell, coefficients=unpack(z)), atm)
        return jnp.concatenate([(m_tau.T - t_tau) * scale_tau, (m_up.T - t_up) * inv_db,
                                w_down * (m_tl.T - t_tl) * inv_db, ridge * (z - z0)], axis=1)

    z, _ = _compiled(lambda z: _clipped_lm(residuals, z, steps), z0)(z0)
    return _replace(shell, coefficients=unpack(z))


def _compiled(fn, *example):
    """``fn`` compiled at XLA's default CPU optimisation level even where a process lowered it globally (the
    test suite compiles at level 0, which makes this long-running fit ~4× slower); plain ``jax.jit`` if the
    option is not accepted."""
    lowered = jax.jit(fn).lower(*example)
    try:
        return lowered.compile(compiler_options={"xla_backend_optimization_level": FIT_OPTIMIZATION_LEVEL})
    except Exception:  # noqa: BLE001 - an unknown option on another backend/JAX version
        return lowered.compile()


def _clipped_lm(residuals, z0, steps: int, lam0: float = 1e-2):
    r"""``steps`` Levenberg–Marquardt iterations on every row of ``z0`` ``(rows, p)`` (rows independent): damped
    normal equations :math:`(J^TJ + \lambda\,\mathrm{diag}(J^TJ))\delta = -J^Tr`, the step shortened to
    :data:`MAX_STEP`, accepted if the row's cost falls (then λ × 0.3, else λ × 4).  **Returns:** ``(z, cost)``."""
    p = z0.shape[1]
    eye = jnp.eye(p, dtype=z0.dtype)

    def cost(z):
        return jnp.sum(residuals(z) ** 2, axis=1)

    def body(_, state):
        z, lam, c = state
        r, jac = linearise(residuals, z)  # (rows, n), (rows, n, p)
        jtj = jnp.einsum("bnp,bnq->bpq", jac, jac)
        jtr = jnp.einsum("bnp,bn->bp", jac, r)
        diag = jnp.diagonal(jtj, axis1=1, axis2=2)
        a = jtj + lam[:, None, None] * (diag[:, :, None] * eye[None] + 1e-9 * eye[None])
        delta = -jnp.linalg.solve(a, jtr[..., None])[..., 0]
        norm = jnp.sqrt(jnp.sum(delta**2, axis=1, keepdims=True))
        z_try = z + delta * jnp.minimum(1.0, MAX_STEP / jnp.maximum(norm, 1e-300))
        c_try = cost(z_try)
        ok = jnp.isfinite(c_try) & (c_try < c)
        return jnp.where(ok[:, None], z_try, z), jnp.where(ok, lam * 0.3, lam * 4.0), jnp.where(ok, c_try, c)

    z, _, c = jax.lax.fori_loop(0, steps, body, (z0, jnp.full(z0.shape[:1], lam0, z0.dtype), cost(z0)))
    return z, c


def _replace(module, **changes):
    """``module`` with some fields replaced (a functional update of an equinox Module)."""
    return dataclasses.replace(module, **changes)


def band_model_errors(model: BandModel, truth: LwirTruth, indices, srf_model, srf_truth, *,
                      columns=LAND_EMISSIVITY_COLUMNS, offsets=(-5.0, 0.0, 10.0)) -> np.ndarray:
    """Model minus truth TOA band brightness temperatures (K, nadir), ``(atmosphere, column, offset, band)``.

    Every atmosphere of ``indices`` × emissivity spectrum ``columns`` of the truth × surface temperature
    (surface air temperature + ``offsets``, K): the truth through its 1-cm⁻¹ terms and ``srf_truth`` (on
    ``truth.wavenumber``), the model through its channel terms, the channel means of the emissivity and
    ``srf_model`` (on ``model.wavenumber``; e.g. ``vimi_response(model.wavenumber)``, as the simulator uses).
    """
    idx = np.asarray(indices, dtype=np.int64).ravel()
    width = int(round(model.channel_width))
    cols = np.asarray(columns, dtype=np.int64)
    t_air = np.asarray(truth.atmospheres.temperature, dtype=np.float64)[idx, 0]
    offsets = np.asarray(offsets, dtype=np.float64)
    shape = (idx.size, cols.size, offsets.size)  # (atm, column, offset)
    ts = np.broadcast_to(t_air[:, None, None] + offsets[None, None, :], shape)
    a = np.broadcast_to(np.arange(idx.size)[:, None, None], shape).ravel()
    e = np.broadcast_to(cols[None, :, None], shape).ravel()
    fine = truth.emissivity[e]
    bt_truth = truth_band_brightness_temperature(truth, idx[a], fine, ts.ravel(), srf_truth)
    terms = model(truth.atmospheres[idx], 0.0)
    bt_model = toa_brightness_temperature(terms[a], jnp.asarray(channel_means(fine, width), terms.transmittance.dtype),
                                          jnp.asarray(ts.ravel(), terms.transmittance.dtype), srf_model)
    return (np.asarray(bt_model, dtype=np.float64) - bt_truth).reshape(*shape, -1)


# --- the cache --------------------------------------------------------------------------------------------------

def band_model_cache_dir() -> Path:
    """``$LEAFJAX_CACHE_DIR/thermal``, else ``$XDG_CACHE_HOME/leafjax/thermal``, else
    ``~/.cache/leafjax/thermal``."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser() / "thermal"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "leafjax" / "thermal"


def _cache_key(folder: Path, settings: dict) -> str:
    h = hashlib.sha256()
    for name in (TRUTH_FILE, CONTINUUM_FILE):  # ≈ 1.3 MB: hashing takes a few ms
        path = folder / name
        h.update(name.encode())
        h.update(path.read_bytes() if path.is_file() else b"missing")
    h.update(json.dumps({"settings": settings, "leafjax": __version__, "structure": BAND_MODEL_VERSION},
                        sort_keys=True).encode())
    return h.hexdigest()[:32]


def _save(path: Path, model: BandModel, meta: dict) -> None:
    arrays = {f"coef_{k}": np.asarray(getattr(model.coefficients, k))
              for k in model.coefficients.__dataclass_fields__}
    arrays.update(wavenumber=np.asarray(model.wavenumber), self_absco=np.asarray(model.self_absco),
                  foreign_absco=np.asarray(model.foreign_absco), self_texp=np.asarray(model.self_texp))
    static = dict(channel_width=model.channel_width, n_quadrature=model.n_quadrature,
                  linear_in_tau=model.linear_in_tau, continuum_ref=list(model.continuum_ref), **meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".band-model-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, meta=np.asarray(json.dumps(static)), **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load(path: Path) -> BandModel:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        coef = BandCoefficients(**{k: jnp.asarray(z[f"coef_{k}"]) for k in BandCoefficients.__dataclass_fields__})
        return BandModel(jnp.asarray(z["wavenumber"]), coef, jnp.asarray(z["self_absco"]),
                         jnp.asarray(z["foreign_absco"]), jnp.asarray(z["self_texp"]),
                         channel_width=float(meta["channel_width"]), n_quadrature=int(meta["n_quadrature"]),
                         linear_in_tau=bool(meta["linear_in_tau"]), continuum_ref=tuple(meta["continuum_ref"]))


def cached_band_model(folder, *, verbose: bool = False, **settings) -> BandModel:
    """The band model fitted to the calibration atmospheres (:func:`~leafjax.data.split_truth`) of the truth in
    the ``thermal/`` ``folder``, fitted once and then read from the cache.

    **Arguments:** ``folder``: holds ``lwir_atmospheres.h5`` and ``mt_ckd_h2o_continuum.nc``; ``settings``: keyword
    arguments of :func:`fit_band_model` (``channel_width``, ``steps``, ``n_terms``, …); ``verbose``: print the fit
    time.

    Cache: ``band-model-<key>.npz`` in :func:`band_model_cache_dir`, the key a SHA-256 of the two data files'
    bytes, the settings, ``leafjax.__version__`` and :data:`~leafjax.physics.thermal.BAND_MODEL_VERSION`.  A file
    that cannot be read is refitted; one that cannot be written only warns.

    Raises:
        FileNotFoundError: naming a missing data file.
    """
    folder = Path(folder)
    if not (folder / TRUTH_FILE).is_file():
        raise FileNotFoundError(f"thermal data file {TRUTH_FILE} not found in {folder}")
    unknown = sorted(set(settings) - set(_FIT_SETTINGS))
    if unknown:
        raise ValueError(f"unknown band-model settings {unknown}; known: {sorted(_FIT_SETTINGS)}")
    resolved = {**_FIT_SETTINGS, **settings}
    path = band_model_cache_dir() / f"band-model-{_cache_key(folder, resolved)}.npz"
    if path.is_file():
        try:
            return _load(path)
        except Exception as e:  # noqa: BLE001 - a damaged cache entry is refitted
            warnings.warn(f"leafjax: unreadable band-model cache {path.name} ({type(e).__name__}); refitting",
                          RuntimeWarning, stacklevel=2)
    truth = load_lwir_truth(folder)
    t0 = time.perf_counter()
    model = fit_band_model(truth, split_truth(truth)[0], **settings)
    seconds = time.perf_counter() - t0
    if verbose:
        print(f"band model fitted in {seconds:.1f} s")
    try:
        _save(path, model, {"fit_seconds": seconds, "settings": resolved})
    except OSError as e:
        warnings.warn(f"leafjax: could not write the band-model cache at {path.parent} ({e.strerror or e}); "
                      f"the model will be refitted next time", RuntimeWarning, stacklevel=2)
    return model
