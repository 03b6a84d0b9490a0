r"""The canopy inversion problem: PROSAIL band reflectances of a pixel (with its sun/view geometry) → traits.

For every pixel the free PROSAIL parameters :math:`\theta` minimise
:math:`\tfrac12\|(W\,\mathrm{PROSAIL}(\theta; g) - R)/\sigma\|^2` over the sensor bands (``W`` the SRF weights,
``g`` the pixel's geometry ``sza, vza, raa`` in degrees, taken from the per-row context); fixed parameters come
from the problem's defaults or per-pixel values.  Each pixel starts from the best entry of a small look-up
table simulated for its own geometry.

**fcover** is derived as one minus the gap fraction at nadir, :math:`f_{cover} = 1 - e^{-G(0)\,L}`
(:func:`leafjax.physics.canopy.fcover`; Weiss & Baret 2016, S2 ToolBox ATBD); on request also the canopy
chlorophyll and water contents ``ccc = lai·chl·0.01`` and ``cwc = lai·ewt·10⁴`` (g/m²) and the black-sky
``fapar`` of the estimate (:func:`leafjax.physics.canopy.fapar`, 400–700 nm), each with its Laplace σ.
"""

from __future__ import annotations

from typing import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from ..physics.canopy._fcover import fcover
from ..physics.canopy._observed import canopy_chlorophyll, canopy_water
from ..physics.canopy._prosail import Prosail
from ..physics.sky._diffuse import SkyIllumination
from ..simulation._prosail import canopy_products, observed_reflectance, prosail_state
from ..spectral._response import SpectralResponse, convolve
from ._problem import AbstractProblem
from ._solver_lm import BatchedLevenbergMarquardt

#: Per-pixel sun zenith, view zenith and relative azimuth (degrees): required context of a canopy problem.
GEOMETRY_NAMES = ("sza", "vza", "raa")
#: Products a canopy problem can derive from its estimates (units: fcover, fapar –; ccc, cwc g/m²).
CANOPY_PRODUCTS: tuple[str, ...] = ("fcover", "ccc", "cwc", "fapar")


def forward_bands(model: Prosail, srf: SpectralResponse, values: Mapping[str, Array],
                  sky: SkyIllumination | None = None) -> Array:
    """Band reflectance factors ``(*b, band)`` of PROSAIL for parameter/geometry ``values`` ``{name: (*b,)}``:
    the bidirectional ``rsot`` (``sky=None``), or with a :class:`~leafjax.physics.sky.SkyIllumination` the
    reflectance under direct + diffuse light, ``sky_reflectance(out, sky(wavelengths, sza))`` (Verhoef & Bach
    2007), convolved with ``srf``."""
    out, _ = prosail_state(model, values)
    return convolve(observed_reflectance(out, model, values["sza"], sky), srf)


def check_products(products) -> tuple[str, ...]:
    """Validated derived-product names (a subset of :data:`CANOPY_PRODUCTS`, in the given order)."""
    names = (products,) if isinstance(products, str) else tuple(products)
    bad = [p for p in names if p not in CANOPY_PRODUCTS]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"derived products must be distinct names from {', '.join(CANOPY_PRODUCTS)}; "
                         f"got {', '.join(map(str, names)) or 'none'}")
    return names


