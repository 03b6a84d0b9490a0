"""Prior distributions for sampling model parameters, with optional correlations (Gaussian copula).

A :class:`Prior` maps canonical parameter names to marginal distributions (:class:`Uniform`,
:class:`TruncatedNormal`, :class:`Fixed`) and optionally a correlation matrix between them.  Sampling draws
correlated standard normals ``z ~ N(0, C)``, maps them to uniforms ``u = Φ(z)`` and then through each marginal's
inverse CDF, so every marginal is exact whatever the correlation (a Gaussian copula; Nelsen 2006, ch. 5).
"""

from __future__ import annotations

import abc
from typing import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr, ndtri
from jaxtyping import Array, Float, PRNGKeyArray

from .._parameters import preset, spec
from .._parameters import spec as _param_spec


class AbstractMarginal(eqx.Module):
    """A one-dimensional distribution given by its inverse CDF (quantile function)."""

    @abc.abstractmethod
    def quantile(self, u: Float[Array, "n"]) -> Float[Array, "n"]:
        """Map uniforms in (0, 1) to samples."""

    @abc.abstractmethod
    def support(self) -> tuple[float, float]:
        """``(low, high)`` of the distribution."""


class Uniform(AbstractMarginal):
    """Uniform on ``[low, high]`` (units of the parameter)."""

    low: float
    high: float

    def __check_init__(self):
        if not self.high >= self.low:
            raise ValueError(f"Uniform needs high >= low, got [{self.low}, {self.high}]")

    def quantile(self, u):
        return self.low + (self.high - self.low) * u

    def support(self):
        return (self.low, self.high)


class TruncatedNormal(AbstractMarginal):
    """Normal ``N(mean, std²)`` truncated to ``[low, high]`` (units of the parameter)."""

    mean: float
    std: float
    low: float
    high: float

    def __check_init__(self):
        if not self.std > 0:
            raise ValueError(f"TruncatedNormal needs std > 0, got {self.std}")
        if not self.high > self.low:
            raise ValueError(f"TruncatedNormal needs high > low, got [{self.low}, {self.high}]")

    def quantile(self, u):
        a = ndtr(jnp.asarray((self.low - self.mean) / self.std, dtype=u.dtype))
        b = ndtr(jnp.asarray((self.high - self.mean) / self.std, dtype=u.dtype))
        x = self.mean + self.std * ndtri(a + (b - a) * u)
        return jnp.clip(x, self.low, self.high)

    def support(self):
        return (self.low, self.high)


class Fixed(AbstractMarginal):
    """A constant value (the parameter is not sampled)."""

    value: float

    def quantile(self, u):
        return jnp.full_like(u, self.value)

    def support(self):
        return (self.value, self.value)


def _as_nested_tuple(c):
    """Store a correlation matrix as nested tuples (hashable, so it can be a static field)."""
    if c is None:
        return None
    return tuple(tuple(float(v) for v in row) for row in np.asarray(c, dtype=np.float64))


class Prior(eqx.Module):
    """Joint prior over named parameters.

    **Fields:**
    - ``marginals``: ``{name: marginal}`` in canonical names/units.
    - ``correlation``: optional ``(p, p)`` correlation matrix over the order of ``marginals`` (Gaussian copula),
      or ``None`` for independent parameters.
    """

    marginals: dict[str, AbstractMarginal]
    correlation: tuple[tuple[float, ...], ...] | None = eqx.field(static=True, default=None, converter=_as_nested_tuple)

    def __check_init__(self):
        if self.correlation is not None:
            c = np.asarray(self.correlation, dtype=np.float64)
            p = len(self.marginals)
            if c.shape != (p, p):
                raise ValueError(f"correlation must be {p}x{p} (one row per parameter), got {c.shape}")
            if not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1.0):
                raise ValueError("correlation must be symmetric with a unit diagonal")
            if np.linalg.eigvalsh(c).min() <= 0:
                raise ValueError("correlation matrix must be positive definite")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.marginals)

    def sample(self, key: PRNGKeyArray, n: int, dtype=None) -> dict[str, Float[Array, "n"]]:
        """Draw ``n`` joint samples; returns ``{name: (n,) array}``."""
        if n <= 0:
            raise ValueError(f"number of samples must be positive, got {n}")
        dtype = jnp.result_type(float) if dtype is None else dtype
        p = len(self.marginals)
        z = jax.random.normal(key, (n, p), dtype=dtype)
        if self.correlation is not None:
            chol = jnp.asarray(np.linalg.cholesky(np.asarray(self.correlation, np.float64)), dtype=dtype)
            z = z @ chol.T
        eps = jnp.finfo(dtype).eps
        u = jnp.clip(ndtr(z), eps, 1.0 - eps)
        return {name: m.quantile(u[:, i]) for i, (name, m) in enumerate(self.marginals.items())}


