r"""Split-window land-surface-temperature algorithms with coefficients fitted by least squares per water-vapour bin.

Notation: :math:`T_i, T_j` are the brightness temperatures (K) of the 10.8 and 11.95 µm bands (VIMI ``b3``,
``b4``; columns 2 and 3 of ``bt``), :math:`\varepsilon = (\varepsilon_i + \varepsilon_j)/2`,
:math:`\Delta\varepsilon = \varepsilon_i - \varepsilon_j` their band emissivities, :math:`W` the column water
vapour (g cm⁻²).  The forms (:data:`FORMS`):

- ``"gsw"``: the generalised split-window of Wan & Dozier (1996) with the quadratic term of Du et al. (2015),

  .. math:: T_s = C + \Big(A_1 + A_2\tfrac{1-\varepsilon}{\varepsilon} + A_3\tfrac{\Delta\varepsilon}{\varepsilon^2}
            \Big)\tfrac{T_i+T_j}{2} + \Big(B_1 + B_2\tfrac{1-\varepsilon}{\varepsilon}
            + B_3\tfrac{\Delta\varepsilon}{\varepsilon^2}\Big)\tfrac{T_i-T_j}{2} + D\,(T_i-T_j)^2

  (8 coefficients), fitted separately in each water-vapour bin.
- ``"gsw_wv"``: the same 8 terms with every coefficient linear in :math:`W` (:math:`c_k = c_k^0 + c_k^1 W`;
  16 coefficients), one fit over the whole range (a single bin).  It generalises the water-vapour-explicit
  split-window of Jiménez-Muñoz & Sobrino (2008) and Sobrino et al. (2016), whose emissivity coefficients are
  linear in :math:`W`, to all coefficients; it contains the :math:`W\,\Delta T` interaction.
- ``"four_channel"``: linear in the four brightness temperatures :math:`T_1..T_4` with the quadratic
  differences :math:`(T_3-T_4)^2, (T_1-T_2)^2` and, per band, :math:`\tfrac{1-\varepsilon_k}{\varepsilon_k}`
  and :math:`\tfrac{1-\varepsilon_k}{\varepsilon_k}\bar T` (:math:`\bar T` the mean of the four BTs; 15
  coefficients).  Derivation: linearising the band radiative-transfer equation
  :math:`B_k(T_k) = \tau_k[\varepsilon_k B_k(T_s) + (1-\varepsilon_k)L^\downarrow_k] + L^\uparrow_k` in
  temperature about a common :math:`\bar T` gives four linear equations whose solution for :math:`T_s` is a
  linear combination of the :math:`T_k` with emissivity corrections proportional to
  :math:`(1-\varepsilon_k)/\varepsilon_k` (times :math:`\bar T` and a constant); the squared differences
  absorb the water-vapour curvature as in Du et al. (2015).  The multi-channel idea follows Sun & Pinker (2003).

**View angle.** Passing ``vza`` (degrees) at fit time adds the terms :math:`(\sec\theta-1)` and
:math:`(\sec\theta-1)(T_i-T_j)` (the slant path scales the water-vapour absorption by :math:`\sec\theta`);
:meth:`SplitWindow.predict` then needs ``vza`` too.  (MODIS fits per view-angle bin instead, Wan 2014.)

**Water-vapour bins** (:data:`DEFAULT_WV_BINS`, overlapping sub-ranges as in the MODIS generalised split-window,
Wan 2014): the fit of bin ``k`` uses the samples with :math:`lo_k \le W \le hi_k` (the first bin also takes
:math:`W < lo_0`, the last :math:`W > hi_{last}`).  The prediction blends the bins containing :math:`W` with
weights ramping linearly across each overlap (continuous in :math:`W`) and uses the outer bins beyond the range.

References: Wan & Dozier (1996), IEEE TGRS 34:892; Du et al. (2015), Remote Sens. 7:647; Wan (2014), Remote
Sens. Environ. 140:36; Jiménez-Muñoz & Sobrino (2008), IEEE GRSL 5:806; Sobrino et al. (2016), IEEE TGRS
54:2963; Sun & Pinker (2003), J. Geophys. Res. 108:4326.

Coefficients fitted from simulations built on unlicensed data must never be committed; :meth:`SplitWindow.to_json`
serialises a user's own fit.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

#: Implemented forms (see the module docstring).
FORMS: tuple[str, ...] = ("gsw", "gsw_wv", "four_channel")
#: Overlapping column-water-vapour sub-ranges (g cm⁻²) of the per-bin fits, after the MODIS generalised
#: split-window (Wan 2014: 0.5 g cm⁻² overlaps).
DEFAULT_WV_BINS: tuple[tuple[float, float], ...] = ((0.0, 1.5), (1.0, 2.5), (2.0, 3.5), (3.0, 4.5), (4.0, 5.5),
                                                    (5.0, 6.5))
#: The single bin of the ``"gsw_wv"`` form (g cm⁻²; the parameter range of ``wvc``, extended beyond by the
#: outer-bin rule).
FULL_WV_RANGE: tuple[tuple[float, float], ...] = ((0.0, 10.0),)
#: A bin needs at least this many samples per coefficient (else the fit raises).
MIN_SAMPLES_PER_COEF: int = 10
#: Accepted brightness temperatures / LST (K): values outside suggest °C or radiance input.
TEMPERATURE_RANGE: tuple[float, float] = (150.0, 400.0)
#: Column indices of the 10.8 µm (``b3``) and 11.95 µm (``b4``) bands in ``bt`` and ``emissivity``.
BAND_I, BAND_J = 2, 3

_GSW_NAMES = ("C", "A1", "A2", "A3", "B1", "B2", "B3", "D")
_FOUR_NAMES = ("c0", "a1", "a2", "a3", "a4", "d34", "d12", *(f"e{k}" for k in range(1, 5)),
               *(f"f{k}" for k in range(1, 5)))
_VIEW_NAMES = ("v0", "v1")


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ValueError(f"unknown split-window form {form!r}; known: {', '.join(FORMS)}")


def check_bins(bins) -> tuple[tuple[float, float], ...]:
    """Validated bins: ``(lo, hi)`` pairs with ``lo < hi``, both ends increasing, each bin touching or overlapping
    the next (no gaps) and overlapping at most its neighbours."""
    try:
        out = tuple((float(lo), float(hi)) for lo, hi in bins)
    except (TypeError, ValueError):
        raise ValueError(f"bins must be a sequence of (low, high) water-vapour pairs, got {bins!r}") from None
    if not out:
        raise ValueError("bins must hold at least one (low, high) pair")
    for k, (lo, hi) in enumerate(out):
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"bin {k} = ({lo}, {hi}) must have finite low < high")
        if k and not (out[k - 1][0] < lo <= out[k - 1][1] and hi > out[k - 1][1]):
            raise ValueError(f"bin {k} = ({lo}, {hi}) must start inside bin {k - 1} = {out[k - 1]} (or at its end) "
                             "and end beyond it")
        if k > 1 and lo < out[k - 2][1]:
            raise ValueError(f"bin {k} overlaps bin {k - 2}: only neighbouring bins may overlap")
    return out


def bin_weights(wvc: np.ndarray, bins) -> np.ndarray:
    """Blending weights ``(n, n_bin)`` (rows sum to 1) of water vapour ``wvc`` ``(n,)`` (g cm⁻²): 1 inside a bin's
    own part, ramping linearly across each overlap, the outer bins extended to ±∞."""
    bins = check_bins(bins)
    w = np.asarray(wvc, dtype=np.float64)[:, None]
    lo = np.array([b[0] for b in bins])[None]
    hi = np.array([b[1] for b in bins])[None]
    prev_hi = np.concatenate([[-np.inf], hi[0, :-1]])[None]  # where the ramp up ends
    next_lo = np.concatenate([lo[0, 1:], [np.inf]])[None]  # where the ramp down starts
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(prev_hi > lo, (w - lo) / (prev_hi - lo), (w >= lo).astype(float))
        down = np.where(hi > next_lo, (hi - w) / (hi - next_lo), (w < hi).astype(float))
    up[:, :1] = 1.0
    down[:, -1:] = 1.0
    wt = np.clip(np.minimum(up, down), 0.0, 1.0)
    return wt / wt.sum(-1, keepdims=True)


def bin_members(wvc: np.ndarray, bins) -> np.ndarray:
    """Boolean ``(n, n_bin)``: the samples a bin is fitted on (inside ``[lo, hi]``; outer bins extended)."""
    bins = check_bins(bins)
    w = np.asarray(wvc, dtype=np.float64)[:, None]
    lo = np.array([b[0] for b in bins])[None].copy()
    hi = np.array([b[1] for b in bins])[None].copy()
    lo[0, 0], hi[0, -1] = -np.inf, np.inf
    return (w >= lo) & (w <= hi)


def feature_names(form: str, view: bool = False) -> tuple[str, ...]:
    """Names of the coefficients of ``form`` (with the view-angle terms ``v0, v1`` when ``view``)."""
    _check_form(form)
    base = _FOUR_NAMES if form == "four_channel" else _GSW_NAMES
    if form == "gsw_wv":
        base = tuple(f"{n}{s}" for n in base for s in ("", "_w"))
    return base + (_VIEW_NAMES if view else ())


def design_matrix(form: str, bt: np.ndarray, emissivity: np.ndarray, wvc: np.ndarray,
                  vza: np.ndarray | None = None) -> np.ndarray:
    """Predictors ``(n, n_coef)`` of ``form`` (order of :func:`feature_names`) from ``bt`` ``(n, 4)`` (K),
    ``emissivity`` ``(n, 4)``, ``wvc`` ``(n,)`` (g cm⁻²) and optional ``vza`` ``(n,)`` (degrees)."""
    _check_form(form)
    ti, tj = bt[:, BAND_I], bt[:, BAND_J]
    dt = ti - tj
    if form == "four_channel":
        ratio = (1.0 - emissivity) / emissivity  # (n, 4)
        tbar = bt.mean(-1, keepdims=True)
        cols = [np.ones_like(ti), *bt.T, dt**2, (bt[:, 0] - bt[:, 1]) ** 2, *ratio.T, *(ratio * tbar).T]
    else:
        eps = 0.5 * (emissivity[:, BAND_I] + emissivity[:, BAND_J])
        deps = emissivity[:, BAND_I] - emissivity[:, BAND_J]
        a, b = (1.0 - eps) / eps, deps / eps**2
        tp, tm = 0.5 * (ti + tj), 0.5 * dt
        cols = [np.ones_like(ti), tp, a * tp, b * tp, tm, a * tm, b * tm, dt**2]
        if form == "gsw_wv":
            cols = [c * f for c in cols for f in (1.0, wvc)]
    if vza is not None:
        s = 1.0 / np.cos(np.deg2rad(vza)) - 1.0
        cols += [s, s * dt]
    return np.stack(cols, -1)


def _inputs(bt, emissivity, wvc, vza, lst=None):
    """Validated float64 arrays (one-line ``ValueError`` for bad shapes or values)."""
    bt = np.asarray(bt, dtype=np.float64)
    emissivity = np.asarray(emissivity, dtype=np.float64)
    wvc = np.asarray(wvc, dtype=np.float64)
    if bt.ndim != 2 or bt.shape[1] != 4:
        raise ValueError(f"bt must have shape (n, 4) (bands b1..b4, K), got {bt.shape}")
    n = bt.shape[0]
    if emissivity.shape != (n, 4):
        raise ValueError(f"emissivity must have shape ({n}, 4) like bt, got {emissivity.shape}")
    if wvc.shape != (n,):
        raise ValueError(f"wvc must have shape ({n},), got {wvc.shape}")
    lo, hi = TEMPERATURE_RANGE
    arrays = {"bt": bt, "emissivity": emissivity, "wvc": wvc}
    if vza is not None:
        vza = np.asarray(vza, dtype=np.float64)
        if vza.shape != (n,):
            raise ValueError(f"vza must have shape ({n},), got {vza.shape}")
        arrays["vza"] = vza
    if lst is not None:
        lst = np.asarray(lst, dtype=np.float64)
        if lst.shape != (n,):
            raise ValueError(f"lst must have shape ({n},), got {lst.shape}")
        arrays["lst"] = lst
    for name, x in arrays.items():
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains NaN/inf; drop those samples first")
    for name, x in (("bt", bt), ("lst", lst)):
        if x is not None and x.size and not (np.all(x >= lo) and np.all(x <= hi)):
            raise ValueError(f"{name} must be in kelvin within {TEMPERATURE_RANGE} (got {x.min():.4g}..{x.max():.4g})")
    if emissivity.size and not (np.all(emissivity > 0.0) and np.all(emissivity <= 1.0)):
        raise ValueError("emissivity must be in (0, 1]")
    if wvc.size and np.any(wvc < 0.0):
        raise ValueError("wvc (column water vapour, g/cm2) must be >= 0")
    if vza is not None and vza.size and not (np.all(vza >= 0.0) and np.all(vza < 90.0)):
        raise ValueError("vza must be in degrees within [0, 90)")
    return bt, emissivity, wvc, vza, lst


@dataclasses.dataclass(frozen=True, eq=False)
class SplitWindow:
    """A fitted split-window algorithm.

    **Fields:** ``form`` (one of :data:`FORMS`), ``bins`` (``(lo, hi)`` g cm⁻² per bin), ``coefficients``
    ``(n_bin, n_coef)`` (order of :attr:`names`), ``rmse`` ``(n_bin,)`` (K; in-sample fit RMSE of each bin on its
    own samples), ``count`` ``(n_bin,)`` (samples per bin) and ``view`` (the view-angle terms are included).
    """

    form: str
    bins: tuple[tuple[float, float], ...]
    coefficients: np.ndarray
    rmse: np.ndarray
    count: np.ndarray
    view: bool = False

    def __post_init__(self):
        _check_form(self.form)
        object.__setattr__(self, "bins", check_bins(self.bins))
        coefs = np.asarray(self.coefficients, dtype=np.float64)
        shape = (len(self.bins), len(feature_names(self.form, self.view)))
        if coefs.shape != shape:
            raise ValueError(f"coefficients must have shape {shape} for form {self.form!r}, got {coefs.shape}")
        object.__setattr__(self, "coefficients", coefs)
        object.__setattr__(self, "rmse", np.asarray(self.rmse, dtype=np.float64).reshape(shape[0]))
        object.__setattr__(self, "count", np.asarray(self.count, dtype=np.int64).reshape(shape[0]))

    @property
    def names(self) -> tuple[str, ...]:
        """Coefficient names (columns of :attr:`coefficients`)."""
        return feature_names(self.form, self.view)

    def predict(self, bt, emissivity, wvc, vza=None) -> np.ndarray:
        """LST (K) ``(n,)`` from ``bt`` ``(n, 4)`` (K), ``emissivity`` ``(n, 4)``, ``wvc`` ``(n,)`` (g cm⁻²) and,
        for a fit with view terms, ``vza`` ``(n,)`` (degrees): the bins' estimates blended by
        :func:`bin_weights`."""
        if self.view and vza is None:
            raise ValueError("this split-window was fitted with view-angle terms: pass vza (degrees)")
        if not self.view and vza is not None:
            raise ValueError("this split-window was fitted without view-angle terms: do not pass vza")
        bt, emissivity, wvc, vza, _ = _inputs(bt, emissivity, wvc, vza)
        x = design_matrix(self.form, bt, emissivity, wvc, vza)
        per_bin = x @ self.coefficients.T  # (n, n_bin)
        return np.sum(per_bin * bin_weights(wvc, self.bins), -1)

    def to_json(self) -> str:
        """The fit as a JSON string (for a user's own outputs; never commit fits made from unlicensed data)."""
        return json.dumps({"kind": "leafjax.SplitWindow", "form": self.form, "bins": [list(b) for b in self.bins],
                           "names": list(self.names), "coefficients": self.coefficients.tolist(),
                           "rmse": self.rmse.tolist(), "count": self.count.tolist(), "view": self.view})

    @classmethod
    def from_json(cls, text: str) -> SplitWindow:
        """The :class:`SplitWindow` written by :meth:`to_json`."""
        try:
            d = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"not a split-window JSON document ({err})") from None
        if not isinstance(d, dict) or d.get("kind") != "leafjax.SplitWindow":
            raise ValueError("not a split-window JSON document (missing kind 'leafjax.SplitWindow')")
        out = cls(d["form"], tuple(map(tuple, d["bins"])), np.asarray(d["coefficients"]), np.asarray(d["rmse"]),
                  np.asarray(d["count"]), bool(d.get("view", False)))
        if "names" in d and tuple(d["names"]) != out.names:
            raise ValueError(f"coefficient names {d['names']} do not match form {out.form!r}")
        return out


