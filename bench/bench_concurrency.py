"""The LLM stage at the speed of the API: one 10-program Alchemist run (20 calls: knowledge + code per
program) against a local stand-in server that takes 1.0 s per request, one request at a time
(`--concurrency 1`, the baseline, measured in the same run) and side by side (`--concurrency 8`);
then the budget with requests in flight, and start-up time of `main.py --help` / `main.py datasets`.

    .venv/bin/python bench/bench_concurrency.py [--delay 1.0]

Targets: concurrent ≤ 0.35x sequential with at least 4 requests in flight; a 10-program run with
--max-cost 0.002 (gpt-4o-mini prices) stops for the budget within it; start-up ≤ 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from alchemist.cli import main
from alchemist.testing.fake_llm import FakeLLM, smart_reply

ROOT = Path(__file__).resolve().parent.parent


def llm_run(tmp: Path, delay: float, *extra: str) -> tuple[float, dict, int]:
    """(seconds of the LLM stage, manifest, most requests in flight at the server)."""
    with FakeLLM(smart_reply) as server:
        server.delay = delay
        report_path = tmp / f"r{len(list(tmp.glob('r*.json')))}.json"
        with open(os.devnull, "w") as quiet, redirect_stdout(quiet), redirect_stderr(quiet):
            code = main.main(["run", "--dataset", "demo", "--mode", "alchemist", "--num-programs", "10",
                              "--base-url", server.openai_url, "--refine-rounds", "0", "--seeds", "1",
                              "--features", "tfidf", "--label-model", "majority", "--out", str(tmp / "runs"),
                              "--json", str(report_path), *extra])
        assert code == 0, "the run failed"
        report = json.loads(report_path.read_text())
        manifest = json.loads((Path(report["run_dir"]) / "manifest.json").read_text())
        return report["timings_s"]["generate"], manifest, server.peak_in_flight


def startup(argv: list[str], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the server takes per request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ.update(OPENAI_API_KEY="sk-bench", ALCHEMIST_CACHE_DIR=str(tmp / "cache-seq"))
        seq, manifest, peak_seq = llm_run(tmp, args.delay, "--concurrency", "1")
        calls = len(manifest["calls"])
        os.environ["ALCHEMIST_CACHE_DIR"] = str(tmp / "cache-par")  # a cold cache: every call goes out
        par, _, peak = llm_run(tmp, args.delay, "--concurrency", "8")
        print(f"LLM stage, {calls} calls at {args.delay:.1f} s each:")
        print(f"  one at a time (baseline)  {seq:6.2f} s   (at most {peak_seq} in flight)")
        print(f"  --concurrency 8           {par:6.2f} s   (at most {peak} in flight)   "
              f"ratio {par / seq:.2f}x (target <= 0.35x, >= 4 in flight)")
        os.environ["ALCHEMIST_CACHE_DIR"] = str(tmp / "cache-budget")
        _, budget, peak_b = llm_run(tmp, args.delay / 4, "--mode", "scriptoriumws", "--code-model", "gpt-4o-mini",
                                    "--max-cost", "0.002")
        totals = budget["totals"]
        print(f"Budget: 10 programs, --max-cost 0.002: status '{budget['status']}', {len(budget['programs'])} "
              f"programs, ${totals['cost_usd']:.5f} spent ({'within' if totals['cost_usd'] <= 0.002 else 'OVER'} "
              f"the cap), at most {peak_b} in flight")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    interpreter = time.perf_counter() - start
    for argv in (["--help"], ["datasets"]):
        t = startup(argv)
        print(f"Start-up: main.py {' '.join(argv):9} {t:.3f} s (target <= 0.3 s; bare interpreter {interpreter:.3f} s)")


if __name__ == "__main__":
    main_()
