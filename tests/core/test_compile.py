"""The compiled-call primitive (one program for a call on concrete inputs), the exported-program call and the
persistent-cache switch (per-user folder, opt-out, a user's own cache, an unusable folder only warns)."""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _compile_count import count_compiles

import leafjax as lj
from leafjax.core import _cache, _export, exported_call, is_concrete, jit_call, jit_if_concrete

WL = np.arange(400, 2401, 100)


def _params(chl):
    return lj.ProspectDParams(n_struct=1.5, chl=chl, car=8.0, ewt=0.012, lma=0.005)


def test_jit_call_is_one_program_compiled_once_and_equal_to_the_eager_call():
    model = lj.ProspectD(wavelengths=WL)
    call = type(model).__call__
    expected = model(_params(40.0))
    with count_compiles() as first:
        out = jit_call(call, model, _params(40.0))
    assert first.compiles == 1, first.names  # one program, not one per primitive
    np.testing.assert_allclose(out.reflectance, expected.reflectance, rtol=1e-10)
    with count_compiles() as second:
        other = jit_call(call, model, _params(55.0))
    assert second.compiles == 0, second.names
    assert not np.allclose(other.reflectance, out.reflectance)


def test_jit_call_inside_a_trace_is_the_plain_call():
    model = lj.ProspectD(wavelengths=WL)
    call = type(model).__call__

    def loss(chl):
        assert not is_concrete(chl)
        return jnp.sum(jit_call(call, model, _params(chl)).reflectance)

    g = jax.grad(loss)(40.0)
    fd = (jnp.sum(model(_params(40.0 + 1e-4)).reflectance) - jnp.sum(model(_params(40.0 - 1e-4)).reflectance)) / 2e-4
    np.testing.assert_allclose(g, fd, rtol=1e-5)
    assert is_concrete(jnp.ones(2), {"a": 1.0})


def test_jit_call_static_keywords_and_non_array_leaves():
    calls = []

    def f(x, tag, *, scale):
        calls.append(tag)  # runs once per trace
        return {"y": scale * x}

    x = jnp.arange(3.0)
    assert jit_call(f, x, "a", scale=2.0)["y"].tolist() == [0.0, 2.0, 4.0]
    assert jit_call(f, x + 1, "a", scale=2.0)["y"].tolist() == [2.0, 4.0, 6.0]
    assert jit_call(f, x, "b", scale=3.0)["y"].tolist() == [0.0, 3.0, 6.0]
    assert calls == ["a", "b"]  # the string is static; new values of x are not traced again

    def g(x):
        if x.shape[0] != 2:
            raise ValueError(f"need 2 values, got {x.shape[0]}")
        return x

    with pytest.raises(ValueError, match="need 2 values, got 3"):  # errors from shapes are raised as they are
        jit_call(g, x)


def test_jit_if_concrete_decorates_a_module_call():
    class Scale(eqx.Module):
        a: jax.Array

        @jit_if_concrete
        def __call__(self, x, *, power: int = 1):
            return self.a * x ** power

    m = Scale(jnp.asarray(2.0))
    assert float(m(jnp.asarray(3.0), power=2)) == 18.0
    with count_compiles() as c:
        assert float(m(jnp.asarray(4.0), power=2)) == 32.0
    assert c.compiles == 0, c.names
    assert float(jax.jit(lambda x: m(x))(jnp.asarray(1.5))) == 3.0


def test_exported_call_reuses_the_exported_program(tmp_path, monkeypatch):
    monkeypatch.setattr(_export, "compilation_cache_dir", lambda: tmp_path)
    monkeypatch.setattr(_export, "_exported", {})
    if not _export._can_serialise():
        pytest.skip("flatbuffers (jax.export serialisation) is not installed")

    def f(x, *, k):
        return {"y": jnp.sin(x) * k}

    x = np.linspace(0.0, 1.0, 5)
    out = exported_call(f, x, k=2.0)
    files = list((tmp_path / _export.EXPORT_SUBDIR).glob("*.bin"))
    assert len(files) == 1
    np.testing.assert_allclose(out["y"], 2.0 * np.sin(x), rtol=1e-12)
    monkeypatch.setattr(_export, "_exported", {})  # as in a new process: read back from the file
    out = exported_call(f, x + 1.0, k=2.0)
    np.testing.assert_allclose(out["y"], 2.0 * np.sin(x + 1.0), rtol=1e-12)
    assert list((tmp_path / _export.EXPORT_SUBDIR).glob("*.bin")) == files
    exported_call(f, x, k=3.0)  # another static value: another program
    assert len(list((tmp_path / _export.EXPORT_SUBDIR).glob("*.bin"))) == 2
    files[0].write_bytes(b"garbage")  # a corrupt file is replaced, never fatal
    monkeypatch.setattr(_export, "_exported", {})
    np.testing.assert_allclose(exported_call(f, x, k=2.0)["y"], 2.0 * np.sin(x), rtol=1e-12)


@pytest.fixture
def fresh_cache_config(monkeypatch):
    """JAX's cache folder unset and leafjax's warn-once state fresh, both restored afterwards (the process keeps
    the cache it already uses: JAX initialises it once)."""
    before = (jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs)
    jax.config.update("jax_compilation_cache_dir", None)
    monkeypatch.setattr(_cache, "_state", {"dir": None, "warned": False, "hooked": True})
    monkeypatch.delenv(_cache.OPT_OUT_ENV, raising=False)
    yield
    jax.config.update("jax_compilation_cache_dir", before[0])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", before[1])


def test_default_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("LEAFJAX_CACHE_DIR", str(tmp_path / "a"))
    assert _cache.default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("LEAFJAX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.default_cache_dir() == tmp_path / "xdg" / "leafjax" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _cache.default_cache_dir() == tmp_path / "home" / ".cache" / "leafjax" / "jax"


def test_enable_sets_the_folder_and_respects_opt_out_and_the_users_cache(fresh_cache_config, monkeypatch,
                                                                            tmp_path):
    monkeypatch.setenv(_cache.OPT_OUT_ENV, "0")
    assert _cache.enable_compilation_cache(tmp_path / "c") is None and jax.config.jax_compilation_cache_dir is None
    monkeypatch.setenv(_cache.OPT_OUT_ENV, "1")
    assert _cache.enable_compilation_cache(tmp_path / "c") == tmp_path / "c"
    assert jax.config.jax_compilation_cache_dir == str(tmp_path / "c")
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
    jax.config.update("jax_compilation_cache_dir", str(tmp_path / "mine"))  # the user's own cache wins
    assert _cache.enable_compilation_cache(tmp_path / "c") == tmp_path / "mine"
    assert jax.config.jax_compilation_cache_dir == str(tmp_path / "mine")


def test_an_unusable_cache_folder_only_warns_once(fresh_cache_config, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.warns(RuntimeWarning, match="cannot use the compilation cache") as record:
        assert _cache.enable_compilation_cache(blocker / "cache") is None
    assert len(record) == 1 and jax.config.jax_compilation_cache_dir is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _cache.enable_compilation_cache(blocker / "cache") is None  # no second warning
