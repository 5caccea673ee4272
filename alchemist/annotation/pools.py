"""Which row a person answers next. Two pools, kept apart:

- random: a fixed random order of the train rows (the same every session, so a sample resumed is the
  same sample). Only these answers are used for scores, the class balance, vetting and choices, so
  those stay unbiased.
- chosen: the rows where an answer teaches most — no program voted, the programs disagree, the label
  model is unsure — from a run's programs' votes. These answers only train the distilled model.
"""

from __future__ import annotations

import numpy as np

RANDOM_SEED = 0


def random_order(n_rows: int, seed: int = RANDOM_SEED) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n_rows)


def chosen_order(votes: np.ndarray, probs: np.ndarray | None, seed: int = RANDOM_SEED) -> np.ndarray:
    """Rows by how much an answer would teach: no vote first, then by how unsure the label model is
    (1 - its top probability) plus a half for rows whose programs disagree; ties in random order."""
    votes = np.asarray(votes)
    n = votes.shape[0]
    voted = (votes >= 0).any(axis=1) if votes.size else np.zeros(n, bool)
    distinct = np.array([len(set(r[r >= 0].tolist())) for r in votes]) if votes.size else np.zeros(n, int)
    unsure = 1.0 - probs.max(axis=1) if probs is not None else np.zeros(n)
    priority = np.where(voted, unsure + 0.5 * (distinct > 1), 2.0)
    tie = np.random.default_rng(seed).random(n)
    return np.lexsort((tie, -priority))


def next_row(order: np.ndarray, ids: list[str], seen: set[str]) -> int | None:
    """The first row in `order` not answered or skipped yet (None: the pool is done)."""
    for r in order:
        if ids[int(r)] not in seen:
            return int(r)
    return None