def prior_from_preset(model: str, kind: str = "prior", names: Sequence[str] | None = None) -> Prior:
    """Independent :class:`Uniform` marginals (:class:`Fixed` where ``low == high``) from a named preset of the
    parameter registry, e.g. ``prior_from_preset("prospect-d")`` (see :func:`leafjax._parameters.preset`).

    **Arguments:** ``model``, ``kind``: the preset; ``names``: keep only these parameters (preset order kept).
    """
    table = preset(model, kind)
    keep = table if names is None else [n for n in table if n in set(names)]
    return Prior({n: Fixed(table[n][0]) if table[n][0] == table[n][1] else Uniform(*table[n]) for n in keep})


def default_prior(model: str) -> Prior:
    """The documented default prior of ``"prospect-d"`` or ``"prospect-pro"`` (independent marginals): the
    registry preset ``preset(model, "prior")`` — the 1,000-sample look-up table of Féret et al. 2019 / Spafford
    et al. 2021 (chl, car, ewt, lma, N), ant 0–5 µg/cm², brown fixed at 0 (green leaves), prot and cbc covering
    lma 0.001–0.02 g/cm² with 4–30 % protein by mass."""
    key = model.lower()
    if key not in ("prospect-d", "prospect-pro"):
        raise ValueError(f"no default prior for model {model!r}")
    return prior_from_preset(key, "prior")


def check_within_bounds(prior: Prior, names: Sequence[str] | None = None) -> None:
    """Raise ``ValueError`` if a marginal's support leaves the physical bounds of its parameter
    (:mod:`leafjax._parameters`: what the forward model accepts), or names a parameter not in ``names``."""
    for name, m in prior.marginals.items():
        if names is not None and name not in names:
            raise ValueError(f"prior parameter {name!r} is not a parameter of the model ({', '.join(names)})")
        try:
            s = spec(name)
        except ValueError:
            continue
        lo, hi = m.support()
        if lo < s.low or hi > s.high:
            raise ValueError(f"prior for {name} [{lo}, {hi}] leaves the bounds [{s.low}, {s.high}] {s.unit}")


#: Distribution name -> its fields, in the order of the list form.
PRIOR_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "truncated_normal": ("mean", "std", "low", "high"),
    "fixed": ("value",),
}


def _number(name: str, kind: str, field: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"prior for {name!r}: {kind} field {field!r} must be a number, got {_show(v)}")
    x = float(v)
    if not np.isfinite(x):
        raise ValueError(f"prior for {name!r}: {kind} field {field!r} must be finite, got {x}")
    return x


def _show(v, limit: int = 40) -> str:
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 1] + "…"


def _fields(name: str, kind: str, args) -> dict[str, float]:
    fields = PRIOR_DISTRIBUTIONS[kind]
    listed = fields[0] if len(fields) == 1 else "[" + ", ".join(fields) + "]"
    named = ", ".join(f'"{f}": ...' for f in fields)
    usage = f'{{"{kind}": {listed}}} or {{"{kind}": {{{named}}}}}'
    if isinstance(args, Mapping):
        unknown = [k for k in args if k not in fields]
        missing = [f for f in fields if f not in args]
        if unknown or missing:
            what = f"unknown field {unknown[0]!r}" if unknown else f"missing field {missing[0]!r}"
            raise ValueError(f"prior for {name!r}: {kind} has {what} (expected {usage})")
        values = [args[f] for f in fields]
    elif isinstance(args, (list, tuple)):
        if len(args) != len(fields):
            raise ValueError(f"prior for {name!r}: {kind} needs {len(fields)} number(s) "
                             f"[{', '.join(fields)}], got {len(args)} (expected {usage})")
        values = list(args)
    elif len(fields) == 1:
        values = [args]
    else:
        raise ValueError(f"prior for {name!r}: {kind} needs [{', '.join(fields)}], got {_show(args)}")
    return {f: _number(name, kind, f, v) for f, v in zip(fields, values)}


def _marginal(name: str, d) -> AbstractMarginal:
    kinds = ", ".join(PRIOR_DISTRIBUTIONS)
    if not isinstance(d, Mapping) or len(d) != 1:
        raise ValueError(f"prior for {name!r} must be an object with one distribution ({kinds}), got {_show(d)}")
    (kind, args), = d.items()
    if kind not in PRIOR_DISTRIBUTIONS:
        raise ValueError(f"prior for {name!r}: unknown distribution {_show(kind)} (use {kinds})")
    f = _fields(name, kind, args)
    if kind == "fixed":
        lo = hi = f["value"]
        m: AbstractMarginal = Fixed(f["value"])
    else:
        lo, hi = f["low"], f["high"]
        if lo > hi:
            raise ValueError(f"prior for {name!r}: low {lo:g} > high {hi:g}")
        if kind == "uniform":
            m = Uniform(lo, hi)
        else:
            if f["std"] <= 0:
                raise ValueError(f"prior for {name!r}: truncated_normal std must be > 0, got {f['std']:g}")
            if lo == hi:
                raise ValueError(f"prior for {name!r}: truncated_normal needs low < high (use fixed for a "
                                 "constant)")
            m = TruncatedNormal(f["mean"], f["std"], lo, hi)
    s = spec(name)
    if lo < s.low or hi > s.high:
        raise ValueError(f"prior for {name!r}: [{lo:g}, {hi:g}] leaves the physical bounds "
                         f"[{s.low:g}, {s.high:g}] {s.unit}")
    return m


