"""One entry point for every inversion problem: :func:`invert` (problem + observations + solver object)."""

from __future__ import annotations

import dataclasses
import functools
from typing import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._finalise import finalise
from ._implicit import implicit_solution
from ._problem import AbstractProblem, batch_size, residuals, residuals_and_jacobian
from ._quality import check_options, check_percent, not_inverted, spectrum_quality
from ._result import InversionResult, Status
from ._solver import AbstractBatchedSolver, SolverState
from ._solver_adam import Adam

#: Solver rows in flight on CPU (work-queue slots of the LM, blocks of other solvers: small enough to keep the
#: working set in cache; measured on the 2-core CPU, see the module _lm_queue); GPU solves in one block.
CPU_BLOCK_SIZE = 16
#: Names accepted by ``solver=`` for backward compatibility.
SOLVER_NAMES = ("lm", "adam")


def _stop(tree):
    return jax.tree.map(lambda x: jax.lax.stop_gradient(x) if eqx.is_inexact_array(x) else x, tree)


def resolve_solver(problem: AbstractProblem, solver, max_steps: int | None = None, rtol: float | None = None,
                   learning_rate: float | None = None) -> AbstractBatchedSolver:
    """A solver object from ``solver`` (an object, ``None``/``"lm"``: the problem's default, ``"adam"``) with
    the legacy keyword overrides applied."""
    if solver is None or (isinstance(solver, str) and solver == "lm"):
        solver = problem.default_solver()
    elif isinstance(solver, str) and solver == "adam":
        solver = Adam()
    elif not isinstance(solver, AbstractBatchedSolver):
        raise ValueError(f"solver must be 'lm', 'adam' or an AbstractBatchedSolver, got {solver!r}")
    changes = {k: v for k, v in (("max_steps", max_steps), ("rtol", rtol), ("learning_rate", learning_rate))
               if v is not None}
    fields = {f.name for f in dataclasses.fields(solver)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise ValueError(f"{type(solver).__name__} has no option(s) {unknown}")
    return dataclasses.replace(solver, **changes) if changes else solver


def invert(problem: AbstractProblem, observed: Float[ArrayLike, "*b n"] | None = None, *positional,
           solver: AbstractBatchedSolver | str | None = None, mask: ArrayLike | None = None, throw: bool = False,
           fixed: Mapping[str, ArrayLike] | None = None, noise_std: float | None = None, n_starts: int = 1,
           reflectance: Float[ArrayLike, "*b wl"] | None = None, transmittance: Float[ArrayLike, "*b wl"] | None = None,
           max_steps: int | None = None, rtol: float | None = None, learning_rate: float | None = None,
           block_size: int | None | str = "auto", devices="all", return_fitted: bool = False,
           expected_rmse: float | None = None, percent_check: bool = True) -> InversionResult:
    r"""Estimate the free parameters of ``problem`` for every row of ``observed``.

    Every row (spectrum, pixel) is an independent bounded least-squares problem (see
    :class:`~leafjax.inversion.AbstractProblem`) solved by ``solver`` from the problem's initial guesses.

    **Arguments:**
    - ``problem``: e.g. :func:`make_problem` (leaf R/T) or :func:`make_canopy_problem` (canopy bands).
    - ``observed``: observations ``(*b, n_obs)`` (fractions, not percent); NaN entries are masked.  Leaf
      problems also take ``reflectance=``/``transmittance=`` ``(*b, wl)``, and the former call
      ``invert(problem, R, T)``.
    - ``solver`` (keyword, or the third positional argument): an :class:`AbstractBatchedSolver` (default: the
      problem's, :class:`BatchedLevenbergMarquardt`); ``"lm"``/``"adam"`` name the defaults.  ``max_steps``, ``rtol``,
      ``learning_rate`` override the solver's fields (former keywords).
    - ``mask``: optional boolean ``(*b, n)`` or ``(n,)`` (True = use the band; a leaf ``(wl,)`` mask applies to
      R and T alike).
    - ``throw``: raise if any row did not converge (``eqx.error_if``, so also under ``jit``); otherwise read
      ``result.status``.
    - ``fixed``: per-row values ``{name: (*b,)}`` (or scalars) of non-free parameters and geometry.
    - ``noise_std``: observation noise σ (observation units).  If given, the covariance is ``(JᵀJ)⁻¹`` of the
      σ-scaled residuals; if ``None``, σ² is estimated per row from the residuals.
    - ``n_starts``: starting points per row (best look-up-table matches); the lowest final cost wins.
    - ``block_size``: solver rows (one per start) in flight (``"auto"``: :data:`CPU_BLOCK_SIZE` on CPU, all at
      once on GPU); the LM solver refills a slot as soon as its row is done (work queue), other solvers run
      blocks of this many rows until their slowest row is done.  The batch is padded to
      :func:`bucket_size` rows (padding rows are not solved).  ``devices``: ``"all"`` splits the batch over
      every local device (``shard_map``), a list uses those, ``None`` the default device.
    - ``return_fitted``: also return the model's observation at the estimates.
    - ``expected_rmse``: the fit RMSE expected from instrument and model (observation units; default
      ``noise_std`` if given, else the problem's ``default_expected_rmse()``: measured on real leaf spectra for
      leaf problems, the band σ for canopy problems): ``poor_fit`` above 3 times it, and the wavelength-shift
      check needs an RMSE above 2 times it (:mod:`leafjax.inversion._quality`).
    - ``percent_check``: refuse concrete observations of which more than half of the rows exceed 1.05 (percent
      passed as fractions; a one-line ``ValueError``); traced observations are never checked.  Problems whose
      observations are not fractions (``problem.observation_range()`` not ``None``, e.g. brightness
      temperatures) are checked against that range instead.

    **Returns:** :class:`InversionResult` with leading shape ``*b``, with per-row ``quality`` bits and
    ``at_bound`` masks.  Rows without a valid band or with an input flag of ``leafjax._flags.NOT_INVERTED``
    (out of range, all zero, suspected percent) are not inverted: status ``INVALID_INPUT``, NaN estimates.  ``estimates`` are differentiable (``jax.grad``) with respect to ``observed`` and the
    arrays of ``problem`` by the implicit-function theorem (:mod:`leafjax.inversion._implicit`).

    Example:
        >>> import numpy as np, leafjax as lj
        >>> from leafjax.inversion import BatchedLevenbergMarquardt, invert, make_problem
        >>> model = lj.ProspectD(wavelengths=np.arange(400, 2401, 100))
        >>> problem = make_problem(model, free=["chl", "ewt"], fixed={"n_struct": 1.5, "lma": 0.005}, lut_size=50)
        >>> out = model(lj.ProspectDParams(1.5, 40.0, 8.0, 0.0, 0.0, 0.01, 0.005))
        >>> res = invert(problem, reflectance=out.reflectance[None], transmittance=out.transmittance[None],
        ...              solver=BatchedLevenbergMarquardt(rtol=1e-10), fixed={"car": 8.0})
        >>> round(float(res.estimates["chl"][0]), 2)
        40.0
    """
    if len(positional) > 1:
        raise TypeError("invert takes at most three positional arguments (problem, observed, solver)")
    for extra in positional:
        if isinstance(extra, (str, AbstractBatchedSolver)):
            if solver is not None:
                raise TypeError("solver given twice")
            solver = extra
        else:  # former positional call: invert(problem, R, T)
            if transmittance is not None:
                raise TypeError("transmittance given twice")
            transmittance = extra
    check_options(n_starts, noise_std, expected_rmse)
    solver = resolve_solver(problem, solver, max_steps, rtol, learning_rate)
    obs = problem.observation(observed, reflectance=reflectance, transmittance=transmittance)
    n_obs = problem.n_obs
    batch = obs.shape[:-1]
    size = batch_size(batch)
    if size == 0:
        raise ValueError(f"no observations to invert (an empty batch of shape {tuple(obs.shape)})")
    obs = obs.reshape(size, n_obs)
    m = jnp.ones((size, n_obs), bool) if mask is None else problem.expand_mask(mask, batch).reshape(size, n_obs)
    value_range = problem.observation_range()
    if percent_check and value_range is None:
        check_percent(obs, None if mask is None else m)
    quality = spectrum_quality(obs, m, n_spectra=problem.n_spectra, value_range=value_range)
    m = m & jnp.isfinite(obs) & ~not_inverted(quality)[:, None]
    scale = 1.0 if noise_std is None else 1.0 / float(noise_std)
    dtype = problem.dtype
    weight = jnp.where(m, problem.band_weight[None, :] * scale, 0.0).astype(dtype)
    obs = jnp.where(m, obs, 0.0)
    context = problem.context(fixed, size, batch)
    expected = expected_rmse if expected_rmse is not None else noise_std
    expected = problem.default_expected_rmse() if expected is None else expected
    expected = None if expected is None else jnp.asarray(expected, dtype)
    if block_size == "auto":
        block_size = CPU_BLOCK_SIZE if jax.default_backend() == "cpu" else None
    block_size = None if block_size is None else int(block_size)
    devices = jax.devices() if devices == "all" else list(devices or [])
    n_pad = bucket_size(size)  # a few compiled shapes; padding rows are never solved and are dropped
    obs, weight, context, quality = _pad_rows((obs, weight, context, quality), n_pad)
    n_valid = jnp.asarray(size, jnp.int32)
    args = _stop((problem, obs, weight, context))
    if len(devices) > 1:
        state = _invert_sharded(*args, n_valid, solver, int(n_starts), block_size, devices)
    else:
        state = _invert_flat(*args, n_valid, solver, int(n_starts), block_size)
    z = implicit_solution((problem, obs, weight, context), state.z)
    result = finalise(problem, state, z, obs, weight, context, (n_pad,), noise_std is not None, return_fitted,
                      quality, expected)
    if n_pad != size or batch != (n_pad,):
        result = jax.tree.map(lambda x: x[:size].reshape(batch + x.shape[1:]), result)
    if throw:
        failed = jnp.any(result.status != Status.CONVERGED)
        msg = ("inversion failed for some rows (status codes: 1 max_steps, 2 invalid_input, 3 nonfinite); "
               "pass throw=False and inspect result.status")
        result = jax.tree.map(lambda x: eqx.error_if(x, failed, msg), result)
    return result


def bucket_size(n: int) -> int:
    """The padded batch size of ``n`` rows: the smallest ``2^k`` or ``3·2^(k-1)`` >= ``n`` (1, 2, 3, 4, 6, 8, 12,
    16, 24, ...): at most 1.5x the rows and two compiled shapes per octave of batch sizes."""
    if n <= 2:
        return max(int(n), 1)
    k = (int(n) - 1).bit_length()  # 2^(k-1) < n <= 2^k
    return 3 << (k - 2) if n <= 3 << (k - 2) else 1 << k


def _pad_rows(tree, n_pad: int):
    """Pad every ``(n, ...)`` leaf to ``n_pad`` rows with copies of row 0 (never solved; dropped after)."""
    def pad(x):
        extra = n_pad - x.shape[0]
        return jnp.concatenate([x, jnp.broadcast_to(x[:1], (extra,) + x.shape[1:])], 0) if extra else x
    return jax.tree.map(pad, tree)


def _solve_rows(problem: AbstractProblem, obs: Array, weight: Array, context: dict[str, Array], n_valid: Array,
                solver: AbstractBatchedSolver, n_starts: int, block_size: int | None) -> SolverState:
    """Invert the first ``n_valid`` rows of ``obs``/``weight`` ``(b, n_obs)`` (weight 0 = masked), ``context``
    values ``(b,)``, each from ``n_starts`` starts, with ``block_size`` solver rows (starts) in flight."""
    b = obs.shape[0]
    p = len(problem.free)
    z0 = problem.initial_guess(obs, weight, context, n_starts).reshape(b * n_starts, p)
    rep = (lambda x: jnp.repeat(x, n_starts, axis=0)) if n_starts > 1 else (lambda x: x)  # noqa: E731
    data = (rep(obs), rep(weight), {k: rep(v) for k, v in context.items()})
    active = jnp.sum(data[1] > 0, axis=-1) > 0
    st = solver.solve_queued(functools.partial(residuals, problem), functools.partial(residuals_and_jacobian, problem),
                             z0, data, active, slots=block_size, n_valid=n_valid * n_starts)
    if n_starts == 1:
        return st
    # keep the best start per row
    cost = jnp.where(jnp.isfinite(st.cost), st.cost, jnp.inf).reshape(b, n_starts)
    best = jnp.argmin(cost, axis=-1)
    pick = lambda x: x.reshape((b, n_starts) + x.shape[1:])[jnp.arange(b), best]  # noqa: E731
    return SolverState(*(pick(x) for x in st))


@eqx.filter_jit
def _invert_flat(problem, obs, weight, context, n_valid, solver, n_starts, block_size) -> SolverState:
    return _solve_rows(problem, obs, weight, context, n_valid, solver, n_starts, block_size)


def _invert_sharded(problem, obs, weight, context, n_valid, solver, n_starts, block_size, devices) -> SolverState:
    """Split the flat batch (its first ``n_valid`` rows valid) over ``devices`` (padding with copies of row 0)
    and solve each share locally, on its own valid rows."""
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    nd = len(devices)
    n = obs.shape[0]
    padded = _pad_rows((obs, weight, context), n + (-n) % nd)
    valid = jnp.arange(padded[0].shape[0], dtype=jnp.int32) < n_valid  # a prefix of every share
    mesh = Mesh(np.asarray(devices), ("batch",))
    spec = PartitionSpec("batch")
    padded = jax.device_put((padded, valid), NamedSharding(mesh, spec))

    def local(a):
        (o, w, c), v = a
        return _solve_rows(problem, o, w, c, jnp.sum(v, dtype=jnp.int32), solver, n_starts, block_size)

    fn = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(spec,), out_specs=spec, check_vma=False))
    out = fn(padded)
    return jax.tree.map(lambda x: x[:n], out)
