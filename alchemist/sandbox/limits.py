"""Sandbox settings and results: what a run may use, and what happened to each program."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: settings are read at start-up, before numpy is needed
    import numpy as np


@dataclass
class SandboxLimits:
    row_timeout_s: float = 1.0  # CPU seconds one call may take before it abstains
    memory_mb: int = 1024  # address-space limit of each program process
    max_row_timeouts: int = 3  # timeouts in one chunk before the rest of that chunk is skipped
    max_faults: int = 3  # crashes, kills and skipped chunks before a program is disabled
    workers: int = 0  # program processes at a time; 0 = one per core
    chunk_rows: int = 2000
    namespaces: bool = True
    seccomp: bool = True
    allow_weak: bool = False  # run programs even where neither seccomp nor namespaces are available
    stall_grace_s: float = 6.0  # wall-clock slack on top of the CPU limits before the parent kills
    budget_min_s: float = 20.0  # every program may use at least this much wall-clock time in all
    budget_per_row_ms: float = 10.0  # ... or this much per row, whichever is more ...
    budget_max_s: float = 900.0  # ... but never more than this (unless budget_min_s is more): 15 minutes
    budget_s: float | None = None  # a fixed total per program (the Dask backend splits one this way)
    startup_s: float = 30.0  # a worker that is not ready by then is broken (not the program's fault)

    @property
    def stall_s(self) -> float:
        """Wall-clock time without a single row's result after which a program process is killed."""
        return 2 * self.row_timeout_s + self.stall_grace_s

    def chunk_deadline_s(self, rows: int) -> float:
        return rows * self.row_timeout_s + self.stall_grace_s

    def program_budget_s(self, n_rows: int) -> float:
        """Wall-clock time one program may hold workers for over the whole apply (load included)."""
        if self.budget_s is not None:
            return self.budget_s
        scaled = min(self.budget_per_row_ms * n_rows / 1000, self.budget_max_s)
        return max(self.budget_min_s, scaled)

    def n_workers(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


@dataclass
class ProgramSource:
    name: str
    source: str


@dataclass
class ProgramRun:
    """What happened to one program while it was applied."""

    errors: Counter = field(default_factory=Counter)  # exception / non_int / out_of_range / timeout / ...
    samples: list[str] = field(default_factory=list)
    crashes: int = 0  # faults charged to this program: deaths, kills, skipped chunks
    load_error: str | None = None
    disabled_reason: str | None = None
    last_fault: str = ""
    seconds: float = 0.0  # wall-clock time its processes spent loading and labeling

    @property
    def usable(self) -> bool:
        return self.load_error is None and self.disabled_reason is None


@dataclass
class ApplyResult:
    matrix: np.ndarray  # (n_rows, n_programs) int8, -1 = abstain
    runs: list[ProgramRun]
    layers: dict[str, str]
