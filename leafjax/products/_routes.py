"""The retrieval routes' common interface (:class:`AbstractRoute`), their shared configuration helpers and
:func:`get_route`.

A route turns sensor bands of pixels with known sun/view geometry into :data:`~leafjax.products.PRODUCTS`.  It
is an equinox module of static configuration; :meth:`AbstractRoute.prepare` does the route's one-off work (train
the hybrid networks; nothing for the look-up-table route, whose tables are built lazily per geometry and cached
in the state; nothing for Levenberg–Marquardt) and returns a *state* dict that
:meth:`AbstractRoute.retrieve` uses for any number of pixel batches (the tiles of a scene).
"""

from __future__ import annotations

import abc
from typing import Mapping, Sequence

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from ..physics.canopy import Prosail
from ..spectral._response import SpectralResponse
from ._result import ProductResult

#: Route used by :func:`~leafjax.products.retrieve_products` and ``leafjax map`` when none is given: the look-up
#: table with the crop prior (:class:`LUTRoute` defaults), the most accurate route on the real Sentinel-2
#: winter-wheat rows of ``experiments/s2_crop_traits`` (green LAI RMSE 1.14, CCC 0.45 g/m²; the hybrid network
#: with the crop prior has the lower CCC error, 0.40, but LAI 1.40).  This choice was made after looking at those
#: scores; the study also reports the choice made without looking (nested leave-one-location-out).
DEFAULT_METHOD: str = "lut"
#: Route names of :func:`get_route`.
METHODS: tuple[str, ...] = ("lm", "hybrid", "lut")
#: Prior names of the simulation-based routes: ``"atbd"`` (:func:`leafjax.simulation.atbd_prior`, LAI
#: co-distributed, as in the S2ToolBox), ``"crop"`` (:func:`leafjax.simulation.crop_prior`, the agricultural-crop
#: ranges of Danner et al. 2021) or ``"uniform"`` (:func:`leafjax.simulation.default_prosail_prior`).
PRIORS: tuple[str, ...] = ("atbd", "crop", "uniform")
#: Noise names: ``"atbd"`` (:class:`leafjax.simulation.AtbdNoise`, the ATBD's defaults) or ``"none"``.
NOISES: tuple[str, ...] = ("atbd", "none")


class AbstractRoute(eqx.Module):
    """A retrieval route (abstract; :class:`LMRoute`, :class:`HybridRoute`, :class:`LUTRoute` are final).

    **Attributes:** ``name`` (class variable, the :func:`get_route` name), ``handles_missing_bands`` (class
    variable: pixels with some NaN bands are retrieved from the others; else they are ``invalid_input``) and the
    static configuration fields of each route, among them ``expected_rmse`` (reflectance; ``poor_fit`` above 3×).
    """

    name = "abstract"
    handles_missing_bands = True

    @abc.abstractmethod
    def prepare(self, srf: SpectralResponse, model: Prosail, key: PRNGKeyArray) -> dict:
        """The route's state for ``srf`` (bands of the observations) and ``model`` (PROSAIL on the SRF's grid)."""

    @abc.abstractmethod
    def retrieve(self, state: dict, bands: np.ndarray, geometry: Mapping[str, np.ndarray],
                 products: Sequence[str]) -> ProductResult:
        """``products`` of valid pixels: ``bands (pix, band)`` fractions, ``geometry`` ``{"sza", "vza", "raa":
        (pix,)}`` degrees (checked by :func:`~leafjax.products.retrieve_products`)."""


def base_state(route: AbstractRoute, srf: SpectralResponse, model: Prosail, key: PRNGKeyArray | None,
               sky: bool, aot550: float) -> dict:
    """The state every route keeps: its name, ``srf``, ``model``, ``key`` and the sky illumination (or None)."""
    key = jax.random.key(0) if key is None else key
    return {"route": route.name, "srf": srf, "model": model, "key": key, "sky": make_sky(sky, aot550)}


def check_state(route: AbstractRoute, state) -> dict:
    """``state`` if it was prepared by a route of this kind, else a one-line ``ValueError``."""
    if not isinstance(state, dict) or state.get("route") != route.name:
        got = state.get("route") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"state was prepared by route {got!r}, not {route.name!r}: call route.prepare first")
    return state


def make_sky(sky: bool, aot550: float):
    """A :class:`leafjax.physics.sky.SkyIllumination` with aerosol optical thickness ``aot550`` at 550 nm, or
    ``None`` (direct sun only: the bidirectional ``rsot``) when ``sky`` is false."""
    if not sky:
        return None
    from ..physics.sky import SkyIllumination

    return SkyIllumination(aot550=float(aot550))


def make_prior(name: str, sza: tuple[float, float], vza: tuple[float, float], raa: tuple[float, float],
               leaf_model: str = "prospect-d"):
    """The simulation prior ``name`` (:data:`PRIORS`) with uniform geometry in the given ranges (degrees)."""
    if name == "atbd":
        from ..simulation import atbd_prior

        return atbd_prior(sza=tuple(sza), vza=tuple(vza), raa=tuple(raa))
    if name == "crop":
        from ..simulation import crop_prior

        return crop_prior(sza=tuple(sza), vza=tuple(vza), raa=tuple(raa))
    if name == "uniform":
        from ..simulation import Prior, Uniform, default_prosail_prior

        base = default_prosail_prior(leaf_model)
        return Prior({**base.marginals, "sza": Uniform(*map(float, sza)), "vza": Uniform(*map(float, vza)),
                      "raa": Uniform(*map(float, raa))})
    raise ValueError(f"unknown prior {name!r}; known: {', '.join(PRIORS)}")


def make_noise(name: str, srf: SpectralResponse):
    """The band noise ``name`` (:data:`NOISES`) for the bands of ``srf``, or ``None``."""
    if name == "none":
        return None
    if name == "atbd":
        from ..simulation import AtbdNoise

        return AtbdNoise(band_names=tuple(srf.band_names))
    raise ValueError(f"unknown noise {name!r}; known: {', '.join(NOISES)}")


def check_config(route: AbstractRoute) -> None:
    """One-line ``ValueError`` for bad common configuration fields (prior, noise, expected_rmse, aot550)."""
    prior, noise = getattr(route, "prior", "atbd"), getattr(route, "noise", "none")
    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; known: {', '.join(PRIORS)}")
    if noise not in NOISES:
        raise ValueError(f"unknown noise {noise!r}; known: {', '.join(NOISES)}")
    e = getattr(route, "expected_rmse", None)
    if e is not None and not (np.isfinite(e) and e > 0):
        raise ValueError(f"expected_rmse must be finite and > 0, got {e!r}")
    a = getattr(route, "aot550", 0.1)
    if not (np.isfinite(a) and a >= 0):
        raise ValueError(f"aot550 must be finite and >= 0, got {a!r}")


def get_route(name: str, **kwargs) -> AbstractRoute:
    """The route ``name`` (``"lm"``, ``"hybrid"``, ``"lut"``; case-insensitive) built with ``kwargs`` (its fields).

    Example:
        >>> get_route("lut", n=2000, k=20).k
        20
    """
    from ._hybrid import HybridRoute
    from ._lm import LMRoute
    from ._lut import LUTRoute

    classes = {"lm": LMRoute, "hybrid": HybridRoute, "lut": LUTRoute}
    key = str(name).strip().lower()
    if key not in classes:
        raise ValueError(f"unknown retrieval method {name!r}; known: {', '.join(METHODS)}")
    try:
        return classes[key](**kwargs)
    except TypeError as err:
        raise ValueError(f"bad options for method {key!r}: {err}") from None
