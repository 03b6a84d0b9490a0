"""PROSAIL training/forward tables: the default canopy prior, parameter validation and streaming to a table.

**Input columns** of a PROSAIL parameter table (``leafjax forward --model prosail --params FILE``, or the
``columns`` of :func:`write_prosail_parquet`), in canonical names and units (:mod:`leafjax._parameters`), as
``column`` (unit; default or "required"; accepted range, closed: a value equal to a bound is accepted, so zero
contents are valid) — meaning:

- ``n_struct`` (–; required; [1, 5]) — leaf structure parameter N;
- ``chl`` (µg/cm²; required; [0, 300]) — chlorophyll a+b;
- ``car`` (µg/cm²; required; [0, 100]) — carotenoids;
- ``ant`` (µg/cm²; 0; [0, 100]) — anthocyanins;
- ``brown`` (–; 0; [0, 10]) — brown pigments (arbitrary units);
- ``ewt`` (g/cm²; required; [0, 0.5]) — equivalent water thickness;
- ``lma`` (g/cm²; required with PROSPECT-D; [0, 0.3]) — dry matter per area;
- ``prot``, ``cbc`` (g/cm²; required with ``--leaf-model prospect-pro``; [0, 0.1], [0, 0.3]) — proteins,
  carbon-based constituents;
- ``lai`` (m²/m²; required; [0, 15]) — leaf area index (0 = bare soil);
- ``lidf_type`` (text; ``campbell``) — leaf inclination distribution, ``campbell`` or ``verhoef``
  (case-insensitive; an empty cell is an error);
- ``lidf_a`` (degrees or –; required; Campbell [0, 90], Verhoef [-1, 1]) — Campbell mean leaf angle, or the
  Verhoef average-slope parameter a;
- ``lidf_b`` (–; 0; [-1, 1], Verhoef needs ``|a| + |b| <= 1``) — Verhoef bimodality b (ignored by Campbell);
- ``hotspot`` (–; 0.01; [0, 1]) — hotspot size parameter (leaf size / canopy height);
- ``sza`` (degrees; 30; [0, 89]) — solar zenith angle;
- ``vza`` (degrees; 0; [0, 89]) — view zenith angle;
- ``raa`` (degrees; 0; [-360, 360]) — relative azimuth between sun and sensor (0 = hotspot side);
- ``soil_brightness`` (–; required; [0, 3.5]) — soil brightness scale factor;
- ``soil_dryness`` (fraction; required; [0, 1]) — weight of the dry soil spectrum.

Every numeric cell must be a finite number (an empty cell or NaN is an error naming the file, column and row).
Any other column (identifiers, notes; text with empty cells allowed) is carried through unchanged.

**Output columns** written by :func:`write_prosail_parquet` (one row per input row, in input order; Parquet or
CSV as the output's extension names):

1. the carried (non-parameter) columns, in input order;
2. the parameters, completed with their defaults: the leaf-model names (PROSPECT-D ``n_struct, chl, car, ant,
   brown, ewt, lma``; PROSPECT-PRO ``n_struct, chl, car, ant, brown, ewt, prot, cbc``), then ``lai, lidf_type,
   lidf_a, lidf_b, hotspot, sza, vza, raa, soil_brightness, soil_dryness``;
3. ``R_<nm>`` (e.g. ``R_550``) — the top-of-canopy bidirectional reflectance factor ``rsot`` (fraction) on the
   model grid, or ``R_<band>`` (e.g. ``R_B4``) when a sensor response is given (``--sensor``);
4. with ``factors="all"`` (``--factors all``) also ``rsot_<x>`` (bidirectional), ``rddt_<x>``
   (bi-hemispherical), ``rsdt_<x>`` (directional-hemispherical) and ``rdot_<x>`` (hemispherical-directional)
   reflectance factors (fractions; :data:`~leafjax.physics.canopy.REFLECTANCE_FACTORS`; ``<x>`` = nm or band).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from .._parameters import defaults, physical_bounds
from ..core import AbstractNoise
from ..io._columns import format_wavelength
from ..io._outputs import TableStreamWriter
from ..physics.canopy._fcover import fcover
from ..physics.canopy._observed import canopy_chlorophyll, canopy_water, fapar, sky_reflectance
from ..physics.canopy._prosail import REFLECTANCE_FACTORS, Prosail, prosail, simulate_prosail
from ..physics.canopy._sail import CanopyParams, CanopyReflectance
from ..physics.sky._diffuse import SkyIllumination
from ..physics.soil._soil import DryWetSoilParams
from ..spectral._response import SpectralResponse, convolve
from ._atbd import AtbdNoise, AtbdPrior
from ._priors import Prior, default_prior, prior_from_preset
from ._simulate import _rows, check_chunk_size, check_column_values

#: Canonical canopy + soil parameter names of PROSAIL tables (``lidf_type`` is a string column).
CANOPY_NAMES: tuple[str, ...] = ("lai", "lidf_type", "lidf_a", "lidf_b", "hotspot", "sza", "vza", "raa",
                                 "soil_brightness", "soil_dryness")
#: Closed validity ranges of the numeric canopy/soil parameters: their physical bounds in the registry
#: (:data:`leafjax._parameters.SAIL`, :data:`~leafjax._parameters.SOIL`; units: lai m²/m²; angles degrees;
#: hotspot, soil brightness dimensionless; soil dryness fraction).  Zenith angles stop short of 90° (grazing).
CANOPY_BOUNDS: dict[str, tuple[float, float]] = {**physical_bounds("4sail"), **physical_bounds("soil")}
#: Optional canopy columns and their defaults (the registry's, as in :class:`~leafjax.physics.canopy.CanopyParams`).
CANOPY_DEFAULTS: dict[str, float] = {k: v for k, v in defaults("4sail").items() if k not in ("lai", "lidf_a")}
#: Canopy/soil names of the default PROSAIL prior (the registry preset ``preset("prosail", "prior")``).
_CANOPY_PRIOR_NAMES: tuple[str, ...] = tuple(CANOPY_BOUNDS)


def default_prosail_prior(leaf_model: str = "prospect-d") -> Prior:
    """The documented default PROSAIL prior: :func:`leafjax.simulation.default_prior` of the leaf model plus
    independent uniform canopy/soil marginals (Campbell LIDF, ``lidf_type = "campbell"``):

    ========================  ================  ===================================
    name                      range             unit
    ========================  ================  ===================================
    ``lai``                   0 – 7             m²/m²
    ``lidf_a``                30 – 80           degrees (Campbell mean leaf angle)
    ``lidf_b``                0 (fixed)         –
    ``hotspot``               0.01 – 0.5        – (leaf size / canopy height)
    ``sza``                   0 – 60            degrees
    ``vza``                   0 – 15            degrees
    ``raa``                   0 – 180           degrees
    ``soil_brightness``       0.5 – 1.5         –
    ``soil_dryness``          0 – 1             fraction of the dry soil spectrum
    ========================  ================  ===================================

    Example:
        >>> sorted(default_prosail_prior().names)[:3]
        ['ant', 'brown', 'car']
    """
    canopy = prior_from_preset("prosail", "prior", names=_CANOPY_PRIOR_NAMES)
    return Prior({**default_prior(leaf_model).marginals, **canopy.marginals})


def validate_prosail_table(model: Prosail, columns: Mapping[str, np.ndarray], source: str = "table") -> None:
    """Check a PROSAIL parameter table: required columns present, numeric, finite and inside the physical bounds
    of the parameter registry (leaf: :func:`leafjax._parameters.physical_bounds`; canopy: :data:`CANOPY_BOUNDS`),
    ``lidf_type`` one of ``campbell``/``verhoef`` in every row, and the LIDF parameters valid for each row's type
    (Campbell: ``lidf_a`` in [0, 90] degrees; Verhoef: ``lidf_a``, ``lidf_b`` in [-1, 1], ``|a| + |b| <= 1``).

    Raises ``ValueError`` (one line) naming ``source``, the column and the first offending (1-based) rows.
    """
    leaf_names = model.leaf_model.params_type.names
    required = [n for n in leaf_names if n not in ("ant", "brown")] + ["lai", "lidf_a", "soil_brightness",
                                                                       "soil_dryness"]
    missing = [n for n in required if n not in columns]
    if missing:
        raise ValueError(f"{source}: missing parameter column(s) {', '.join(missing)}")
    n = len(np.asarray(columns["lai"]))
    types = np.full(n, "campbell", dtype=object)
    if "lidf_type" in columns:
        raw = np.asarray(columns["lidf_type"], dtype=object)
        types = np.asarray([t.strip().lower() if isinstance(t, str) else t for t in raw.tolist()], dtype=object)
        bad = np.flatnonzero([t not in ("campbell", "verhoef") for t in types.tolist()])
        if bad.size:
            t = types[bad[0]]
            what = "is empty" if t is None or t == "" or (isinstance(t, float) and t != t) else f"{t!r} is unknown"
            raise ValueError(f"{source}: column 'lidf_type', {_rows(bad)}: {what} (campbell or verhoef)")
    bounds = {**{s.name: s.bounds for s in model.leaf_model.specs}, **CANOPY_BOUNDS}
    for name in (*leaf_names, *CANOPY_BOUNDS):
        if name in columns:
            check_column_values(name, columns[name], *bounds[name], source)
    a = np.asarray(columns["lidf_a"], np.float64)
    b = np.asarray(columns["lidf_b"], np.float64) if "lidf_b" in columns else np.zeros_like(a)
    verhoef = types == "verhoef"
    bad = np.flatnonzero(~verhoef & (a < 0))
    if bad.size:
        raise ValueError(f"{source}: column 'lidf_a', {_rows(bad)}: {float(a[bad[0]]):g} outside [0, 90] degrees "
                         "(Campbell mean leaf angle)")
    bad = np.flatnonzero(verhoef & ((np.abs(a) > 1) | (np.abs(a) + np.abs(b) > 1)))
    if bad.size:
        raise ValueError(f"{source}: columns 'lidf_a'/'lidf_b', {_rows(bad)}: Verhoef LIDF needs a, b in [-1, 1] "
                         f"with |a| + |b| <= 1, got a = {float(a[bad[0]]):g}, b = {float(b[bad[0]]):g}")


def _complete(model: Prosail, columns: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """All parameter columns in canonical order, optional ones filled with their defaults."""
    out: dict[str, np.ndarray] = {}
    for name in model.leaf_model.params_type.names:
        out[name] = np.asarray(columns[name], np.float64) if name in columns else np.zeros(n)
    out["lai"] = np.asarray(columns["lai"], np.float64)
    types = columns.get("lidf_type", np.full(n, "campbell"))
    out["lidf_type"] = np.asarray([str(t).strip().lower() for t in np.asarray(types, dtype=object).tolist()],
                                  dtype=str)
    for name in ("lidf_a", "lidf_b", "hotspot", "sza", "vza", "raa", "soil_brightness", "soil_dryness"):
        out[name] = (np.asarray(columns[name], np.float64) if name in columns
                     else np.full(n, CANOPY_DEFAULTS[name]))
    return out


def prosail_column_labels(model: Prosail, srf: SpectralResponse | None = None) -> list[str]:
    """Spectral labels: wavelengths formatted as in ``R_<nm>`` columns, or the sensor's band names."""
    if srf is None:
        return [format_wavelength(w) for w in np.asarray(model.wavelengths)]
    return list(srf.band_names)


