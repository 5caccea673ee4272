"""The votes of a run's programs: per-split label matrices plus what happened to each program."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alchemist.sandbox import ProgramRun


@dataclass
class Programs:
    """Programs of a run, their per-split label matrices (all programs' columns) and what happened."""

    names: list[str]
    statuses: list[str]
    reasons: list[str]
    matrices: dict[str, np.ndarray]
    runs: list[ProgramRun | None] = field(default_factory=list)
    layers: dict[str, str] = field(default_factory=dict)  # sandbox layers that were active
    sandbox_note: str = ""  # why the sandbox did not run (human votes, every column cached)

    @property
    def usable(self) -> list[int]:
        return [i for i, s in enumerate(self.statuses) if s == "ok"]
