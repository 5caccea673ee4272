"""Distilling a dataset: build each candidate's features (embeddings from the cache or computed once,
with their own progress bar), then fit.py chooses on valid and trains the classifier. What the run's
distillation stage and the public API (`alchemist.distill`) both call."""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from alchemist.core.progress import NullProgress, Progress
from alchemist.data.datasets import SPLITS, Dataset
from alchemist.distillation.embeddings import TextEncoder
from alchemist.distillation.fit import DistillResult, FeatureSet, candidates_for, distill, fit_count, prepare, selection


def build_features(dataset: Dataset, requested: str, can_choose: bool, encoder: TextEncoder | None = None,
                   progress: Progress | None = None) -> tuple[list[FeatureSet], list[str], float | None]:
    """Each candidate's features for every split, the notes on candidates that could not be built, and the
    seconds spent embedding (None when every embedding came from the cache or none was needed)."""
    names = candidates_for(requested) if can_choose or requested != "auto" else ["tfidf"]
    texts = [dataset.get(s).texts if dataset.get(s) is not None else [] for s in SPLITS]
    if {"embeddings", "combined"} & set(names):
        encoder = encoder or TextEncoder()
    else:
        encoder = None
    todo = sum(encoder.missing(split) for split in texts) if encoder else 0  # cached per split, as encoded
    start = time.monotonic()
    with (progress or NullProgress()).stage(f"Embedding texts ({encoder.description})" if todo else
                                            "Building features", total=todo or None, unit="rows") as stage:
        sets, notes = prepare(names, *texts, encoder=encoder, advance=stage.advance if todo else None)
    return sets, notes, (time.monotonic() - start) if todo else None


def train(dataset: Dataset, sets: Sequence[FeatureSet], options: dict[str, np.ndarray], seeds: int,
          progress: Progress | None = None) -> DistillResult:
    """Choose on valid among (features x label models' train labels), train the winner over `seeds`, score
    it on test. `options`: label model name -> train labels (-1 where no program voted)."""
    card = dataset.card
    valid, test = dataset.get("valid"), dataset.get("test")
    valid_labels = valid.labels if valid is not None and valid.has_labels else None
    choosing = valid_labels is not None and len(sets) * len(options) > 1
    plan = selection(dataset.train.texts, valid.texts) if choosing else None
    steps = fit_count(sets, seeds, valid_labels is not None, plan, len(options))
    title = ("Distilling (" + (" or ".join(s.features.label for s in sets) or "no features")
             + (f", labels of {len(options)} label models" if len(options) > 1 else "") + ")")
    with (progress or NullProgress()).stage(title, total=steps, unit="fits") as stage:
        return distill(sets, options, card.classes, seeds, valid_labels,
                       test.labels if test is not None and test.has_labels else None,
                       card.metric, card.positive_class, plan=plan, on_fit=stage.advance)
