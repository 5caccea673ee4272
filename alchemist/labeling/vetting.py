"""Vetting on `valid`: which programs go into the label model, and why the others do not.

A program is left out — with a status and a reason, never silently — when its column repeats an
earlier program's (train and valid votes identical: one copy is kept), when it votes on no row, or
when on valid, with enough support, it is no better than chance. Chance is what a program voting
the same classes as often, at random, would score against valid's class balance: a keyword program
that only says "spam" is judged against spam's share, not against 1/k. Test rows are never looked at.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from alchemist.labeling.metrics import class_balance

MIN_SUPPORT = 10  # valid votes needed before accuracy can condemn a program


@dataclass
class Verdict:
    status: str  # ok | duplicate | no coverage | below chance
    reason: str = ""
    valid_support: int = 0  # valid rows with a gold label that it voted on
    valid_accuracy: float | None = None
    chance: float | None = None


def chance_accuracy(votes: np.ndarray, balance: np.ndarray) -> float:
    """Accuracy of a voter that picks class c as often as this program does, independently of the row."""
    share = np.bincount(votes, minlength=len(balance))[: len(balance)] / max(1, len(votes))
    return float(share @ balance)


def vet(train: np.ndarray, valid: np.ndarray | None, valid_labels: np.ndarray | None, n_classes: int,
        names: list[str], min_support: int = MIN_SUPPORT) -> list[Verdict]:
    """One verdict per column of `train` (and the same columns of `valid`)."""
    known = valid_labels >= 0 if valid_labels is not None else None
    balance = class_balance(valid_labels, n_classes) if valid_labels is not None else None
    seen: dict[bytes, int] = {}
    verdicts = []
    for j in range(train.shape[1]):
        column = train[:, j] if valid is None else np.concatenate([train[:, j], valid[:, j]])
        v = Verdict("ok")
        if valid is not None and balance is not None:
            voted = known & (valid[:, j] >= 0)
            v.valid_support = int(voted.sum())
            if v.valid_support:
                v.valid_accuracy = float((valid[voted, j] == valid_labels[voted]).mean())
                v.chance = chance_accuracy(valid[voted, j].astype(np.int64), balance)
        key = hashlib.sha1(np.ascontiguousarray(column).tobytes()).digest()
        if not (column >= 0).any():
            v.status, v.reason = "no coverage", "votes on no train or valid row"
        elif key in seen:
            v.status, v.reason = "duplicate", f"the same votes as {names[seen[key]]} on every train and valid row"
        elif (v.valid_accuracy is not None and v.valid_support >= min_support
              and v.valid_accuracy <= v.chance):
            v.status = "below chance"
            v.reason = (f"valid accuracy {v.valid_accuracy:.3f} on {v.valid_support} rows is no better than "
                        f"chance ({v.chance:.3f}: the same votes at random)")
        seen.setdefault(key, j)
        verdicts.append(v)
    return verdicts
