"""Label quality: the same programs through a naive pipeline and through ours, test scores side by side.

Naive: every program that runs goes into Snorkel's label model, then TF-IDF + MLP (the pipeline of
the paper's code). Ours: vetting on valid, the label model chosen on valid (`--label-model auto`),
the same distillation. Nothing is chosen on test; test is only scored.

Program sets: bench/programs (youtube, LLM-style), bench/programs_imdb (imdb, LLM-style), and each
dataset's own human-written programs (`--human`) where the data has them.

    .venv/bin/python bench/bench_quality.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import RunConfig  # noqa: E402
from executor import Executor  # noqa: E402

CASES = [  # (dataset, programs folder or None for the dataset's human programs)
    ("youtube", ROOT / "bench" / "programs"),
    ("imdb", ROOT / "bench" / "programs_imdb"),
    ("youtube", None), ("sms", None),  # the datasets whose files carry human programs' votes
]


def run(dataset: str, programs: Path | None, data_dir: Path, seeds: int, naive: bool, out: Path) -> dict:
    config = RunConfig(dataset=dataset, data_dir=data_dir, programs_dir=programs, human=programs is None,
                       seeds=seeds, out_dir=out, label_model="snorkel" if naive else "auto", vetting=not naive,
                       column_cache=False)
    return Executor(config).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(os.environ.get("ALCHEMIST_SHARED_DATA", ROOT.parent / "shared" / "datasets"))
    if not data_dir.is_dir():
        sys.exit(f"needs the shared datasets at {data_dir}")
    print(f"{'dataset':10} {'programs':10} {'metric':6} {'label model test':>24} {'distilled test':>22}  choice")
    with tempfile.TemporaryDirectory() as tmp:
        for dataset, programs in CASES:
            if not (data_dir / dataset).is_dir():
                continue
            naive = run(dataset, programs, data_dir, args.seeds, True, Path(tmp) / "naive")
            ours = run(dataset, programs, data_dir, args.seeds, False, Path(tmp) / "ours")
            left_out = sum(p["status"] in ("duplicate", "no coverage", "below chance") for p in ours["programs"])
            lm = f"{naive['label_model']['test']:.3f} -> {ours['label_model']['test']:.3f}"
            dist = f"{naive['distilled']['test_mean']:.3f} -> {ours['distilled']['test_mean']:.3f}"
            print(f"{dataset:10} {'human' if programs is None else 'LLM-style':10} {ours['metric']:6} {lm:>24} "
                  f"{dist:>22}  {ours['label_model']['name']}, {left_out} of {len(ours['programs'])} vetted out",
                  flush=True)


if __name__ == "__main__":
    main()
