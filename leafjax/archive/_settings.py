"""Settings of an archive run (recorded in the run's manifest) and the float64 precondition."""

from __future__ import annotations

from dataclasses import dataclass

#: Floating-point types an archive run may compute in.
DTYPES: tuple[str, ...] = ("float32", "float64")


@dataclass(frozen=True)
class ArchiveSettings:
    """Everything that determines an archive run's output (stored in the manifest for safe resumption).

    Engine fields: ``chunk_size`` (records per chunk; memory bound), ``dtype`` (``"float32"`` or ``"float64"``;
    the latter needs JAX's 64-bit mode, see :func:`check_dtype`) and ``model`` (which task solves the chunks,
    see :func:`leafjax.archive.get_task`).  The other fields are read by the tasks:

    * spectra in rows (every task): ``use_r``, ``use_t`` (which of ``R_``/``T_`` columns to use), ``percent``
      (spectra in percent: divided by 100), ``kind`` (``"R"``/``"T"``: what a ``.npy`` archive holds),
      ``free`` (parameters to estimate; ``None``: the task's default), ``max_steps`` (iteration limit);
    * leaf models (``"prospect-d"``, ``"prospect-pro"``): ``strategy`` (``"full"`` or ``"optimal"``, see
      :func:`leafjax.inversion.invert_spectra`), ``n_starts`` (look-up-table starts per spectrum),
      ``constants`` (the packaged optical-constant table: ``"published"`` or ``"recalibrated"``; with reflectance
      alone, ``"recalibrated"`` also applies the measurement model and N line fitted with it, see
      :func:`leafjax.inversion.packaged_corrections`);
    * ``model="prosail"``: ``sensor`` (band columns ``R_<band>`` of this sensor; ``None``: ``R_<nm>`` columns),
      ``leaf_model`` (the leaf model inside PROSAIL) and ``grid_step`` (simulation grid step, nm, with a sensor);
      ``bands`` (the sensor bands to use, aliases accepted; ``None``: every band column present), ``method``
      (``"lm"``: the per-pixel PROSAIL fit; ``"hybrid"``/``"lut"``: the routes of :mod:`leafjax.products`),
      ``products`` (Sentinel-2 biophysical products to write, e.g. ``("lai", "ccc")``; ``None``: the ``lm``
      trait columns, or every product for the other methods) and ``route_options`` (``(name, value)`` pairs of
      fields of the route, e.g. ``(("n", 2000), ("k", 20))``, see :func:`leafjax.products.get_route`);
    * reading CSV: ``sep`` (field separator; ``None``: detected from the header) and ``decimal`` (``"."`` or
      ``","``; ``None``: detected);
    * fit quality: ``expected_rmse`` (RMSE expected from instrument and model, in reflectance units; ``None``:
      the task's default); rows whose RMSE exceeds 3 times it are flagged ``poor_fit``.
    """

    model: str
    strategy: str = "full"
    chunk_size: int = 4096
    use_r: bool = True
    use_t: bool = True
    percent: bool = False
    dtype: str = "float32"
    n_starts: int = 1
    max_steps: int = 60
    free: tuple[str, ...] | None = None
    kind: str = "R"  # for .npy inputs
    sensor: str | None = None
    leaf_model: str = "prospect-d"
    grid_step: int = 1
    sep: str | None = None
    decimal: str | None = None
    expected_rmse: float | None = None
    bands: tuple[str, ...] | None = None
    method: str = "lm"
    products: tuple[str, ...] | None = None
    route_options: tuple[tuple[str, object], ...] = ()
    constants: str = "published"


def check_dtype(dtype: str) -> None:
    """Raise a one-line ``ValueError`` unless JAX can compute in ``dtype`` in this process.

    Without JAX's 64-bit mode a float64 request would silently run in float32; the check is made by the engine
    before any work and again inside every Dask task, since each worker process has its own JAX configuration.

    Example:
        >>> check_dtype("float32")
        >>> check_dtype("float16")
        Traceback (most recent call last):
        ...
        ValueError: dtype must be one of float32, float64, got 'float16'
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if dtype == "float64":
        import jax

        if jax.dtypes.canonicalize_dtype("float64") != "float64":
            raise ValueError("dtype='float64' needs JAX's 64-bit mode, which is off in this process: call "
                             "jax.config.update('jax_enable_x64', True) first, or set JAX_ENABLE_X64=1 in the "
                             "environment of every process (Dask workers included); the CLI does this for "
                             "--dtype float64")
