"""Leaf archives: PROSPECT-D / PROSPECT-PRO inversion of tables of leaf spectra, as an archive task.

Input: a table of spectra in rows (:mod:`leafjax.archive._table`).  Output columns after the carried ones
(clashing names renamed ``input_<name>``): the model's parameters (canonical names; PROSPECT-PRO also ``lma``
and ``nitrogen``), ``<name>_std``, ``rmse``, ``iterations``, ``status``, ``quality_flags``
(:mod:`leafjax.archive._rows`; fit checks against ``ArchiveSettings.expected_rmse``, default the leaf problem's
measured :data:`leafjax.inversion.LEAF_EXPECTED_RMSE`).

The inversion is that of :func:`leafjax.inversion.invert_spectra` (``strategy`` ``"full"`` or ``"optimal"``;
with reflectance *or* transmittance alone, N fixed per spectrum by :func:`leafjax.inversion.n_struct_prior`),
but its parts are built once per run in :meth:`LeafArchiveTask.setup`: the model on the archive's grid, one
:func:`~leafjax.inversion.make_problem` (with its 2,000-spectrum look-up table) per inversion of the strategy,
and the N-prior regression (:class:`NStructPrior`).  Each chunk's valid rows are padded to
:func:`~leafjax.archive._rows.pad_size` (the smallest power-of-two bucket from 64 up to the chunk size that holds
them), so a run compiles at most ``ceil(log2(chunk_size / 64)) + 1`` shapes, a 1-row input is solved at 64 rows and the
last chunk at its own bucket, never at the full chunk; the next run finds those programs in the persistent
compilation cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._flags import NOT_INVERTED, Quality
from ..core import exported_call
from ..inversion import N_PRIOR_BANDS, SUBDOMAINS, Status, invert, make_problem, n_struct_prior
from ..inversion._quality import with_at_bound
from ..physics import CONSTANT_TABLES, LEAF_MODELS, ProspectProParams, get_leaf_model, nitrogen_from_protein
from ._rows import output_rows, pad_size, padded_rows, row_quality
from ._settings import ArchiveSettings
from ._table import ArchiveInfo, Chunk, open_archive
from ._task import AbstractRowTask

_PIGMENTS = ("chl", "car", "ant")
#: Probe values of R or T (inside the prior's unclipped range) at which the N prior is evaluated once per run.
_N_PROBES = (0.4, 0.5)


@dataclass(frozen=True)
class NStructPrior:
    """The N-prior regression of :func:`leafjax.inversion.n_struct_prior`, fitted once for a run.

    ``N = clip(intercept + slope * x, 1, 4)`` with ``x = R/(1-R)`` (``kind="R"``) or ``(1-T)/T`` (``"T"``) at
    band ``index`` of the archive's grid.  Since the regression is affine before clipping, ``slope`` and
    ``intercept`` are read off :func:`~leafjax.inversion.n_struct_prior` at two probe values (agreement with it:
    ~1e-15 relative).
    """

    kind: str
    index: int
    slope: float
    intercept: float

    @classmethod
    def fit(cls, wavelengths: np.ndarray, kind: str) -> "NStructPrior":
        """Fit on the grid ``wavelengths`` (nm) for ``kind`` ``"R"`` or ``"T"``."""
        wl = np.asarray(wavelengths, np.float64)
        band = next((b for b in N_PRIOR_BANDS[kind] if np.any(np.isclose(wl, b))), None)
        if band is None:
            raise ValueError(f"the N prior needs {kind} at {N_PRIOR_BANDS[kind][0]} or {N_PRIOR_BANDS[kind][1]} nm")
        probe = np.repeat(np.asarray(_N_PROBES, np.float64)[:, None], wl.size, axis=1)
        y = n_struct_prior(wl, **{"reflectance" if kind == "R" else "transmittance": probe})
        if not np.all((y > 1.0) & (y < 4.0)):
            raise RuntimeError(f"N-prior probes {_N_PROBES} fall outside its unclipped range (N = {y})")
        x = cls._x(kind, np.asarray(_N_PROBES))
        slope = (y[1] - y[0]) / (x[1] - x[0])
        return cls(kind, int(np.flatnonzero(np.isclose(wl, band))[0]), float(slope), float(y[0] - slope * x[0]))

    @staticmethod
    def _x(kind: str, v: np.ndarray) -> np.ndarray:
        return v / (1 - v) if kind == "R" else (1 - v) / v

    @classmethod
    def recalibrated(cls, wavelengths: np.ndarray, corrections) -> "NStructPrior":
        """The N line of ``corrections`` (:func:`leafjax.inversion.packaged_corrections`), applied to reflectance
        after their measurement model, at the band of the grid nearest to their N band (within 10 nm)."""
        return cls("R", corrections.n_band(wavelengths), float(corrections.n_slope), float(corrections.n_intercept))

    def __call__(self, spectra: np.ndarray) -> np.ndarray:
        """N estimates ``(*b,)`` for spectra ``(*b, wl)`` (fractions); NaN where the band is missing."""
        x = self._x(self.kind, np.asarray(spectra, np.float64)[..., self.index])
        return np.clip(self.intercept + self.slope * x, 1.0, 4.0)


@dataclass(frozen=True)
class LeafState:
    """What every chunk of a leaf run shares: the ``model``, the inversions of the strategy as
    ``(target, problem, band mask)`` (the first, ``target=None``, on all bands), the N prior (or ``None`` when
    both R and T are used) and the solve options."""

    settings: ArchiveSettings
    model: Any
    runs: tuple[tuple[str | None, Any, np.ndarray], ...]
    n_prior: NStructPrior | None
    #: ``(offset (wl,), gain)`` of the recalibrated measurement model, applied to reflectance-only input.
    measurement: tuple[np.ndarray, float] | None = None


def _domain_mask(wl: np.ndarray, domains) -> np.ndarray:
    m = np.zeros(wl.shape, bool)
    for lo, hi in domains:
        m |= (wl >= lo) & (wl <= hi)
    return m


def output_trait_names(model_name: str) -> list[str]:
    """Estimate columns of a leaf run: the model's parameters, plus ``lma``/``nitrogen`` for PROSPECT-PRO."""
    cls = LEAF_MODELS[model_name].params_type
    return list(cls.names) + (["lma", "nitrogen"] if cls is ProspectProParams else [])


