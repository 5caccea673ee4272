"""Applying labeling programs: one base, a backend per place the sandbox runs (as Snorkel's `apply/`).

    base.py           ProgramApplier: the column cache, the status rule, columns into votes (`apply`)
    local.py          LocalApplier: sandbox worker processes on this machine
    dask_applier.py   DaskApplier: the same sandboxed evaluation inside Dask workers, over partitions;
                      `apply_frame` for a Parquet/CSV file read partition by partition, never whole

`make_applier(backend, ...)` picks one. Every backend runs each program in its own locked-down process
(alchemist/sandbox/).
"""

from __future__ import annotations

from pathlib import Path

from alchemist.programs.apply.base import ProgramApplier
from alchemist.sandbox import SandboxLimits


def make_applier(backend: str, n_classes: int, limits: SandboxLimits | None = None, *,
                 cache_folder: Path | None = None, scheduler: str | None = None,
                 partition_rows: int | None = None) -> ProgramApplier:
    """The applier of a backend: "local", or "dask" (`scheduler` address, rows per partition)."""
    if backend == "dask":
        from alchemist.programs.apply.dask_applier import DEFAULT_PARTITION_ROWS, DaskApplier

        return DaskApplier(n_classes, limits, cache_folder, scheduler, partition_rows or DEFAULT_PARTITION_ROWS)
    from alchemist.programs.apply.local import LocalApplier

    return LocalApplier(n_classes, limits, cache_folder)
