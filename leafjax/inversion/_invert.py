"""Batch inversion of PROSPECT-family models: spectra → traits, with bounds, priors, masks and uncertainty."""

from __future__ import annotations

from typing import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._constants import TRAITS
from ..physics import AbstractLeafModel, ProspectProParams, nitrogen_from_protein
from ..simulation import default_prior
from ._bounds import bounded_jacobian, to_bounded, to_unconstrained
from ._lm import levenberg_marquardt, linearise
from ._result import InversionResult, Status

#: Every LUT_STRIDE-th observation is used to match the look-up table (initial guesses only).
LUT_STRIDE = 10
#: Spectra per block when solving on CPU (keeps the block's working set in cache); GPU solves in one block.
CPU_BLOCK_SIZE = 16


class InversionProblem(eqx.Module):
    """What to estimate and how: a model on the observation grid, free/fixed parameters, bounds and priors.

    Build it with :func:`make_problem`; it is reused across chunks of an archive (its look-up table for
    initial guesses is computed once).
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
    default_fixed: dict[str, float] = eqx.field(static=True)

    @property
    def wavelengths(self):
        return self.model.wavelengths


def make_problem(model: AbstractLeafModel, *, use_r: bool = True, use_t: bool = True,
                 free: Sequence[str] | None = None, fixed: Mapping[str, float] | None = None,
                 bounds: Mapping[str, tuple[float, float]] | None = None,
                 priors: Mapping[str, tuple[float, float]] | None = None,
                 band_weights: np.ndarray | None = None, lut_size: int = 2000,
                 key: PRNGKeyArray | None = None) -> InversionProblem:
    """Set up an inversion of ``model`` (already restricted to the observation wavelengths).

    **Arguments:**
    - ``use_r``, ``use_t``: which of reflectance and transmittance are observed.
    - ``free``: parameters to estimate (default: every parameter of the model except ``ant`` beyond 700 nm
      and ``brown``, which are fixed to 0 unless listed).
    - ``fixed``: ``{name: value}`` for parameters held fixed (scalars; per-spectrum values go to
      :func:`invert`'s ``fixed``). Unlisted non-free parameters default to 0.
    - ``bounds``: ``{name: (low, high)}`` overriding the documented bounds (canonical units).
    - ``priors``: ``{name: (mean, std)}`` Gaussian priors (canonical units) on free parameters.
    - ``band_weights``: ``(wl,)`` non-negative weights per band (applied to R and T alike).
    - ``lut_size``: size of the look-up table used for initial guesses (drawn from the default prior).
    """
    names = model.params_type.names
    if not (use_r or use_t):
        raise ValueError("at least one of reflectance and transmittance must be used")
    if free is None:
        free = [n for n in names if n not in ("brown",)]
        if float(np.min(np.asarray(model.wavelengths))) >= 800:
            free = [n for n in free if n not in ("chl", "car", "ant")]
    free = tuple(free)
    unknown = [n for n in free if n not in names]
    if unknown:
        raise ValueError(f"{model.name} has no parameter(s) {unknown}; parameters: {names}")
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
    default_fixed = {n: float(v) for n, v in fixed.items()}
    # look-up table for initial guesses: default prior for free parameters, clipped into the bounds
    key = jax.random.key(0) if key is None else key
    prior = default_prior(model.name)
    sample = prior.sample(key, lut_size, dtype=dtype)
    lut_theta = jnp.stack([jnp.clip(sample[n], float(low[i]), float(high[i])) if n in sample else
                           jnp.full((lut_size,), 0.5 * (low[i] + high[i]), dtype) for i, n in enumerate(free)], -1)
    problem = InversionProblem(model, free, use_r, use_t, low, high, pm, pw, bw,
                               to_unconstrained(lut_theta, low, high), jnp.zeros((lut_size, 0), dtype),
                               default_fixed)
    lut_obs = _predict(problem, problem.lut_z, {k: jnp.full((lut_size,), v, dtype) for k, v in default_fixed.items()})
    return eqx.tree_at(lambda p: p.lut_obs, problem, lut_obs)


def _params(problem: InversionProblem, theta: Array, fixed: Mapping[str, Array]):
    names = problem.model.params_type.names
    b = theta.shape[0]
    cols = {}
    for n in names:
        if n in problem.free:
            cols[n] = theta[:, problem.free.index(n)]
        elif n in fixed:
            cols[n] = jnp.broadcast_to(fixed[n], (b,))
        else:
            cols[n] = jnp.zeros((b,), theta.dtype)
    return problem.model.params_type(**cols)


def _predict(problem: InversionProblem, z: Array, fixed: Mapping[str, Array]) -> Array:
    theta = to_bounded(z, problem.low, problem.high)
    out = problem.model(_params(problem, theta, fixed), block_size=None)
    parts = ([out.reflectance] if problem.use_r else []) + ([out.transmittance] if problem.use_t else [])
    return jnp.concatenate(parts, axis=-1)


def _adam(residuals_and_jacobian, z0, steps: int, rtol: float, active, learning_rate: float):
    """First-order alternative to LM: ``steps`` optax Adam updates of every row's unconstrained parameters.

    The cost is ``0.5 * sum(residuals**2)`` per row; rows are independent, so the gradient of the summed cost is
    each row's own gradient. Status: converged if the cost fell by less than ``rtol`` (relative) over the last
    10 % of the steps, else MAX_STEPS.
    """
    import optax

    from ._lm import LMState

    tx = optax.adam(learning_rate)

    def cost_fn(z):
        r, _ = residuals_and_jacobian(z)
        return 0.5 * jnp.sum(r * r, axis=-1)

    def total(z):
        c = cost_fn(z)
        return jnp.sum(jnp.where(active, c, 0.0)), c

    def step(carry, _):
        z, opt = carry
        (_, c), g = jax.value_and_grad(total, has_aux=True)(z)
        upd, opt = tx.update(g, opt, z)
        return (optax.apply_updates(z, upd), opt), c

    (z, _), costs = jax.lax.scan(step, (z0, tx.init(z0)), None, length=steps)
    r, jac = residuals_and_jacobian(z)
    cost = 0.5 * jnp.sum(r * r, axis=-1)
    ref = costs[max(0, steps - max(1, steps // 10) - 1)]
    converged = (ref - cost) <= rtol * jnp.maximum(ref, jnp.finfo(cost.dtype).tiny)
    status = jnp.where(active, jnp.where(jnp.isfinite(cost), jnp.where(converged, Status.CONVERGED,
                                                                          Status.MAX_STEPS), Status.NONFINITE),
                       Status.INVALID_INPUT).astype(jnp.int8)
    b = z.shape[0]
    return LMState(z, r, jac, cost, jnp.zeros((b,), z.dtype), jnp.zeros((b,), z.dtype), jnp.ones((b,), bool),
                   status, jnp.full((b,), steps, jnp.int32), jnp.asarray(steps, jnp.int32))


def _solve_block(problem: InversionProblem, obs: Array, weight: Array, fixed: dict[str, Array], n_starts: int,
                 max_steps: int, rtol: float, solver: str = "lm", learning_rate: float = 0.05):
    """Invert one block: ``obs``/``weight`` ``(b, n_obs)`` (weight 0 = masked), ``fixed`` values ``(b,)``."""
    b = obs.shape[0]
    p = len(problem.free)
    # initial guesses: the n_starts best look-up-table matches (weighted squared error)
    o, w, lut = obs[:, ::LUT_STRIDE], weight[:, ::LUT_STRIDE], problem.lut_obs[:, ::LUT_STRIDE]
    wo = o * w
    d = jnp.sum(wo * o, -1, keepdims=True) - 2.0 * wo @ lut.T + w @ (lut**2).T  # (b, L) weighted sq. distances
    _, idx = jax.lax.top_k(-d, n_starts)  # (b, s)
    z0 = problem.lut_z[idx].reshape(b * n_starts, p)
    rep = lambda x: jnp.repeat(x, n_starts, axis=0)  # noqa: E731
    obs_s, w_s = rep(obs), rep(weight)
    fixed_s = {k: rep(v) for k, v in fixed.items()}

    def lm(prob, z_init, o, w, steps, tol):
        def residuals_and_jacobian(z):
            pred, jac = linearise(lambda zz: _predict(prob, zz, fixed_s), z)
            res = (pred - o) * w
            jac = jac * w[..., None]
            theta = to_bounded(z, prob.low, prob.high)
            pw = prob.prior_weight[None, :]
            pr = (theta - prob.prior_mean[None, :]) * pw
            jpr = jax.vmap(jnp.diag)(bounded_jacobian(z, prob.low, prob.high) * pw)
            return jnp.concatenate([res, pr], axis=-1), jnp.concatenate([jac, jpr], axis=-2)

        active = jnp.sum(w > 0, axis=-1) > 0
        if solver == "adam":
            return _adam(residuals_and_jacobian, z_init, steps, tol, active, learning_rate)
        return levenberg_marquardt(None, z_init, max_steps=steps, rtol=tol, active=active,
                                   residuals_and_jacobian=residuals_and_jacobian)

    st = lm(problem, z0, obs_s, w_s, max_steps, rtol)
    # keep the best start per spectrum
    cost = jnp.where(jnp.isfinite(st.cost), st.cost, jnp.inf).reshape(b, n_starts)
    best = jnp.argmin(cost, axis=-1)
    pick = lambda x: x.reshape((b, n_starts) + x.shape[1:])[jnp.arange(b), best]  # noqa: E731
    return pick(st.z), pick(st.jac), pick(st.r), pick(st.cost), pick(st.iters), pick(st.status)


def invert(problem: InversionProblem, reflectance: Float[Array, "*b wl"] | None = None,
           transmittance: Float[Array, "*b wl"] | None = None, *, mask: Array | None = None,
           fixed: Mapping[str, Array] | None = None, noise_std: float | None = None, n_starts: int = 1,
           max_steps: int | None = None, rtol: float = 1e-5, block_size: int | None | str = "auto",
           devices="all", solver: str = "lm", learning_rate: float = 0.05) -> InversionResult:
    """Estimate the free parameters of ``problem`` for every spectrum.

    **Arguments:**
    - ``reflectance``, ``transmittance``: observed spectra ``(*b, wl)`` on ``problem.wavelengths``
      (fractions, not percent), as required by ``problem.use_r`` / ``use_t``. NaN bands are masked.
    - ``mask``: optional boolean ``(*b, wl)`` or ``(wl,)``: True = use the band.
    - ``fixed``: per-spectrum values ``{name: (*b,)}`` for non-free parameters (e.g. N from a prior).
    - ``noise_std``: observation noise σ (reflectance units). If given, the covariance is
      ``(JᵀJ)⁻¹`` of the σ-scaled residuals; if ``None``, σ² is estimated per spectrum from the residuals.
    - ``n_starts``: number of starting points (best look-up-table matches); the lowest final cost wins.
    - ``solver``: ``"lm"`` (Levenberg–Marquardt, default) or ``"adam"`` (first-order: optax Adam with
      ``learning_rate`` on the unconstrained parameters for exactly ``max_steps`` steps; slower to converge but
      needs no linear solves). Uncertainty and diagnostics are computed the same way for both.
    - ``max_steps``, ``rtol``: iteration limit (default 60 for LM, 500 for Adam) and relative cost-decrease
      tolerance (1e-5 leaves estimates
      unchanged to < 1e-5 relative on simulated spectra while tighter values only chase float32 rounding).
    - ``devices``: ``"all"`` (default) splits the batch evenly over every local accelerator (``shard_map`` over
      a 1-D mesh; each device solves its share independently); a list of devices uses those; ``None`` or a
      single device runs on the default device.
    - ``block_size``: spectra per block (``"auto"``: 16 on CPU, all at once on GPU). A block iterates until
      its slowest spectrum is done, so small blocks waste less work on CPU.

    **Returns:** :class:`InversionResult` with leading shape ``*b``.
    """
    parts = []
    if problem.use_r:
        if reflectance is None:
            raise ValueError("this problem uses reflectance; pass reflectance=")
        parts.append(jnp.asarray(reflectance))
    if problem.use_t:
        if transmittance is None:
            raise ValueError("this problem uses transmittance; pass transmittance=")
        parts.append(jnp.asarray(transmittance))
    nwl = problem.model.n_bands
    for x in parts:
        if x.shape[-1] != nwl:
            raise ValueError(f"spectra have {x.shape[-1]} bands but the problem's grid has {nwl}")
    batch = parts[0].shape[:-1]
    dtype = problem.low.dtype
    obs = jnp.concatenate([jnp.broadcast_to(x, batch + (nwl,)).astype(dtype) for x in parts], -1)
    size = int(np.prod(batch)) if batch else 1
    obs = obs.reshape(size, -1)
    m = jnp.ones((size, nwl), bool) if mask is None else jnp.broadcast_to(jnp.asarray(mask, bool),
                                                                          batch + (nwl,)).reshape(size, nwl)
    m = jnp.concatenate([m] * len(parts), -1) & jnp.isfinite(obs)
    scale = 1.0 if noise_std is None else 1.0 / float(noise_std)
    weight = jnp.where(m, problem.band_weight[None, :] * scale, 0.0).astype(dtype)
    obs = jnp.where(m, obs, 0.0)
    fx = {k: jnp.broadcast_to(jnp.asarray(v, dtype), batch).reshape(size) for k, v in (fixed or {}).items()}
    for k in fx:
        if k in problem.free:
            raise ValueError(f"{k} is free in this problem and cannot also be fixed")
    fx = {**{k: jnp.full((size,), v, dtype) for k, v in problem.default_fixed.items() if k not in fx}, **fx}
    if solver not in ("lm", "adam"):
        raise ValueError(f"solver must be 'lm' or 'adam', got {solver!r}")
    if max_steps is None:
        max_steps = 60 if solver == "lm" else 500
    if block_size == "auto":
        block_size = CPU_BLOCK_SIZE if jax.default_backend() == "cpu" else None
    devices = jax.devices() if devices == "all" else list(devices or [])
    if len(devices) > 1:
        out = _invert_sharded(problem, obs, weight, fx, n_starts, max_steps, rtol,
                              None if block_size is None else int(block_size), devices, solver, learning_rate)
    else:
        out = _invert_flat(problem, obs, weight, fx, n_starts, max_steps, rtol,
                           None if block_size is None else int(block_size), solver, learning_rate)
    return _finalise(problem, out, obs, weight, fx, batch, noise_std is not None)


@eqx.filter_jit
def _invert_flat(problem, obs, weight, fixed, n_starts, max_steps, rtol, block_size, solver="lm",
                 learning_rate=0.05):
    solve = lambda args: _solve_block(problem, *args, n_starts, max_steps, rtol, solver, learning_rate)  # noqa: E731
    n = obs.shape[0]
    if block_size is None or n <= block_size:
        return solve((obs, weight, fixed))
    nb = -(-n // block_size)
    pad = nb * block_size - n

    def blocks(x):  # pad with copies of the first row (solved, then dropped) and split into blocks
        x = jnp.concatenate([x, jnp.broadcast_to(x[:1], (pad,) + x.shape[1:])], 0) if pad else x
        return x.reshape((nb, block_size) + x.shape[1:])

    out = jax.lax.map(solve, jax.tree.map(blocks, (obs, weight, fixed)))
    return jax.tree.map(lambda x: x.reshape((nb * block_size,) + x.shape[2:])[:n], out)


def _invert_sharded(problem, obs, weight, fixed, n_starts, max_steps, rtol, block_size, devices, solver="lm",
                    learning_rate=0.05):
    """Split the flat batch over ``devices`` (padding with copies of row 0) and solve each share locally."""
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    nd = len(devices)
    n = obs.shape[0]
    pad = (-n) % nd
    padded = jax.tree.map(lambda x: jnp.concatenate([x, jnp.broadcast_to(x[:1], (pad,) + x.shape[1:])], 0)
                          if pad else x, (obs, weight, fixed))
    mesh = Mesh(np.asarray(devices), ("batch",))
    spec = PartitionSpec("batch")
    padded = jax.device_put(padded, NamedSharding(mesh, spec))

    def local(args):
        o, w, f = args
        return _invert_flat(problem, o, w, f, n_starts, max_steps, rtol, block_size, solver, learning_rate)

    fn = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(spec,), out_specs=spec, check_vma=False))
    out = fn(padded)
    return jax.tree.map(lambda x: x[:n], out)


def _finalise(problem, out, obs, weight, fixed, batch, known_noise: bool) -> InversionResult:
    z, jac, r, cost, iters, status = out
    p = len(problem.free)
    theta = to_bounded(z, problem.low, problem.high)
    n_used = jnp.sum(weight > 0, axis=-1)
    res = r[:, : obs.shape[-1]]
    rmse = jnp.sqrt(jnp.sum(jnp.where(weight > 0, (res / jnp.where(weight > 0, weight, 1.0)) ** 2, 0.0), -1)
                    / jnp.maximum(n_used, 1))
    # Gauss–Newton covariance in z, mapped to theta by the delta method
    jtj = jnp.einsum("bnp,bnq->bpq", jac, jac)
    eye = jnp.eye(p, dtype=jtj.dtype)
    cov_z = jnp.linalg.inv(jtj + 1e-12 * jnp.trace(jtj, axis1=-2, axis2=-1)[:, None, None] * eye[None])
    if not known_noise:
        sigma2 = 2.0 * cost / jnp.maximum(n_used - p, 1)
        cov_z = cov_z * sigma2[:, None, None]
    dth = bounded_jacobian(z, problem.low, problem.high)
    cov = cov_z * dth[:, :, None] * dth[:, None, :]
    std = jnp.sqrt(jnp.clip(jnp.diagonal(cov, axis1=-2, axis2=-1), 0.0))
    status = jnp.where(jnp.isfinite(cost), status, Status.NONFINITE)
    shape = lambda x: x.reshape(batch)  # noqa: E731
    est = {n: shape(theta[:, i]) for i, n in enumerate(problem.free)}
    sd = {n: shape(std[:, i]) for i, n in enumerate(problem.free)}
    for n in problem.model.params_type.names:
        if n not in est:
            est[n] = shape(fixed[n]) if n in fixed else jnp.zeros(batch, theta.dtype)
    if problem.model.params_type is ProspectProParams:
        est["lma"] = est["prot"] + est["cbc"]
        est["nitrogen"] = nitrogen_from_protein(est["prot"], est["cbc"])
        fi = {n: i for i, n in enumerate(problem.free)}
        if "prot" in fi and "cbc" in fi:
            i, j = fi["prot"], fi["cbc"]
            v_pp, v_cc, v_pc = cov[:, i, i], cov[:, j, j], cov[:, i, j]
            sd["lma"] = shape(jnp.sqrt(jnp.clip(v_pp + v_cc + 2 * v_pc, 0.0)))
            prot, cbc = theta[:, i], theta[:, j]
            tot = prot + cbc
            g_p, g_c = 100.0 / 4.43 * cbc / tot**2, -100.0 / 4.43 * prot / tot**2
            sd["nitrogen"] = shape(jnp.sqrt(jnp.clip(g_p**2 * v_pp + g_c**2 * v_cc + 2 * g_p * g_c * v_pc, 0.0)))
    return InversionResult(est, sd, shape(rmse), shape(cost), shape(iters), shape(status.astype(jnp.int8)))
