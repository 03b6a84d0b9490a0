r"""The Sentinel-2 biophysical-processor prior and noise: Weiss & Baret (2016), S2ToolBox Level-2 products ATBD
v1.1, as implemented in the R package ``prosail`` (``get_atbd_lut_input``, ``apply_noise_atbd``; Féret & de
Boissieu).

**Prior** (:func:`atbd_prior`).  Each variable is drawn from a normal ``N(mean, sd²)`` truncated to ``[min, max]``
(exact inverse-CDF sampling, one uniform per variable and sample from an explicit PRNG key):

==================  =========  =======  =======  =======  ==========================  =======================
name                unit       min      max      mean     sd                          at ``lai = 15``
==================  =========  =======  =======  =======  ==========================  =======================
``lai``             m²/m²      0        15       2        3                           –
``lidf_a``          deg        30       80       60       30                          [55, 65]
``hotspot``         –          0.1      0.5      0.2      0.5                         [0.1, 0.5]
``n_struct``        –          1.2      1.8      1.5      0.3                         [1.3, 1.8]
``chl``             µg/cm²     20       90       45       30                          [45, 90]
``lma``             g/cm²      0.003    0.011    0.005    0.005                       [0.005, 0.011]
``cw_rel``          –          0.6      0.85     0.75     0.08                        [0.70, 0.80]
``brown``           –          0        2        0        0.3                         [0, 0.2]
``soil_dryness``    –          0        1        0.5      0.6                         [0, 0.4]
``soil_brightness`` –          0.5      3.5      1.2      2                           [0.5, 1.2]
==================  =========  =======  =======  =======  ==========================  =======================

(``lidf_a`` is the Campbell mean leaf angle; ``soil_dryness`` the ATBD/R ``psoil``, the dry-soil weight.)  With
the **co-distribution** each non-LAI variable ``V`` is mapped linearly onto a range that narrows with the
sample's LAI ``L`` (ATBD §2.2.3): :math:`V^* = V_{min}(L) + (V - V_{min,0})\,(V_{max}(L) - V_{min}(L)) /
(V_{max,0} - V_{min,0})`, :math:`V_{min}(L) = V_{min,0} + L\,(V_{min}(L_{max}) - V_{min,0})/L_{max}` (likewise
:math:`V_{max}`), :math:`L_{max} = 15`.  Then ``car = 0.25·chl``, ``ant = 0``, ``ewt = lma·cw_rel/(1 − cw_rel)``
(g/cm²); the geometry ``sza``, ``vza``, ``raa`` (degrees) is uniform in the given ranges.  Unlike the R code
(which reseeds before every variable, making the draws of all variables share one uniform stream) the variables
are drawn independently, as the ATBD describes.

**Noise** (:class:`AtbdNoise`): :math:`R^* = R\,(1 + MD + MI) + AD + AI`, the D terms drawn per band, the I terms
once per spectrum (ATBD, noise model of the training data).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._parameters import spec
from ..core import AbstractNoise
from ._priors import TruncatedNormal

#: ATBD truncated Gaussians ``name: (min, max, mean, sd)`` (canonical units; ``cw_rel`` relative water content).
ATBD_MARGINALS: dict[str, tuple[float, float, float, float]] = {
    "lai": (0.0, 15.0, 2.0, 3.0),
    "lidf_a": (30.0, 80.0, 60.0, 30.0),
    "hotspot": (0.1, 0.5, 0.2, 0.5),
    "n_struct": (1.2, 1.8, 1.5, 0.3),
    "chl": (20.0, 90.0, 45.0, 30.0),
    "lma": (0.003, 0.011, 0.005, 0.005),
    "cw_rel": (0.6, 0.85, 0.75, 0.08),
    "brown": (0.0, 2.0, 0.0, 0.3),
    "soil_dryness": (0.0, 1.0, 0.5, 0.6),
    "soil_brightness": (0.5, 3.5, 1.2, 2.0),
}
#: ATBD co-distribution: the range ``(min, max)`` of each variable at ``lai = ATBD_LAI_MAX`` (at ``lai = 0`` it
#: is the marginal's ``[min, max]``; linear in between).
ATBD_CODISTRIBUTION: dict[str, tuple[float, float]] = {
    "lidf_a": (55.0, 65.0), "hotspot": (0.1, 0.5), "n_struct": (1.3, 1.8), "chl": (45.0, 90.0),
    "lma": (0.005, 0.011), "cw_rel": (0.70, 0.80), "brown": (0.0, 0.2), "soil_dryness": (0.0, 0.4),
    "soil_brightness": (0.5, 1.2),
}
#: LAI at which the co-distribution reaches its narrowest ranges (the LAI prior's maximum, m²/m²).
ATBD_LAI_MAX: float = 15.0
#: Canonical PROSAIL names returned by :meth:`AtbdPrior.sample`, in this order.
ATBD_NAMES: tuple[str, ...] = ("lai", "lidf_a", "hotspot", "n_struct", "chl", "car", "ant", "brown", "ewt", "lma",
                               "soil_brightness", "soil_dryness", "sza", "vza", "raa")


def codistribute(v: Float[Array, "n"], lai: Float[Array, "n"], name: str,
                 lai_max: float = ATBD_LAI_MAX) -> Float[Array, "n"]:
    r"""The ATBD co-distribution :math:`V^*(V, L)` of variable ``name`` (see the module docstring); the result
    lies in ``[Vmin(L), Vmax(L)]`` (clipped against rounding)."""
    lo0, hi0 = ATBD_MARGINALS[name][:2]
    lo1, hi1 = ATBD_CODISTRIBUTION[name]
    frac = lai / lai_max
    lo = lo0 + frac * (lo1 - lo0)
    hi = hi0 + frac * (hi1 - hi0)
    return jnp.clip(lo + (v - lo0) * (hi - lo) / (hi0 - lo0), lo, hi)


def _range(name: str, value) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair of degrees, got {value!r}") from None
    s = spec(name)
    if not (np.isfinite(lo) and np.isfinite(hi) and s.low <= lo <= hi <= s.high):
        raise ValueError(f"{name} range ({lo:g}, {hi:g}) must satisfy {s.low:g} <= low <= high <= {s.high:g} deg")
    return lo, hi


class AtbdPrior(eqx.Module):
    """The S2 ATBD PROSAIL prior (final): truncated Gaussians, optional LAI co-distribution, uniform geometry.

    Duck-types :class:`~leafjax.simulation.Prior` (``names``, ``sample``), so it works with
    :func:`~leafjax.simulation.sample_prosail_table`.  Build it with :func:`atbd_prior`.

    **Fields (static):** ``codistribution`` (bool), ``sza``, ``vza``, ``raa`` (``(low, high)`` degrees).
    """

    codistribution: bool = eqx.field(static=True, default=True)
    sza: tuple[float, float] = eqx.field(static=True, default=(20.0, 30.0))
    vza: tuple[float, float] = eqx.field(static=True, default=(0.0, 10.0))
    raa: tuple[float, float] = eqx.field(static=True, default=(0.0, 360.0))

    def __check_init__(self):
        for name in ("sza", "vza", "raa"):
            _range(name, getattr(self, name))

    @property
    def names(self) -> tuple[str, ...]:
        return ATBD_NAMES

    def sample(self, key: PRNGKeyArray, n: int, dtype=None) -> dict[str, Float[Array, "n"]]:
        """Draw ``n`` joint samples: ``{name: (n,) array}`` over :data:`ATBD_NAMES` (canonical units)."""
        if not (isinstance(n, (int, np.integer)) and n > 0):
            raise ValueError(f"number of samples must be a positive integer, got {n!r}")
        dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
        return _draw(key, int(n), dtype, self.codistribution, self.sza, self.vza, self.raa)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5, 6))
def _draw(key, n, dtype, codistribution, sza, vza, raa) -> dict[str, Array]:
    """:meth:`AtbdPrior.sample` as one compiled program per ``(n, dtype, options)``."""
    names = tuple(ATBD_MARGINALS)
    eps = jnp.finfo(dtype).eps
    u = jax.random.uniform(key, (n, len(names) + 3), dtype=dtype, minval=eps, maxval=1.0 - eps)
    v = {}
    for i, name in enumerate(names):
        lo, hi, mean, sd = ATBD_MARGINALS[name]
        v[name] = TruncatedNormal(mean, sd, lo, hi).quantile(u[:, i])
    if codistribution:
        for name in ATBD_CODISTRIBUTION:
            v[name] = codistribute(v[name], v["lai"], name)
    cw = v.pop("cw_rel")
    out = {"lai": v["lai"], "lidf_a": v["lidf_a"], "hotspot": v["hotspot"], "n_struct": v["n_struct"],
           "chl": v["chl"], "car": 0.25 * v["chl"], "ant": jnp.zeros_like(v["chl"]), "brown": v["brown"],
           "ewt": v["lma"] * cw / (1.0 - cw), "lma": v["lma"], "soil_brightness": v["soil_brightness"],
           "soil_dryness": v["soil_dryness"]}
    for j, (name, (lo, hi)) in enumerate((("sza", sza), ("vza", vza), ("raa", raa))):
        out[name] = lo + (hi - lo) * u[:, len(names) + j]
    return out


def atbd_prior(*, codistribution: bool = True, sza: tuple[float, float] = (20.0, 30.0),
               vza: tuple[float, float] = (0.0, 10.0), raa: tuple[float, float] = (0.0, 360.0)) -> AtbdPrior:
    """The S2 ATBD prior (Weiss & Baret 2016; table in the module docstring).

    **Arguments:** ``codistribution``: narrow the other variables' ranges with LAI (the ATBD's default);
    ``sza``, ``vza``, ``raa``: ``(low, high)`` degrees of the uniform geometry (defaults of the R package: sun
    zenith 20–30°, view zenith 0–10°, relative azimuth 0–360°).

    Raises ``ValueError`` for a geometry range outside the registry bounds or with ``low > high``.

    Example:
        >>> import jax
        >>> s = atbd_prior().sample(jax.random.key(0), 4)
        >>> sorted(s)[:3], s["lai"].shape
        (['ant', 'brown', 'car'], (4,))
    """
    return AtbdPrior(bool(codistribution), _range("sza", sza), _range("vza", vza), _range("raa", raa))


def _band_key(name: str) -> str:
    """``"B02"`` → ``"B2"``, ``"b8a"`` → ``"B8A"`` (the S2 band aliases) for matching ``independent_bands``."""
    s = str(name).strip().upper()
    m = re.fullmatch(r"B0*(\d+A?)", s)
    return f"B{m.group(1)}" if m else s


class AtbdNoise(AbstractNoise):
    r"""The S2 ATBD reflectance noise (final): :math:`R^* = R\,(1 + MD + MI) + AD + AI` (Weiss & Baret 2016).

    ``AD`` and ``MD`` (wavelength-dependent) are drawn independently per band and sample; ``AI`` and ``MI``
    (wavelength-independent) once per sample and shared by the bands named in ``independent_bands`` (default
    ``("B2", "B3")``, the bands the R package ``prosail``'s ``apply_noise_atbd`` gives I-terms; it draws them per
    band, the ATBD once per spectrum as here).  All terms are zero-mean Gaussians.

    **Fields:** ``additive_dependent`` (AD σ, reflectance, default 0.01), ``additive_independent`` (AI σ,
    0.01), ``multiplicative_dependent`` (MD σ, relative, 0.02), ``multiplicative_independent`` (MI σ, 0.02);
    ``band_names`` (static; the signal's last axis, e.g. ``srf.band_names``; ``None``: the I-terms apply to
    every band, the ATBD equation as written); ``independent_bands`` (static; S2 aliases ``B02``/``b8a``
    accepted).  :meth:`with_bands` binds the band names of a sensor (done by
    :func:`~leafjax.simulation.iter_prosail` and :func:`~leafjax.inversion.build_lut` from their ``srf``).

    Example:
        >>> import jax
        >>> noise = AtbdNoise(band_names=("B2", "B3", "B4"))
        >>> noise(jax.random.key(0), jnp.full((5, 3), 0.2)).shape
        (5, 3)
    """

    additive_dependent: float = 0.01
    additive_independent: float = 0.01
    multiplicative_dependent: float = 0.02
    multiplicative_independent: float = 0.02
    band_names: tuple[str, ...] | None = eqx.field(static=True, default=None)
    independent_bands: tuple[str, ...] = eqx.field(static=True, default=("B2", "B3"))

    def __check_init__(self):
        for f in ("additive_dependent", "additive_independent", "multiplicative_dependent",
                  "multiplicative_independent"):
            v = getattr(self, f)
            if isinstance(v, (int, float)) and not (np.isfinite(v) and v >= 0):
                raise ValueError(f"AtbdNoise {f} must be a finite standard deviation >= 0, got {v!r}")

    def with_bands(self, band_names: Sequence[str]) -> "AtbdNoise":
        """A copy with ``band_names`` set (the order of the signal's last axis)."""
        return dataclasses.replace(self, band_names=tuple(str(b) for b in band_names))

    def independent_mask(self, n_bands: int) -> np.ndarray:
        """``(n_bands,)`` 1.0 where the I-terms apply (every band when ``band_names`` is ``None``)."""
        if self.band_names is None:
            return np.ones(n_bands)
        if len(self.band_names) != n_bands:
            raise ValueError(f"AtbdNoise has {len(self.band_names)} band names but the signal has {n_bands} bands")
        want = {_band_key(b) for b in self.independent_bands}
        return np.asarray([_band_key(b) in want for b in self.band_names], np.float64)

    def __call__(self, key, signal):
        x = jnp.asarray(signal)
        k_ad, k_md, k_ai, k_mi = jax.random.split(key, 4)
        mask = jnp.asarray(self.independent_mask(x.shape[-1]), x.dtype).reshape((1,) * (x.ndim - 1) + (-1,))
        one = x.shape[:-1] + (1,)
        ad = self.additive_dependent * jax.random.normal(k_ad, x.shape, x.dtype)
        md = self.multiplicative_dependent * jax.random.normal(k_md, x.shape, x.dtype)
        ai = self.additive_independent * jax.random.normal(k_ai, one, x.dtype) * mask
        mi = self.multiplicative_independent * jax.random.normal(k_mi, one, x.dtype) * mask
        return x * (1.0 + md + mi) + ad + ai
