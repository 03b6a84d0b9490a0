"""Test configuration: float64 enabled and implicit rank promotion forbidden (as in equinox/diffrax/optimistix)."""

from __future__ import annotations

import os
from pathlib import Path

import jax

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
