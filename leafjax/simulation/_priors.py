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


def prior_from_mapping(spec: Mapping[str, Mapping]) -> Prior:
    """Build a :class:`Prior` from plain data, e.g. parsed JSON::

        {"chl": {"uniform": [10, 80]}, "n_struct": {"truncated_normal": [1.5, 0.3, 1.0, 3.0]},
         "ant": {"fixed": 0.0}, "_correlation": [[...], ...]}
    """
    marg: dict[str, AbstractMarginal] = {}
    corr = None
    for name, d in spec.items():
        if name == "_correlation":
            corr = np.asarray(d, dtype=np.float64)
            continue
        if not isinstance(d, Mapping) or len(d) != 1:
            raise ValueError(f"prior for {name!r} must be one of {{uniform: [lo, hi]}}, "
                             f"{{truncated_normal: [mean, std, lo, hi]}}, {{fixed: value}}")
        (kind, args), = d.items()
        if kind == "uniform":
            marg[name] = Uniform(*map(float, args))
        elif kind == "truncated_normal":
            marg[name] = TruncatedNormal(*map(float, args))
        elif kind == "fixed":
            marg[name] = Fixed(float(args))
        else:
            raise ValueError(f"unknown distribution {kind!r} for {name!r}")
    return Prior(marg, corr)