class LeafArchiveTask(AbstractRowTask):
    """PROSPECT inversion of leaf spectra in rows; ``model_name`` ``"prospect-d"`` or ``"prospect-pro"``."""

    model_name: str

    def open(self, path, settings: ArchiveSettings, *, wavelengths_file: str | None = None) -> ArchiveInfo:
        return open_archive(path, wavelengths_file=wavelengths_file, kind=settings.kind, sep=settings.sep,
                            decimal=settings.decimal)

    def resolve(self, settings: ArchiveSettings, info: ArchiveInfo) -> ArchiveSettings:
        if settings.strategy not in ("full", "optimal"):
            raise ValueError(f"strategy must be 'full' or 'optimal', got {settings.strategy!r}")
        if settings.constants not in CONSTANT_TABLES:
            raise ValueError(f"unknown optical constants {settings.constants!r}; choose one of: "
                             f"{', '.join(CONSTANT_TABLES)}")
        return AbstractRowTask.resolve(self, settings, info)

    def output_columns(self, settings: ArchiveSettings, info: ArchiveInfo) -> tuple[str, ...]:
        names = output_trait_names(self.model_name)
        return tuple(c for n in names for c in (n, f"{n}_std")) + self.diagnostic_columns()

    def setup(self, settings: ArchiveSettings, info: ArchiveInfo) -> LeafState:
        """The model on the archive's grid, the problems (look-up tables) of the strategy and the N prior."""
        import jax.numpy as jnp

        wl = np.asarray(info.wavelengths, dtype=np.float64)
        dtype = jnp.float64 if settings.dtype == "float64" else jnp.float32
        model = get_leaf_model(self.model_name, wavelengths=wl, dtype=dtype, constants=settings.constants)
        use_r, use_t = settings.use_r, settings.use_t
        n_prior = NStructPrior.fit(wl, "R" if use_r else "T") if use_r != use_t else None
        measurement = None
        if settings.constants == "recalibrated" and use_r and not use_t:  # the model the constants were fitted in
            from ..inversion import packaged_corrections

            c = packaged_corrections()
            n_prior = NStructPrior.recalibrated(wl, c)
            measurement = c.measurement(wl)
        if settings.free is None:
            free = [n for n in model.params_type.names if n != "brown"]
            if wl.min() >= 800:
                free = [n for n in free if n not in _PIGMENTS]
        else:
            free = list(settings.free)
        if n_prior is not None:
            free = [n for n in free if n != "n_struct"]

        def problem(free_set):
            return make_problem(model, use_r=use_r, use_t=use_t, free=free_set, fixed={})

        runs = [(None, problem(free), np.ones(wl.shape, bool))]
        for target in free if settings.strategy == "optimal" else ():
            domains = SUBDOMAINS.get(target)
            m = None if domains is None else _domain_mask(wl, domains)
            if m is None or m.sum() < 3:
                continue  # not covered: estimated on all bands
            visible_only = wl[m].max() <= 800
            sub = [n for n in free if (n in _PIGMENTS) == visible_only or n == target or
                   (visible_only and n not in _PIGMENTS and n != "n_struct")]
            runs.append((target, problem(sub), m))
        return LeafState(settings, model, tuple(runs), n_prior, measurement)

    def run(self, state: LeafState, chunk: Chunk):
        """Invert the chunk's valid rows (padded to :func:`~leafjax.archive._rows.pad_size`) and lay out its
        output rows."""
        import jax

        settings = state.settings
        scale = 0.01 if settings.percent else 1.0
        r = None if chunk.reflectance is None or not settings.use_r else chunk.reflectance * scale
        t = None if chunk.transmittance is None or not settings.use_t else chunk.transmittance * scale
        if state.measurement is not None and r is not None:
            r = (r - state.measurement[0]) / state.measurement[1]
        spectra = [x for x in (r, t) if x is not None]
        quality = row_quality(spectra)
        n = spectra[0].shape[0]
        rows = np.flatnonzero((quality & int(NOT_INVERTED)) == 0)
        status = np.full(n, int(Status.INVALID_INPUT), np.int8)
        est_cols: dict[str, np.ndarray] = {}
        extra = {"rmse": np.full(n, np.nan), "iterations": np.zeros(n, np.int32)}
        at_bound: dict[str, np.ndarray] = {}
        if rows.size:
            sel = padded_rows(rows, pad_size(rows.size, settings.chunk_size))
            res = _invert(state, None if r is None else r[sel], None if t is None else t[sel])
            jax.block_until_ready(res["rmse"])
            k = rows.size
            for name, v in res["estimates"].items():
                est_cols.setdefault(name, np.full(n, np.nan))[rows] = np.asarray(v)[:k]
            for name, v in res["std"].items():
                est_cols.setdefault(f"{name}_std", np.full(n, np.nan))[rows] = np.asarray(v)[:k]
            extra["rmse"][rows] = np.asarray(res["rmse"])[:k]
            extra["iterations"][rows] = np.asarray(res["iterations"])[:k]
            status[rows] = np.asarray(res["status"])[:k]
            quality[rows] |= np.asarray(res["quality"], np.int32)[:k]
            for name, v in res["at_bound"].items():
                at_bound.setdefault(name, np.zeros(n, bool))[rows] = np.asarray(v)[:k]
        cols = {}
        for name in output_trait_names(self.model_name):
            cols[name] = est_cols.get(name, np.full(n, np.nan))
            cols[f"{name}_std"] = est_cols.get(f"{name}_std", np.full(n, np.nan))
        return output_rows(chunk.carried, cols, extra, status, quality, at_bound)


