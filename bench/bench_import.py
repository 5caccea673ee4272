"""How long `import alchemist` takes (the target: under 0.3 s), against a bare interpreter start in the
same run, and what `alchemist --help` costs.

    .venv/bin/python bench/bench_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bare = timed([sys.executable, "-c", "pass"], args.runs)
    package = timed([sys.executable, "-c", "import alchemist"], args.runs)
    api = timed([sys.executable, "-c", "import alchemist; alchemist.load_data"], args.runs)
    print(f"python -c pass                       {bare * 1000:7.1f} ms")
    print(f"python -c 'import alchemist'         {package * 1000:7.1f} ms  (+{(package - bare) * 1000:.1f} ms, "
          f"{package / bare:.2f}x a bare start; target < 300 ms)")
    print(f"... and first use of the API          {api * 1000:7.1f} ms  ({api / bare:.2f}x a bare start)")
    beside = Path(sys.executable).with_name("alchemist")  # the venv's own command first
    command = str(beside) if beside.exists() else shutil.which("alchemist")
    if command:
        helped = timed([command, "--help"], args.runs)
        print(f"alchemist --help                     {helped * 1000:7.1f} ms  ({helped / bare:.2f}x a bare start)")


if __name__ == "__main__":
    main()
