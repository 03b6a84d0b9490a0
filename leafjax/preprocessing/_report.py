"""The report every preprocessing step returns beside its result."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class StepReport:
    """What one preprocessing step did.

    **Fields:** ``step`` (function name), ``message`` (one human-readable line), ``n_rows_changed`` (spectra
    modified or flagged), ``n_bands_changed`` (bands modified or masked, per spectrum where relevant) and
    ``details`` (step-specific numbers, e.g. per-row splice steps or the rows converted from percent).
    """

    step: str
    message: str
    n_rows_changed: int = 0
    n_bands_changed: int = 0
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"[{self.step}] {self.message}"
