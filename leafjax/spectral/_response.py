r"""Sensor spectral response functions (SRF), band convolution and band-level noise models.

A band value is the SRF-weighted mean of a spectrum,

.. math:: R_b = \frac{\int S_b(\lambda) R(\lambda)\,d\lambda}{\int S_b(\lambda)\,d\lambda}
          \approx \sum_j W_{bj} R(\lambda_j),

evaluated as one matrix product with the row-normalised weight matrix :math:`W` (shape ``(band, wl)``), so it is
linear, batched and differentiable.  Packaged sensors (see ``data/README.md``): ``sentinel-2a``, ``sentinel-2b``,
``sentinel-2c`` (MSI bands B2–B8A, B11, B12; ESA) and ``landsat-8``, ``landsat-9`` (OLI incl. cirrus and pan;
USGS); any other table with a wavelength column (nm) and one column per band can be loaded from a file.
Response functions can also be built from band centres and full widths at half maximum
(:meth:`SpectralResponse.from_centres_fwhm`, Gaussian band shapes), on axes in nm, µm or cm⁻¹ (thermal sensors;
see :mod:`leafjax.spectral._axes`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._tables import read_csv_bytes, read_packaged_csv
from ._axes import SpectralAxis, canonical_unit, convert
from ._bands import canonical_band, is_centres_fwhm_header, read_centres_fwhm, sensor_key
from ._noise import AbstractNoise as AbstractNoise, GaussianNoise as GaussianNoise  # noqa: F401 (old location)

#: Known sensor names → packaged SRF tables (1 nm).
SENSORS: dict[str, str] = {
    "sentinel-2a": "Sentinel_2A_srf.csv",
    "sentinel-2b": "Sentinel_2B_srf.csv",
    "sentinel-2c": "Sentinel_2C_srf.csv",
    "landsat-8": "Landsat_8_srf.csv",
    "landsat-9": "Landsat_9_srf.csv",
}
#: Largest fraction of a band's response that may fall outside the simulated wavelength range.
MAX_RESPONSE_OUTSIDE: float = 0.01
#: Negative responses down to this fraction of a band's peak are measurement noise and set to zero.
NEGATIVE_RESPONSE_TOL: float = 1e-2


#: Full width at half maximum of a Gaussian in standard deviations, :math:`2\sqrt{2\ln 2}`.
FWHM_PER_SIGMA: float = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _trapezoid_widths(wl: np.ndarray) -> np.ndarray:
    """Quadrature weights (units of ``wl``) of the trapezoidal rule on the monotonic grid ``wl``."""
    if wl.size == 1:
        return np.ones(1)
    d = np.abs(np.diff(wl))
    w = np.zeros_like(wl)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


class SpectralResponse(eqx.Module):
    """Band weights of a sensor on a spectral grid.

    **Fields:** ``wavelengths`` (grid positions in ``unit``, ``(wl,)``; nm unless stated); ``weights``
    (``(band, wl)``, rows sum to one: the SRF times the quadrature width, normalised); ``band_names``, ``name``
    and ``unit`` (static; ``"nm"``, ``"um"`` or ``"cm-1"``).
    """

    wavelengths: Float[Array | np.ndarray, "wl"]
    weights: Float[Array | np.ndarray, "band wl"]
    band_names: tuple[str, ...] = eqx.field(static=True)
    name: str = eqx.field(static=True, default="user")
    unit: str = eqx.field(static=True, default="nm", converter=canonical_unit)

    def __check_init__(self):
        if self.weights.shape != (len(self.band_names),) + self.wavelengths.shape:
            raise ValueError(f"weights shape {self.weights.shape} does not match "
                             f"{len(self.band_names)} bands × {self.wavelengths.shape[0]} wavelengths")

    @property
    def axis(self) -> SpectralAxis:
        """The grid as a :class:`SpectralAxis` (positions with their unit)."""
        return SpectralAxis(self.wavelengths, self.unit)

    @property
    def n_bands(self) -> int:
        return len(self.band_names)

    @property
    def centres(self) -> Float[Array, "band"]:
        """Response-weighted mean position of each band (in :attr:`unit`, nm by default)."""
        return self.weights @ self.wavelengths

    def select(self, bands: Sequence[str]) -> "SpectralResponse":
        """The response of a subset of bands, in the order of ``bands`` (aliases accepted, see
        :func:`~leafjax.spectral.canonical_band`: ``"B02"`` → ``"B2"`` for Sentinel-2, ``"SR_B5"`` → ``"NIR"`` for
        Landsat); the weight rows are kept exactly.

        Raises:
            ValueError: for an empty selection, an unknown band (the message lists the bands) or a repeated one.
        """
        names = tuple(_chosen_bands(bands, self.name, self.band_names))
        rows = np.asarray([self.band_names.index(n) for n in names])
        return SpectralResponse(wavelengths=self.wavelengths, weights=self.weights[rows], band_names=names,
                                name=self.name, unit=self.unit)

    def centres_in(self, unit: str) -> Float[Array, "band"]:
        """Band centres (:attr:`centres`) converted to ``unit`` (a position conversion, see ``_axes``)."""
        return convert(self.centres, self.unit, unit)

    @classmethod
    def from_table(cls, wavelengths, response, band_names, name: str = "user", *, on=None,
                   max_outside: float = MAX_RESPONSE_OUTSIDE, dtype=None, unit: str = "nm") -> "SpectralResponse":
        """Build from a relative response table (numpy; not traced).

        **Arguments:**
        - ``wavelengths``: increasing table positions (in ``unit``, nm by default), ``(n,)``; ``response``:
          ``(n, band)``, ≥ 0 (values down to −1 % of the band peak are treated as noise and set to 0).
        - ``band_names``: one name per column; ``name``: sensor name.
        - ``on``: positions (in ``unit``) of the spectra to be convolved; the response is linearly interpolated
          there (zero outside the table). Default: the table grid.
        - ``max_outside``: largest allowed fraction of any band's response outside the range of ``on``.
        - ``unit``: ``"nm"``, ``"um"`` or ``"cm-1"``, of the table and of ``on``; the quadrature is in this unit.

        Raises:
            ValueError: for inconsistent shapes, negative responses, a band with no response, or a band whose
                response lies more than ``max_outside`` outside the simulated range.
        """
        wl = np.asarray(wavelengths, dtype=np.float64).reshape(-1)
        resp = np.asarray(response, dtype=np.float64)
        if resp.ndim != 2 or resp.shape[0] != wl.size or resp.shape[1] != len(band_names):
            raise ValueError(f"response must be (len(wavelengths), n_bands) = ({wl.size}, {len(band_names)}), "
                             f"got {resp.shape}")
        if np.any(np.diff(wl) <= 0):
            raise ValueError("SRF wavelengths must be strictly increasing")
        if not np.all(np.isfinite(resp)) or np.any(resp < -NEGATIVE_RESPONSE_TOL * resp.max(axis=0)):
            raise ValueError("SRF responses must be finite and non-negative")
        resp = np.maximum(resp, 0.0)  # measurement noise, e.g. down to −0.0005 in the USGS Landsat 8 OLI table
        total = _trapezoid_widths(wl) @ resp
        if np.any(total <= 0):
            raise ValueError(f"bands with no response: {[b for b, t in zip(band_names, total) if t <= 0]}")
        target = wl if on is None else np.asarray(on, dtype=np.float64).reshape(-1)
        inside = (wl >= target.min()) & (wl <= target.max())
        frac_out = 1.0 - (_trapezoid_widths(wl) * inside) @ resp / total
        bad = [f"{b} ({f:.1%})" for b, f in zip(band_names, frac_out) if f > max_outside]
        if bad:
            raise ValueError(f"{name}: response outside the simulated range {target.min():g}–{target.max():g} "
                             f"{canonical_unit(unit)} for bands {', '.join(bad)}")
        interp = np.stack([np.interp(target, wl, resp[:, j], left=0.0, right=0.0) for j in range(resp.shape[1])])
        return cls._from_sampled(target, interp, band_names, name, unit, dtype)

    @classmethod
    def _from_sampled(cls, grid: np.ndarray, response: np.ndarray, band_names, name, unit, dtype,
                      quadrature_axis: np.ndarray | None = None) -> "SpectralResponse":
        """Normalised weights from responses ``(band, wl)`` sampled on ``grid`` (trapezoid widths on
        ``quadrature_axis``, default the grid itself)."""
        widths = _trapezoid_widths(grid if quadrature_axis is None else quadrature_axis)
        w = response * widths[None, :]
        total = w.sum(axis=1, keepdims=True)
        if np.any(total <= 0):
            raise ValueError(f"bands with no response on the grid: "
                             f"{[b for b, t in zip(band_names, total[:, 0]) if t <= 0]}")
        dt = jnp.result_type(float) if dtype is None else dtype
        return cls(wavelengths=jnp.asarray(grid, dtype=dt), weights=jnp.asarray(w / total, dtype=dt),
                   band_names=tuple(band_names), name=name, unit=unit)

    @classmethod
    def from_centres_fwhm(cls, centres, fwhm, wavelengths, unit: str = "nm", names=None, name: str = "gaussian",
                          *, grid_unit: str | None = None, max_outside: float = MAX_RESPONSE_OUTSIDE,
                          dtype=None) -> "SpectralResponse":
        r"""Gaussian band shapes from band centres and full widths at half maximum (numpy; not traced).

        .. math:: S_b(x) = \exp\left(-4\ln 2\,\frac{(x - c_b)^2}{\mathrm{FWHM}_b^2}\right),\qquad
                  W_{bj} \propto S_b(x_j)\,\Delta x_j

        with :math:`x` the grid positions in ``unit`` (the band shape is Gaussian, and integrated, in that unit).

        **Arguments:**
        - ``centres``, ``fwhm``: ``(band,)`` positions and widths (> 0) in ``unit``.
        - ``wavelengths``: grid of the spectra to be convolved, monotonic, in ``grid_unit`` (default ``unit``).
        - ``unit``: ``"nm"``, ``"um"`` (``"µm"``) or ``"cm-1"``; ``names``: band names (default ``"b1"``, …);
          ``name``: sensor name; ``max_outside``: largest allowed fraction of a band's Gaussian outside the grid
          range; ``dtype``.

        **Returns:** a :class:`SpectralResponse` on ``wavelengths`` (its ``unit`` is the grid unit).

        Raises:
            ValueError: for mismatched shapes, non-positive widths or a band that leaves the grid.

        Example:
            >>> srf = SpectralResponse.from_centres_fwhm([8.6, 10.6], [0.5, 0.8], np.arange(7.0, 13.0, 0.01),
            ...                                          unit="um", names=("TIR1", "TIR2"))
            >>> [round(float(c), 3) for c in srf.centres]
            [8.6, 10.6]
        """
        unit = canonical_unit(unit)
        grid_unit = unit if grid_unit is None else canonical_unit(grid_unit)
        c = np.asarray(centres, dtype=np.float64).reshape(-1)
        f = np.asarray(fwhm, dtype=np.float64).reshape(-1)
        if f.shape != c.shape:
            raise ValueError(f"centres and fwhm must have one value per band, got {c.shape} and {f.shape}")
        if not np.all(np.isfinite(f)) or np.any(f <= 0):
            raise ValueError("fwhm must be finite and positive")
        names = tuple(f"b{i + 1}" for i in range(c.size)) if names is None else tuple(names)
        if len(names) != c.size:
            raise ValueError(f"{len(names)} names for {c.size} bands")
        grid = np.asarray(wavelengths, dtype=np.float64).reshape(-1)
        d = np.diff(grid)
        if grid.size < 2 or not (np.all(d > 0) or np.all(d < 0)):
            raise ValueError("the grid must have at least two strictly monotonic positions")
        x = np.asarray(convert(grid, grid_unit, unit), dtype=np.float64)
        sigma = f / FWHM_PER_SIGMA
        lo, hi = x.min(), x.max()
        erf = np.vectorize(math.erf)
        inside = 0.5 * (erf((hi - c) / (math.sqrt(2.0) * sigma)) - erf((lo - c) / (math.sqrt(2.0) * sigma)))
        bad = [f"{b} ({1 - p:.1%})" for b, p in zip(names, inside) if 1 - p > max_outside]
        if bad:
            raise ValueError(f"{name}: Gaussian bands outside the grid {lo:g}–{hi:g} {unit}: {', '.join(bad)}")
        resp = np.exp(-0.5 * ((x[None, :] - c[:, None]) / sigma[:, None]) ** 2)
        return cls._from_sampled(grid, resp, names, name, grid_unit, dtype, quadrature_axis=x)


#: Landsat 9 table quirk: in the source table, the columns Cirrus, SWIR1 and SWIR2 also contain the responses of
#: the bands listed before them (NIR; NIR + Cirrus; NIR + Cirrus + SWIR1), copied exactly.  The loader keeps only
#: each band's own (last) contiguous response segment; see data/README.md.
_CUMULATIVE_COLUMNS: dict[str, tuple[str, ...]] = {"landsat-9": ("Cirrus", "SWIR1", "SWIR2")}


def _keep_last_segment(column: np.ndarray) -> np.ndarray:
    """Zero all but the last contiguous run of positive values of an SRF column."""
    nz = np.flatnonzero(column > 0)
    if nz.size == 0:
        return column
    breaks = np.flatnonzero(np.diff(nz) > 1)
    start = nz[breaks[-1] + 1] if breaks.size else nz[0]
    out = column.copy()
    out[:start] = 0.0
    return out


def _chosen_bands(bands: Sequence[str] | str, sensor: str, names: Sequence[str]) -> list[str]:
    """Canonical names of a band selection (each once, at least one) among a sensor's ``names``."""
    chosen = [canonical_band(b, sensor, bands=names) for b in ((bands,) if isinstance(bands, str) else bands)]
    if not chosen or len(set(chosen)) != len(chosen):
        raise ValueError(f"bands must name each band once (at least one), got {list(bands)}")
    return chosen


