"""Shared-data fixtures of the thermal (land-surface-temperature) tests: the LBLRTM truth and the band model
fitted to its calibration atmospheres.

Import the fixtures into a test module (``from thermal_fixtures import fitted_band_model, lwir_truth,
thermal_folder  # noqa: F401``) or into ``tests/conftest.py``.  The band model comes from
:func:`leafjax.inversion.cached_band_model`: fitted once per test session (≈ 15–40 s on 2 CPU cores), then read
from the session's cache folder (``LEAFJAX_CACHE_DIR``, a temporary folder set by ``tests/conftest.py``; set
``LEAFJAX_TEST_CACHE_DIR`` to keep it between sessions).
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def thermal_folder(shared_data):
    """The ``thermal/`` folder of the shared data (fails, naming the folder, if it is missing)."""
    folder = shared_data / "thermal"
    if not (folder / "lwir_atmospheres.h5").is_file():
        pytest.fail(f"thermal reference data not found in {folder}")
    return folder


@pytest.fixture(scope="session")
def lwir_truth(thermal_folder):
    """:func:`leafjax.data.load_lwir_truth` of the shared folder (needs h5py)."""
    pytest.importorskip("h5py")
    from leafjax.data import load_lwir_truth

    return load_lwir_truth(thermal_folder)


@pytest.fixture(scope="session")
def fitted_band_model(thermal_folder):
    """The default :func:`leafjax.inversion.cached_band_model` of the shared folder (float64 arrays)."""
    pytest.importorskip("h5py")
    from leafjax.inversion import cached_band_model

    return cached_band_model(thermal_folder)
