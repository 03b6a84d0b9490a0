r"""Random fields of the scene simulator: Gaussian random fields (FFT), Voronoi parcel mosaics, Gaussian smoothing,
smoothed Gamma speckle, and clouds / cloud shadows / scene classification (SCL) as thresholded space–time fields.

**Gaussian random field** (:func:`gaussian_random_field`): white noise filtered in the Fourier domain by
:math:`H(k) = e^{-\pi^2\ell^2|k|^2}` (:math:`k` in cycles per pixel), so that the covariance is
:math:`e^{-r^2/(2\ell^2)}` (correlation length :math:`\ell` pixels), scaled to unit variance exactly
(:math:`\mathrm{Var} = \overline{|H|^2}` for unit white noise).  Periodic: callers leave a margin of a few
:math:`\ell`.

**Clouds** (:func:`cloud_masks`): one field per Sentinel-2 date on a coarse grid (cells of ``cloud_step``
pixels), correlated in time as AR(1), :math:`z_k = \rho z_{k-1} + \sqrt{1-\rho^2}\,\varepsilon_k`,
:math:`\rho = e^{-\Delta t/\tau}`, read at the pixels by bilinear interpolation and thresholded at its empirical
quantile over the chip, so the chip's cloud fraction is the requested one (up to ties).  The highest
``high_share`` of the cloud is SCL 9 (high probability), the rest 8.  **Shadows** (SCL 3): a pixel is shadowed
when the field is above the threshold at the point a distance :math:`h\tan\theta_s` towards the sun (cloud height
:math:`h`, sun zenith :math:`\theta_s`, sun azimuth :math:`\varphi_s`; rows point south, columns east:
:math:`\Delta_{row} = -h\tan\theta_s\cos\varphi_s/\Delta x`, :math:`\Delta_{col} = h\tan\theta_s\sin\varphi_s/\Delta
x`) and is not cloud itself.  Thin cirrus (SCL 10) is a second field.  SCL codes as ESA's Sentinel-2 L2A
scene classification (:data:`leafjax.data.SCL_CLASSES`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.ndimage import map_coordinates
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

#: SCL codes used by the simulator (ESA Sentinel-2 L2A scene classification).
SCL_SHADOW, SCL_VEGETATION, SCL_BARE, SCL_WATER, SCL_UNCLASSIFIED = 3, 4, 5, 6, 7
SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH, SCL_CIRRUS = 8, 9, 10


def draws(key: PRNGKeyArray, kind: str, shapes: tuple[tuple[int, ...], ...], dtype=jnp.float32) -> list[Array]:
    """Several arrays of ``shapes`` from one ``"normal"`` or ``"uniform"`` (on [0, 1)) draw (one random-bits
    kernel instead of many: the simulator's compile time grows with the number of random calls)."""
    sizes = [int(np.prod(s)) for s in shapes]
    flat = (jax.random.normal if kind == "normal" else jax.random.uniform)(key, (sum(sizes),), dtype)
    out, start = [], 0
    for shape, n in zip(shapes, sizes):
        out.append(flat[start:start + n].reshape(shape))
        start += n
    return out


def gaussian_random_field(key: PRNGKeyArray, shape: tuple[int, ...], corr_px: Float[ArrayLike, "*c"],
                          dtype=jnp.float32) -> Float[Array, "*lead ny nx"]:
    """Unit-variance Gaussian random fields of Gaussian covariance (correlation length ``corr_px`` pixels, may be
    traced; 0 gives white noise) over the last two axes of ``shape`` (module docstring).  Periodic."""
    ny, nx = shape[-2:]
    lead = len(shape) - 2
    ky = jnp.fft.fftfreq(ny).astype(dtype).reshape((1,) * lead + (ny, 1))
    kx = jnp.fft.fftfreq(nx).astype(dtype).reshape((1,) * lead + (1, nx))
    ell = jnp.asarray(corr_px, dtype)
    ell = jnp.broadcast_to(ell.reshape(ell.shape + (1, 1)), shape[:-2] + (1, 1)) if ell.ndim else ell
    h = jnp.broadcast_to(jnp.exp(-(jnp.pi * ell) ** 2 * (ky * ky + kx * kx)), shape)
    w = jax.random.normal(key, shape, dtype)
    spec = jnp.fft.fft2(w)
    f = jnp.fft.ifft2(spec * h.astype(spec.dtype)).real.astype(dtype)
    return f / jnp.sqrt(jnp.mean(h[..., :, :] ** 2, axis=(-2, -1), keepdims=True))


def voronoi_mosaic(key: PRNGKeyArray, size: int, n_seeds: int, parcel_px: float,
                   anisotropy: Float[Array, "2"], dtype=jnp.float32) -> Int[Array, "size size"]:
    """Parcel index ``(size, size)`` int32 in ``[0, n_seeds)``: Voronoi cells of ``n_seeds`` uniform seeds over
    the chip widened by ``parcel_px / 2`` on each side, in a metric stretched by a factor uniform in
    ``anisotropy`` (range) along a uniform random direction (elongated fields)."""
    u_seed, u = draws(key, "uniform", ((n_seeds, 2), (2,)), dtype)
    half = 0.5 * parcel_px
    seeds = -half + (size + parcel_px) * u_seed
    angle = jnp.pi * u[0]
    stretch = anisotropy[0] + (anisotropy[1] - anisotropy[0]) * u[1]
    c, s = jnp.cos(angle), jnp.sin(angle)
    yy, xx = jnp.meshgrid(jnp.arange(size, dtype=dtype), jnp.arange(size, dtype=dtype), indexing="ij")
    dy = yy.reshape(-1, 1) - seeds[:, 0].reshape(1, -1)
    dx = xx.reshape(-1, 1) - seeds[:, 1].reshape(1, -1)
    along, across = c * dy + s * dx, -s * dy + c * dx
    d2 = (along / stretch) ** 2 + across**2
    return jnp.argmin(d2, axis=1).astype(jnp.int32).reshape(size, size)


def smoothing_matrix(n: int, sigma: Float[ArrayLike, "*s"], dtype=jnp.float32) -> Float[Array, "*s n n"]:
    """Row-normalised Gaussian smoothing matrices ``(*s, n, n)`` of ``sigma`` pixels (may be traced, any shape);
    the identity where ``sigma`` ≤ 0.  ``K @ img @ K.T`` smooths an image, keeping the local mean at the edges."""
    i = jnp.arange(n, dtype=dtype)
    d2 = (i[:, None] - i[None, :]) ** 2
    sig = jnp.asarray(sigma, dtype)
    sig = sig.reshape(sig.shape + (1, 1))
    positive = sig > 0
    safe = jnp.where(positive, sig, jnp.ones_like(sig))
    g = jnp.exp(-0.5 * d2.reshape((1,) * (sig.ndim - 2) + d2.shape) / (safe * safe))
    g = g / jnp.sum(g, axis=-1, keepdims=True)
    return jnp.where(positive, g, jnp.broadcast_to(jnp.eye(n, dtype=dtype), g.shape))


def smoothed_speckle(key: PRNGKeyArray, intensity: Float[Array, "*lead ny nx"], looks: Float[ArrayLike, "..."],
                     smoothing_px: Float[ArrayLike, "..."]) -> Float[Array, "*lead ny nx"]:
    r"""Speckled and smoothed linear intensity: ``K (I·n) Kᵀ`` with ``n`` Gamma speckle of ``looks`` looks
    (mean 1, variance 1/L; as :func:`~leafjax.physics.radar.gamma_speckle`) and ``K`` :func:`smoothing_matrix` of
    ``smoothing_px``; ``looks`` and ``smoothing_px`` broadcast against ``intensity.shape[:-2]`` (e.g. one per
    polarisation).  Where ``looks`` ≤ 0 the intensity is returned unchanged (no speckle, no smoothing).
    Differentiable in ``intensity``.  ENL and lag-1 correlation: :func:`~leafjax.simulation.speckle_statistics`."""
    dt = intensity.dtype
    lead = intensity.shape[:-2]
    lk = jnp.broadcast_to(jnp.asarray(looks, dt), lead)
    on = lk > 0
    safe = jnp.where(on, lk, jnp.ones_like(lk))
    big = jnp.broadcast_to(safe.reshape(lead + (1, 1)), intensity.shape)
    n = jax.random.gamma(key, big, intensity.shape, dt) / big
    ny, nx = intensity.shape[-2:]
    sig = jnp.broadcast_to(jnp.asarray(smoothing_px, dt), lead)
    ky, kx = smoothing_matrix(ny, sig, dt), smoothing_matrix(nx, sig, dt)
    smoothed = jnp.einsum("...ij,...jk,...lk->...il", ky, intensity * n, kx)
    return jnp.where(on.reshape(lead + (1, 1)), smoothed, intensity)


def _bilinear(field: Float[Array, "cy cx"], rows: Float[Array, "ny nx"], cols: Float[Array, "ny nx"]) -> Array:
    return map_coordinates(field, [rows, cols], order=1, mode="nearest")


def cloud_masks(key: PRNGKeyArray, dyn: dict, static, sza: Float[Array, "d"], saa: Float[Array, "d"],
                days: Float[Array, "d"], dtype=jnp.float32) -> dict[str, Array]:
    """Cloud, cloud-shadow, cirrus and unclassified masks of the ``d`` Sentinel-2 dates of one chip (module
    docstring).  ``dyn``: the dynamic settings (``clouds.*``; :func:`~leafjax.simulation.split_config`);
    ``static``: :class:`~leafjax.simulation.StaticScene`; ``sza``, ``saa`` (degrees) and ``days`` (DOY) per date.

    **Returns:** ``{"high", "medium", "shadow", "cirrus", "unclassified": (d, size, size) bool, "fraction": (d,)
    requested cloud fraction}``."""
    n_dates = days.shape[0]
    size, step, cells, margin = static.size, static.cloud_step, static.cloud_cells, static.margin_px
    k_field, k_u, k_unc = jax.random.split(key, 3)
    corr_cells = jnp.asarray(dyn["clouds.corr_px"], dtype) / step
    corr = jnp.concatenate([jnp.full((n_dates,), corr_cells, dtype), jnp.full((n_dates,), 2.0 * corr_cells, dtype)])
    fields = gaussian_random_field(k_field, (2 * n_dates, cells, cells), corr, dtype)
    eps, eps_c = fields[:n_dates], fields[n_dates:]
    u_clear, u_frac, u_cf = draws(k_u, "uniform", ((n_dates,), (n_dates,), (n_dates,)), dtype)
    tau = jnp.asarray(dyn["clouds.time_scale_days"], dtype)
    gaps = jnp.concatenate([jnp.zeros((1,), dtype), jnp.diff(days)])
    rho = jnp.exp(-gaps / jnp.maximum(tau, 1e-6))

    def ar1(prev, inputs):
        e, r = inputs
        z = r * prev + jnp.sqrt(1.0 - r * r) * e
        return z, z

    _, z = jax.lax.scan(ar1, eps[0], (eps, rho))
    clear_date = u_clear < dyn["clouds.clear_probability"]
    lo, hi = dyn["clouds.fraction"][0], dyn["clouds.fraction"][1]
    fraction = jnp.where(clear_date, jnp.zeros((n_dates,), dtype), lo + (hi - lo) * u_frac)
    cf_lo, cf_hi = dyn["clouds.cirrus_fraction"][0], dyn["clouds.cirrus_fraction"][1]
    cirrus_fraction = cf_lo + (cf_hi - cf_lo) * u_cf

    pix = jnp.arange(size, dtype=dtype)
    rows = (pix[:, None] + margin) / step + jnp.zeros((1, size), dtype)
    cols = (pix[None, :] + margin) / step + jnp.zeros((size, 1), dtype)
    length = jnp.minimum(static.cloud_height_px * jnp.tan(jnp.deg2rad(sza)), static.margin_px - 1.0)
    d_row = -length * jnp.cos(jnp.deg2rad(saa)) / step
    d_col = length * jnp.sin(jnp.deg2rad(saa)) / step

    def one_date(zk, ck, fk, cfk, drk, dck):
        here = _bilinear(zk, rows, cols)
        sun = _bilinear(zk, rows + drk, cols + dck)
        cir = _bilinear(ck, rows, cols)
        thr = jnp.quantile(here, 1.0 - fk)
        thr_high = jnp.quantile(here, 1.0 - fk * dyn["clouds.high_share"])
        cloudy = (here > thr) & (fk > 0)
        high = cloudy & (here > thr_high)
        shadow = (sun > thr) & (fk > 0) & ~cloudy
        cirrus = (cir > jnp.quantile(cir, 1.0 - cfk)) & (cfk > 0) & ~cloudy & ~shadow
        return high, cloudy & ~high, shadow, cirrus

    high, medium, shadow, cirrus = jax.vmap(one_date)(z, eps_c, fraction, cirrus_fraction, d_row, d_col)
    unclassified = jax.random.uniform(k_unc, high.shape, dtype) < dyn["clouds.unclassified_fraction"]
    return {"high": high, "medium": medium, "shadow": shadow, "cirrus": cirrus,
            "unclassified": unclassified & ~(high | medium | shadow | cirrus), "fraction": fraction}


def scene_classification(masks: dict[str, Array], ndvi: Float[Array, "d y x"], water: Array,
                         ndvi_vegetation: Float[Array, ""]) -> Int[Array, "d y x"]:
    """SCL codes ``(d, y, x)`` int16: 9 / 8 cloud (high / medium probability), 10 thin cirrus, 3 cloud shadow,
    7 unclassified, 6 water (``water`` ``(y, x)`` bool), 4 vegetation (NDVI ≥ ``ndvi_vegetation``), else 5."""
    land = jnp.where(ndvi >= ndvi_vegetation, SCL_VEGETATION, SCL_BARE)
    scl = jnp.where(jnp.broadcast_to(water, ndvi.shape), SCL_WATER, land)
    scl = jnp.where(masks["unclassified"], SCL_UNCLASSIFIED, scl)
    scl = jnp.where(masks["shadow"], SCL_SHADOW, scl)
    scl = jnp.where(masks["cirrus"], SCL_CIRRUS, scl)
    scl = jnp.where(masks["medium"], SCL_CLOUD_MEDIUM, scl)
    scl = jnp.where(masks["high"], SCL_CLOUD_HIGH, scl)
    return scl.astype(jnp.int16)
