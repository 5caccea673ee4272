"""The local backend: sandbox worker processes on this machine (one program per process)."""

from __future__ import annotations

from typing import Callable, Sequence

from alchemist.programs.apply.base import ProgramApplier
from alchemist.sandbox import ApplyResult, ProgramSource, SandboxApplier


class LocalApplier(ProgramApplier):
    backend = "local"

    def _run(self, sources: list[ProgramSource], rows: Sequence, tick: Callable[[int], None]) -> ApplyResult:
        return SandboxApplier(sources, self.n_classes, self.limits).apply(rows, progress=tick)
