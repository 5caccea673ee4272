"""Distilling a dataset: choose the candidates' features by what they would cost at this size, build them
(embeddings from the cache or computed once, with their own progress bar), then fit.py chooses on valid
and trains the classifier. What the run's distillation stage and the public API both call.

At scale the defaults still finish in minutes: the classifier trains on a random sample of at most
TRAIN_ROWS_MAX labeled train rows (all of them below that: every built-in dataset), and embeddings are a
candidate only when embedding every row that needs it (the sample, valid, test, the rows no program voted
on) would take at most EMBED_BUDGET_S on this machine, measured on a sample of the rows. What was
decided is said in the notes (the report's warnings), with the option that overrides it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Sequence

import numpy as np

from alchemist.core.progress import NullProgress, Progress
from alchemist.data.datasets import SPLITS, Dataset, subset
from alchemist.distillation.embeddings import TextEncoder
from alchemist.distillation.fit import (
    DistillResult,
    FeatureSet,
    Stack,
    candidates_for,
    distill,
    fit_count,
    prepare,
    selection,
    stack_inputs,
)

TRAIN_ROWS_MAX = 50_000  # an MLP fit on 50k TF-IDF rows takes about half a minute on 2 cores
EMBED_BUDGET_S = 300.0  # embeddings are chosen when computing them would take at most this long
PREDICT_CHUNK = 20_000  # rows labeled at a time by the distilled model


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{math.ceil(seconds / 60)} min"


def training_sample(dataset: Dataset, options: dict[str, np.ndarray], cap: int = TRAIN_ROWS_MAX,
                    seed: int = 0) -> tuple[Dataset, dict[str, np.ndarray], str, np.ndarray | None]:
    """At most `cap` train rows that some program voted on, drawn at random (seeded), with their labels;
    the dataset and options unchanged below that. Returns them, a note ("" when nothing was sampled) and
    the train rows kept (None: all)."""
    first = next(iter(options.values()), None)
    if first is None:
        return dataset, options, "", None
    covered = np.flatnonzero(np.asarray(first) >= 0)
    if len(covered) <= cap:
        return dataset, options, "", None
    rows = np.sort(np.random.default_rng(seed).choice(covered, cap, replace=False))
    train = subset(dataset.train, rows)
    sampled = dataclasses.replace(dataset, splits={**dataset.splits, "train": train})
    note = (f"the distilled model trains on a random sample of {cap:,} of the {len(covered):,} train rows some "
            f"program voted on (what finishes in minutes); the label model labels all of them")
    return sampled, {name: np.asarray(labels)[rows] for name, labels in options.items()}, note, rows


def plan_features(dataset: Dataset, requested: str, can_choose: bool, encoder: TextEncoder | None,
                  also_embedded: Sequence[str] = (), budget_s: float = EMBED_BUDGET_S) -> tuple[list[str], list[str]]:
    """The candidates worth building at this size, and notes on those left out. `also_embedded`: texts the
    model will label afterwards (rows no program voted on), which an embedding model would embed too."""
    names = candidates_for(requested) if can_choose or requested != "auto" else ["tfidf"]
    if requested != "auto" or not {"embeddings", "combined"} & set(names) or encoder is None:
        return names, []
    texts = [dataset.get(s).texts for s in SPLITS if dataset.get(s) is not None] + [list(also_embedded)]
    todo = sum(encoder.missing(t) for t in texts)
    if not todo:
        return names, []
    seconds = todo / encoder.rate(dataset.train.texts)
    if seconds <= budget_s:
        return names, []
    kept = [n for n in names if n not in ("embeddings", "combined")]
    return kept, [f"embeddings left out of the distilled model's candidates: embedding {todo:,} rows would take "
                  f"about {_duration(seconds)} on this machine (--features embeddings to use them anyway)"]


def build_features(dataset: Dataset, names: Sequence[str], encoder: TextEncoder | None = None,
                   progress: Progress | None = None) -> tuple[list[FeatureSet], list[str], float | None]:
    """Each candidate's features for every split, the notes on candidates that could not be built, and the
    seconds spent embedding (None when every embedding came from the cache or none was needed)."""
    texts = [dataset.get(s).texts if dataset.get(s) is not None else [] for s in SPLITS]
    encoder = (encoder or TextEncoder()) if {"embeddings", "combined"} & set(names) else None
    todo = sum(encoder.missing(split) for split in texts) if encoder else 0  # cached per split, as encoded
    start = time.monotonic()
    with (progress or NullProgress()).stage(f"Embedding texts ({encoder.description})" if todo else
                                            "Building features", total=todo or None, unit="rows") as stage:
        sets, notes = prepare(names, *texts, encoder=encoder, advance=stage.advance if todo else None)
    return sets, notes, (time.monotonic() - start) if todo else None


def train(dataset: Dataset, sets: Sequence[FeatureSet], options: dict[str, np.ndarray], seeds: int,
          progress: Progress | None = None, with_gold: bool = True, stack: Stack | None = None) -> DistillResult:
    """Choose on valid among (features x label models' train labels, also with valid's gold rows and the
    gold rows alone when `with_gold`), train the winner over `seeds`, score it on test. `options`: label
    model name -> train labels (-1 where no program voted)."""
    card = dataset.card
    valid, test = dataset.get("valid"), dataset.get("test")
    valid_labels = valid.labels if valid is not None and valid.has_labels else None
    with_gold = with_gold and valid_labels is not None and len(np.unique(valid_labels[valid_labels >= 0])) >= 2
    choosing = valid_labels is not None and (len(sets) * len(options) > 1 or with_gold)
    plan = selection(dataset.train.texts, valid.texts) if choosing else None
    gold_recipes = (4 if stack is not None else 3) if with_gold else 0  # + gold, stacked, agreed, gold only
    steps = fit_count(sets, seeds, valid_labels is not None, plan, len(options), gold_recipes)
    title = ("Distilling (" + (" or ".join(s.features.label for s in sets) or "no features")
             + (f", labels of {len(options)} label models" if len(options) > 1 else "")
             + (f", {len(dataset.train):,} sampled rows" if len(dataset.train) >= TRAIN_ROWS_MAX else "") + ")")
    with (progress or NullProgress()).stage(title, total=steps, unit="fits") as stage:
        return distill(sets, options, card.classes, seeds, valid_labels,
                       test.labels if test is not None and test.has_labels else None,
                       card.metric, card.positive_class, plan=plan, on_fit=stage.advance, with_gold=with_gold,
                       stack=stack if with_gold else None)


def stack_for(labels, sets: Sequence[FeatureSet], n_classes: int, rows: np.ndarray | None = None) -> Stack | None:
    """The stacked candidate's inputs (see fit.Stack) from a run's `Labels` and the embedding features;
    None without embeddings or votes on valid. `rows`: the train rows the distilled model trains on."""
    emb = next((s for s in sets if s.features.name == "embeddings"), None)
    if emb is None or emb.valid is None or "valid" not in labels.votes or "train" not in labels.votes:
        return None
    take = (lambda a: a) if rows is None else (lambda a: np.asarray(a)[rows])
    train = stack_inputs(take(labels.votes["train"]), take(labels.probs["train"]), emb.train, n_classes)
    valid = stack_inputs(labels.votes["valid"], labels.probs["valid"], emb.valid, n_classes)
    return Stack(train, valid, take(labels.covered["train"]))


def predict_rows(model, texts: Sequence[str], progress: Progress | None = None, title: str = "Labeling rows",
                 chunk: int = PREDICT_CHUNK) -> np.ndarray:
    """The distilled model's class probabilities of many texts, a chunk at a time (bounded memory), with
    progress."""
    out = np.zeros((len(texts), len(model.classes)))
    with (progress or NullProgress()).stage(title, total=len(texts), unit="rows") as stage:
        for lo in range(0, len(texts), chunk):
            out[lo:lo + chunk] = model.predict_proba(texts[lo:lo + chunk])
            stage.advance(min(chunk, len(texts) - lo))
    return out
