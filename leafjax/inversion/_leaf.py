"""The leaf inversion problem: PROSPECT-family reflectance and/or transmittance → leaf traits.

:func:`make_problem` builds a :class:`LeafProblem` (alias :data:`InversionProblem`) from a model already
restricted to the observation wavelengths; :func:`leafjax.inversion.invert` solves it.

References: Jacquemoud & Baret (1990) RSE 34:75 (PROSPECT); Féret et al. (2017) RSE 193:204 (PROSPECT-D);
Féret et al. (2021) RSE 252:112173 (PROSPECT-PRO; nitrogen from proteins).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from .._constants import TRAITS
from ..physics import AbstractLeafModel, ProspectProParams, nitrogen_from_protein, plate_model
from ..simulation import default_prior
from ._bounds import bounded_jacobian, to_bounded, to_unconstrained
from ._problem import AbstractProblem, lut_top_k
from ._quality import check_free

#: Every LUT_STRIDE-th observation is used to match the look-up table (initial guesses only).
LUT_STRIDE = 10
#: Batches up to this many rows are evaluated by the model in one piece (solver blocks); larger ones (the
#: finaliser's whole batch) in the model's own CPU blocks (``block_size="auto"``), ~2x faster on CPU.
PREDICT_WHOLE_ROWS = 64
#: Default expected fit RMSE of leaf problems (reflectance/transmittance units): the 95th percentile of the
#: full-spectrum PROSPECT-D fit RMSE (reflectance, N prior, float32) over 1,235 real leaf spectra of 12 datasets
#: of ``shared/data/leaf_spectra`` (up to 200 per dataset; the white-backed ``sexton2021`` set left out), measured
#: by ``benchmarks/expected_rmse.py`` (median 0.0116; per-dataset 95th percentiles 0.013-0.060).
LEAF_EXPECTED_RMSE: float = 0.036


class LeafProblem(AbstractProblem):
    """A PROSPECT model on the observation grid, free/fixed parameters, bounds, priors and band weights (final).

    The observation vector is ``[R, T]`` (or one of them) stacked along the band axis, ``n_obs = k · wl``.
    Build it with :func:`make_problem`; it is reused across chunks of an archive (its look-up table for
    initial guesses is computed once).  Its Jacobian goes through PROSPECT's structure
    (:meth:`forward_and_jacobian`: two plate-model tangents instead of ``p``) unless ``structured_jacobian``
    is False.
    """

    model: AbstractLeafModel
    free: tuple[str, ...] = eqx.field(static=True)
    use_r: bool = eqx.field(static=True)
    use_t: bool = eqx.field(static=True)
    low: Array
    high: Array
    prior_mean: Array
    prior_weight: Array  # 1 / prior std, 0 where no prior
    band_weight: Array  # (n_obs,) weights of the stacked [R, T] bands
    lut_z: Array  # (L, p) unconstrained parameters of the look-up table
    lut_obs: Array  # (L, n_obs) its spectra
    fixed_items: tuple[tuple[str, float], ...] = eqx.field(static=True)
    #: Jacobian through PROSPECT's structure (:meth:`forward_and_jacobian`); False: ``jax.linearize``.
    structured_jacobian: bool = eqx.field(static=True, default=True)

    @property
    def default_fixed(self) -> dict[str, float]:
        """Problem-wide values of fixed parameters (canonical units)."""
        return dict(self.fixed_items)

    @property
    def wavelengths(self):
        return self.model.wavelengths

    def params(self, theta: Array, fixed: Mapping[str, Array]):
        """Model parameter pytree from free ``theta`` ``(b, p)`` and ``fixed`` ``{name: (b,)}`` (others 0)."""
        b = theta.shape[0]
        cols = {}
        for n in self.model.params_type.names:
            if n in self.free:
                cols[n] = theta[:, self.free.index(n)]
            elif n in fixed:
                cols[n] = jnp.broadcast_to(fixed[n], (b,))
            else:
                cols[n] = jnp.zeros((b,), theta.dtype)
        return self.model.params_type(**cols)

    def predict(self, theta, context):
        # solver blocks are evaluated whole; a large batch (the finaliser's) in the model's cache-sized blocks
        block = None if theta.shape[0] <= PREDICT_WHOLE_ROWS else "auto"
        out = self.model(self.params(theta, context), block_size=block)
        parts = ([out.reflectance] if self.use_r else []) + ([out.transmittance] if self.use_t else [])
        return jnp.concatenate(parts, axis=-1)

    def absorption_and_structure(self, theta, context) -> tuple[Array, Array]:
        """PROSPECT's intermediate quantities of every row: ``k = sum_i C_i K_i / N`` ``(b, wl)`` and ``N``
        ``(b,)``; the plate model depends on the parameters only through them."""
        params = self.params(theta, context)
        return self.model.absorption(params), jnp.broadcast_to(params.n_struct, theta.shape[:1])

    def forward_and_jacobian(self, z, context):
        r"""Predicted ``[R, T]`` and its Jacobian with respect to ``z`` through PROSPECT's structure.

        Every absorber enters through :math:`k = \sum_i C_i K_i / N` and the plate model is elementwise in
        :math:`(k_\lambda, N)` per band, so two forward tangents of the plate model (``dR/dk``, ``dR/dN`` per
        band) and ``p`` tangents of the cheap map :math:`z \mapsto (k, N)` (including the
        bounded transform) give :math:`J = \partial_k R\,\partial_z k + \partial_N R\,\partial_z N` (chain rule)
        instead of ``p`` tangents of the whole model."""
        if not self.structured_jacobian:
            return super().forward_and_jacobian(z, context)
        p = z.shape[-1]
        (k, n), lin_kn = jax.linearize(lambda zz: self.absorption_and_structure(self.to_bounded(zz), context), z)
        dk, dn = jax.vmap(lambda e: lin_kn(jnp.broadcast_to(e, z.shape)))(jnp.eye(p, dtype=z.dtype))
        nr = self.model.constants.nr

        def plate(kk, nn):
            refl, tran = plate_model(kk, nn[:, None], nr)
            return jnp.concatenate(([refl] if self.use_r else []) + ([tran] if self.use_t else []), axis=-1)

        # two jvps with one argument each: the N-independent part (tau(k), interfaces) gets no N tangent; XLA
        # shares the primal of both (measured faster than one jax.linearize with two tangents)
        pred, d_k = jax.jvp(lambda kk: plate(kk, n), (k,), (jnp.ones_like(k),))  # dR/dk, dT/dk band by band
        d_n = jax.jvp(lambda nn: plate(k, nn), (n,), (jnp.ones_like(n),))[1]
        reps = self.n_spectra
        dk_obs = jnp.concatenate([dk] * reps, axis=-1) if reps > 1 else dk  # (p, b, n_obs)
        jac = d_k[..., None] * jnp.moveaxis(dk_obs, 0, -1) + d_n[..., None] * jnp.moveaxis(dn, 0, -1)[:, None, :]
        return pred, jac

    def prior_residuals(self, z):
        theta = to_bounded(z, self.low, self.high)
        return (theta - self.prior_mean[None, :]) * self.prior_weight[None, :]

    def prior_jacobian(self, z):
        return jax.vmap(jnp.diag)(bounded_jacobian(z, self.low, self.high) * self.prior_weight[None, :])

    def estimates(self, theta, context):
        b = theta.shape[0]
        est = {n: theta[:, i] for i, n in enumerate(self.free)}
        for n in self.model.params_type.names:
            if n not in est:
                est[n] = jnp.broadcast_to(context[n], (b,)) if n in context else jnp.zeros((b,), theta.dtype)
        return est

    def derived(self, theta, context):
        """PROSPECT-PRO: ``lma = prot + cbc`` (g/cm²) and ``nitrogen`` (%, from proteins); otherwise none."""
        if self.model.params_type is not ProspectProParams:
            return {}
        est = self.estimates(theta, context)
        return {"lma": est["prot"] + est["cbc"], "nitrogen": nitrogen_from_protein(est["prot"], est["cbc"])}

    def default_expected_rmse(self) -> float:
        """:data:`LEAF_EXPECTED_RMSE` (measured on real leaf spectra)."""
        return LEAF_EXPECTED_RMSE

    def observation_wavelengths(self):
        """The model's grid (nm), once per spectrum used (R, then T)."""
        wl = jnp.asarray(self.model.wavelengths, self.dtype)
        return jnp.concatenate([wl] * self.n_spectra)

    @property
    def n_spectra(self) -> int:
        return int(self.use_r) + int(self.use_t)

    def initial_guess(self, obs, weight, context, n_starts):
        if n_starts > self.lut_obs.shape[0]:
            raise ValueError(f"n_starts={n_starts} exceeds the look-up table's {self.lut_obs.shape[0]} entries "
                             f"(make_problem(lut_size=...))")
        idx = lut_top_k(obs, weight, self.lut_obs, n_starts, LUT_STRIDE)  # (b, s)
        return self.lut_z[idx]

    def observation(self, observed=None, *, reflectance=None, transmittance=None):
        """``[R, T]`` ``(*b, n_obs)`` from ``reflectance``/``transmittance`` ``(*b, wl)``, or ``observed``
        (already stacked ``(*b, n_obs)``, or the one spectrum the problem uses)."""
        nwl = self.model.n_bands
        if observed is not None:
            x = jnp.asarray(observed)
            if x.ndim < 1:
                raise ValueError("observations must be (*b, bands) arrays, got a scalar")
            both = self.use_r and self.use_t
            if x.shape[-1] == self.n_obs and (transmittance is None or not both):
                if reflectance is not None:
                    raise ValueError("pass either observed or reflectance, not both")
                return x.astype(self.dtype)
            if reflectance is not None:
                raise ValueError("pass either observed or reflectance, not both")
            if x.shape[-1] != nwl:
                kinds = "[R, T]" if both else ("R" if self.use_r else "T")
                raise ValueError(f"observations have {x.shape[-1]} bands but the problem expects {self.n_obs} "
                                 f"({kinds} on its {nwl}-band grid)")
            reflectance = observed if self.use_r else None
            if not self.use_r and transmittance is None:
                transmittance = observed
        parts = []
        if self.use_r:
            if reflectance is None:
                raise ValueError("this problem uses reflectance; pass reflectance=")
            parts.append(jnp.asarray(reflectance))
        if self.use_t:
            if transmittance is None:
                raise ValueError("this problem uses transmittance; pass transmittance=")
            parts.append(jnp.asarray(transmittance))
        for x in parts:
            if x.ndim < 1 or x.shape[-1] != nwl:
                raise ValueError(f"spectra have {x.shape[-1] if x.ndim else 'no'} bands but the problem's grid has {nwl}")
        if len(parts) == 2 and parts[0].shape != parts[1].shape:
            raise ValueError(f"reflectance {tuple(parts[0].shape)} and transmittance {tuple(parts[1].shape)} "
                             f"have different shapes")
        batch = parts[0].shape[:-1]
        return jnp.concatenate([jnp.broadcast_to(x, batch + (nwl,)).astype(self.dtype) for x in parts], -1)

    def context(self, fixed, size, batch):
        dtype = self.dtype
        fx = {k: jnp.broadcast_to(jnp.asarray(v, dtype), batch).reshape(size) for k, v in (fixed or {}).items()}
        for k in fx:
            if k in self.free:
                raise ValueError(f"{k} is free in this problem and cannot also be fixed")
        return {**{k: jnp.full((size,), v, dtype) for k, v in self.fixed_items if k not in fx}, **fx}


