"""CLIP image embedding speed, with ViT-B/32's shapes (random weights: the speed is the same): images per
second one at a time (the baseline, measured in the same run) and in batches of clip.BATCH, and a second
pass answered by the cache. No network: the model is built here.

    .venv/bin/python bench/bench_clip.py [--images 256]

Targets: batched ≥ 2x the one-at-a-time rate; the cached pass ≤ 0.1x the batched time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import alchemist.clip as clip
from alchemist.testing.tiny_clip import build_tiny_clip

ROOT = Path(__file__).resolve().parent.parent


def make_photos(folder: Path, n: int) -> list[str]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(path, quality=85)
        paths.append(str(path))
    return paths


def timed(encoder: clip.ClipEncoder, paths: list[str]) -> float:
    start = time.perf_counter()
    encoder.images(paths)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_clip(Path(tmp) / "clip-b32-random", full_size=True)
        paths = make_photos(Path(tmp) / "photos", args.images)
        clip.ClipEncoder(str(model)).concepts(["warm-up"])  # load once, outside the timings
        batch = clip.BATCH
        clip.BATCH = 1
        single = timed(clip.ClipEncoder(str(model)), paths[:max(8, args.images // 8)]) * 8
        clip.BATCH = batch
        cached = clip.ClipEncoder(str(model), Path(tmp) / "cache")
        batched = timed(cached, paths)
        again = timed(cached, paths)
    n = args.images
    print(f"one at a time: {n / single:.1f} images/s (estimated from {max(8, n // 8)} images)")
    print(f"batches of {batch}: {n / batched:.1f} images/s — {single / batched:.2f}x the one-at-a-time rate")
    print(f"from the cache: {again:.2f}s — {again / batched:.3f}x the batched time")


if __name__ == "__main__":
    main()