def iter_prosail(model: Prosail, columns: Mapping[str, np.ndarray], *, srf: SpectralResponse | None = None,
                 factors: str = "bidirectional", noise: AbstractNoise | None = None,
                 key: PRNGKeyArray | None = None, chunk_size: int = 2048, sky: SkyIllumination | None = None,
                 products: bool = False):
    """Run PROSAIL over a parameter table in chunks; yields ``(rows, {factor: (rows, wl|band) array})``.

    ``factors`` is ``"bidirectional"`` (``rsot`` only) or ``"all"`` (:data:`REFLECTANCE_FACTORS`).  ``noise``
    (e.g. :class:`~leafjax.spectral.GaussianNoise`, :class:`~leafjax.simulation.AtbdNoise`, which gets the band
    names of ``srf``) is drawn per chunk from ``fold_in(key, chunk)`` after band convolution, independently for
    each factor.  ``sky`` (:class:`~leafjax.physics.sky.SkyIllumination`): the ``rsot`` entry (the ``R_``
    columns) becomes the reflectance a sensor sees under direct + diffuse light, :func:`observed_reflectance`
    (default ``None``: the bidirectional ``rsot``).  ``products``: also yield ``fapar``, ``fcover``, ``ccc``,
    ``cwc`` ``(rows,)`` (noise-free; :func:`canopy_products`, black-sky fAPAR).
    """
    if factors not in ("bidirectional", "all"):
        raise ValueError(f"factors must be 'bidirectional' or 'all', got {factors!r}")
    chunk_size = check_chunk_size(chunk_size)
    names = ("rsot",) if factors == "bidirectional" else REFLECTANCE_FACTORS
    n = len(next(iter(columns.values())))
    key = jax.random.key(0) if key is None else key
    noise = bind_noise_bands(noise, srf)
    for i, start in enumerate(range(0, n, chunk_size)):
        rows = slice(start, min(start + chunk_size, n))
        block = {k: np.asarray(v)[rows] for k, v in columns.items()}
        out = simulate_prosail(block, model)
        keys = jax.random.split(jax.random.fold_in(key, i), len(names))
        result = {}
        for k, name in zip(keys, names):
            x = getattr(out, name)
            if name == "rsot" and sky is not None:
                x = observed_reflectance(out, model, jnp.asarray(block["sza"], model.wavelengths.dtype), sky)
            x = convolve(x, srf) if srf is not None else x
            result[name] = np.asarray(noise(k, x) if noise is not None else x)
        if products:
            result.update(_block_products(model, block, out))
        yield rows, result


