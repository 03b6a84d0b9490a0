r"""Differentiable 3-D canopy radiative transfer in voxel scenes, with exact spectral dependence.

A :class:`VoxelScene` is a periodic grid of turbid leaf-area density per component (leaf species, understorey)
above a Lambertian soil, with per-component leaf-angle distributions through the same G-function code as 4SAIL.
Builders make RAMI-like scenes (:func:`homogeneous_scene`, :func:`floating_spheres_scene`, :func:`crowns_scene`,
:func:`rows_scene`); :func:`voxelise_mesh` voxelises triangle meshes of leaves exactly (e.g. the random leaf discs of
:func:`leaf_disc_mesh`), and :func:`scene_from_spec` builds any of them from a JSON-like mapping.

The Monte Carlo engine traces photon paths once (:func:`monte_carlo_tallies`; fixed-shape JAX loops, delta
tracking) and tallies, per image pixel and view, the λ-independent weights and exponent vectors of every path
(:class:`SpectralPolynomial`).  :func:`render` then evaluates the image at any component spectra
(:class:`ComponentSpectra`) — at all wavelengths at once, with exact gradients with respect to every
reflectance/transmittance (and, by the chain rule, PROSPECT or soil parameters) — and :func:`energy_budget` the
absorbed/reflected fractions.  A recollision-probability tail extends truncated paths.  The deterministic
fast path (:func:`fast_tallies`) replaces the first order by the exact single scattering of :func:`single_scattering`
(ray marching, no Monte Carlo noise).  The retrievals of component
spectra from images live in :mod:`leafjax.inversion`.

Reference:
    Qi, J., Wei, S., Xia, X., Xie, D. (2025) 3D-Diff: differentiable 3-D radiative transfer for retrieving leaf
    and soil spectra from canopy reflectance images. Remote Sens. Environ., doi:10.1016/j.rse.2025.115115.
"""

from ._scene import VoxelScene as VoxelScene, check_scene as check_scene
from ._builders import (
    Tree as Tree,
    crowns_scene as crowns_scene,
    floating_spheres_scene as floating_spheres_scene,
    homogeneous_scene as homogeneous_scene,
    random_spheres as random_spheres,
    rows_scene as rows_scene,
    spherical_lidf as spherical_lidf,
)
from ._mesh import leaf_disc_mesh as leaf_disc_mesh, voxelise_mesh as voxelise_mesh
from ._mitsuba import mitsuba_image as mitsuba_image
from ._spec import SCENE_BUILDERS as SCENE_BUILDERS, scene_from_spec as scene_from_spec
from ._raymarch import direction as direction, optical_depth_to_top as optical_depth_to_top
from ._trace import PathEvents as PathEvents, trace_paths as trace_paths
from ._tally import (
    ENERGY_TERMS as ENERGY_TERMS,
    ComponentSpectra as ComponentSpectra,
    SpectralPolynomial as SpectralPolynomial,
    direct_image as direct_image,
    image_shape as image_shape,
)
from ._engine import (
    SceneTallies as SceneTallies,
    energy_budget as energy_budget,
    monte_carlo_tallies as monte_carlo_tallies,
    render as render,
)
from ._fast import (
    fast_tallies as fast_tallies,
    scattering_weights as scattering_weights,
    single_scattering as single_scattering,
    single_scattering_image as single_scattering_image,
)
