"""End to end on the largest real dataset (imdb: 20,000 reviews), LLM time excluded.

Applies ten LLM-style sentiment programs (bench/programs_imdb) with the sandbox, fits the label
model, distills the MLP over 5 seeds and writes the report — exactly what `python main.py apply`
does — printing wall time and peak memory (resident, sampled every 50 ms) per stage.

    .venv/bin/python bench/bench_end_to_end.py [--data-dir ../shared/datasets] [--dataset imdb]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import psutil

from alchemist.core.progress import NullProgress
from alchemist.pipeline.executor import Executor
from alchemist.pipeline.run_config import RunConfig

ROOT = Path(__file__).resolve().parent.parent


class StageClock(NullProgress):
    """Records when each stage starts and ends, and the peak memory (this process + its workers)."""

    def __init__(self):
        self.stages: list[list] = []  # [name, start, end, peak_mb]
        self._stop = False
        self._proc = psutil.Process()
        threading.Thread(target=self._sample, daemon=True).start()

    def _rss_mb(self) -> float:
        procs = [self._proc] + self._proc.children(recursive=True)
        total = 0.0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 1e6

    def _sample(self) -> None:
        while not self._stop:
            if self.stages and self.stages[-1][2] is None:
                self.stages[-1][3] = max(self.stages[-1][3], self._rss_mb())
            time.sleep(0.05)

    def stage(self, name, total=None, unit="rows"):
        clock = self

        class _Stage:
            def advance(self, n=1):
                pass

            def note(self, text):
                pass

            def __enter__(self):
                clock.stages.append([name, time.monotonic(), None, clock._rss_mb()])
                return self

            def __exit__(self, *exc):
                clock.stages[-1][2] = time.monotonic()

        return _Stage()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--dataset", default="imdb")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    clock = StageClock()
    with tempfile.TemporaryDirectory() as out:
        config = RunConfig(dataset=args.dataset, programs_dir=ROOT / "bench" / "programs_imdb",
                           data_dir=Path(args.data_dir), seeds=args.seeds, out_dir=Path(out), column_cache=False)
        start = time.monotonic()
        report = Executor(config, clock).run()
        total = time.monotonic() - start
    clock._stop = True
    print(f"{args.dataset}: {sum(report['splits'].values()):,} rows, {len(report['programs'])} programs, "
          f"{args.seeds} seeds")
    for name, s, e, peak in clock.stages:
        print(f"  {name:34s} {e - s:6.1f}s   peak {peak:,.0f} MB")
    t = report["timings_s"]
    print(f"  loading the data and writing outputs {total - t['apply'] - t['label_model'] - t['distill']:6.1f}s")
    print(f"total {total:.1f}s (excluding LLM time).  label model test {report['label_model']['test']:.3f}, "
          f"majority vote {report['majority_vote']['test']:.3f}, distilled {report['distilled']['test_mean']:.3f}"
          f" ± {report['distilled']['test_std']:.3f}")


if __name__ == "__main__":
    main()
