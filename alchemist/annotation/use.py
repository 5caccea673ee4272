"""A run's dataset with a person's answers in it: the random answers are the valid split (scores, class
balance, vetting, label-model and feature choices), the chosen answers train the distilled model only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from alchemist.annotation.answers import Answers, check, default_path, read
from alchemist.data.datasets import Dataset, Split, subset


def find(dataset: Dataset, path: Path | None) -> Answers | None:
    """The answers for this dataset: the file given (it must exist), else annotations/<dataset>.jsonl if
    there is one; checked against the data's train rows."""
    given = path is not None
    path = path or default_path(dataset.name)
    if not given and not path.exists():
        return None
    answers = read(path)
    train = dataset.train
    check(answers, train.ids, train.texts, dataset.card.classes)
    return answers


def with_answers(dataset: Dataset, answers: Answers) -> tuple[Dataset, dict, str]:
    """The dataset with the answered random rows moved from train to valid (added to a valid split there
    already) and the chosen answers as `train_gold`; what was done (for the report) and a sentence."""
    train = dataset.train
    index = {row_id: i for i, row_id in enumerate(train.ids)}
    classes = dataset.card.classes
    random = [(index[a.row], classes.index(a.label)) for a in answers.by_pool("random") if a.row in index]
    chosen = [(index[a.row], classes.index(a.label)) for a in answers.by_pool("chosen") if a.row in index]
    held = len(answers.answers) - len(random) - len(chosen)  # rows held out of train to score the run
    moved = {r for r, _ in random}
    keep = [i for i in range(len(train)) if i not in moved]
    new_train = subset(train, keep)
    gold = np.full(len(keep), -1)
    position = {old: new for new, old in enumerate(keep)}
    for r, c in chosen:
        gold[position[r]] = c
    splits = dict(dataset.splits)
    splits["train"] = new_train
    if random:
        answered = subset(train, [r for r, _ in random], "valid")
        answered.labels = np.array([c for _, c in random], dtype=np.int64)
        splits["valid"] = _joined(splits["valid"], answered) if "valid" in splits else answered
    order = [s for s in ("train", "valid", "test") if s in splits]
    reviewed = sum(1 for a in answers.answers.values() if a.source == "review")
    info = {"file": str(answers.path), "random": len(random), "chosen": len(chosen), "from_review": reviewed,
            **({"held_out": held} if held else {})}
    out = dataclasses.replace(dataset, splits={s: splits[s] for s in order},
                              train_gold=gold if chosen else None, gold_rows=info)
    parts = ([f"{len(random)} random answers are valid rows (scores, class balance, vetting and every choice "
              "rest on them)"] if random else [])
    parts += [f"{len(chosen)} chosen answers train the distilled model only"] if chosen else []
    parts += [f"{held} answered rows are in the valid or test rows held out of the file (their own gold labels "
              "stay)"] if held else []
    note = f"{answers.path}: " + "; ".join(parts or ["no answer concerns a train row"])
    return out, info, note


def _joined(a: Split, b: Split) -> Split:
    return Split(name=a.name, path=a.path, ids=a.ids + b.ids, texts=a.texts + b.texts,
                 labels=np.concatenate([a.labels, b.labels]),
                 weak_labels=None if a.weak_labels is None or b.weak_labels is None
                 else np.vstack([a.weak_labels, b.weak_labels]),
                 groups=None if a.groups is None or b.groups is None else a.groups + b.groups)
