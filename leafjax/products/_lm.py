r"""The physical route: batched Levenberg–Marquardt inversion of PROSAIL for every pixel (:class:`LMRoute`).

Every pixel's free PROSAIL parameters minimise the σ-scaled band misfit (the canopy problem of
:func:`leafjax.inversion.invert_canopy`, solved by :func:`leafjax.inversion.invert`)
with the sensor seeing the canopy under direct sun plus diffuse sky light (the hemispherical-conical reflectance
:math:`(1 - D)\,r_{so} + D\,r_{do}`, :func:`leafjax.physics.canopy.sky_reflectance`; Verhoef & Bach 2007) when
``sky`` is true.  Products follow from the estimates (:mod:`leafjax.products._derive`).

**Uncertainty.**  The inversion's Laplace (Gauss–Newton) covariance of the free parameters for the known band
noise ``sigma``, :math:`(J^\top J)^{-1}` of the σ-scaled residuals, gives their σ (``InversionResult.std``;
``noise_std`` given, so not rescaled by the pixel's residual variance).  A product the canopy problem derives
(``fcover``, ``ccc``, ``cwc``, ``fapar``) has its σ from that full covariance pushed through the derivation
(``jax.jacfwd``; correlations included).  Otherwise (:class:`~leafjax.inversion.InversionResult` carries no
covariance) ``ccc``/``cwc`` σ come from independent first-order propagation of the ``lai`` and ``chl``/``ewt`` σ
(:func:`~leafjax.products._derive.product_std`) and ``fapar``/``fcover`` σ from central differences in ``lai`` and
``lidf_a`` (:func:`~leafjax.products._derive.finite_difference_std`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..inversion._canopy import CANOPY_PRODUCTS, CANOPY_SIGMA, DEFAULT_FREE, INVERSION_BOUNDS, make_canopy_problem
from ..inversion._invert import invert
from ..inversion._solver_lm import BatchedLevenbergMarquardt
from ..inversion._quality import check_free
from ..physics.canopy import CCC_SCALE, CWC_SCALE
from ._derive import ccc_from, cwc_from, fapar_of, fcover_of, finite_difference_std, product_std
from ._result import concatenate, fit_bits, make_result
from ._routes import AbstractRoute, base_state, check_config, check_state

#: Smallest padded batch of the LM route (valid pixels are padded to a power of two, at least this, so that
#: tiles with different numbers of valid pixels share compiled programs).
MIN_BUCKET: int = 8


def _bucket(n: int) -> int:
    return max(MIN_BUCKET, 1 << max(0, int(n - 1).bit_length()))


class LMRoute(AbstractRoute):
    """Per-pixel PROSAIL inversion (final).

    **Fields** (static): ``free`` (free parameters, default ``lai, chl, ewt, lma, lidf_a, soil_brightness``),
    ``sky`` (diffuse sky light in the observed reflectance), ``aot550`` (aerosol optical thickness at 550 nm of
    the sky model), ``max_steps`` (LM iterations), ``sigma`` (band noise σ, reflectance), ``lut_size`` (entries of
    each pixel's starting look-up table), ``expected_rmse`` (``poor_fit`` above 3×; default ``sigma``),
    ``chunk_size`` (pixels solved at once: memory; every pixel is solved on its own, so results do not depend on
    it), ``block_size`` (solver rows in flight, :func:`leafjax.inversion.invert`; ``"auto"``, the LM work
    queue: 182 pixels/s warm on the 1-nm grid on 2 CPU cores, against 13 with ``None``, the whole chunk at once;
    ``benchmarks/products_throughput.py``).
    """

    free: tuple[str, ...] = eqx.field(static=True, default=DEFAULT_FREE, converter=tuple)
    sky: bool = eqx.field(static=True, default=True)
    aot550: float = eqx.field(static=True, default=0.1)
    max_steps: int = eqx.field(static=True, default=60)
    sigma: float = eqx.field(static=True, default=CANOPY_SIGMA)
    lut_size: int = eqx.field(static=True, default=64)
    expected_rmse: float | None = eqx.field(static=True, default=None)
    chunk_size: int = eqx.field(static=True, default=1024)
    block_size: int | str | None = eqx.field(static=True, default="auto")

    name = "lm"
    handles_missing_bands = True

    def __check_init__(self):
        check_free(self.free, tuple(INVERSION_BOUNDS))
        if "lai" not in self.free:
            raise ValueError("LMRoute needs 'lai' among the free parameters")
        if not (isinstance(self.max_steps, int) and self.max_steps >= 1):
            raise ValueError(f"max_steps must be an integer >= 1, got {self.max_steps!r}")
        if not (isinstance(self.chunk_size, int) and self.chunk_size >= 1):
            raise ValueError(f"chunk_size must be an integer >= 1, got {self.chunk_size!r}")
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be finite and > 0, got {self.sigma!r}")
        check_config(self)

    def prepare(self, srf, model, key):
        """Nothing to train: the state holds ``srf``, ``model``, ``key`` (starting tables) and the sky model."""
        return base_state(self, srf, model, key, self.sky, self.aot550)

    def retrieve(self, state, bands, geometry, products):
        st = check_state(self, state)
        c = self.chunk_size
        parts = [self._retrieve_chunk(st, bands[i:i + c], {k: np.asarray(v)[i:i + c] for k, v in geometry.items()},
                                      products) for i in range(0, bands.shape[0], c)]
        return parts[0] if len(parts) == 1 else concatenate(parts)

    def _retrieve_chunk(self, st, bands, geometry, products):
        n = bands.shape[0]
        size = _bucket(n)
        rows = np.concatenate([np.arange(n), np.full(size - n, n - 1)])
        geo = {k: np.asarray(geometry[k], np.float64)[rows] for k in ("sza", "vza", "raa")}
        expected = self.sigma if self.expected_rmse is None else self.expected_rmse
        model = st["model"]
        problem = make_canopy_problem(
            st["srf"], model, free=self.free, sigma=self.sigma, lut_size=self.lut_size, key=st["key"],
            sky=st["sky"], products=tuple(p for p in CANOPY_PRODUCTS if p in products or p == "fcover"))
        # noise_std=1: the residuals are already scaled by the band σ, so the covariance is the known-noise
        # (JᵀJ)⁻¹ (not rescaled by each pixel's residual variance, which vanishes for an exact fit)
        res = invert(problem, jnp.asarray(bands[rows], model.wavelengths.dtype),
                     BatchedLevenbergMarquardt(max_steps=self.max_steps, rtol=1e-7), fixed=geo, noise_std=1.0,
                     block_size=self.block_size, devices=None, expected_rmse=expected, percent_check=False)
        est = {k: np.asarray(v, np.float64)[:n] for k, v in res.estimates.items()}
        sd = {k: np.asarray(v, np.float64)[:n] for k, v in res.std.items()}
        geo = {k: v[:n] for k, v in geo.items()}
        values, std = lm_products(st["model"], {**est, **geo}, sd, self.free, products)
        rmse = np.asarray(res.rmse, np.float64)[:n]
        quality = np.asarray(res.quality, np.int32)[:n] | fit_bits(rmse, expected)
        return make_result(values, std, np.asarray(res.status)[:n], quality, rmse)


def lm_products(model, est: Mapping[str, np.ndarray], sd: Mapping[str, np.ndarray], free: Sequence[str],
                products: Sequence[str]) -> tuple[dict, dict]:
    """``(values, std)`` of ``products`` from LM estimates ``est`` (parameters + geometry) and their σ ``sd``
    (see the module docstring for the propagation)."""
    zero = np.zeros_like(est["lai"])
    s = {k: sd.get(k, zero) for k in ("lai", "chl", "ewt", "lidf_a")}
    values, std = {}, {}
    fd_names = [k for k in ("lai", "lidf_a") if k in free]
    for p in products:
        if p == "lai":
            values[p], std[p] = est["lai"], s["lai"]
            continue
        if p in ("ccc", "cwc"):
            leaf, scale, fn = ("chl", CCC_SCALE, ccc_from) if p == "ccc" else ("ewt", CWC_SCALE, cwc_from)
            values[p] = est[p] if p in est else fn(est["lai"], est[leaf])
            std[p] = sd[p] if p in sd else product_std(est["lai"], est[leaf], s["lai"], s[leaf], scale)
            continue
        f = fcover_of if p == "fcover" else (lambda v: fapar_of(model, v))
        values[p] = est[p] if p in est else f(est)
        std[p] = sd[p] if p in sd else finite_difference_std(f, est, s, fd_names, low={"lai": 0.0})
    return values, std