def bind_noise_bands(noise: AbstractNoise | None, srf: SpectralResponse | None) -> AbstractNoise | None:
    """``noise`` with the band names of ``srf`` bound when it needs them (:class:`AtbdNoise` without names)."""
    if isinstance(noise, AtbdNoise) and noise.band_names is None and srf is not None:
        return noise.with_bands(srf.band_names)
    return noise


def prosail_state(model: Prosail, values: Mapping[str, Array], lidf_type: str = "campbell"
                  ) -> tuple[CanopyReflectance, Array]:
    """PROSAIL outputs and the soil spectrum ``(*b, wl)`` for canonical-named ``values`` ``{name: (*b,)}``
    (leaf-model, canopy and soil names; jit/vmap/grad-able)."""
    leaf_cls = model.leaf_model.params_type
    leaf = leaf_cls(**{n: values[n] for n in leaf_cls.names if n in values})
    canopy = CanopyParams(**{n: values[n] for n in CanopyParams.names if n in values}, lidf_type=lidf_type)
    soil = model.soil_model(DryWetSoilParams(values["soil_brightness"], values["soil_dryness"]))
    return prosail(leaf, canopy, soil, model.leaf_model), soil


def _sky_as(sky: SkyIllumination, dtype) -> SkyIllumination:
    """``sky`` with its floating arrays cast to ``dtype`` (no float32/float64 mixing)."""
    cast = lambda x: x.astype(dtype) if eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.floating) else x  # noqa
    return jax.tree.map(cast, sky)


