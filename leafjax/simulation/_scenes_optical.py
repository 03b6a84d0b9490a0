r"""Optical branch of the scene simulator: PROSAIL canopies seen by Sentinel-2, cloud-shadowed and cloudy pixels,
open water, and the retrieval contract of the "S2 LAI product".

**Reflectance of a clear pixel:** PROSAIL (:func:`~leafjax.simulation.prosail_state`) with the parcel's leaf and
canopy parameters, under direct sun and diffuse sky light when ``sky`` is given
(:func:`~leafjax.physics.canopy.sky_reflectance`, :math:`(1 - D)\,r_{so} + D\,r_{do}` with the Bird & Riordan
diffuse fraction :math:`D`), else the bidirectional :math:`r_{so}`; band values by the sensor response
(:func:`~leafjax.spectral.convolve`), then the band noise of ``noise`` (default
:class:`~leafjax.simulation.AtbdNoise`, the S2 ATBD noise).  **Cloud shadow:** the direct sun is blocked but the
atmospheric correction assumes it, so the apparent reflectance is :math:`D\,r_{do}` (``D`` =
:data:`SHADOW_DIFFUSE_FRACTION` without a sky model).  **Water:** the flat-water spectrum
:data:`WATER_REFLECTANCE` (assumed: the order of magnitude of clear inland water, bright in the green, near 0
beyond 750 nm), convolved by the sensor.  **Cloud:** a flat reflectance uniform in ``cloud_reflectance`` per date;
thin cirrus adds ``cirrus_reflectance``.

**Retrieval contract.**  The simulator does not retrieve LAI itself (``leafjax.simulation`` sits below
``leafjax.products``): it calls an injected ``retrieve(reflectance, geometry) -> lai`` once per simulation call,
with ``reflectance`` a ``(pix, band)`` float64 NumPy array on the bands of the optics' ``srf`` (in its order) and
``geometry`` ``{"sza", "vza", "raa": (pix,) float64 degrees}``, for every pixel whose SCL class is 2–6; it must
return ``(pix,)`` LAI in m² m⁻² (NaN allowed).  The experiment passes the hybrid route, e.g.::

    from leafjax.products import HybridRoute, retrieve_products
    route = HybridRoute(); state = route.prepare(optics.srf, optics.model, key)
    retrieve = lambda r, g: retrieve_products(r, g, optics.srf, route, products=("lai",), state=state).values["lai"]

:class:`NdviLaiRetrieval` is a cheap documented stand-in for tests and quick runs.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..core import AbstractNoise
from ..physics.canopy import Prosail
from ..physics.sky import SkyIllumination
from ..spectral import SpectralResponse, convolve, load_srf
from ._atbd import AtbdNoise, _band_key
from ._prosail import prosail_state

#: Diffuse fraction of the irradiance assumed in cloud shadows when no sky model is given (–; assumed).
SHADOW_DIFFUSE_FRACTION: float = 0.15
#: Open-water reflectance (–) at the wavelengths :data:`WATER_REFLECTANCE_NM` (nm), linearly interpolated.
#: Assumed values, not a measured spectrum.
WATER_REFLECTANCE_NM: tuple[float, ...] = (400.0, 500.0, 560.0, 620.0, 700.0, 750.0, 800.0, 900.0, 1600.0, 2500.0)
WATER_REFLECTANCE: tuple[float, ...] = (0.030, 0.035, 0.040, 0.025, 0.012, 0.006, 0.004, 0.003, 0.002, 0.001)
#: PROSAIL grid of :func:`default_scene_optics` (nm): 20-nm steps, as the products tests.
DEFAULT_GRID_NM: np.ndarray = np.arange(400, 2401, 20)


class SceneOptics(eqx.Module):
    """The optical sensor chain of the simulator (build it with :func:`scene_optics`).

    **Fields:** ``model`` (:class:`~leafjax.physics.canopy.Prosail`), ``srf`` (its grid), ``noise``
    (band noise or ``None``), ``sky`` (:class:`~leafjax.physics.sky.SkyIllumination` or ``None``),
    ``water_bands`` (``(band,)`` water reflectance), ``red``, ``nir`` (static band indices of the NDVI)."""

    model: Prosail
    srf: SpectralResponse
    noise: AbstractNoise | None
    sky: SkyIllumination | None
    water_bands: Float[Array, "band"]
    red: int = eqx.field(static=True)
    nir: int = eqx.field(static=True)


def _band_index(names: tuple[str, ...], band: str) -> int:
    canon = [_band_key(n) for n in names]
    want = _band_key(band)
    if want not in canon:
        raise ValueError(f"band {band!r} is not among the sensor's bands {', '.join(names)} (needed for the NDVI)")
    return canon.index(want)


def scene_optics(srf: SpectralResponse, model: Prosail | None = None, *, noise: AbstractNoise | str | None = "atbd",
                 sky: SkyIllumination | bool | None = True, red: str = "B4", nir: str = "B8") -> SceneOptics:
    """The optical chain on ``srf``'s grid: ``model`` (default PROSPECT-D + 4SAIL in float32 on that grid, the
    model :class:`leafjax.products.HybridRoute` uses by default), ``noise`` (``"atbd"``: :class:`AtbdNoise` bound
    to the bands; ``None``: noise-free), ``sky`` (``True``: ``SkyIllumination(aot550=0.1)``, the hybrid route's
    default; ``None``/``False``: direct sun only), ``red``/``nir`` (bands of the NDVI used by the SCL).

    Raises:
        ValueError: if the red or NIR band is missing, or the model's grid is not the SRF's.
    """
    grid = np.asarray(srf.wavelengths, np.float64)
    model = Prosail("prospect-d", wavelengths=grid, dtype=jnp.float32) if model is None else model
    if model.wavelengths.shape != grid.shape or not np.allclose(np.asarray(model.wavelengths), grid):
        raise ValueError("the PROSAIL model and the spectral response must share one wavelength grid")
    if isinstance(noise, str):
        if noise != "atbd":
            raise ValueError(f"noise must be 'atbd', None or a noise model, got {noise!r}")
        noise = AtbdNoise(band_names=tuple(srf.band_names))
    elif isinstance(noise, AtbdNoise) and noise.band_names is None:
        noise = noise.with_bands(srf.band_names)
    if sky is True:
        sky = SkyIllumination(aot550=0.1)
    elif sky is False:
        sky = None
    water = np.interp(grid, WATER_REFLECTANCE_NM, WATER_REFLECTANCE)
    dt = model.wavelengths.dtype
    water_bands = convolve(jnp.asarray(water, dt), srf)
    return SceneOptics(model, srf, noise, sky, water_bands, _band_index(tuple(srf.band_names), red),
                       _band_index(tuple(srf.band_names), nir))


def default_scene_optics(sensor: str = "sentinel-2a", **kwargs) -> SceneOptics:
    """:func:`scene_optics` of ``load_srf(sensor, DEFAULT_GRID_NM)`` (10 bands B2–B8A, B11, B12 on a 20-nm grid)."""
    return scene_optics(load_srf(sensor, DEFAULT_GRID_NM), **kwargs)


def canopy_bands(optics: SceneOptics, values: dict[str, Array], shadow: Array) -> Float[Array, "*b band"]:
    """Noise-free band reflectance ``(*b, band)`` of PROSAIL canopies at ``values`` (``{name: (*b,)}``, canonical
    names incl. ``sza``, ``vza``, ``raa``), the shadowed ones (``shadow`` ``(*b,)`` bool) lit by the sky only
    (module docstring).  Differentiable in ``values``."""
    model = optics.model
    out, _ = prosail_state(model, values)
    dt = out.rsot.dtype
    if optics.sky is not None:
        sza = jnp.asarray(values["sza"], dt)
        d = optics.sky(model.wavelengths, sza).astype(dt)
        lit = (1.0 - d) * out.rsot + d * out.rdot
        dark = d * out.rdot
    else:
        lit, dark = out.rsot, SHADOW_DIFFUSE_FRACTION * out.rdot
    return convolve(jnp.where(shadow[..., None], dark, lit), optics.srf)


def ndvi(bands: Float[Array, "*b band"], red: int, nir: int) -> Float[Array, "*b"]:
    """``(NIR − red) / (NIR + red)`` of band reflectance (guarded against a zero sum)."""
    r, n = bands[..., red], bands[..., nir]
    s = n + r
    ok = jnp.abs(s) > 1e-6
    return jnp.where(ok, (n - r) / jnp.where(ok, s, jnp.ones_like(s)), jnp.zeros_like(s))


class NdviLaiRetrieval(eqx.Module):
    r"""A cheap stand-in retrieval (final) for tests and quick runs: the semi-empirical NDVI–LAI relation
    :math:`\mathrm{NDVI} = N_\infty - (N_\infty - N_s)\,e^{-K\,\mathrm{LAI}}` (the exponential form of Baret &
    Guyot 1991, Remote Sens. Environ. 35:161–173) inverted,
    :math:`\mathrm{LAI} = -\ln\big((N_\infty - \mathrm{NDVI})/(N_\infty - N_s)\big)/K`, clipped to
    ``[0, lai_max]``.  Values assumed (``ndvi_soil`` 0.15, ``ndvi_inf`` 0.92, ``k`` 0.6, ``lai_max`` 8 m² m⁻²), of
    the order of PROSAIL canopies over mid-bright soils; not the hybrid route.  Called as
    ``retrieve(reflectance (pix, band), geometry) -> (pix,)`` (geometry unused).

    Example:
        >>> r = NdviLaiRetrieval(band_names=("B4", "B8"))
        >>> np.round(r(np.array([[0.1, 0.12], [0.03, 0.45]]), {}), 2)
        array([0.  , 4.73])
    """

    band_names: tuple[str, ...] = eqx.field(static=True)
    red: str = eqx.field(static=True, default="B4")
    nir: str = eqx.field(static=True, default="B8")
    ndvi_soil: float = 0.15
    ndvi_inf: float = 0.92
    k: float = 0.6
    lai_max: float = 8.0

    def __call__(self, reflectance, geometry) -> np.ndarray:
        x = np.asarray(reflectance, np.float64)
        r, n = x[:, _band_index(self.band_names, self.red)], x[:, _band_index(self.band_names, self.nir)]
        v = (n - r) / np.where(np.abs(n + r) > 1e-6, n + r, 1.0)
        frac = np.clip((self.ndvi_inf - v) / (self.ndvi_inf - self.ndvi_soil), 1e-12, None)
        return np.clip(-np.log(frac) / self.k, 0.0, self.lai_max)