def _invert(state: LeafState, r, t) -> dict:
    """The strategy's inversions of spectra ``r``/``t`` ``(b, wl)``: ``{estimates, std, rmse, iterations,
    status, quality, at_bound}`` (as :func:`leafjax.inversion.invert_spectra`: each subdomain inversion keeps only
    its target's estimate and at-bound flag; the other quality bits are those of the full-spectrum fit).

    The whole chunk is one compiled program (:func:`_solve`, once per settings and padded size per process, and
    from the persistent compilation cache in the next process) instead of the solver's programs plus dozens of
    op-by-op ones."""
    fixed = {} if state.n_prior is None else {"n_struct": state.n_prior(r if t is None else t)}
    s = state.settings
    options = SolveOptions(s.n_starts, s.max_steps, s.expected_rmse)  # only what changes the program
    return _solve_compiled(options, state.model, state.runs, r, t, fixed)


@dataclass(frozen=True)
class SolveOptions:
    """The settings the compiled solve depends on (the static part of its key): other settings (chunk size,
    CSV dialect, percent, ...) act before it and share its program."""

    n_starts: int
    max_steps: int
    expected_rmse: float | None


def _solve(options: SolveOptions, model, runs, r, t, fixed: dict) -> dict:
    """:func:`_invert` on arrays (traceable: no NumPy on the results)."""
    import jax.numpy as jnp

    def solve(problem, mask):
        return invert(problem, reflectance=r, transmittance=t, mask=mask, fixed=fixed,
                      n_starts=options.n_starts, max_steps=options.max_steps,
                      expected_rmse=options.expected_rmse, percent_check=False)

    (_, full_problem, full_mask), *subdomains = runs
    full = solve(full_problem, full_mask)
    out = {"estimates": dict(full.estimates), "std": dict(full.std), "rmse": full.rmse,
           "iterations": full.iterations, "status": jnp.asarray(full.status),
           "quality": jnp.asarray(full.quality, jnp.int32), "at_bound": dict(full.at_bound)}
    if not subdomains:
        return out
    est, std, at_bound = out["estimates"], out["std"], out["at_bound"]
    for target, problem, mask in subdomains:
        res = solve(problem, mask)
        est[target], std[target], at_bound[target] = res.estimates[target], res.std[target], res.at_bound[target]
        out["status"] = jnp.maximum(out["status"], jnp.asarray(res.status))
    q = jnp.asarray(with_at_bound(out["quality"], at_bound), jnp.int32)
    out["quality"] = jnp.where(out["status"] == int(Status.MAX_STEPS), q | int(Quality.NOT_CONVERGED), q)
    if model.params_type is ProspectProParams:
        _derive_pro(est, std)
    return out


def _solve_compiled(*args):
    """:func:`_solve` as one compiled program: arrays (model constants, look-up tables, masks, spectra) traced, the
    rest static; exported to the cache folder, so a warm process neither traces nor compiles it
    (:func:`leafjax.core.exported_call`)."""
    return exported_call(_solve, *args, _name="leafjax.archive.leaf_solve")


def _derive_pro(est: dict, std: dict) -> None:
    """``lma`` and ``nitrogen`` (with first-order std, the subdomain estimates being independent) from the
    separately estimated ``prot`` and ``cbc`` of PROSPECT-PRO."""
    import jax
    import jax.numpy as jnp

    prot, cbc = est["prot"], est["cbc"]
    est["lma"] = prot + cbc
    est["nitrogen"] = nitrogen_from_protein(prot, cbc)
    std["lma"] = jnp.sqrt(std["prot"] ** 2 + std["cbc"] ** 2)
    g_p, g_c = jax.grad(lambda p, c: jnp.sum(nitrogen_from_protein(p, c)), argnums=(0, 1))(prot, cbc)
    std["nitrogen"] = jnp.sqrt((g_p * std["prot"]) ** 2 + (g_c * std["cbc"]) ** 2)
