"""The sandbox: everything between a generated program's text and its column of votes.

    gate.py       static filter in front of everything (parent, never executes code)
    policy.py     what programs may import and name (shared by the gate and the worker)
    limits.py     settings (time, memory, budgets) and what happened to each program
    applier.py    the parent: one program per process, scheduling, deadlines, faults
    channel.py    the parent's side of one process: framed, size-capped, deadline-bound I/O
    worker/       the process side (standard library only): lockdown, syscall allowlist, row loop

Threat model and layers: README, "Sandbox".
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from alchemist.sandbox.applier import SandboxApplier, SandboxError
from alchemist.sandbox.forkserver import WORKER_SCRIPT
from alchemist.sandbox.limits import ApplyResult, ProgramRun, ProgramSource, SandboxLimits

__all__ = ["ApplyResult", "ProgramRun", "ProgramSource", "SandboxApplier", "SandboxError", "SandboxLimits",
           "WORKER_SCRIPT", "code_hash"]


def code_hash() -> str:
    """Hash of every file that decides what a column contains (a change invalidates cached columns)."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted([*here.glob("*.py"), *(here / "worker").glob("*.py")]):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
