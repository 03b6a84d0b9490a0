r"""4SAIL canopy reflectance (Verhoef et al. 2007) with the Kuusk (1991) hotspot, as pure JAX.

A horizontally homogeneous layer of leaves (reflectance :math:`\rho`, transmittance :math:`\tau`, area index
``lai``, inclination distribution ``lidf``) over a Lambertian soil (reflectance :math:`r_s`).  The four-stream
solution of Verhoef (1984, 2007) gives the canopy-only fluxes

- :math:`\tau_{ss} = e^{-k\,L}`, :math:`\tau_{oo} = e^{-K\,L}`: direct transmittances (sun and view paths);
- :math:`\rho_{dd}, \tau_{dd}`: diffuse reflectance and transmittance;
- :math:`\rho_{sd}, \tau_{sd}`: directional-hemispherical; :math:`\rho_{do}, \tau_{do}`: hemispherical-directional;
- :math:`\rho_{so} = \rho_{so}^{(1)} + \rho_{so}^{(m)}`: bidirectional (single scattering with the hotspot joint
  gap probability :math:`\tau_{ssoo}`, plus multiple scattering),

and the top-of-canopy reflectance factors including the soil by adding the layers:

.. math::
   r_{dd}^t = \rho_{dd} + \frac{\tau_{dd} r_s \tau_{dd}}{1 - r_s\rho_{dd}},\quad
   r_{sd}^t = \rho_{sd} + \frac{(\tau_{sd} + \tau_{ss}) r_s \tau_{dd}}{1 - r_s\rho_{dd}},\quad
   r_{do}^t = \rho_{do} + \frac{\tau_{dd} r_s (\tau_{do} + \tau_{oo})}{1 - r_s\rho_{dd}},

   r_{so}^t = \rho_{so} + \tau_{ssoo} r_s
   + \frac{\left[(\tau_{ss} + \tau_{sd})\tau_{do} + (\tau_{sd} + \tau_{ss} r_s \rho_{dd})\tau_{oo}\right] r_s}
          {1 - r_s\rho_{dd}}.

The hotspot follows Kuusk (1991) as implemented in SAIL: the joint gap probability along sun and view paths is
integrated over depth by the exponential Simpson rule in 20 steps of equal slope of the joint probability, with
:math:`\alpha = \frac{d_{so}}{h}\cdot\frac{2}{k + K}` (the :math:`2/(k+K)` correction of F.-M. Bréon).  The
limits ``hotspot → 0`` (no hotspot), ``d_so = 0`` (exact hotspot direction) and ``lai = 0`` (bare soil: all
four factors equal the soil reflectance) are evaluated without branching and with finite gradients.

References:
    Verhoef, W. (1984) Remote Sens. Environ. 16:125–141, doi:10.1016/0034-4257(84)90057-9.
    Kuusk, A. (1991) in Photon-Vegetation Interactions, Springer, 89–116; Kuusk (1985) Sov. J. Remote Sens. 3.
    Verhoef, W., Jia, L., Xiao, Q., Su, Z. (2007) IEEE TGRS 45:1808–1822, doi:10.1109/TGRS.2007.895844.
    Jacquemoud, S. et al. (2009) Remote Sens. Environ. 113:S56–S66 (PROSPECT + SAIL review).
"""

from __future__ import annotations

import functools
import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ..._parameters import defaults
from ._geometry import canopy_geometry
from ._lidf import LIDF_TYPES, angle_class_edges, lidf as _lidf
from ._sail_kernel import (HOTSPOT_ALPHA_NONE as HOTSPOT_ALPHA_NONE, HOTSPOT_STEPS as HOTSPOT_STEPS, band_kernel,
                           spectrum_terms)

_asarray = jnp.asarray
#: Canonical defaults of the optional 4SAIL parameters (registry :data:`leafjax._parameters.SAIL`).
_DEFAULTS = defaults("4sail")

#: Spectra per block of the per-band work on CPU (see ``block_size`` of :func:`sail`). Measured on a 2-core
#: AVX-512 CPU (float32 and float64, blocks of 4-64): 16 is fastest; from 32 rows on XLA splits each block's
#: fusions over two threads, whose per-block synchronisation costs more than it gains.
CPU_BLOCK_SIZE: int = 16