def load_srf(sensor: str | Path, wavelengths=None, *, bands: Sequence[str] | None = None, dtype=None,
             max_outside: float = MAX_RESPONSE_OUTSIDE) -> SpectralResponse:
    """Spectral response of a known sensor or of a user CSV table.

    **Arguments:**
    - ``sensor``: one of :data:`SENSORS` (case-insensitive; ``_`` or ``-``; short forms ``"S2A"``, ``"L8"``), or
      the path of a CSV file: either a response table (first column the wavelength in nm, then the relative
      response of each band) or a band table with the header ``band,centre,fwhm`` (nm; Gaussian bands, see
      :meth:`SpectralResponse.from_centres_fwhm`, e.g. PRISMA or EnMAP).
    - ``wavelengths``: grid (nm) of the spectra to convolve (e.g. 400–2400); default: the table grid (for a
      band table: 1 nm from 3 FWHM below the first band to 3 FWHM above the last).
    - ``bands``: a subset of bands, in this order (aliases accepted, see :func:`canonical_band`); only these are
      checked against the grid range.  Default: all.
    - ``dtype``, ``max_outside``: see :meth:`SpectralResponse.from_table`.

    Raises:
        ValueError: for an unknown sensor name that is not an existing file, or an unknown band.

    Example:
        >>> srf = load_srf("sentinel-2a", wavelengths=range(400, 2401))
        >>> srf.band_names[:3], srf.n_bands
        (('B2', 'B3', 'B4'), 10)
    """
    key = sensor_key(str(sensor))
    if key in SENSORS:
        header, data = read_packaged_csv("leafjax.spectral", SENSORS[key])
        name = key
        for band in _CUMULATIVE_COLUMNS.get(key, ()):
            j = header.index(band)
            data[:, j] = _keep_last_segment(data[:, j])
    else:
        path = Path(sensor)
        if not path.is_file():
            raise ValueError(f"unknown sensor {str(sensor)!r}: not one of {', '.join(SENSORS)} nor an existing "
                             "CSV file (wavelength in nm, then one column per band; or band,centre,fwhm)")
        name = path.stem
        first = path.read_text(encoding="utf-8-sig").split("\n", 1)[0].split(",")
        if is_centres_fwhm_header(first):
            names, centres, fwhm = read_centres_fwhm(path)
            if bands is not None:
                pick = [names.index(b) for b in _chosen_bands(bands, name, names)]
                names, centres, fwhm = tuple(names[i] for i in pick), centres[pick], fwhm[pick]
            grid = (np.arange(math.floor(np.min(centres - 3 * fwhm)), math.ceil(np.max(centres + 3 * fwhm)) + 1.0)
                    if wavelengths is None else wavelengths)
            return SpectralResponse.from_centres_fwhm(centres, fwhm, grid, names=names, name=name,
                                                      max_outside=max_outside, dtype=dtype)
        header, data = read_csv_bytes(path.read_bytes())
    srf_names = header[1:]
    response = data[:, 1:]
    if bands is not None:
        chosen = _chosen_bands(bands, name, srf_names)
        response = response[:, [srf_names.index(b) for b in chosen]]
        srf_names = chosen
    return SpectralResponse.from_table(data[:, 0], response, srf_names, name, on=wavelengths,
                                       max_outside=max_outside, dtype=dtype)