def fit_split_window(bt, emissivity, wvc, lst, *, form: str = "gsw", bins=None, vza=None,
                     min_samples_per_coef: int = MIN_SAMPLES_PER_COEF) -> SplitWindow:
    """Least-squares split-window coefficients per water-vapour bin.

    **Arguments:**
    - ``bt``: brightness temperatures ``(n, 4)`` (K) of bands b1..b4 (8.20, 8.63, 10.80, 11.95 µm).
    - ``emissivity``: band emissivities ``(n, 4)``; ``wvc``: column water vapour ``(n,)`` (g cm⁻²);
      ``lst``: the true land-surface temperature ``(n,)`` (K).
    - ``form``: one of :data:`FORMS`; ``bins``: ``(lo, hi)`` pairs (g cm⁻²; default :data:`DEFAULT_WV_BINS`,
      or :data:`FULL_WV_RANGE` for ``"gsw_wv"``).
    - ``vza``: optional view zenith angles ``(n,)`` (degrees): adds the view-angle terms.
    - ``min_samples_per_coef``: a bin with fewer than this many samples per coefficient raises ``ValueError``.

    **Returns:** :class:`SplitWindow` with per-bin coefficients, in-sample RMSE (K) and sample counts.  Columns
    are scaled to unit norm before ``numpy.linalg.lstsq`` (SVD) for conditioning.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> bt = 290.0 + rng.normal(0, 5, (400, 4)); eps = rng.uniform(0.94, 0.99, (400, 4))
        >>> wvc = rng.uniform(0, 3, 400); lst = bt[:, 2] + 2.0 * (bt[:, 2] - bt[:, 3]) + 1.0
        >>> sw = fit_split_window(bt, eps, wvc, lst, bins=((0, 3),))
        >>> bool(np.allclose(sw.predict(bt, eps, wvc), lst, atol=1e-6))
        True
    """
    _check_form(form)
    bins = check_bins((FULL_WV_RANGE if form == "gsw_wv" else DEFAULT_WV_BINS) if bins is None else bins)
    bt, emissivity, wvc, vza, lst = _inputs(bt, emissivity, wvc, vza, lst)
    x = design_matrix(form, bt, emissivity, wvc, vza)
    members = bin_members(wvc, bins)
    n_coef = x.shape[1]
    need = int(min_samples_per_coef) * n_coef
    coefs, rmse, count = [], [], []
    for k, (lo, hi) in enumerate(bins):
        rows = members[:, k]
        n_k = int(rows.sum())
        if n_k < need:
            raise ValueError(f"water-vapour bin {k} ({lo}-{hi} g/cm2) has {n_k} samples; the {form!r} fit needs "
                             f">= {need} ({min_samples_per_coef} per coefficient)")
        xk, yk = x[rows], lst[rows]
        norm = np.linalg.norm(xk, axis=0)
        norm = np.where(norm > 0, norm, 1.0)
        c = np.linalg.lstsq(xk / norm, yk, rcond=None)[0] / norm
        coefs.append(c)
        rmse.append(float(np.sqrt(np.mean((xk @ c - yk) ** 2))))
        count.append(n_k)
    return SplitWindow(form, bins, np.stack(coefs), np.asarray(rmse), np.asarray(count), vza is not None)
