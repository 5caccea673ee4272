"""Per-program and overall statistics of a label matrix (coverage, overlap, conflict, accuracy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alchemist.labeling.label_models import vote_counts


@dataclass
class MatrixStats:
    coverage: np.ndarray  # per program: share of rows it votes on
    overlap: np.ndarray  # ... and at least one other program votes too
    conflict: np.ndarray  # ... and another program votes a different class
    total_coverage: float  # share of rows with at least one vote
    total_overlap: float
    total_conflict: float


def matrix_stats(L: np.ndarray, n_classes: int) -> MatrixStats:
    n, m = L.shape
    if n == 0:
        zeros = np.zeros(m)
        return MatrixStats(zeros, zeros, zeros, 0.0, 0.0, 0.0)
    votes = L >= 0
    n_votes = votes.sum(axis=1)
    distinct = (vote_counts(L, n_classes) > 0).sum(axis=1)
    multi = n_votes >= 2
    conflicted = distinct >= 2
    return MatrixStats(
        coverage=votes.mean(axis=0),
        overlap=(votes & multi[:, None]).mean(axis=0),
        conflict=(votes & conflicted[:, None]).mean(axis=0),
        total_coverage=float((n_votes > 0).mean()),
        total_overlap=float(multi.mean()),
        total_conflict=float(conflicted.mean()),
    )