def convolve(spectra: Float[ArrayLike, "*batch wl"], srf: SpectralResponse) -> Float[Array, "*batch band"]:
    """Band values of ``spectra`` (on ``srf.wavelengths``): ``spectra @ srf.weights.T``.

    Raises:
        ValueError: if the last axis of ``spectra`` does not match the SRF grid.
    """
    x = jnp.asarray(spectra)
    if x.shape[-1:] != srf.wavelengths.shape:
        raise ValueError(f"spectra have {x.shape[-1] if x.ndim else 0} wavelengths but the SRF grid has "
                         f"{srf.wavelengths.shape[0]}; build it with load_srf(..., wavelengths=<spectra grid>)")
    return x @ srf.weights.astype(x.dtype).T


def convolve_fields(result, srf: SpectralResponse, names=None):
    """Convolve the spectral fields of an equinox-Module result (e.g. :class:`CanopyReflectance` or
    :class:`~leafjax.physics.LeafOptics`) to sensor bands.

    **Arguments:** ``result``: the module; ``srf``: on the result's wavelength grid; ``names``: fields to convolve
    (default: every array field whose last axis has the SRF grid length, except ``wavelengths``).

    **Returns:** a copy of ``result`` with those fields of shape ``(*batch, band)``; other fields unchanged.
    """
    import dataclasses

    n_wl = srf.wavelengths.shape[0]
    if names is None:
        names = [f.name for f in dataclasses.fields(result) if f.name != "wavelengths"
                 and isinstance(getattr(result, f.name), jax.Array) and getattr(result, f.name).ndim >= 1
                 and getattr(result, f.name).shape[-1] == n_wl]
    return eqx.tree_at(lambda r: [getattr(r, n) for n in names], result,
                       [convolve(getattr(result, n), srf) for n in names])
