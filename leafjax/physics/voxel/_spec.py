"""Voxel scenes from plain mappings (e.g. a JSON file): ``{"builder": <name>, <the builder's keyword arguments>}``.

Builders (:data:`SCENE_BUILDERS`): ``homogeneous`` (:func:`homogeneous_scene`), ``floating_spheres``
(:func:`floating_spheres_scene`), ``crowns`` (:func:`crowns_scene`; ``trees`` a list of objects with the
:class:`Tree` fields), ``rows`` (:func:`rows_scene`) and ``mesh`` (:func:`voxelise_mesh`; ``vertices``, ``faces``
and optionally ``component_of_face`` as nested lists).  Lists stand for tuples and arrays; lengths in m, leaf-area
densities in m² m⁻³, angles in degrees, as documented by each builder.  Keys are checked against the builder's
signature before anything is built (one-line :class:`ValueError`).

Example:
    >>> scene = scene_from_spec({"builder": "homogeneous", "lai": 2.0, "height": 1.0, "shape": [2, 2, 4]})
    >>> scene.shape, round(float(scene.lai()[0]), 6)
    ((2, 2, 4), 2.0)
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from ._builders import crowns_scene, floating_spheres_scene, homogeneous_scene, rows_scene
from ._mesh import voxelise_mesh
from ._scene import VoxelScene

#: Builder name of a scene specification -> the function it calls.
SCENE_BUILDERS: dict[str, Callable[..., VoxelScene]] = {
    "homogeneous": homogeneous_scene,
    "floating_spheres": floating_spheres_scene,
    "crowns": crowns_scene,
    "rows": rows_scene,
    "mesh": voxelise_mesh,
}


def _tupled(value: Any) -> Any:
    """Nested lists -> nested tuples (hashable static arguments); mappings and scalars unchanged."""
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


def _arguments(fn: Callable, spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    params = {k: p for k, p in inspect.signature(fn).parameters.items() if k != "dtype"}
    unknown = sorted(set(spec) - {"builder"} - set(params))
    if unknown:
        raise ValueError(f"scene builder {name!r}: unknown key(s) {unknown}; allowed: {sorted(params)}")
    missing = sorted(k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in spec)
    if missing:
        raise ValueError(f"scene builder {name!r}: missing key(s) {missing}")
    return {k: (v if k == "trees" else _tupled(v)) for k, v in spec.items() if k != "builder"}


def scene_from_spec(spec: Any, dtype=None) -> VoxelScene:
    """The :class:`VoxelScene` that ``spec["builder"]`` (a mapping) builds from the other keys of ``spec`` (see the module
    docstring); ``dtype`` of the scene arrays (default: JAX's default float).

    Raises:
        ValueError: a missing or unknown builder, an unknown or missing key, or the builder's own input errors
        (one line each), before any computation.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"a scene specification must be a mapping (JSON object), got {type(spec).__name__}")
    name = spec.get("builder")
    if name not in SCENE_BUILDERS:
        raise ValueError(f"scene specification needs 'builder' in {sorted(SCENE_BUILDERS)}, got {name!r}")
    fn = SCENE_BUILDERS[name]
    kwargs = _arguments(fn, spec, name)
    if name == "crowns" and not isinstance(kwargs.get("trees"), (list, tuple)):
        raise ValueError("scene builder 'crowns': 'trees' must be a list of tree objects")
    if name == "crowns":
        kwargs["trees"] = [dict(t) if isinstance(t, Mapping) else t for t in kwargs["trees"]]
    try:
        return fn(**kwargs, dtype=dtype)
    except TypeError as e:  # e.g. a string where a number belongs
        raise ValueError(f"scene builder {name!r}: {e}") from None
