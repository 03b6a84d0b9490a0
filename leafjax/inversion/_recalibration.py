r"""Recalibrating PROSPECT by gradient on labelled spectra, for the zero-label inversion of new ones.

The inversion of reflectance alone (:class:`~leafjax.baselines.ProspectInversion`: PROSPECT-PRO on 1700–2400 nm,
free ``n_struct, ewt, prot, cbc``, a Gaussian prior on N) is biased on leaf-clip spectra: the published
constants were fitted to integrating-sphere measurements, and with reflectance only N trades off against the
absorbers.  :func:`recalibrate` learns a few smooth corrections on datasets *with* measured ``lma``/``ewt`` by
differentiating the inversion's estimates (implicit-function theorem, :mod:`leafjax.inversion._implicit`) with
respect to the corrections, so that inverting a *new* dataset without labels is more accurate:

- ``water``: :math:`K_w(\lambda) \to K_w(\lambda)\,e^{B(\lambda) c_w}` (specific absorption of water);
- ``dry``: the same for dry matter (``k_prot``, ``k_cbc`` and PROSPECT-D's ``k_cm`` share one factor);
- ``nr``: :math:`n(\lambda) \to n(\lambda) + B(\lambda) c_n` (refractive index);
- ``measurement``: the instrument model :math:`R_{obs} = g\,R_{PROSPECT} + B(\lambda) c_o` (a leaf-clip
  background/first-surface offset smooth in wavelength and a gain), inverted before the inversion;
- ``n_prior``: the line that sets N from the NIR plateau, :math:`N = a + b\,R_{1130}/(1 - R_{1130})`
  (Spafford et al. 2021 fit it on a PROSPECT look-up table: the published start; here it is learned).

:math:`B(\lambda)` is a basis of Gaussian bumps (centres every ``spacing`` nm over the window, zero outside it),
so every correction is smooth in wavelength; each is penalised towards zero (the published values) and each
can be switched off.  The loss weighs every source dataset equally (a large dataset cannot dominate) and is a
Huber loss of the log ratio of estimated to measured trait (robust to a few bad labels).

References: Féret et al. (2017) RSE 193:204 and (2021) RSE 252:112173 (the constants corrected); Féret et al.
(2019) RSE 231:110959 (the window); Spafford et al. (2021) RSE 252:112176 (N from the NIR plateau).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from ..physics import OpticalConstants, ProspectPro, load_optical_constants
from ._invert import invert
from ._leaf import make_problem

#: The switchable corrections, in the order they are reported, and the fields each one learns.
COMPONENTS = ("water", "dry", "nr", "measurement", "n_prior")
FIELDS = {"water": ("water",), "dry": ("dry",), "nr": ("nr",), "measurement": ("offset", "log_gain"),
          "n_prior": ("n_intercept", "n_slope")}
#: Spectral window of the reflectance-only inversion (nm, Féret et al. 2019).
WINDOW = (1700.0, 2400.0)
#: Band of the N regression (nm; Spafford et al. 2021 use 1131 nm: the nearest band of a grid is taken).
N_BAND = 1130.0
_FREE = ("ewt", "prot", "cbc")
_FIXED = {"chl": 40.0, "car": 10.0}


@functools.lru_cache(maxsize=1)
def _spafford_line() -> tuple[float, float]:
    """Intercept and slope of the published N regression (:func:`~leafjax.inversion.n_struct_prior`)."""
    from ._strategies import n_struct_prior

    r = np.array([[0.35], [0.5]])
    with jax.ensure_compile_time_eval():  # concrete even when first called inside a trace
        n = n_struct_prior([1131.0], reflectance=r)
    x = r[:, 0] / (1 - r[:, 0])
    slope = (n[1] - n[0]) / (x[1] - x[0])
    return float(n[0] - slope * x[0]), float(slope)


class Corrections(eqx.Module):
    """Learned corrections to PROSPECT's constants, the measurement model and the N regression (a pytree).

    Fields ``water``, ``dry``, ``nr``, ``offset``: basis coefficients ``(K,)`` (log factor, log factor,
    refractive-index increment, reflectance offset); ``log_gain``, ``n_intercept``, ``n_slope``: scalars.
    ``centres`` (nm) and ``width`` (nm) define the basis; ``window`` (nm) is where it is non-zero.
    """

    water: Float[Array, "basis"]
    dry: Float[Array, "basis"]
    nr: Float[Array, "basis"]
    offset: Float[Array, "basis"]
    log_gain: Float[Array, ""]
    n_intercept: Float[Array, ""]
    n_slope: Float[Array, ""]
    centres: tuple[float, ...] = eqx.field(static=True)
    width: float = eqx.field(static=True)
    window: tuple[float, float] = eqx.field(static=True)

    @classmethod
    def identity(cls, spacing: float = 50.0, window: tuple[float, float] = WINDOW, dtype=None) -> "Corrections":
        """No correction: the published constants, no offset, unit gain, the published N regression."""
        dtype = jnp.result_type(float) if dtype is None else dtype
        if not spacing > 0 or not window[1] > window[0]:
            raise ValueError(f"need spacing > 0 and window[1] > window[0], got {spacing} and {window}")
        centres = tuple(float(c) for c in np.arange(window[0], window[1] + 1e-9, float(spacing)))
        z = jnp.zeros(len(centres), dtype)
        a, b = _spafford_line()
        return cls(water=z, dry=z, nr=z, offset=z, log_gain=jnp.zeros((), dtype),
                   n_intercept=jnp.asarray(a, dtype), n_slope=jnp.asarray(b, dtype),
                   centres=centres, width=float(spacing), window=(float(window[0]), float(window[1])))

    def basis(self, wavelengths) -> np.ndarray:
        """``(wl, K)`` Gaussian bumps at ``centres``, zero outside ``window`` (numpy: wavelengths are static)."""
        wl = np.asarray(wavelengths, np.float64)[:, None]
        b = np.exp(-0.5 * ((wl - np.asarray(self.centres)[None]) / self.width) ** 2)
        inside = (wl >= self.window[0] - 1e-9) & (wl <= self.window[1] + 1e-9)
        return np.where(inside, b, 0.0)

    def apply(self, constants: OpticalConstants) -> OpticalConstants:
        """``constants`` (concrete wavelengths) with the water, dry-matter and refractive-index corrections."""
        b = jnp.asarray(self.basis(np.asarray(constants.wavelengths)), constants.nr.dtype)
        fw, fd = jnp.exp(b @ self.water), jnp.exp(b @ self.dry)
        return dataclasses.replace(constants, nr=constants.nr + b @ self.nr, k_cw=constants.k_cw * fw,
                                   k_cm=constants.k_cm * fd, k_prot=constants.k_prot * fd,
                                   k_cbc=constants.k_cbc * fd)

    def measurement(self, wavelengths) -> tuple[np.ndarray, float]:
        """The measurement model on ``wavelengths`` (nm) as numbers: ``(offset (wl,), gain)``."""
        return self.basis(wavelengths) @ np.asarray(self.offset, np.float64), float(np.exp(self.log_gain))

    def n_band(self, wavelengths) -> int:
        """Index of the band of ``wavelengths`` (nm) nearest to :data:`N_BAND`.

        Raises:
            ValueError: if none lies within 10 nm of it.
        """
        wl = np.asarray(wavelengths, np.float64)
        i = int(np.argmin(np.abs(wl - N_BAND)))
        if abs(wl[i] - N_BAND) > 10:
            raise ValueError(f"the recalibrated N line needs reflectance within 10 nm of {N_BAND:g} nm")
        return i

    def correct(self, reflectance: Float[Array, "*b wl"], wavelengths) -> Float[Array, "*b wl"]:
        """Invert the measurement model: ``(R_obs − offset(λ)) / gain`` (fractions)."""
        b = jnp.asarray(self.basis(wavelengths), reflectance.dtype)
        offset = jnp.broadcast_to(b @ self.offset, reflectance.shape)
        return (reflectance - offset) / jnp.exp(self.log_gain)

    def n_struct(self, nir_reflectance: Float[Array, "*b"]) -> Float[Array, "*b"]:
        """N from the measured reflectance at :data:`N_BAND` (fraction; the gain is removed), within [1, 4]."""
        r = nir_reflectance / jnp.exp(self.log_gain)
        return jnp.clip(self.n_intercept + self.n_slope * r / (1.0 - r), 1.0, 4.0)

    def masked(self, components: Sequence[str]) -> "Corrections":
        """These corrections with every component not in ``components`` reset to the identity."""
        bad = [c for c in components if c not in COMPONENTS]
        if bad:
            raise ValueError(f"unknown correction(s) {bad}; choose from {COMPONENTS}")
        ident = Corrections.identity(self.width, self.window, self.nr.dtype)
        out = self
        for comp, fields in FIELDS.items():
            if comp not in components:
                for f in fields:
                    out = eqx.tree_at(lambda c, f=f: getattr(c, f), out, getattr(ident, f))
        return out

    def to_table(self) -> dict[str, np.ndarray]:
        """The corrected PROSPECT table, 400–2500 nm at 1 nm (the columns of the packaged constants)."""
        c = self.apply(load_optical_constants(dtype=self.nr.dtype))
        cols = ("wavelengths", "nr", "k_cab", "k_car", "k_anth", "k_brown", "k_cw", "k_cm", "k_prot", "k_cbc")
        return {("wavelength" if k == "wavelengths" else k): np.asarray(getattr(c, k), np.float64) for k in cols}

    def to_dict(self) -> dict:
        """Every field as plain numbers (JSON; :meth:`from_dict` reads it back)."""
        out = {f: np.asarray(getattr(self, f), np.float64).tolist() for fs in FIELDS.values() for f in fs}
        return {**out, "centres_nm": list(self.centres), "width_nm": self.width, "window_nm": list(self.window),
                "gain": float(np.exp(self.log_gain)), "n_band_nm": N_BAND}

    @classmethod
    def from_dict(cls, d: Mapping, dtype=None) -> "Corrections":
        """Corrections from :meth:`to_dict` output.

        Raises:
            ValueError: if a field is missing or has the wrong length.
        """
        ident = cls.identity(float(d["width_nm"]), tuple(d["window_nm"]), dtype)
        if len(d["centres_nm"]) != len(ident.centres) or not np.allclose(d["centres_nm"], ident.centres):
            raise ValueError("corrections: centres_nm do not match width_nm and window_nm")
        out = ident
        for fs in FIELDS.values():
            for f in fs:
                v = jnp.asarray(d[f], ident.nr.dtype)
                if v.shape != getattr(ident, f).shape:
                    raise ValueError(f"corrections: {f} has shape {v.shape}, expected {getattr(ident, f).shape}")
                out = eqx.tree_at(lambda c, f=f: getattr(c, f), out, v)
        return out


#: The packaged recalibrated table (400–2500 nm) and its provenance, next to the published one.
RECALIBRATED_TABLE = "data/prospect_coefficients_recalibrated.csv"


def packaged_corrections(dtype=None) -> Corrections:
    """The corrections behind the packaged ``recalibrated`` optical constants (their provenance file,
    ``leafjax/physics/leaf/data/prospect_coefficients_recalibrated.json``): fitted on the CC BY 4.0 leaf
    datasets of the Global Spectra-Trait Initiative by ``experiments/leaf_traits/recalibration.py
    --export-table``."""
    from importlib import resources

    path = resources.files("leafjax.physics.leaf").joinpath(RECALIBRATED_TABLE.replace(".csv", ".json"))
    return Corrections.from_dict(json.loads(path.read_text()), dtype)


def corrected_problem(wavelengths, lut_size: int = 500):
    """The reflectance-only PROSPECT-PRO problem on ``wavelengths`` (nm, inside :data:`WINDOW`) with the
    published constants, free ``ewt, prot, cbc`` (N is set per spectrum, pigments do not absorb there);
    :func:`invert_corrected` applies the corrections to it (its look-up table of initial guesses stays that of
    the published constants: it only seeds the solver)."""
    base = ProspectPro(wavelengths=np.asarray(wavelengths, np.float64))
    return make_problem(base, use_r=True, use_t=False, free=list(_FREE), fixed=dict(_FIXED), lut_size=lut_size)


def invert_corrected(problem, corrections: Corrections, reflectance, nir_reflectance, *, max_steps: int = 40):
    """Invert ``reflectance`` ``(b, wl)`` (fractions on the grid of ``problem``, from
    :func:`corrected_problem`) with ``corrections``: the measurement model is inverted first and N is set from
    ``nir_reflectance`` ``(b,)`` (at :data:`N_BAND`).  Close over ``problem`` rather than pass it to ``jit``
    (its wavelengths must be concrete).  Returns the :class:`~leafjax.inversion.InversionResult`; its
    ``derived`` holds ``lma = prot + cbc`` and nitrogen."""
    r = corrections.correct(jnp.asarray(reflectance, problem.dtype), np.asarray(problem.wavelengths))
    if jnp.shape(nir_reflectance) != r.shape[:-1]:
        raise ValueError(f"nir_reflectance must have shape {r.shape[:-1]} (one value per spectrum), got "
                         f"{jnp.shape(nir_reflectance)}")
    n = corrections.n_struct(jnp.asarray(nir_reflectance, problem.dtype))
    fixed = {"n_struct": n, **{k: jnp.full(n.shape, v, problem.dtype) for k, v in _FIXED.items()}}
    problem = eqx.tree_at(lambda p: p.model.constants, problem, corrections.apply(problem.model.constants))
    return invert(problem, reflectance=r, fixed=fixed, max_steps=max_steps, percent_check=False)


#: Penalty scales of the corrections (a coefficient of this size costs ``penalty`` in the loss); the optimiser
#: works in these units, so one step size suits every field.
PENALTY_SCALE = {"water": 0.3, "dry": 0.3, "nr": 0.05, "offset": 0.01, "log_gain": 0.05, "n_intercept": 0.2,
                 "n_slope": 0.2}
_TRAITS = ("lma", "ewt")


def _huber(x, delta):
    a = jnp.abs(x)
    return jnp.where(a <= delta, 0.5 * x ** 2, delta * (a - 0.5 * delta))


def trait_estimates(result) -> dict[str, Array]:
    """``{"lma": prot + cbc, "ewt": ewt}`` (g/cm²) of an inversion result."""
    return {"lma": result.estimates["prot"] + result.estimates["cbc"], "ewt": result.estimates["ewt"]}


def recalibration_loss(corrections: Corrections, problem, reflectance, nir_reflectance,
                       labels: Mapping[str, Array], *, max_steps: int = 30, delta: float = 0.5,
                       penalty: float = 0.01):
    """Huber loss (``delta``) of ``log(estimate / measured)`` of ``lma`` and ``ewt`` over the rows with that
    label (NaN: none), mean per trait, plus ``penalty`` times the squared corrections in units of
    :data:`PENALTY_SCALE`."""
    est = trait_estimates(invert_corrected(problem, corrections, reflectance, nir_reflectance,
                                           max_steps=max_steps))
    total = jnp.zeros((), problem.dtype)
    for t, y in labels.items():
        ok = jnp.isfinite(y) & (y > 0) & jnp.isfinite(est[t]) & (est[t] > 0)
        r = jnp.log(jnp.where(ok, est[t], 1.0)) - jnp.log(jnp.where(ok, y, 1.0))
        total = total + jnp.sum(jnp.where(ok, _huber(r, delta), 0.0)) / jnp.maximum(jnp.sum(ok).astype(total.dtype), 1.0)
    ident = Corrections.identity(corrections.width, corrections.window, problem.dtype)
    for f, s in PENALTY_SCALE.items():
        d = getattr(corrections, f) - getattr(ident, f)
        total = total + penalty * jnp.sum((d / s) ** 2)
    return total


def recalibrate(reflectance, nir_reflectance, wavelengths, labels: Mapping[str, np.ndarray], groups, *,
                components: Sequence[str] = COMPONENTS, steps: int = 100, per_group: int = 16,
                learning_rate: float = 0.05, penalty: float = 0.01, spacing: float = 50.0, max_steps: int = 30,
                key=None, log_every: int = 0):
    """Learn :class:`Corrections` on labelled reflectance spectra by gradient through the inversion.

    **Arguments:**
    - ``reflectance``: ``(n, wl)`` fractions on ``wavelengths`` (nm, inside :data:`WINDOW`);
      ``nir_reflectance``: ``(n,)`` the reflectance at :data:`N_BAND`.
    - ``labels``: ``{"lma": (n,), "ewt": (n,)}`` measured values (g/cm²; NaN: not measured); at least one.
    - ``groups``: ``(n,)`` source-dataset labels; every step draws ``per_group`` rows of each group (with
      replacement), so each source dataset weighs the same whatever its size.
    - ``components``: the corrections learned (:data:`COMPONENTS`); the others stay at the published values.
    - ``steps``, ``learning_rate``: Adam steps and step size (in units of :data:`PENALTY_SCALE`);
      ``penalty``: weight of the pull towards the published values; ``spacing``: basis spacing (nm);
      ``max_steps``: LM steps of the inner inversion; ``key``: PRNG key of the row draws (default ``key(0)``).

    **Returns:** ``(corrections, history)``, history the minibatch loss per step.

    Raises:
        ValueError: on inconsistent shapes, no labels, non-finite spectra or an unknown component.
    """
    r = np.asarray(reflectance, np.float64)
    nir = np.asarray(nir_reflectance, np.float64).reshape(-1)
    wl = np.asarray(wavelengths, np.float64)
    g = np.asarray(groups).astype(str)
    if r.ndim != 2 or r.shape[1] != wl.size or g.shape != (r.shape[0],) or nir.shape != g.shape:
        raise ValueError(f"reflectance must be (n, {wl.size}) with (n,) nir_reflectance and groups, got "
                         f"{r.shape}, {nir.shape} and {g.shape}")
    if not (np.isfinite(r).all() and np.isfinite(nir).all()):
        raise ValueError("reflectance has non-finite values: select finite bands and rows first")
    if not np.all((nir > 0) & (nir < 1)):
        raise ValueError("nir_reflectance must be fractions strictly between 0 and 1")
    if wl.min() < WINDOW[0] - 1e-9 or wl.max() > WINDOW[1] + 1e-9:
        raise ValueError(f"wavelengths must lie in {WINDOW} nm")
    bad = [t for t in labels if t not in _TRAITS]
    if bad or not labels:
        raise ValueError(f"labels must be some of {_TRAITS}, got {sorted(labels)}")
    y = {t: np.asarray(v, np.float64).reshape(-1) for t, v in labels.items()}
    if any(v.shape != g.shape for v in y.values()):
        raise ValueError("every label must have one value per spectrum")
    if not any(np.isfinite(v).any() for v in y.values()):
        raise ValueError("no finite labels")
    unknown = [c for c in components if c not in COMPONENTS]
    if unknown:
        raise ValueError(f"unknown correction(s) {unknown}; choose from {COMPONENTS}")
    ident = Corrections.identity(spacing)
    problem = corrected_problem(wl)
    dtype = problem.dtype
    params = {f: jnp.zeros_like(getattr(ident, f), dtype) for c in components for f in FIELDS[c]}

    def build(u):
        out = ident
        for f, v in u.items():
            out = eqx.tree_at(lambda c, f=f: getattr(c, f), out, getattr(ident, f) + PENALTY_SCALE[f] * v)
        return out

    opt = optax.adam(optax.cosine_decay_schedule(learning_rate, max(int(steps), 1), alpha=0.1))
    state = opt.init(params)

    @eqx.filter_jit
    def step(params, state, rb, nb, yb):
        def loss(u):
            return recalibration_loss(build(u), problem, rb, nb, yb, max_steps=max_steps, penalty=penalty)
        val, grad = jax.value_and_grad(loss)(params)
        with jax.numpy_dtype_promotion("standard"):  # optax computes `decay ** count` (float ** int32)
            upd, state = opt.update(grad, state, params)
        return optax.apply_updates(params, upd), state, val

    idx = [np.flatnonzero(g == n) for n in np.unique(g)]
    seed = int(jax.random.randint(jax.random.key(0) if key is None else key, (), 0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    history = []
    for s in range(int(steps)):
        take = np.concatenate([rng.choice(i, int(per_group), replace=True) for i in idx])
        yb = {t: jnp.asarray(v[take], dtype) for t, v in y.items()}
        params, state, val = step(params, state, jnp.asarray(r[take], dtype), jnp.asarray(nir[take], dtype), yb)
        history.append(float(val))
        if log_every and s % log_every == 0:
            print(f"recalibrate step {s}: loss {history[-1]:.4f}", flush=True)
    return build(params), history
