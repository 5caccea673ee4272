"""The sandbox: everything between a generated program's text and its column of votes.

    gate.py       static filter in front of everything (parent, never executes code)
    policy.py     what programs may import and name (shared by the gate and the worker)
    limits.py     settings (time, memory, budgets) and what happened to each program
    applier.py    the parent: one program per process, scheduling, deadlines, faults
    channel.py    the parent's side of one process: framed, size-capped, deadline-bound I/O
    forkserver.py starts the worker's fork server (`python -I` in an empty folder and environment)
    rows.py       what programs are called with: texts, or dicts of concept scores (image runs)
    worker/       the process side (standard library only): lockdown, syscall allowlist, row loop

Threat model and layers: docs/sandbox.md.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path

# Imported when first used, so reading settings (`main.py --help`) does not load the applier and numpy.
_LAZY = {"SandboxApplier": "applier", "SandboxError": "applier", "WORKER_SCRIPT": "forkserver",
         "ApplyResult": "limits", "ProgramRun": "limits", "ProgramSource": "limits", "SandboxLimits": "limits"}
__all__ = [*_LAZY, "code_hash"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"alchemist.sandbox.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'alchemist.sandbox' has no attribute {name!r}")


def code_hash() -> str:
    """Hash of everything that decides what a column contains — the sandbox's files and the Python that
    runs the programs (its version decides e.g. the unicodedata tables) — so a change invalidates cached columns."""
    here = Path(__file__).parent
    h = hashlib.sha256(sys.version.encode() + b"\0")
    for path in sorted([*here.glob("*.py"), *(here / "worker").glob("*.py")]):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
