"""Is a generated program usable? The static gate, then a trial run in the sandbox on a few rows."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Callable, Sequence

from alchemist.sandbox import ProgramSource, SandboxApplier, SandboxLimits
from alchemist.sandbox.gate import check_source
from alchemist.sandbox.rows import take


def trial_rows(texts: Sequence, n: int, seed: int = 0) -> Sequence:
    """A fixed sample of training rows (never test) for trial runs: texts, or ScoreRows (image runs)."""
    picked = range(len(texts)) if len(texts) <= n else sorted(random.Random(seed).sample(range(len(texts)), n))
    return take(texts, picked)


def make_checker(rows: Sequence, n_classes: int, limits: SandboxLimits) -> Callable[[str], str]:
    """A check for BaseMode: "" when usable, else the exact problem to send back to the LLM."""
    trial_limits = replace(limits, workers=1, chunk_rows=max(1, len(rows)))

    def check(code: str) -> str:
        gate = check_source(code)
        if not gate.ok:
            return f"rejected by the safety check: {gate.reason}"
        result = SandboxApplier([ProgramSource("trial", code)], n_classes, trial_limits).apply(rows)
        run = result.runs[0]
        if run.load_error:
            return f"failed to load: {run.load_error}"
        if run.crashes:
            return f"timed out or crashed on trial rows: {run.last_fault}"
        if rows and sum(run.errors.values()) >= len(rows):
            return f"failed on every one of {len(rows)} trial rows, e.g. {run.samples[0] if run.samples else ''}"
        return ""

    return check
