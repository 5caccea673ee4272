"""Refinement from mistakes: which programs are weak, which valid rows to show, and old vs new.

Guard against fitting valid: valid is split once (fixed seed, stratified by class) into a half whose
mistakes are shown to the LLM and a half that decides whether the new version replaces the old. A
program that learnt the shown rows by heart gains nothing on the deciding half. Test rows are never
used here. Pure functions over label columns: nothing here calls an LLM or runs a program.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alchemist.core.safe_text import clean

GUARD = ("mistakes shown from one half of valid (fixed seed, stratified by class); old and new versions "
         "compared on the other half")
MISTAKES = 6  # rows shown per request
MISTAKE_CHARS = 300
MIN_COVERAGE = 0.05  # a program voting on fewer shown rows than this is weak
MIN_SKILL = 0.6  # ... and so is one whose accuracy is less than 60% of the way from chance to perfect


def split_valid(gold: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint halves of the labeled valid rows: (shown, decide), each class split evenly."""
    rng = np.random.default_rng(seed)
    shown = np.zeros(len(gold), dtype=bool)
    for c in np.unique(gold[gold >= 0]):
        rows = rng.permutation(np.flatnonzero(gold == c))
        shown[rows[: (len(rows) + 1) // 2]] = True
    decide = ~shown & (gold >= 0)
    return shown, decide


def _prior(gold: np.ndarray, rows: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.bincount(gold[rows & (gold >= 0)], minlength=n_classes).astype(float)
    return counts / max(1.0, counts.sum())


def net_score(column: np.ndarray, gold: np.ndarray, rows: np.ndarray, n_classes: int) -> float:
    """Votes above chance, per row: the sum over its votes of (1 if right) - (the share of the class it
    voted for), over the rows. Abstaining scores 0, and so does voting at random or always voting one
    class, whatever the class balance; more votes and better votes both raise it."""
    n = int(rows.sum())
    if n == 0:
        return 0.0
    prior = _prior(gold, rows, n_classes)
    votes, truth = column[rows], gold[rows]
    voted = votes >= 0
    return float(((votes[voted] == truth[voted]) - prior[votes[voted]]).sum() / n)


def weakness(column: np.ndarray, gold: np.ndarray, rows: np.ndarray, n_classes: int) -> str:
    """Why a program is weak on these rows ('' if it is not): too little coverage, or accuracy less
    than MIN_SKILL of the way from chance (what its votes would score by the class balance) to perfect."""
    votes, truth = column[rows], gold[rows]
    voted = votes >= 0
    coverage = voted.mean() if len(votes) else 0.0
    if coverage < MIN_COVERAGE:
        return f"votes on {coverage:.0%} of the shown valid rows"
    accuracy = float((votes[voted] == truth[voted]).mean())
    chance = float(_prior(gold, rows, n_classes)[votes[voted]].mean())
    if accuracy < chance + MIN_SKILL * (1 - chance):
        return f"accuracy {accuracy:.2f} on the shown valid rows it votes on (chance {chance:.2f})"
    return ""


@dataclass
class Mistake:
    text: str
    gold: str
    answer: str  # a class name, or "abstained"


def mistakes(column: np.ndarray, gold: np.ndarray, texts: list[str], rows: np.ndarray, classes: list[str],
             k: int = MISTAKES, seed: int = 0) -> list[Mistake]:
    """Up to k shown rows it got wrong (wrong votes first, then rows it abstained on), spread over classes."""
    rng = np.random.default_rng(seed)
    wrong = np.flatnonzero(rows & (column >= 0) & (column != gold))
    missed = np.flatnonzero(rows & (column < 0))
    picked: list[int] = []
    for pool in (wrong, missed):
        by_class = [rng.permutation(pool[gold[pool] == c]).tolist() for c in range(len(classes))]
        while len(picked) < k and any(by_class):
            for queue in by_class:
                if queue and len(picked) < k:
                    picked.append(queue.pop())
    return [Mistake(clean(texts[r], MISTAKE_CHARS), classes[gold[r]],
                    classes[column[r]] if column[r] >= 0 else "abstained") for r in picked]


def summary(column: np.ndarray, gold: np.ndarray, rows: np.ndarray) -> str:
    voted = rows & (column >= 0)
    n, v = int(rows.sum()), int(voted.sum())
    accuracy = float((column[voted] == gold[voted]).mean()) if v else 0.0
    return f"On {n} labeled examples it voted on {v} ({v / max(1, n):.0%}) and was right on {accuracy:.0%} of those."
