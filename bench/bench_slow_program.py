"""A merely slow program: how much can it add to a run? (Target: at most 60 s on youtube.)

The program passes the gate and never times out: each call does ~0.9 s of busy work, just under the
1 s row limit. Without a per-program budget it would hold a core for rows × 0.9 s (about 15 minutes
of two cores on youtube's 2,056 train rows plus valid and test); with it, it is stopped and reported.
Prints the time of the ten bench programs alone and with the slow one added, measured in the same run.

    .venv/bin/python bench/bench_slow_program.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from alchemist.data.datasets import load_dataset
from alchemist.programs.program_files import load_program_dir
from alchemist.sandbox import ProgramSource, SandboxApplier, SandboxLimits
from alchemist.sandbox.gate import check_source

ROOT = Path(__file__).resolve().parent.parent


def slow_program(seconds: float) -> str:
    """Busy work calibrated on this machine to take `seconds` per call."""
    n = 200_000
    start = time.process_time()
    sum(i * i for i in range(n))
    per = (time.process_time() - start) / n
    k = int(seconds / per)
    return f"def label_function(x):\n    s = sum(i * i for i in range({k}))\n    return s % 2\n"


def main() -> None:
    shared = Path(os.environ.get("ALCHEMIST_SHARED_DATA", ROOT.parent / "shared" / "datasets"))
    name, where = ("youtube", shared) if (shared / "youtube").is_dir() else ("demo", None)
    data = load_dataset(name, where)
    texts = [t for split in data.splits.values() for t in split.texts]
    programs = [p.as_source() for p in load_program_dir(ROOT / "bench" / "programs")]
    slow = slow_program(0.9)
    assert check_source(slow).ok
    limits = SandboxLimits()
    print(f"{name}: {len(texts):,} rows; budget per program {limits.program_budget_s(len(texts)):g}s")
    start = time.monotonic()
    SandboxApplier(programs, 2, limits).apply(texts)
    alone = time.monotonic() - start
    start = time.monotonic()
    result = SandboxApplier(programs + [ProgramSource("slow", slow)], 2, limits).apply(texts)
    both = time.monotonic() - start
    run = result.runs[-1]
    print(f"ten programs: {alone:.1f}s; with the slow one: {both:.1f}s (+{both - alone:.1f}s)")
    print(f"the slow program: {run.disabled_reason or 'not stopped'}; charged {run.seconds:.1f}s")
    print(f"without a budget it would take about {len(texts) * 0.9 / 60:.0f} minutes of one core")


if __name__ == "__main__":
    main()
