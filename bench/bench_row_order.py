"""The random row order of an apply (issue 26: programs cannot count calls to find the valid rows) against
the same apply in split order, in one run: ten bench programs over N rows, no column cache, alternating
runs; prints rows/s of each and the ratio (the issue allows 10% at most).

    .venv/bin/python bench/bench_row_order.py [--rows 200000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import alchemist.programs.apply.base as base
from alchemist.data.datasets import load_dataset
from alchemist.programs.apply import make_applier
from alchemist.programs.program_files import load_program_dir

ROOT = Path(__file__).resolve().parent.parent


class _InOrder:
    """What `np.random.default_rng()` gives the applier for the baseline: the identity permutation."""

    @staticmethod
    def permutation(n: int) -> np.ndarray:
        return np.arange(n)


def timed(programs, splits, in_order: bool) -> float:
    real = base.np.random.default_rng
    if in_order:
        base.np.random.default_rng = lambda *a, **k: _InOrder()
    try:
        start = time.perf_counter()
        make_applier("local", 2).apply(programs, splits)
        return time.perf_counter() - start
    finally:
        base.np.random.default_rng = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    demo = load_dataset("demo")
    texts = [t for s in demo.splits.values() for t in s.texts]
    rows = (texts * (args.rows // len(texts) + 1))[: args.rows]
    splits = {"train": rows[: int(args.rows * 0.8)], "valid": rows[int(args.rows * 0.8):]}
    programs = load_program_dir(ROOT / "bench" / "programs")
    runs = {True: [], False: []}
    for _ in range(args.repeats):
        for in_order in (True, False):
            runs[in_order].append(timed(programs, splits, in_order))
    split_order, shuffled = min(runs[True]), min(runs[False])
    print(f"{args.rows:,} rows x {len(programs)} programs (best of {args.repeats}): split order "
          f"{args.rows / split_order:,.0f} rows/s, random order {args.rows / shuffled:,.0f} rows/s; "
          f"random / split = {split_order / shuffled:.3f} of the throughput")


if __name__ == "__main__":
    main()
