"""Embedding speed for distillation features: imdb embedded the first time, and an imdb re-run end to end.

Baseline, measured in the same run: sentence-transformers' own `encode` of the shipped MiniLM (float32,
its default 256 word pieces) on a 1,000-review sample. Ours: head+tail 96 word pieces, length-sorted
batches, bfloat16 where the CPU has it. Then every imdb split through our encoder with an empty cache
(target: 27,500 reviews in at most 4 minutes), then `apply` of bench/programs_imdb twice with the same
caches, timing the second (LLM excluded; target at most 60 s).

    .venv/bin/python bench/bench_embeddings.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from alchemist.data.datasets import load_dataset
from alchemist.distillation.embeddings import TextEncoder

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    data_dir = Path(os.environ.get("ALCHEMIST_SHARED_DATA", ROOT.parent / "shared" / "datasets"))
    if not (data_dir / "imdb").is_dir():
        sys.exit(f"needs imdb in the shared datasets at {data_dir}")
    dataset = load_dataset("imdb", data_dir)
    texts = [t for s in ("train", "valid", "test") if (sp := dataset.get(s)) for t in sp.texts]
    sample = texts[:1000]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ALCHEMIST_CACHE_DIR"] = str(Path(tmp) / "llm")
        from alchemist.generate.rag import _local_model

        reference = _local_model()
        start = time.monotonic()
        reference.encode(sample, batch_size=32)
        base = time.monotonic() - start
        ours = TextEncoder()
        ours.load()
        start = time.monotonic()
        ours.encode(sample)
        mine = time.monotonic() - start
        print(f"1,000 imdb reviews: sentence-transformers fp32/256 {base:.1f}s, ours "
              f"({ours.description}) {mine:.1f}s: {base / mine:.2f}x faster")
        encoder = TextEncoder(Path(tmp) / "embeddings")
        start = time.monotonic()
        encoder.encode(texts)
        first = time.monotonic() - start
        print(f"all imdb splits, empty cache: {len(texts):,} reviews in {first:.0f}s "
              f"({len(texts) / first:.0f}/s; 27,500 would take {27_500 * first / len(texts):.0f}s; target 240s)")
        from alchemist.pipeline.executor import Executor
        from alchemist.pipeline.run_config import RunConfig

        def apply() -> float:
            config = RunConfig(dataset="imdb", data_dir=data_dir, programs_dir=ROOT / "bench" / "programs_imdb",
                               out_dir=Path(tmp) / "runs", seeds=5)
            start = time.monotonic()
            Executor(config).run()
            return time.monotonic() - start

        cold = apply()
        warm = apply()
        print(f"imdb apply end to end (10 programs, features auto, 5 seeds): first {cold:.0f}s, "
              f"re-run {warm:.0f}s (target 60s)")


if __name__ == "__main__":
    main()
