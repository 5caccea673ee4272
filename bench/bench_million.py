"""A million rows with the defaults: `apply` of ten programs end to end, as a user runs it (the target:
within 10 minutes on 2 cores, under 4 GB of memory, process and workers together).

Builds a CSV of N labeled comments drawn (with replacement) from YouTube comments (../shared/datasets, or the
bundled demo when absent), then runs `python main.py apply bench/programs --dataset big.csv` with no other
option, sampling the resident memory of the whole process tree, and prints each stage as the command says it.

    .venv/bin/python bench/bench_million.py [--rows 1000000] [--data-dir ../shared/datasets] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def source_rows(data_dir: Path) -> list[tuple[str, str]]:
    folder = data_dir / "youtube" if (data_dir / "youtube").is_dir() else ROOT / "datasets" / "demo"
    classes = json.loads((folder / "label.json").read_text())
    rows = []
    for split in ("train", "valid", "test"):
        path = folder / f"{split}.json"
        if path.exists():
            rows += [(r["data"]["text"], classes[str(r["label"])]) for r in json.loads(path.read_text()).values()]
    return rows


def write_csv(path: Path, rows: list[tuple[str, str]], n: int) -> None:
    """N rows, each a source comment plus 0-3 words of the corpus at random: as many distinct texts as rows
    (so TF-IDF and the classifier see a million-row vocabulary's worth of variety, not 2,000 repeats)."""
    rng = random.Random(0)
    words = sorted({w for text, _ in rows for w in text.split()})
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "label"])
        for i in range(n):
            text, label = rows[rng.randrange(len(rows))]
            writer.writerow([i, " ".join([text, *(rng.choice(words) for _ in range(rng.randrange(4)))]), label])


def peak_memory(proc: subprocess.Popen, peak: list[float]) -> None:
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            peak[0] = max(peak[0], total / 1e9)
        except psutil.Error:
            pass
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--keep", metavar="DIR", help="write the CSV and the run here (default: a temporary folder)")
    parser.add_argument("extra", nargs="*", help="more options for `apply` (none: the defaults)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="alchemist-million-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "big.csv"
    start = time.monotonic()
    write_csv(data, source_rows(Path(args.data_dir)), args.rows)
    print(f"{args.rows:,} rows written to {data} in {time.monotonic() - start:.0f}s ({data.stat().st_size / 1e6:.0f} MB)")
    env = {**os.environ, "ALCHEMIST_CACHE_DIR": str(work / "cache")}
    command = [sys.executable, str(ROOT / "main.py"), "apply", str(ROOT / "bench" / "programs"), "--dataset",
               str(data), "--out", str(work / "out"), "--json", str(work / "report.json"), *args.extra]
    start = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    watcher = threading.Thread(target=peak_memory, args=(proc, peak), daemon=True)
    watcher.start()
    _, err = proc.communicate()
    total = time.monotonic() - start
    watcher.join(timeout=1)
    for line in err.splitlines():
        if ": " in line and (" in " in line or "done" in line):
            print("  " + line[:150])
    print(f"exit {proc.returncode}; {total:.0f}s in all ({total / 600:.2f}x the 10-minute target); peak memory "
          f"{peak[0]:.2f} GB ({peak[0] / 4:.2f}x the 4 GB target), {psutil.cpu_count()} cores")
    if proc.returncode == 0:
        report = json.loads((work / "report.json").read_text())
        dist = report.get("distilled", {})
        print(f"label model {report['label_model'].get('test')}, distilled {dist.get('test_mean')} "
              f"(trained on {dist.get('trained_on'):,} rows); timings {report.get('timings_s')}")
    else:
        print(err[-2000:])


if __name__ == "__main__":
    main()
