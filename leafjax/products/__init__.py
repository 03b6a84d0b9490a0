"""Satellite biophysical products from sensor bands: LAI, CCC, CWC, fAPAR and fCover, each with its 1-σ
uncertainty, per-pixel status and quality flags (the Sentinel-2 Level-2B products of Weiss & Baret 2016,
S2ToolBox ATBD v1.1), by three routes over one forward model (PROSAIL under direct sun + diffuse sky light):

- :class:`LMRoute` — per-pixel Levenberg–Marquardt inversion (physical);
- :class:`HybridRoute` — an ensemble of networks trained on simulations of the ATBD prior with the ATBD noise;
- :class:`LUTRoute` — a look-up table per sun/view geometry, the mean of the best ``k`` entries.

:func:`retrieve_products` is the one entry point (validation, masking of invalid pixels, routing);
:func:`get_route` builds a route by name ("lm", "hybrid", "lut"; default :data:`DEFAULT_METHOD`).
"""

from ._result import (
    PRODUCTS as PRODUCTS,
    PRODUCT_UNITS as PRODUCT_UNITS,
    ProductResult as ProductResult,
    concatenate as concatenate,
)
from ._routes import (
    DEFAULT_METHOD as DEFAULT_METHOD,
    METHODS as METHODS,
    AbstractRoute as AbstractRoute,
    get_route as get_route,
)
from ._lm import LMRoute as LMRoute
from ._lut import LUTRoute as LUTRoute
from ._hybrid import HybridRoute as HybridRoute
from ._retrieve import default_model as default_model, retrieve_products as retrieve_products