class CanopyProblem(AbstractProblem):
    """PROSAIL + a sensor's spectral response, free/fixed parameters, bounds and band noise (final).

    **Fields:** ``model`` (:class:`Prosail`), ``srf``, ``free`` (static), ``low``/``high`` ``(p,)``,
    ``band_weight`` ``(band,)`` (``1/σ``), ``fixed_names`` (static) with ``fixed_values`` ``(k,)`` (problem-wide
    values of the non-free parameters), ``lut_size`` (static; 0 = start at the middle of the bounds), the
    look-up table's PRNG ``key``, ``sky`` (optional :class:`~leafjax.physics.sky.SkyIllumination`: fit the
    reflectance under direct + diffuse light; ``None``: the bidirectional ``rsot``), ``products`` (static;
    the derived quantities, from :data:`CANOPY_PRODUCTS`; default ``("fcover",)``) and ``grid`` (static; the
    model's wavelengths in nm as floats, which ``fapar`` needs concrete).  Build it with
    :func:`leafjax.inversion.make_canopy_problem`.
    """

    model: Prosail
    srf: SpectralResponse
    free: tuple[str, ...] = eqx.field(static=True)
    low: Array
    high: Array
    band_weight: Array
    fixed_names: tuple[str, ...] = eqx.field(static=True)
    fixed_values: Array
    lut_size: int = eqx.field(static=True)
    key: PRNGKeyArray
    sky: SkyIllumination | None = None
    products: tuple[str, ...] = eqx.field(static=True, default=("fcover",))
    grid: tuple[float, ...] = eqx.field(static=True, default=())

    def values(self, theta, context) -> dict[str, Array]:
        v = dict(context)
        v.update({n: theta[:, i] for i, n in enumerate(self.free)})
        return v

    def predict(self, theta, context):
        return forward_bands(self.model, self.srf, self.values(theta, context), self.sky)

    def estimates(self, theta, context):
        return {k: v for k, v in self.values(theta, context).items() if k not in GEOMETRY_NAMES}

    def derived(self, theta, context):
        v = self.values(theta, context)
        if self.products == ("fcover",):  # the former derived set (no PROSAIL run)
            return {"fcover": fcover(v["lai"], v["lidf_a"], v["lidf_b"])}
        cheap = {"fcover": lambda: fcover(v["lai"], v["lidf_a"], v["lidf_b"]),
                 "ccc": lambda: canopy_chlorophyll(v["lai"], v["chl"]), "cwc": lambda: canopy_water(v["lai"], v["ewt"])}
        out = {p: cheap[p]() for p in self.products if p in cheap}
        if "fapar" in self.products:  # black-sky fAPAR of the estimate (direct sun at the pixel's sza)
            state, soil = prosail_state(self.model, v)
            grid = np.asarray(self.grid) if self.grid else None  # the static copy (model.wavelengths is traced)
            out["fapar"] = canopy_products(self.model, v, state, soil, wavelengths=grid)["fapar"]
        return {p: out[p] for p in self.products}

    def initial_guess(self, obs, weight, context, n_starts):
        pix, dt, p = obs.shape[0], obs.dtype, len(self.free)
        if self.lut_size <= 0:
            return jnp.zeros((pix, n_starts, p), dt)
        u = jax.random.uniform(self.key, (self.lut_size, p), dtype=dt, minval=0.05, maxval=0.95)
        theta = self.low[None, :] + (self.high - self.low)[None, :] * u  # (lut, p), same for all pixels

        def one_pixel(args):  # simulated with the pixel's own geometry and fixed values
            o, w, fx = args
            vals = {**{k: jnp.full((self.lut_size,), v, dt) for k, v in fx.items()},
                    **{n: theta[:, i] for i, n in enumerate(self.free)}}
            cost = jnp.sum(((forward_bands(self.model, self.srf, vals, self.sky) - o[None]) * w[None]) ** 2,
                           axis=-1)
            if n_starts == 1:
                return theta[jnp.argmin(cost)][None]
            return theta[jax.lax.top_k(-cost, n_starts)[1]]

        best = jax.lax.map(one_pixel, (obs, weight, context))  # (pix, s, p)
        return self.to_unconstrained(best)

    def context(self, fixed, size, batch):
        dt = self.dtype
        given = {k: jnp.broadcast_to(jnp.asarray(v, dt), batch).reshape(size) for k, v in (fixed or {}).items()}
        both = [k for k in given if k in self.free]
        if both:
            raise ValueError(f"{both[0]!r} is free in this problem and cannot also be fixed")
        missing = [k for k in GEOMETRY_NAMES if k not in given]
        if missing:
            raise ValueError(f"a canopy problem needs the per-pixel geometry {GEOMETRY_NAMES} in fixed=; "
                             f"missing {missing}")
        ctx = {n: jnp.full((size,), self.fixed_values[i], dt) for i, n in enumerate(self.fixed_names)
               if n not in given}
        ctx.update({k: v for k, v in given.items() if k not in GEOMETRY_NAMES})
        ctx.update({k: given[k] for k in GEOMETRY_NAMES})
        return ctx

    def default_expected_rmse(self):
        """The RMS of the band noise ``σ`` the problem was built with (``1 / band_weight``;
        :func:`~leafjax.inversion.make_canopy_problem`'s ``sigma``, default 0.01 reflectance, see
        :data:`leafjax.inversion._canopy.CANOPY_SIGMA`)."""
        return jnp.sqrt(jnp.mean(1.0 / self.band_weight**2))

    def observation_wavelengths(self):
        """Band centres (nm) of the sensor response."""
        return jnp.asarray(self.srf.centres_in("nm"), self.dtype)

    def default_solver(self):
        """Levenberg–Marquardt with ``rtol = 1e-7`` (the canopy inversion's tolerance)."""
        return BatchedLevenbergMarquardt(rtol=1e-7)
