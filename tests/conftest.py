"""Test configuration: float64 enabled, implicit rank promotion forbidden and strict dtype promotion (as in
equinox/diffrax/optimistix).  Shapes and dtypes of every annotated function in ``leafjax`` are checked at run
time by jaxtyping + beartype (``--jaxtyping-packages`` in ``pyproject.toml``)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# The suite's time goes mostly into compiling many small programs; the CPU backend's lowest optimisation level
# compiles them about 1.3-1.5x faster and computes the same results to the tests' tolerances.  (Benchmarks and
# experiments keep the default level.)  Set before jax initialises its backend.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

# One temporary persistent compilation cache for the whole session, shared by this process and every CLI
# subprocess a test starts (they inherit the environment), so that a program compiled once is not compiled again
# after ``jax.clear_caches()`` or in a subprocess; tests never write to the user's ~/.cache.  Set
# LEAFJAX_TEST_CACHE_DIR to keep the cache between sessions (e.g. a CI cache).
_SESSION_CACHE = os.environ.get("LEAFJAX_TEST_CACHE_DIR") or tempfile.mkdtemp(prefix="leafjax-test-cache-")
os.environ["LEAFJAX_CACHE_DIR"] = _SESSION_CACHE
if not os.environ.get("LEAFJAX_TEST_CACHE_DIR"):
    atexit.register(shutil.rmtree, _SESSION_CACHE, True)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
# No implicit int/float, float32/float64 or bool/int mixing: mixed-precision bugs fail here instead of silently
# upcasting (library code casts explicitly; third-party optax updates run under "standard" locally).
jax.config.update("jax_numpy_dtype_promotion", "strict")

import pytest  # noqa: E402

#: The project's shared data folder, beside the repository (override with LEAFJAX_SHARED_DATA).
SHARED_DATA = Path(os.environ.get("LEAFJAX_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder not found at {SHARED_DATA}; set LEAFJAX_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module.

    The suite compiles thousands of small programs in one process; each CPU executable keeps memory mappings
    alive, and a long run can reach the kernel's ``vm.max_map_count`` (65,530 by default), which crashes XLA's
    compiler (seen as a segmentation fault late in the run).  Shapes are shared within a module, so clearing
    between modules costs little.
    """
    yield
    jax.clear_caches()


# Thermal (land-surface-temperature) shared-data fixtures, available to every test module.
from thermal_fixtures import fitted_band_model, lwir_truth, thermal_folder  # noqa: E402, F401
