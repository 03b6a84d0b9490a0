"""Core interfaces shared by every layer: the abstract forward model and the abstract noise model.

A forward model maps a parameter pytree (and optional observation conditions, e.g. sun/view geometry) to an
observation; a noise model maps ``(key, signal)`` to a noisy signal.  Concrete models live in
:mod:`leafjax.physics` (PROSPECT, PROSAIL) and noise models in :mod:`leafjax.simulation` and
:mod:`leafjax.spectral`.
"""

from ._model import AbstractForwardModel as AbstractForwardModel
from ._noise import AbstractGaussianNoise as AbstractGaussianNoise, AbstractNoise as AbstractNoise
