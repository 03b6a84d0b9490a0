"""Test configuration: float64 enabled and implicit rank promotion forbidden (as in equinox/diffrax/optimistix)."""

from __future__ import annotations

import os
from pathlib import Path

# The suite's time goes mostly into compiling many small programs; the CPU backend's lowest optimisation level
# compiles them about 1.3-1.5x faster and computes the same results to the tests' tolerances.  (Benchmarks and
# experiments keep the default level.)  Set before jax initialises its backend.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

import pytest  # noqa: E402

#: The project's shared data folder, beside the repository (override with LEAFJAX_SHARED_DATA).
SHARED_DATA = Path(os.environ.get("LEAFJAX_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder not found at {SHARED_DATA}; set LEAFJAX_SHARED_DATA")
    return SHARED_DATA
