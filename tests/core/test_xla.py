"""The XLA CPU work-arounds (``leafjax.core._xla``): the miscompiled pattern gives right results after importing
leafjax, in a fresh process (the flag must be set before JAX starts its backend)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from leafjax.core import _xla

#: The pattern jaxlib 0.10.2 miscompiles on the CPU (rows ≥ ~312 of 1024 read rows 0, 1, …): a reduction over the
#: layer axis, a multiply by a broadcast (nu, k) operand, a sum over the k axis and an elementwise step; the shape
#: of the thermal band model's k-term sum.
_PROGRAM = textwrap.dedent("""
    import sys
    import leafjax.core  # applies the work-arounds before the first computation
    import jax, jax.numpy as jnp, numpy as np
    rng = np.random.default_rng(0)
    od = rng.uniform(0.0, 0.05, (1024, 42, 105, 2)).astype(np.float32)
    g = rng.uniform(0.0, 1.0, (105, 2)).astype(np.float32)
    got = np.asarray(jax.jit(lambda od: jnp.sum(g * jnp.exp(-jnp.sum(od, 1)), -1) * 2.0)(od))
    want = 2.0 * np.sum(g.astype(np.float64) * np.exp(-od.astype(np.float64).sum(1)), -1)
    print(float(np.abs(got - want).max()))
""")


def _run(env_extra: dict[str, str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update({"JAX_PLATFORMS": "cpu", **env_extra})
    out = subprocess.run([sys.executable, "-c", _PROGRAM], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return float(out.stdout.strip().splitlines()[-1])


def test_reduction_fusion_is_right_after_importing_leafjax():
    # float32 rounding of a sum of two exponentials times 2: ≤ ~5e-7; the miscompilation gives errors ~0.5
    assert _run({}) < 1e-5


def test_flag_is_set_in_this_process_when_the_jaxlib_is_affected():
    if _xla._jaxlib_version() not in _xla.YNN_FUSION_AFFECTED:
        pytest.skip(f"jaxlib {_xla._jaxlib_version()} has no known CPU miscompilation")
    if os.environ.get(_xla.OPT_OUT_ENV, "1").strip() == "0":
        pytest.skip(f"{_xla.OPT_OUT_ENV}=0")
    assert "xla_cpu_experimental_ynn_fusion_type" in os.environ.get("XLA_FLAGS", "")


def test_user_setting_wins(monkeypatch):
    monkeypatch.setitem(_xla._state, "done", False)
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_experimental_ynn_fusion_type=reduce")
    assert _xla.apply_xla_workarounds() is None
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_experimental_ynn_fusion_type=reduce"


def test_opt_out(monkeypatch):
    monkeypatch.setitem(_xla._state, "done", False)
    monkeypatch.setenv(_xla.OPT_OUT_ENV, "0")
    monkeypatch.setenv("XLA_FLAGS", "")
    assert _xla.apply_xla_workarounds() is None
    assert os.environ["XLA_FLAGS"] == ""


def test_warns_when_jax_started_first(monkeypatch):
    monkeypatch.setitem(_xla._state, "done", False)
    monkeypatch.setattr(_xla, "_jaxlib_version", lambda: next(iter(_xla.YNN_FUSION_AFFECTED)))
    monkeypatch.setattr(_xla, "_backends_started", lambda: True)
    monkeypatch.setenv("XLA_FLAGS", "")
    monkeypatch.delenv(_xla.OPT_OUT_ENV, raising=False)
    with pytest.warns(RuntimeWarning, match="miscompiles"):
        assert _xla.apply_xla_workarounds() is None