def observed_reflectance(out: CanopyReflectance, model: Prosail, sza: Array,
                         sky: SkyIllumination | None = None) -> Array:
    """The reflectance ``(*b, wl)`` a sensor sees: ``rsot`` under the direct sun only (``sky=None``), else
    :func:`~leafjax.physics.canopy.sky_reflectance` with the diffuse fraction ``sky(wavelengths, sza)``
    (``sza`` degrees ``(*b,)``; Verhoef & Bach 2007)."""
    if sky is None:
        return out.rsot
    dt = out.rsot.dtype
    return sky_reflectance(out, _sky_as(sky, dt)(model.wavelengths, jnp.asarray(sza, dt)).astype(dt))


def canopy_products(model: Prosail, values: Mapping[str, Array], out: CanopyReflectance, soil: Array,
                    sky: SkyIllumination | None = None, lidf_type: str = "campbell",
                    wavelengths: np.ndarray | None = None) -> dict[str, Array]:
    """Canopy products ``{name: (*b,)}`` at ``values``: ``fapar`` (–; black-sky with ``sky=None``, else the
    direct/diffuse mixture; :func:`~leafjax.physics.canopy.fapar` over 400–700 nm), ``fcover`` (–,
    :func:`~leafjax.physics.canopy.fcover`), ``ccc = lai·chl·0.01`` (g/m²) and ``cwc = lai·ewt·10⁴`` (g/m²).

    ``out``, ``soil``: the PROSAIL run at ``values`` (:func:`prosail_state`); ``wavelengths``: the model's grid
    as a concrete array (nm; needed under ``jit``, where ``model.wavelengths`` is traced)."""
    grid = np.asarray(model.wavelengths) if wavelengths is None else np.asarray(wavelengths)
    dt = out.rsot.dtype
    d = None if sky is None else _sky_as(sky, dt)(model.wavelengths, jnp.asarray(values["sza"], dt)).astype(dt)
    lai = values["lai"]
    b = values.get("lidf_b", jnp.zeros_like(lai))
    return {"fapar": fapar(out, soil, grid, diffuse=d),
            "fcover": fcover(lai, values["lidf_a"], b, lidf_type=lidf_type),
            "ccc": canopy_chlorophyll(lai, values["chl"]), "cwc": canopy_water(lai, values["ewt"])}


