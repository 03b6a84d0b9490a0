r"""Sensor spectral response functions (SRF), band convolution and band-level noise models.

A band value is the SRF-weighted mean of a spectrum,

.. math:: R_b = \frac{\int S_b(\lambda) R(\lambda)\,d\lambda}{\int S_b(\lambda)\,d\lambda}
          \approx \sum_j W_{bj} R(\lambda_j),

evaluated as one matrix product with the row-normalised weight matrix :math:`W` (shape ``(band, wl)``), so it is
linear, batched and differentiable.  Packaged sensors (see ``data/README.md``): ``sentinel-2a``, ``sentinel-2b``,
``sentinel-2c`` (MSI bands B2–B8A, B11, B12; ESA) and ``landsat-8``, ``landsat-9`` (OLI incl. cirrus and pan;
USGS); any other table with a wavelength column (nm) and one column per band can be loaded from a file.
"""

from __future__ import annotations

import abc
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._tables import read_csv_bytes, read_packaged_csv

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


def _trapezoid_widths(wl: np.ndarray) -> np.ndarray:
    """Quadrature weights (nm) of the trapezoidal rule on the grid ``wl``."""
    if wl.size == 1:
        return np.ones(1)
    d = np.diff(wl)
    w = np.zeros_like(wl)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


class SpectralResponse(eqx.Module):
    """Band weights of a sensor on a wavelength grid.

    **Fields:** ``wavelengths`` (nm, ``(wl,)``); ``weights`` (``(band, wl)``, rows sum to one: the SRF times the
    quadrature width, normalised); ``band_names`` and ``name`` (static).
    """

    wavelengths: Float[Array, "wl"]
    weights: Float[Array, "band wl"]
    band_names: tuple[str, ...] = eqx.field(static=True)
    name: str = eqx.field(static=True, default="user")

    def __check_init__(self):
        if self.weights.shape != (len(self.band_names),) + self.wavelengths.shape:
            raise ValueError(f"weights shape {self.weights.shape} does not match "
                             f"{len(self.band_names)} bands × {self.wavelengths.shape[0]} wavelengths")

    @property
    def n_bands(self) -> int:
        return len(self.band_names)

    @property
    def centres(self) -> Float[Array, "band"]:
        """Response-weighted mean wavelength of each band (nm)."""
        return self.weights @ self.wavelengths

    @classmethod
    def from_table(cls, wavelengths, response, band_names, name: str = "user", *, on=None,
                   max_outside: float = MAX_RESPONSE_OUTSIDE, dtype=None) -> "SpectralResponse":
        """Build from a relative response table (numpy; not traced).

        **Arguments:**
        - ``wavelengths``: increasing table wavelengths (nm), ``(n,)``; ``response``: ``(n, band)``, ≥ 0 (values
          down to −1 % of the band peak are treated as noise and set to 0).
        - ``band_names``: one name per column; ``name``: sensor name.
        - ``on``: wavelengths (nm) of the spectra to be convolved; the response is linearly interpolated there
          (zero outside the table). Default: the table grid.
        - ``max_outside``: largest allowed fraction of any band's response outside the range of ``on``.

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
            raise ValueError(f"{name}: response outside the simulated range {target.min():g}–{target.max():g} nm "
                             f"for bands {', '.join(bad)}")
        interp = np.stack([np.interp(target, wl, resp[:, j], left=0.0, right=0.0) for j in range(resp.shape[1])])
        w = interp * _trapezoid_widths(target)[None, :]
        w = w / w.sum(axis=1, keepdims=True)
        dt = jnp.result_type(float) if dtype is None else dtype
        return cls(wavelengths=jnp.asarray(target, dtype=dt), weights=jnp.asarray(w, dtype=dt),
                   band_names=tuple(band_names), name=name)


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


def load_srf(sensor: str | Path, wavelengths=None, *, dtype=None, max_outside: float = MAX_RESPONSE_OUTSIDE
             ) -> SpectralResponse:
    """Spectral response of a known sensor or of a user CSV table.

    **Arguments:**
    - ``sensor``: one of :data:`SENSORS` (case-insensitive; ``_`` or ``-``), or the path of a CSV file whose first
      column is the wavelength (nm) and whose other columns are the relative responses of the bands.
    - ``wavelengths``: grid (nm) of the spectra to convolve (e.g. 400–2400); default: the table grid.
    - ``dtype``, ``max_outside``: see :meth:`SpectralResponse.from_table`.

    Raises:
        ValueError: for an unknown sensor name that is not an existing file.

    Example:
        >>> srf = load_srf("sentinel-2a", wavelengths=range(400, 2401))
        >>> srf.band_names[:3], srf.n_bands
        (('B2', 'B3', 'B4'), 10)
    """
    key = str(sensor).lower().replace("_", "-")
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
                             "CSV file (wavelength in nm, then one column per band)")
        header, data = read_csv_bytes(path.read_bytes())
        name = path.stem
    return SpectralResponse.from_table(data[:, 0], data[:, 1:], header[1:], name, on=wavelengths,
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


class AbstractNoise(eqx.Module):
    """A band-level noise model: ``std(x)`` gives the noise standard deviation, ``__call__(key, x)`` a sample."""

    @abc.abstractmethod
    def std(self, signal: Float[Array, "*batch band"]) -> Float[Array, "*batch band"]:
        """Standard deviation of the noise at ``signal``."""

    def __call__(self, key: PRNGKeyArray, signal: Float[ArrayLike, "*batch band"]) -> Float[Array, "*batch band"]:
        """``signal`` plus one draw of zero-mean Gaussian noise with standard deviation :meth:`std`."""
        x = jnp.asarray(signal)
        return x + self.std(x) * jax.random.normal(key, x.shape, dtype=x.dtype)


class GaussianNoise(AbstractNoise):
    r"""Independent Gaussian noise per band: :math:`\sigma = \sqrt{\sigma_a^2 + (\sigma_m x)^2}`.

    **Fields:** ``additive`` (reflectance units) and ``multiplicative`` (relative, e.g. 0.05 = 5 %), each a scalar
    or one value per band ``(band,)``.  The two terms are independent, so the sum is Gaussian with this σ.

    Example:
        >>> noise = GaussianNoise(additive=0.01, multiplicative=0.05)
        >>> noise(jax.random.key(0), jnp.full((4, 10), 0.3)).shape
        (4, 10)
    """

    additive: Float[Array, "*band"] = eqx.field(converter=jnp.asarray, default=0.0)
    multiplicative: Float[Array, "*band"] = eqx.field(converter=jnp.asarray, default=0.0)

    def std(self, signal):
        x = jnp.asarray(signal)
        a = jnp.broadcast_to(self.additive.astype(x.dtype), x.shape)
        m = jnp.broadcast_to(self.multiplicative.astype(x.dtype), x.shape)
        return jnp.sqrt(a * a + (m * x) ** 2)


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
