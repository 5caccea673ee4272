"""Dask LocalCluster vs the local sandbox pool, same programs, same 1M rows, one run.

    .venv/bin/python bench/bench_dask.py [--rows 1000000] [--partition-rows 50000]
The Dask figure includes starting the cluster; both produce the same matrix (checked).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from bench_apply import PROGRAMS, sample_texts

from alchemist.programs.apply.dask_applier import DaskApplier
from alchemist.programs.program_files import load_program_dir
from alchemist.sandbox import SandboxApplier, SandboxLimits

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partition-rows", type=int, default=50_000)
    args = parser.parse_args()
    texts, source = sample_texts(args.rows)
    programs = [p.as_source() for p in load_program_dir(PROGRAMS)]
    limits = SandboxLimits()
    start = time.perf_counter()
    local = SandboxApplier(programs, 2, limits).apply(texts).matrix
    t_local = time.perf_counter() - start
    start = time.perf_counter()
    dask = DaskApplier(2, limits, partition_rows=args.partition_rows).run_sources(programs, texts).matrix
    t_dask = time.perf_counter() - start
    assert np.array_equal(local, dask), "the Dask matrix differs from the local one"
    print(f"{len(programs)} programs, {args.rows:,} rows of {source} comments, {os.cpu_count()} cores")
    print(f"  local pool        {t_local:6.1f}s  {args.rows / t_local:10,.0f} rows/s")
    print(f"  Dask LocalCluster {t_dask:6.1f}s  {args.rows / t_dask:10,.0f} rows/s  "
          f"({args.rows // args.partition_rows} partitions, cluster start included)")
    print(f"Dask / local = {t_local / t_dask:.2f}x the speed (identical matrices)")


if __name__ == "__main__":
    main()