def _block_products(model: Prosail, block: Mapping[str, np.ndarray], out: CanopyReflectance,
                    sky: SkyIllumination | None = None) -> dict[str, np.ndarray]:
    """:func:`canopy_products` of a table block (rows may mix ``lidf_type``)."""
    dt = model.wavelengths.dtype
    n = len(block["lai"])
    vals = {k: jnp.asarray(v, dt) for k, v in block.items() if np.asarray(v).dtype.kind in "fiu"}
    soil = model.soil_model(DryWetSoilParams(vals["soil_brightness"], vals["soil_dryness"]))
    types = np.asarray(block.get("lidf_type", np.full(n, "campbell")), dtype=str)
    res = {k: np.asarray(v) for k, v in canopy_products(model, vals, out, soil, sky).items()}
    for t in sorted(set(types.tolist()) - {"campbell"}):
        rows = types == t
        lidf_b = vals.get("lidf_b", jnp.zeros_like(vals["lai"]))
        res["fcover"][rows] = np.asarray(fcover(vals["lai"], vals["lidf_a"], lidf_b, lidf_type=t))[rows]
    return res


def prosail_products(model: Prosail, columns: Mapping[str, np.ndarray], sky: SkyIllumination | None = None, *,
                     chunk_size: int = 2048) -> dict[str, np.ndarray]:
    """``fapar``, ``fcover``, ``ccc``, ``cwc`` ``(n,)`` of every row of a PROSAIL parameter table (host-level,
    in chunks; :func:`canopy_products`: ``fapar`` black-sky with ``sky=None``, else under direct + diffuse
    light)."""
    chunk_size = check_chunk_size(chunk_size)
    n = len(next(iter(columns.values())))
    parts = []
    for start in range(0, n, chunk_size):
        block = {k: np.asarray(v)[start:start + chunk_size] for k, v in columns.items()}
        parts.append(_block_products(model, block, simulate_prosail(block, model), sky))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def write_prosail_parquet(path, model: Prosail, columns: Mapping[str, np.ndarray], *,
                          srf: SpectralResponse | None = None, factors: str = "bidirectional",
                          extra: Mapping[str, np.ndarray | Sequence] | None = None, noise: AbstractNoise | None = None,
                          key: PRNGKeyArray | None = None, chunk_size: int = 2048, fmt: str | None = None) -> int:
    """Run PROSAIL for every row of ``columns`` and stream parameters and reflectance factors to a table.

    **Arguments:** ``model`` (:class:`Prosail`), ``columns`` (``{name: (n,) array}``, canonical names; optional
    canopy columns default as in :class:`~leafjax.physics.canopy.CanopyParams`, ``ant``/``brown`` default to 0),
    ``srf`` (band convolution; columns ``R_<band>``), ``factors``, ``extra`` (identifier columns written first),
    ``noise``/``key`` (see :func:`iter_prosail`), ``fmt`` (``"parquet"`` or ``"csv"``; default from the
    extension of ``path``).  Column layout: see the module docstring.

    **Returns:** the number of rows written; the file appears only when complete.
    """
    n = len(next(iter(columns.values())))
    params = _complete(model, columns, n)
    labels = prosail_column_labels(model, srf)
    with TableStreamWriter(path, fmt) as writer:
        for rows, result in iter_prosail(model, params, srf=srf, factors=factors, noise=noise, key=key,
                                         chunk_size=chunk_size):
            block: dict[str, np.ndarray] = {}
            if extra:
                block.update({k: np.asarray(v)[rows] for k, v in extra.items()})
            block.update({k: v[rows] for k, v in params.items()})
            block.update(zip([f"R_{b}" for b in labels], result["rsot"].T))
            if factors == "all":
                for name in REFLECTANCE_FACTORS:
                    block.update(zip([f"{name}_{b}" for b in labels], result[name].T))
            writer.write(block)
        return writer.rows


def sample_prosail_table(prior: Prior | AtbdPrior, n: int, key: PRNGKeyArray, model: Prosail
                         ) -> dict[str, np.ndarray]:
    """Draw ``n`` parameter rows from ``prior`` (a :class:`Prior`, an :class:`~leafjax.simulation.AtbdPrior` or
    anything with ``names`` and ``sample(key, n, dtype)``; names must be leaf-model or canopy names; missing
    optional ones take their defaults) and complete them to a full, validated table (``lidf_type =
    "campbell"``)."""
    allowed = set(model.leaf_model.params_type.names) | set(CANOPY_NAMES)
    unknown = [k for k in prior.names if k not in allowed]
    if unknown:
        raise ValueError(f"prior parameter {unknown[0]!r} is not a PROSAIL parameter ({', '.join(sorted(allowed))})")
    cols = {k: np.asarray(v, np.float64) for k, v in prior.sample(key, n, dtype=model.wavelengths.dtype).items()}
    validate_prosail_table(model, cols, source="prior")
    return _complete(model, cols, n)
