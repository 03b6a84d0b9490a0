r"""The voxel scene: a regular grid of turbid leaf-area density per component above a Lambertian soil.

A scene is a box of ``nx × ny × nz`` voxels of size ``voxel_size = (dx, dy, dz)`` (m), periodic in ``x`` and ``y``
(an infinite repetition of the box, as in the RAMI scenes), with the soil at ``z = 0`` and the top of the canopy at
``z = nz·dz``.  Each *component* ``c`` (a leaf species, an understorey, woody elements treated as leaves, …) fills
each voxel with a leaf-area density :math:`u_c` (m² of one-sided leaf area per m³) and has its own leaf-inclination
distribution :math:`F_c` over the inclination classes of :mod:`leafjax.physics.canopy` (azimuths uniform).  A
photon travelling in direction :math:`\Omega` sees the extinction coefficient

.. math::
    \sigma(\mathbf{x}, \Omega) = \sum_c u_c(\mathbf{x})\,G_c(\Omega), \qquad
    G_c(\Omega) = \sum_l F_{c,l}\,\chi_l(\theta)

(m⁻¹; Ross 1981), where :math:`\chi_l` is :func:`leafjax.physics.canopy.leaf_projection`, the same function the
4SAIL extinction coefficients use (:math:`k = G/\cos\theta`), so the homogeneous limit of the voxel model and
4SAIL share their leaf geometry.  Leaves are bi-Lambertian; their spectra are not part of the scene (the geometry
is traced once, the spectra enter afterwards, see :mod:`leafjax.physics.voxel`).

References:
    Ross, J. (1981) The radiation regime and architecture of plant stands. Junk, The Hague.
    Widlowski, J.-L. et al. (2007) Third RAdiation transfer Model Intercomparison (RAMI) exercise, J. Geophys.
    Res. 112:D09111, doi:10.1029/2006JD007821.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..canopy import leaf_projection
from ..canopy._lidf import angle_class_centres

#: Zenith cosines on which the G-function maximum (for the delta-tracking majorant) is searched.
_G_GRID = np.linspace(0.0, 1.0, 181)
#: Relative margin on the sampled G maximum (G is smooth; the margin keeps the majorant a true bound).
_G_MARGIN = 1.02


class VoxelScene(eqx.Module):
    """A periodic voxel canopy above a soil.

    **Fields:**
    - ``lad``: leaf-area density per component and voxel (m² m⁻³), shape ``(n_components, nx, ny, nz)``;
      index ``k = 0`` is the bottom layer (on the soil).
    - ``lidf``: leaf-inclination distribution per component over the classes ``angle_classes``, shape
      ``(n_components, n_classes)``, each row summing to 1.
    - ``voxel_size``: static ``(dx, dy, dz)`` (m).
    - ``components``: static names of the components (e.g. ``("birch", "spruce", "understorey")``).
    - ``angle_classes``: static name of the inclination-class set (see :mod:`leafjax.physics.canopy`).
    """

    lad: Float[Array, "c nx ny nz"]
    lidf: Float[Array, "c n"]
    voxel_size: tuple[float, float, float] = eqx.field(static=True)
    components: tuple[str, ...] = eqx.field(static=True)
    angle_classes: str = eqx.field(static=True, default="prosail")

    def __check_init__(self):
        check_scene(self)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(nx, ny, nz)``."""
        return tuple(self.lad.shape[1:])

    @property
    def n_components(self) -> int:
        return self.lad.shape[0]

    @property
    def height(self) -> float:
        """Top of the voxel grid (m)."""
        return self.shape[2] * self.voxel_size[2]

    @property
    def extent(self) -> tuple[float, float]:
        """Horizontal size of the periodic box ``(Lx, Ly)`` (m)."""
        return self.shape[0] * self.voxel_size[0], self.shape[1] * self.voxel_size[1]

    def lai(self) -> Float[Array, " c"]:
        """Leaf-area index of each component over the box (m² m⁻²): ``Σ u·dx·dy·dz / (Lx·Ly)``."""
        dz = self.voxel_size[2]
        return jnp.sum(self.lad, axis=3).mean(axis=(1, 2)) * dz

    def g_function(self, cos_zenith) -> Float[Array, "*batch c"]:
        """G-function of each component in directions of zenith cosine ``cos_zenith`` (shape ``(*batch,)``),
        shape ``(*batch, n_components)``."""
        chi = leaf_projection(jnp.asarray(cos_zenith, self.lidf.dtype), self.angle_classes)
        return jnp.einsum("...l,cl->...c", chi, self.lidf)

    def extinction(self, cos_zenith) -> Float[Array, "nx ny nz"]:
        """Extinction coefficient field σ (m⁻¹) for one direction of zenith cosine ``cos_zenith`` (scalar)."""
        return jnp.einsum("c,cxyz->xyz", self.g_function(cos_zenith), self.lad)

    def g_max(self) -> Float[Array, " c"]:
        """An upper bound of each component's G-function over all directions (≤ 1)."""
        g = self.g_function(jnp.asarray(_G_GRID, self.lidf.dtype))
        return jnp.minimum(_G_MARGIN * jnp.max(g, axis=0), 1.0)


def check_scene(scene: VoxelScene) -> None:
    """Validate a scene's shapes and, where concrete, its values (one-line ``ValueError``)."""
    if scene.lad.ndim != 4:
        raise ValueError(f"lad must have shape (n_components, nx, ny, nz), got {scene.lad.shape}")
    n_classes = angle_class_centres(scene.angle_classes).size
    if scene.lidf.shape != (scene.lad.shape[0], n_classes):
        raise ValueError(f"lidf must have shape ({scene.lad.shape[0]}, {n_classes}) for {scene.lad.shape[0]} "
                         f"components and angle_classes={scene.angle_classes!r}, got {scene.lidf.shape}")
    if len(scene.components) != scene.lad.shape[0]:
        raise ValueError(f"{len(scene.components)} component names for {scene.lad.shape[0]} components")
    if len(set(scene.components)) != len(scene.components):
        raise ValueError(f"component names must be unique, got {scene.components}")
    if len(scene.voxel_size) != 3 or not all(float(v) > 0 for v in scene.voxel_size):
        raise ValueError(f"voxel_size must be three positive lengths (m), got {scene.voxel_size}")
    try:
        lad, lidf = np.asarray(scene.lad), np.asarray(scene.lidf)
    except Exception:  # traced: shapes only
        return
    if not np.all(np.isfinite(lad)) or np.any(lad < 0):
        raise ValueError("lad must be finite and non-negative (m² m⁻³)")
    if np.any(lidf < 0) or not np.allclose(lidf.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(f"each lidf row must be non-negative and sum to 1, got sums {lidf.sum(axis=1)}")
