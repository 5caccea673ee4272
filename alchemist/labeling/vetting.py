"""Vetting on `valid`: which programs go into the label model, and why the others do not.

A program is left out — with a status and a reason, never silently — when its column repeats an
earlier program's (train and valid votes identical: one copy is kept), when it votes on no row, or
when on valid, with enough support, it is no better than chance. Chance is what a program voting
the same classes as often, at random, would score against valid's class balance: a keyword program
that only says "spam" is judged against spam's share, not against 1/k. Test rows are never looked at.

A program is also left out as `inconsistent` when it behaves differently on valid than on train —
its coverage, the classes it votes, or how often it agrees with the other programs — by more than
chance allows (a shift of at least MIN_SHIFT and MIN_Z standard errors). Rows reach programs in a
random order, so an honest program sees valid and train alike; one that is judged on valid and does
something else on train cannot pass vetting on its valid behaviour. A program with fewer than
MIN_SUPPORT valid votes is `unjudged`: it stays in, but its weight cannot exceed a judged program's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from alchemist.labeling.metrics import class_balance

MIN_SUPPORT = 10  # valid votes needed before accuracy can condemn a program
MIN_ROWS = 30  # valid rows needed before behaviour on valid is compared with train
MIN_VOTES = 20  # votes needed on each side to compare class shares or agreement
MIN_SHIFT = 0.2  # a difference in coverage, a class's share or agreement this large ...
MIN_Z = 4.0  # ... and this many standard errors: not the noise of a random split


@dataclass
class Verdict:
    status: str  # ok | duplicate | no coverage | below chance
    reason: str = ""
    valid_support: int = 0  # valid rows with a gold label that it voted on
    valid_accuracy: float | None = None
    chance: float | None = None
    judged: bool = False  # enough valid votes to judge its accuracy (MIN_SUPPORT)


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
    counts = (_class_counts(train, n_classes), _class_counts(valid, n_classes)) if valid is not None else None
    for j in range(train.shape[1]):
        column = train[:, j] if valid is None else np.concatenate([train[:, j], valid[:, j]])
        v = Verdict("ok")
        if valid is not None and balance is not None:
            voted = known & (valid[:, j] >= 0)
            v.valid_support = int(voted.sum())
            v.judged = v.valid_support >= min_support
            if v.valid_support:
                v.valid_accuracy = float((valid[voted, j] == valid_labels[voted]).mean())
                v.chance = chance_accuracy(valid[voted, j].astype(np.int64), balance)
        key = hashlib.sha1(np.ascontiguousarray(column).tobytes()).digest()
        if not (column >= 0).any():
            v.status, v.reason = "no coverage", "votes on no train or valid row"
        elif key in seen:
            v.status, v.reason = "duplicate", f"the same votes as {names[seen[key]]} on every train and valid row"
        elif valid is not None and (shift := divergence(train, valid, j, n_classes, counts)):
            v.status, v.reason = "inconsistent", shift
        elif (v.valid_accuracy is not None and v.valid_support >= min_support
              and v.valid_accuracy <= v.chance):
            v.status = "below chance"
            v.reason = (f"valid accuracy {v.valid_accuracy:.3f} on {v.valid_support} rows is no better than "
                        f"chance ({v.chance:.3f}: the same votes at random)")
        seen.setdefault(key, j)
        verdicts.append(v)
    return verdicts


def _shift(a_hits: float, a_n: int, b_hits: float, b_n: int) -> tuple[float, float]:
    """Difference of two proportions and its size in standard errors (pooled)."""
    pa, pb = a_hits / a_n, b_hits / b_n
    p = (a_hits + b_hits) / (a_n + b_n)
    se = np.sqrt(max(p * (1 - p), 1e-12) * (1 / a_n + 1 / b_n))
    return pb - pa, abs(pb - pa) / se


def _significant(diff: float, z: float) -> bool:
    return abs(diff) >= MIN_SHIFT and z >= MIN_Z


def divergence(train: np.ndarray, valid: np.ndarray, j: int, n_classes: int,
               counts: tuple[np.ndarray, np.ndarray] | None = None) -> str:
    """Why program j behaves differently on valid than on train ("" when it does not, or when valid is too
    small to tell): its coverage, a class's share of its votes, its agreement with the other programs.
    `counts`: each split's votes per class over all programs (_class_counts), made once for every j."""
    if len(valid) < MIN_ROWS or not len(train):
        return ""
    t, v = train[:, j], valid[:, j]
    diff, z = _shift(float((t >= 0).sum()), len(t), float((v >= 0).sum()), len(v))
    if _significant(diff, z):
        return (f"votes on {(t >= 0).mean():.0%} of train rows but {(v >= 0).mean():.0%} of valid rows: it behaves "
                "differently where it is judged")
    tv, vv = t[t >= 0], v[v >= 0]
    if len(tv) >= MIN_VOTES and len(vv) >= MIN_VOTES:
        for c in range(n_classes):
            diff, z = _shift(float((tv == c).sum()), len(tv), float((vv == c).sum()), len(vv))
            if _significant(diff, z):
                return (f"class {c} is {(tv == c).mean():.0%} of its train votes but {(vv == c).mean():.0%} of its "
                        "valid votes: it behaves differently where it is judged")
    counts = counts or (_class_counts(train, n_classes), _class_counts(valid, n_classes))
    agree_t, n_t = _agreement(train, j, n_classes, counts[0])
    agree_v, n_v = _agreement(valid, j, n_classes, counts[1])
    if n_t >= MIN_VOTES and n_v >= MIN_VOTES:
        diff, z = _shift(agree_t, n_t, agree_v, n_v)
        if _significant(diff, z):
            return (f"agrees with the other programs on {agree_t / n_t:.0%} of train rows but {agree_v / n_v:.0%} of "
                    "valid rows: it behaves differently where it is judged")
    return ""


def _class_counts(L: np.ndarray, n_classes: int) -> np.ndarray:
    """Per row, how many programs voted each class."""
    return np.stack([(L == c).sum(axis=1) for c in range(n_classes)], axis=1)


def _agreement(L: np.ndarray, j: int, n_classes: int, counts: np.ndarray) -> tuple[float, int]:
    """How often column j agrees with the other columns' majority, over rows where both have one (no ties)."""
    if L.shape[1] < 2:
        return 0.0, 0
    own = L[:, j]
    others = counts - (own[:, None] == np.arange(n_classes))  # every column's counts, less column j's vote
    top = others.max(axis=1)
    unique_top = (others == top[:, None]).sum(axis=1) == 1
    rows = (own >= 0) & (top > 0) & unique_top
    return float((own[rows] == others[rows].argmax(axis=1)).sum()), int(rows.sum())