#: Former name of :class:`LeafProblem`.
InversionProblem = LeafProblem


def make_problem(model: AbstractLeafModel, *, use_r: bool = True, use_t: bool = True,
                 free: Sequence[str] | None = None, fixed: Mapping[str, float] | None = None,
                 bounds: Mapping[str, tuple[float, float]] | None = None,
                 priors: Mapping[str, tuple[float, float]] | None = None,
                 band_weights: np.ndarray | None = None, lut_size: int = 2000,
                 key: PRNGKeyArray | None = None) -> LeafProblem:
    """Set up an inversion of ``model`` (already restricted to the observation wavelengths).

    **Arguments:**
    - ``use_r``, ``use_t``: which of reflectance and transmittance are observed.
    - ``free``: parameters to estimate (default: every parameter of the model except ``brown``, and without
      the pigments when all bands are at or beyond 800 nm).
    - ``fixed``: ``{name: value}`` for parameters held fixed (scalars; per-spectrum values go to
      :func:`invert`'s ``fixed``). Unlisted non-free parameters default to 0.
    - ``bounds``: ``{name: (low, high)}`` overriding the documented bounds (canonical units).
    - ``priors``: ``{name: (mean, std)}`` Gaussian priors (canonical units) on free parameters.
    - ``band_weights``: ``(wl,)`` non-negative weights per band (applied to R and T alike).
    - ``lut_size``: size of the look-up table used for initial guesses (drawn from the default prior);
      ``key``: its PRNG key (default ``key(0)``).

    **Returns:** :class:`LeafProblem`.
    """
    names = model.params_type.names
    if not (use_r or use_t):
        raise ValueError("at least one of reflectance and transmittance must be used")
    if free is None:
        free = [n for n in names if n not in ("brown",)]
        if float(np.min(np.asarray(model.wavelengths))) >= 800:
            free = [n for n in free if n not in ("chl", "car", "ant")]
    unknown = [n for n in ((free,) if isinstance(free, str) else free) if n not in names]
    if unknown:
        raise ValueError(f"{model.name} has no parameter(s) {unknown}; parameters: {names}")
    free = check_free(free, names)
    if int(lut_size) < 1:
        raise ValueError(f"lut_size must be >= 1, got {lut_size}")
    fixed = dict(fixed or {})
    both = set(fixed) & set(free)
    if both:
        raise ValueError(f"parameter(s) {sorted(both)} are both free and fixed")
    dtype = model.constants.nr.dtype
    bnd = {n: (bounds or {}).get(n, (TRAITS[n].low, TRAITS[n].high)) for n in free}
    for n, (lo, hi) in bnd.items():
        if not hi > lo:
            raise ValueError(f"bounds for {n}: need high > low, got ({lo}, {hi})")
    low = jnp.asarray([bnd[n][0] for n in free], dtype)
    high = jnp.asarray([bnd[n][1] for n in free], dtype)
    priors = dict(priors or {})
    bad = [n for n in priors if n not in free]
    if bad:
        raise ValueError(f"priors given for parameters that are not free: {bad}")
    pm = jnp.asarray([priors.get(n, (0.0, 1.0))[0] for n in free], dtype)
    pw = jnp.asarray([1.0 / priors[n][1] if n in priors else 0.0 for n in free], dtype)
    nwl = model.n_bands
    w = np.ones(nwl) if band_weights is None else np.asarray(band_weights, dtype=np.float64)
    if w.shape != (nwl,) or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"band_weights must be {nwl} finite non-negative values")
    bw = jnp.asarray(np.concatenate([w] * (int(use_r) + int(use_t))), dtype)
    fixed_items = tuple((n, float(v)) for n, v in fixed.items())
    # look-up table for initial guesses: default prior for free parameters, clipped into the bounds
    key = jax.random.key(0) if key is None else key
    prior = default_prior(model.name)
    sample = prior.sample(key, lut_size, dtype=dtype)
    lut_theta = jnp.stack([jnp.clip(sample[n], float(low[i]), float(high[i])) if n in sample else
                           jnp.full((lut_size,), 0.5 * (low[i] + high[i]), dtype) for i, n in enumerate(free)], -1)
    problem = LeafProblem(model=model, free=free, use_r=use_r, use_t=use_t, low=low, high=high, prior_mean=pm,
                          prior_weight=pw, band_weight=bw, lut_z=to_unconstrained(lut_theta, low, high),
                          lut_obs=jnp.zeros((lut_size, 0), dtype), fixed_items=fixed_items)
    lut_obs = _lut_forward(problem, {k: jnp.full((lut_size,), v, dtype) for k, v in fixed_items})
    return eqx.tree_at(lambda p: p.lut_obs, problem, lut_obs)


@eqx.filter_jit
def _lut_forward(problem: LeafProblem, context) -> Array:
    """The look-up table's spectra (one compiled program instead of op-by-op dispatch)."""
    return problem.forward(problem.lut_z, context)
