"""The abstract forward model: parameters (+ conditions) → observation, with its parameter specs."""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx

from .._parameters import ParameterSpec


class AbstractForwardModel(eqx.Module):
    """A differentiable forward model ``observation = model(params, conditions)``.

    Subclasses are final (or abstract) equinox Modules that declare two class variables:

    - ``params_type``: the parameter pytree type the model takes (e.g. ``ProspectDParams``);
    - ``specs``: one :class:`~leafjax._parameters.ParameterSpec` per parameter (unit, physical bounds, default,
      source), taken from the registry :mod:`leafjax._parameters` (e.g. ``PROSPECT_D``).

    and implement ``__call__(params, conditions=None)``.  ``conditions`` are the known observation conditions
    that are not estimated, e.g. the sun/view geometry of a canopy model; ``None`` for models without any (leaf
    models).  The observation is a pytree (e.g. :class:`~leafjax.physics.LeafOptics`) whose spectral arrays
    have shape ``(*batch, wl)``; the call is pure, so ``jax.jit``/``vmap``/``grad`` apply.

    Example:
        >>> import leafjax as lj
        >>> model = lj.ProspectD(wavelengths=[500.0, 800.0])
        >>> isinstance(model, AbstractForwardModel), [s.name for s in model.specs][:3]
        (True, ['n_struct', 'chl', 'car'])
    """

    params_type: eqx.AbstractClassVar[type]
    specs: eqx.AbstractClassVar[tuple[ParameterSpec, ...]]

    @abc.abstractmethod
    def __call__(self, params: Any, conditions: Any = None) -> Any:
        """The observation for ``params`` under ``conditions`` (see the class docstring)."""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the model's parameters, in the order of :attr:`specs`."""
        return tuple(s.name for s in self.specs)