class CanopyParams(eqx.Module):
    """Canopy structure and sun–view geometry of 4SAIL, with the project's canonical names.

    Array fields broadcast against each other (their broadcast shape is the batch shape).

    **Fields:**
    - ``lai``: leaf area index (m²/m², ≥ 0; 0 = bare soil).
    - ``lidf_a``: for ``lidf_type="campbell"`` the mean leaf inclination angle (degrees); for ``"verhoef"`` the
      average-slope parameter *a* (dimensionless).
    - ``lidf_b``: bimodality parameter *b* of the Verhoef LIDF (dimensionless; ignored by Campbell).
    - ``hotspot``: hotspot size parameter, ratio of leaf size to canopy height (dimensionless, ≥ 0; at exactly
      0 the hotspot is off and its gradient is returned as 0).
    - ``sza``, ``vza``: solar and view zenith angles (degrees, in [0, 90)).
    - ``raa``: relative azimuth between sun and sensor (degrees; 0 = backscatter/hotspot side).
    - ``lidf_type``: static string, ``"campbell"`` or ``"verhoef"``.
    - ``angle_classes``: static string, the leaf-inclination classes: ``"prosail"`` (18 × 5°, as PyPI
      ``prosail``; default) or ``"sail"`` (the 13 classes of Verhoef's SAIL codes).

    Defaults (the registry :data:`leafjax._parameters.SAIL`, which also gives the physical bounds): ``lidf_b = 0``,
    ``hotspot = 0.01``, ``sza = 30``, ``vza = 0``, ``raa = 0``, ``lidf_type = "campbell"``; ``lai`` and ``lidf_a``
    are required.
    """

    lai: Float[Array, "*batch"] = eqx.field(converter=_asarray)
    lidf_a: Float[Array, "*batch"] = eqx.field(converter=_asarray)
    lidf_b: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["lidf_b"])
    hotspot: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["hotspot"])
    sza: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["sza"])
    vza: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["vza"])
    raa: Float[Array, "*batch"] = eqx.field(converter=_asarray, default=_DEFAULTS["raa"])
    lidf_type: str = eqx.field(static=True, default="campbell")
    angle_classes: str = eqx.field(static=True, default="prosail")

    names: ClassVar[tuple[str, ...]] = ("lai", "lidf_a", "lidf_b", "hotspot", "sza", "vza", "raa")

    def __check_init__(self):
        if self.lidf_type not in LIDF_TYPES:
            raise ValueError(f"unknown lidf_type {self.lidf_type!r}; choose one of: {', '.join(LIDF_TYPES)}")
        angle_class_edges(self.angle_classes)  # raises for an unknown name

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the array fields."""
        return jnp.broadcast_shapes(*(jnp.shape(getattr(self, n)) for n in self.names))


class CanopyReflectance(eqx.Module):
    """Outputs of 4SAIL. Spectral fields have shape ``(*batch, wl)``; ``tss``, ``too``, ``tsstoo`` ``(*batch,)``.

    Top-of-canopy reflectance factors (canopy + soil):
    ``rsot`` bidirectional, ``rddt`` bi-hemispherical, ``rsdt`` directional-hemispherical, ``rdot``
    hemispherical-directional; ``rsost`` / ``rsodt`` the single-/multiple-scattering-with-soil parts of ``rsot``.

    Canopy-layer (black-soil) fluxes: ``tss``, ``too`` direct transmittance in the sun / view path, ``tsstoo``
    joint (hotspot) gap probability; ``rdd``, ``tdd`` diffuse reflectance/transmittance; ``rsd``, ``tsd``
    directional-hemispherical; ``rdo``, ``tdo`` hemispherical-directional; ``rso`` bidirectional reflectance
    with ``rsos`` (single scattering) + ``rsod`` (multiple scattering).
    """

    rsot: Float[Array, "*batch wl"]
    rddt: Float[Array, "*batch wl"]
    rsdt: Float[Array, "*batch wl"]
    rdot: Float[Array, "*batch wl"]
    rsost: Float[Array, "*batch wl"]
    rsodt: Float[Array, "*batch wl"]
    tss: Float[Array, "*batch"]
    too: Float[Array, "*batch"]
    tsstoo: Float[Array, "*batch"]
    rdd: Float[Array, "*batch wl"]
    tdd: Float[Array, "*batch wl"]
    rsd: Float[Array, "*batch wl"]
    tsd: Float[Array, "*batch wl"]
    rdo: Float[Array, "*batch wl"]
    tdo: Float[Array, "*batch wl"]
    rso: Float[Array, "*batch wl"]
    rsos: Float[Array, "*batch wl"]
    rsod: Float[Array, "*batch wl"]


def _block(args):
    return band_kernel(*args)


@functools.partial(jax.jit, static_argnames="block_size")  # jitted: eager calls reuse one compiled loop
def _band_blocks(rho, tau, rs, terms, block_size: int) -> dict[str, Array]:
    """:func:`band_kernel` over the flattened batch in row blocks (``lax.map``): intermediates stay in cache."""
    batch = terms.lai.shape
    size = math.prod(batch)
    flat = lambda v: jnp.reshape(v, (size,) + v.shape[len(batch):])  # noqa: E731
    bands = jax.lax.map(_block, jax.tree.map(flat, (rho, tau, rs, terms)), batch_size=block_size)
    return {k: jnp.reshape(v, batch + v.shape[-1:]) for k, v in bands.items()}


def _broadcast_inputs(leaf_r, leaf_t, soil, params: CanopyParams):
    leaf_r, leaf_t, soil = jnp.asarray(leaf_r), jnp.asarray(leaf_t), jnp.asarray(soil)
    for name, v in (("leaf_r", leaf_r), ("leaf_t", leaf_t), ("soil", soil)):
        if v.ndim < 1:
            raise ValueError(f"{name} must have a trailing wavelength axis, got shape {v.shape}")
    wl = jnp.broadcast_shapes(leaf_r.shape[-1:], leaf_t.shape[-1:], soil.shape[-1:])
    batch = jnp.broadcast_shapes(params.batch_shape, leaf_r.shape[:-1], leaf_t.shape[:-1], soil.shape[:-1])
    dt = jnp.result_type(leaf_r, leaf_t, soil, *(getattr(params, n) for n in params.names))
    if not jnp.issubdtype(dt, jnp.floating):
        dt = jnp.result_type(float)
    spec = lambda v: jnp.broadcast_to(v.astype(dt), batch + wl)  # noqa: E731
    scal = lambda n: jnp.broadcast_to(getattr(params, n).astype(dt), batch)  # noqa: E731
    return spec(leaf_r), spec(leaf_t), spec(soil), {n: scal(n) for n in params.names}


def sail(leaf_r: Float[ArrayLike, "*#batch wl"], leaf_t: Float[ArrayLike, "*#batch wl"],
         soil: Float[ArrayLike, "*#batch wl"], params: CanopyParams, *,
         block_size: int | None | str = "auto") -> CanopyReflectance:
    r"""4SAIL canopy reflectance factors and fluxes.

    **Arguments:**
    - ``leaf_r``, ``leaf_t``: leaf (Lambertian) reflectance and transmittance, fractions with
      :math:`\rho + \tau < 1`, shape ``(*batch, wl)`` (any broadcastable leading shape).
    - ``soil``: Lambertian soil reflectance, shape ``(*batch, wl)``.
    - ``params``: :class:`CanopyParams` (batch shape broadcastable with the spectra's leading shape).
    - ``block_size``: evaluate the per-band work of the flattened batch in blocks of this many spectra
      (``lax.map``; the band-independent terms are computed once for the whole batch), faster on CPU for large
      batches; ``None``: all at once (best on GPU); ``"auto"``: :data:`CPU_BLOCK_SIZE` on the CPU backend, none
      otherwise.  Results are identical up to rounding.

    **Returns:** :class:`CanopyReflectance`; dtype is the common float dtype of the inputs.

    Pure and jit/vmap/grad-able with respect to every array input, including the leaf spectra given directly.

    Example:
        >>> import jax.numpy as jnp
        >>> r = jnp.full((3,), 0.45); t = jnp.full((3,), 0.45); s = jnp.full((3,), 0.2)
        >>> out = sail(r, t, s, CanopyParams(lai=3.0, lidf_a=57.0, hotspot=0.1, sza=30.0, vza=10.0, raa=0.0))
        >>> out.rsot.shape
        (3,)
    """
    rho, tau, rs, p = _broadcast_inputs(leaf_r, leaf_t, soil, params)
    leaf_dist = _lidf(params.lidf_type, p["lidf_a"], p["lidf_b"], dtype=rho.dtype, angle_classes=params.angle_classes)
    g = canopy_geometry(leaf_dist, p["sza"], p["vza"], p["raa"], params.angle_classes)
    terms = spectrum_terms(p["lai"], p["hotspot"], g)
    batch = terms.lai.shape
    if block_size == "auto":
        block_size = CPU_BLOCK_SIZE if jax.default_backend() == "cpu" else None
    size = math.prod(batch)
    if block_size is None or size <= block_size:
        bands = band_kernel(rho, tau, rs, terms)
    else:
        bands = _band_blocks(rho, tau, rs, terms, block_size=int(block_size))
    return CanopyReflectance(**bands, tss=terms.tss, too=terms.too, tsstoo=terms.tsstoo)
