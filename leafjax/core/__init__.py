"""Core interfaces shared by every layer: the abstract forward model and the abstract noise model; and the
compilation helpers (persistent compilation cache, one compiled program for calls on concrete inputs).

A forward model maps a parameter pytree (and optional observation conditions, e.g. sun/view geometry) to an
observation; a noise model maps ``(key, signal)`` to a noisy signal.  Concrete models live in
:mod:`leafjax.physics` (PROSPECT, PROSAIL) and noise models in :mod:`leafjax.simulation` and
:mod:`leafjax.spectral`.

Importing this package (which every JAX layer of leafjax does) enables the persistent compilation cache once
(:func:`enable_compilation_cache`: a per-user folder, unless the user configured a JAX cache or set
``LEAFJAX_COMPILATION_CACHE=0``), so a new process finds the programs an earlier one compiled; see
``docs/performance.md``.  It also applies :func:`apply_xla_workarounds` (XLA flags that avoid known
miscompilations of the installed jaxlib on the CPU), before any JAX backend starts.
"""

from ._xla import apply_xla_workarounds as apply_xla_workarounds

apply_xla_workarounds()  # before anything can start a JAX backend (known XLA CPU miscompilations; see _xla)

from ._cache import (  # noqa: E402
    compilation_cache_dir as compilation_cache_dir,
    default_cache_dir as default_cache_dir,
    enable_compilation_cache as enable_compilation_cache,
)
from ._export import exported_call as exported_call, source_fingerprint as source_fingerprint  # noqa: E402
from ._compile import is_concrete as is_concrete, jit_call as jit_call, jit_if_concrete as jit_if_concrete  # noqa: E402
from ._model import AbstractForwardModel as AbstractForwardModel  # noqa: E402
from ._noise import AbstractGaussianNoise as AbstractGaussianNoise, AbstractNoise as AbstractNoise  # noqa: E402

enable_compilation_cache()