def _correlation(c, names: Sequence[str]) -> np.ndarray:
    p = len(names)
    if (not isinstance(c, (list, tuple)) or len(c) != p
            or any(not isinstance(row, (list, tuple)) or len(row) != p for row in c)):
        raise ValueError(f"prior _correlation must be a {p}x{p} list of lists (one row per parameter, in the "
                         f"order {', '.join(names)})")
    for row in c:
        for v in row:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ValueError(f"prior _correlation entries must be finite numbers, got {_show(v)}")
    return np.asarray(c, dtype=np.float64)


def prior_from_mapping(spec: object) -> Prior:
    """Build a :class:`Prior` from plain data, e.g. the parsed JSON of ``leafjax simulate --prior FILE``.

    **Format.** A JSON object whose keys are canonical parameter names (:mod:`leafjax._parameters`, e.g.
    ``n_struct, chl, car, ant, brown, ewt, lma, prot, cbc`` for the leaf models and ``lai, lidf_a, lidf_b,
    hotspot, sza, vza, raa, soil_brightness, soil_dryness`` for PROSAIL) in canonical units (chl/car/ant µg/cm²,
    ewt/lma/prot/cbc g/cm², angles degrees, lai m²/m²), each mapped to an object with exactly one distribution:

    ======================  ===========================================  ====================================
    distribution            list form                                    object form
    ======================  ===========================================  ====================================
    uniform on [low, high]  ``{"uniform": [low, high]}``                 ``{"uniform": {"low": l, "high": h}}``
    normal truncated to     ``{"truncated_normal": [mean, std, low,      ``{"truncated_normal": {"mean": m,
    [low, high]             high]}``                                     "std": s, "low": l, "high": h}}``
    a constant              ``{"fixed": value}`` or ``[value]``          ``{"fixed": {"value": v}}``
    ======================  ===========================================  ====================================

    Every field is a finite number; ``low <= high`` (``low < high`` and ``std > 0`` for ``truncated_normal``),
    and ``[low, high]`` (or ``value``) must lie inside the parameter's physical bounds (e.g. chl in [0, 300]
    µg/cm²; zero is allowed for every content).  The optional key ``"_correlation"`` is a p×p symmetric,
    positive-definite correlation matrix (Gaussian copula) over the parameters *in the order they appear* in the
    object (fixed ones included).  Parameters not listed take the model's defaults where it has one (``ant`` and
    ``brown`` 0 for the leaf models; the canopy defaults of :class:`~leafjax.physics.canopy.CanopyParams`) and
    are otherwise required by the model (an error names them).

    Example (``prior.json``)::

        {
          "n_struct": {"uniform": [1.2, 2.2]},
          "chl": {"truncated_normal": {"mean": 40, "std": 15, "low": 5, "high": 90}},
          "car": {"uniform": [2, 15]},
          "ant": {"fixed": 0},
          "ewt": {"uniform": [0.004, 0.02]},
          "lma": {"uniform": [0.002, 0.012]},
          "_correlation": [[1, 0, 0, 0, 0, 0], [0, 1, 0.6, 0, 0, 0], [0, 0.6, 1, 0, 0, 0],
                           [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1]]
        }

    Raises:
        ValueError: one line naming the parameter, for anything else: not an object, no parameter, an unknown
            parameter or distribution, a missing, unknown or non-numeric field, ``low > high``, bounds outside
            the physical limits, a malformed correlation matrix.

    Example:
        >>> prior_from_mapping({"chl": {"uniform": [10, 80]}, "ant": {"fixed": 0}}).names
        ('chl', 'ant')
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"a prior must be a JSON object mapping parameter names to distributions, got "
                         f"{type(spec).__name__}")
    marg: dict[str, AbstractMarginal] = {}
    corr = None
    for name, d in spec.items():
        if name == "_correlation":
            continue
        if not isinstance(name, str):
            raise ValueError(f"prior parameter names must be strings, got {_show(name)}")
        try:
            _param_spec(name)
        except ValueError:
            raise ValueError(f"prior names an unknown parameter {_show(name)} (canonical names, e.g. chl, "
                             "n_struct, lai; see leafjax._parameters)") from None
        marg[name] = _marginal(name, d)
    if not marg:
        raise ValueError("the prior lists no parameter")
    if "_correlation" in spec:
        corr = _correlation(spec["_correlation"], list(marg))
    try:
        return Prior(marg, corr)
    except ValueError as e:
        raise ValueError(f"prior _correlation: {e}") from None
