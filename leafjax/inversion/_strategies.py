"""Inversion strategies from the PROSPECT literature: the N prior for single-sided spectra and the optimal
spectral subdomains per constituent.

References:
    Féret, le Maire, Jay, Berveiller, Bendoula, Hmimina, Cheraiet, Oliveira, Ponzoni, Solanki, de Boissieu,
    Chave, Nouvellon, Porcar-Castell, Proisy, Soudani, Gastellu-Etchegorry, Lefèvre-Fonollosa (2019),
    "Estimating leaf mass per area and equivalent water thickness based on leaf optical properties: potential
    and limitations of physical modeling and machine learning", RSE 231:110959.
    Spafford, le Maire, MacDougall, de Boissieu, Féret (2021), "Spectral subdomains and prior estimation of
    leaf structure improves PROSPECT inversion on reflectance or transmittance alone", RSE 252:112176.
    Féret, Berger, de Boissieu, Malenovský (2021), "PROSPECT-PRO for estimating content of nitrogen-containing
    leaf proteins and other carbon-based constituents", RSE 252:112173.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._flags import Quality
from ..physics import ProspectD, get_leaf_model
from ..simulation import Prior, Uniform
from ._finalise import derived_std
from ._invert import invert
from ._leaf import make_problem
from ._quality import check_free, check_options, check_percent, with_at_bound
from ._result import InversionResult, Status

#: Optimal spectral subdomains (nm, inclusive) per constituent (papers above).
SUBDOMAINS: dict[str, tuple[tuple[int, int], ...]] = {
    "chl": ((700, 720),),
    "car": ((520, 560),),
    "ant": ((400, 800),),
    "ewt": ((1700, 2400),),
    "lma": ((1700, 2400),),
    "prot": ((2100, 2139), (2160, 2179)),
    "cbc": ((1480, 1499), (1560, 1579), (1760, 1799), (2040, 2059), (2120, 2139), (2160, 2239), (2260, 2279),
            (2340, 2359), (2380, 2399)),
}

#: Wavelengths (nm) of the N-prior regressions: (preferred, fallback) for reflectance and transmittance.
N_PRIOR_BANDS = {"R": (1131, 800), "T": (1121, 753)}

#: The look-up table behind the N prior (Spafford et al. 2021): 1,000 PROSPECT-D leaves.
N_PRIOR_LUT = Prior({"n_struct": Uniform(1.0, 2.5), "chl": Uniform(0.5, 100.5), "car": Uniform(0.5, 20.5),
                     "ewt": Uniform(0.001, 0.021), "lma": Uniform(0.001, 0.011)})

_PIGMENTS = ("chl", "car", "ant")


def n_struct_prior(wavelengths: Sequence[float] | np.ndarray, reflectance=None, transmittance=None, *,
                   key: PRNGKeyArray | None = None, lut_size: int = 1000) -> np.ndarray:
    """Prior estimate of the leaf structure parameter N from reflectance *or* transmittance alone.

    A linear regression of N on ``R/(1-R)`` at 1131 nm (800 nm if 1131 is absent) — or on ``(1-T)/T`` at 1121 nm
    (753 nm) — fitted on a 1,000-leaf PROSPECT-D look-up table (Spafford et al. 2021), applied to the measured
    spectra.

    **Arguments:** ``wavelengths`` (nm) of the spectra; ``reflectance`` or ``transmittance`` ``(*b, wl)``
    (fractions; exactly one of them).

    **Returns:** N estimates ``(*b,)``, clipped to [1, 4]; NaN where the band is missing.
    """
    if (reflectance is None) == (transmittance is None):
        raise ValueError("pass exactly one of reflectance and transmittance")
    kind = "R" if reflectance is not None else "T"
    spectra = np.asarray(reflectance if kind == "R" else transmittance, dtype=np.float64)
    wl = np.asarray(wavelengths, dtype=np.float64)
    band = next((b for b in N_PRIOR_BANDS[kind] if np.any(np.isclose(wl, b))), None)
    if band is None:
        raise ValueError(f"the N prior needs {kind} at {N_PRIOR_BANDS[kind][0]} or {N_PRIOR_BANDS[kind][1]} nm")
    i = int(np.flatnonzero(np.isclose(wl, band))[0])
    key = jax.random.key(0) if key is None else key
    sample = {k: np.asarray(v) for k, v in N_PRIOR_LUT.sample(key, lut_size).items()}
    model = ProspectD(wavelengths=[band])
    from ..physics import ProspectDParams

    out = model(ProspectDParams(**{k: jnp.asarray(v) for k, v in sample.items()}))
    lut = np.asarray(out.reflectance if kind == "R" else out.transmittance, dtype=np.float64)[:, 0]
    x_lut = lut / (1 - lut) if kind == "R" else (1 - lut) / lut
    slope, intercept = np.polyfit(x_lut, sample["n_struct"], 1)
    v = spectra[..., i]
    x = v / (1 - v) if kind == "R" else (1 - v) / v
    return np.clip(intercept + slope * x, 1.0, 4.0)


def _domain_mask(wl: np.ndarray, domains) -> np.ndarray:
    m = np.zeros(wl.shape, bool)
    for lo, hi in domains:
        m |= (wl >= lo) & (wl <= hi)
    return m


def invert_spectra(model_name: str, wavelengths: Sequence[float] | np.ndarray, reflectance=None, transmittance=None, *,
                   strategy: str = "full", free: Sequence[str] | None = None,
                   fixed: Mapping[str, float] | None = None, dtype=None, **invert_kwargs) -> InversionResult:
    """High-level inversion of measured spectra with the literature's strategies.

    **Arguments:**
    - ``model_name``: ``"prospect-d"`` or ``"prospect-pro"``.
    - ``wavelengths``: band centres of the spectra (nm, on the 1-nm grid within 400–2500).
    - ``reflectance`` / ``transmittance``: ``(*b, wl)`` fractions; either or both. With only one of them, N is
      fixed per spectrum by :func:`n_struct_prior`.
    - ``strategy``: ``"full"`` (all bands at once) or ``"optimal"`` (one inversion per constituent on its
      :data:`SUBDOMAINS`, keeping only that constituent's estimate; constituents whose subdomain is not covered
      by ``wavelengths`` are estimated on all bands).
    - ``free``: parameters to estimate (default: pigments, water and dry matter, excluding ``brown``; ``ant``
      only when bands below 800 nm are present).
    - further keyword arguments go to :func:`invert` (``n_starts``, ``max_steps``, ``mask``, ``noise_std``,
      ``expected_rmse``, ``percent_check``, ...); the percent check and the argument checks are made before any
      compute.

    **Returns:** :class:`InversionResult`; for PROSPECT-PRO ``lma`` and ``nitrogen`` are derived from the
    ``prot`` and ``cbc`` estimates (each from its own subdomain with ``strategy="optimal"``); ``quality`` holds
    the full-spectrum fit's flags, with ``at_bound`` of each subdomain target from its own inversion.
    """
    if strategy not in ("full", "optimal"):
        raise ValueError(f"strategy must be 'full' or 'optimal', got {strategy!r}")
    if reflectance is None and transmittance is None:
        raise ValueError("pass reflectance and/or transmittance")
    check_options(invert_kwargs.get("n_starts", 1), invert_kwargs.get("noise_std"),
                  invert_kwargs.get("expected_rmse"))
    wl = np.asarray(wavelengths, dtype=np.float64)
    for name, x in (("reflectance", reflectance), ("transmittance", transmittance)):
        shape = np.shape(x) if x is not None else None
        if shape is not None and (len(shape) < 1 or shape[-1] != wl.size):
            raise ValueError(f"{name} has shape {shape}: expected (*b, {wl.size}) for {wl.size} wavelengths")
        if shape is not None and int(np.prod(shape[:-1])) == 0:
            raise ValueError(f"{name} has no spectra (an empty batch)")
    if reflectance is not None and transmittance is not None and np.shape(reflectance) != np.shape(transmittance):
        raise ValueError(f"reflectance {np.shape(reflectance)} and transmittance {np.shape(transmittance)} have "
                         f"different shapes")
    if invert_kwargs.get("percent_check", True):
        for name, x in (("reflectance spectra", reflectance), ("transmittance spectra", transmittance)):
            check_percent(x, what=name)
    model = get_leaf_model(model_name, wavelengths=wl, dtype=dtype)
    if free is not None:
        check_free(free, model.params_type.names)
    use_r, use_t = reflectance is not None, transmittance is not None
    fixed = dict(fixed or {})
    per_spectrum = {}
    if use_r != use_t and "n_struct" not in fixed:
        per_spectrum["n_struct"] = n_struct_prior(wl, reflectance=reflectance, transmittance=transmittance)
    names = model.params_type.names
    if free is None:
        free = [n for n in names if n != "brown" and n not in fixed and n not in per_spectrum]
        if wl.min() >= 800:
            free = [n for n in free if n not in _PIGMENTS]
    free = [n for n in free if n not in per_spectrum]
    kwargs = dict(invert_kwargs)
    user_mask = kwargs.pop("mask", None)

    def run(free_set, band_mask):
        problem = make_problem(model, use_r=use_r, use_t=use_t, free=free_set, fixed=fixed)
        m = band_mask if user_mask is None else np.asarray(user_mask, bool) & band_mask
        return problem, invert(problem, reflectance, transmittance, mask=m, fixed=per_spectrum, **kwargs)

    problem, full = run(free, np.ones(wl.shape, bool))
    if strategy == "full":
        return full
    est, std, at_bound = dict(full.estimates), dict(full.std), dict(full.at_bound)
    status = np.asarray(full.status)
    for target in free:
        domains = SUBDOMAINS.get(target)
        if domains is None:
            continue
        m = _domain_mask(wl, domains)
        if m.sum() < 3:
            continue
        visible_only = wl[m].max() <= 800
        sub_free = [n for n in free if (n in _PIGMENTS) == visible_only or n == target or
                    (visible_only and n not in _PIGMENTS and n != "n_struct")]
        sub_free = [n for n in sub_free if n != "n_struct" or "n_struct" in free]
        _, res = run(sub_free, m)
        est[target], std[target], at_bound[target] = res.estimates[target], res.std[target], res.at_bound[target]
        status = np.maximum(status, np.asarray(res.status))
    # derived quantities (PROSPECT-PRO lma, nitrogen) from the combined estimates; the subdomain estimates are
    # independent, so their uncertainty propagates through a diagonal covariance
    batch = np.shape(status)
    flat = {k: jnp.reshape(v, (-1,)) for k, v in est.items()}
    theta = jnp.stack([flat[n] for n in problem.free], -1)
    sd = jnp.stack([jnp.reshape(std[n], (-1,)) for n in problem.free], -1)
    context = {n: flat[n] for n in model.params_type.names if n not in problem.free}
    derived = problem.derived(theta, context)
    est.update({k: v.reshape(batch) for k, v in derived.items()})
    if derived:
        cov = jax.vmap(jnp.diag)(sd**2)
        std.update({k: v.reshape(batch) for k, v in derived_std(problem, theta, cov, context).items()})
    quality = with_at_bound(full.quality, at_bound)
    quality = jnp.where(status == Status.MAX_STEPS, quality | int(Quality.NOT_CONVERGED), quality)
    return InversionResult(est, std, full.rmse, full.cost, full.iterations, jnp.asarray(status, jnp.int8), quality,
                           at_bound)
