"""Label models: combine the programs' votes into probabilistic labels.

One small interface (fit / predict_proba / predict) over Snorkel's LabelModel and a numpy majority
vote. Class balance may come from `valid`; nothing here ever sees `test` labels.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.labeling.vetting import MIN_SUPPORT


class LabelModel(Protocol):
    name: str

    def fit(self, L: np.ndarray, class_balance: np.ndarray | None = None) -> "LabelModel": ...

    def predict_proba(self, L: np.ndarray) -> np.ndarray: ...

    def predict(self, L: np.ndarray) -> np.ndarray: ...


def vote_counts(L: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_rows, n_classes) number of votes per class; one pass per class, no Python loop per row."""
    counts = np.zeros((L.shape[0], n_classes), dtype=np.float64)
    for c in range(n_classes):
        counts[:, c] = (L == c).sum(axis=1)
    return counts


def _tie_picks(rows: np.ndarray) -> np.ndarray:
    """Snorkel's deterministic per-row hash (sha1 of the row index), so ties break exactly as
    its MajorityLabelVoter breaks them; computed only for the tied rows."""
    return np.array([int(hashlib.sha1(str(int(i)).encode()).hexdigest(), 16) for i in rows], dtype=object)


class MajorityVote:
    """Most-voted class. Ties — and rows nobody voted on, a tie of every class — are broken
    pseudo-randomly per row exactly as Snorkel's MajorityLabelVoter(tie_break_policy="random") breaks
    them; favouring the majority class would bias the baseline."""

    name = "majority"

    def __init__(self, n_classes: int):
        self.n_classes = n_classes

    def fit(self, L: np.ndarray, class_balance: np.ndarray | None = None) -> "MajorityVote":
        return self  # nothing to learn: every vote counts the same

    TIE_NUDGE = 1e-9  # so argmax of the probabilities is `predict`, ties broken the same way

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        counts = vote_counts(L, self.n_classes)
        counts[counts.sum(axis=1) == 0] = 1.0  # no votes: uniform
        counts[np.arange(len(L)), self._pick(counts)] += self.TIE_NUDGE
        return counts / counts.sum(axis=1, keepdims=True)

    def predict(self, L: np.ndarray) -> np.ndarray:
        return self._pick(vote_counts(L, self.n_classes))

    @staticmethod
    def _pick(counts: np.ndarray) -> np.ndarray:
        tied = counts == counts.max(axis=1, keepdims=True)
        n_tied = tied.sum(axis=1)
        pick = np.zeros(len(counts), dtype=np.int64)  # k-th tied class
        multi = np.flatnonzero(n_tied > 1)
        if multi.size:
            pick[multi] = (_tie_picks(multi) % n_tied[multi]).astype(np.int64)
        rank = np.cumsum(tied, axis=1) - 1
        return np.argmax(tied & (rank == pick[:, None]), axis=1)


class SnorkelModel:
    """Snorkel's LabelModel (imported on first use: torch takes seconds to load).

    Snorkel builds a dense one-hot matrix of rows x (programs x classes) to fit and to predict, which
    at 1M rows x 100 programs is gigabytes. It only estimates programs x classes parameters, so it is
    fitted on a fixed random sample of at most FIT_ROWS rows and predicts in chunks: memory stays
    bounded whatever the number of rows.
    """

    name = "snorkel"
    FIT_ROWS = 200_000
    PREDICT_CHUNK = 100_000

    def __init__(self, n_classes: int, seed: int = 0, epochs: int = 500, lr: float = 0.01):
        self.n_classes, self.seed, self.epochs, self.lr = n_classes, seed, epochs, lr
        self._model = None
        self.fit_rows = 0

    def fit(self, L: np.ndarray, class_balance: np.ndarray | None = None) -> "SnorkelModel":
        from snorkel.labeling.model import LabelModel as _SnorkelLabelModel

        if len(L) > self.FIT_ROWS:
            rows = np.sort(np.random.default_rng(self.seed).choice(len(L), self.FIT_ROWS, replace=False))
            L = L[rows]
        self.fit_rows = len(L)
        model = _SnorkelLabelModel(cardinality=self.n_classes, verbose=False)
        model.fit(L_train=np.asarray(L, dtype=np.int64),
                  class_balance=None if class_balance is None else list(map(float, class_balance)),
                  n_epochs=self.epochs, lr=self.lr, seed=self.seed, progress_bar=False)
        self._model = model
        return self

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        if self._model is None:
            raise RuntimeError("fit the label model first")
        out = np.empty((len(L), self.n_classes), dtype=np.float64)
        for start in range(0, len(L), self.PREDICT_CHUNK):
            chunk = np.asarray(L[start:start + self.PREDICT_CHUNK], dtype=np.int64)
            out[start:start + len(chunk)] = self._model.predict_proba(chunk)
        return out

    def predict(self, L: np.ndarray) -> np.ndarray:
        return self.predict_proba(L).argmax(axis=1)


class WeightedVote:
    """Each program's vote weighted by its accuracy on labeled rows (from `valid`), plus the class
    prior: the posterior of the one-coin model, P(y=c | votes) ∝ π_c · Π_j a_j^[v_j=c] · ((1-a_j)/(k-1))^[v_j≠c].
    Accuracies are shrunk toward chance with a prior worth PRIOR_ROWS rows, so a program seen on
    three valid rows cannot dominate; weights are never negative (vetting removes worse-than-chance ones)."""

    name = "weighted"
    PRIOR_ROWS = 4.0
    MIN_SUPPORT = MIN_SUPPORT  # valid votes that make a program judged (vetting's rule)

    def __init__(self, n_classes: int, accuracies: np.ndarray, prior: np.ndarray | None = None):
        self.n_classes = n_classes
        self.accuracies = accuracies
        self.prior = prior

    @classmethod
    def from_labeled(cls, L: np.ndarray, y: np.ndarray, n_classes: int,
                     prior: np.ndarray | None = None) -> "WeightedVote":
        known = y >= 0
        chance = 1.0 / n_classes
        accs = np.empty(L.shape[1])
        support = np.zeros(L.shape[1], dtype=int)
        for j in range(L.shape[1]):
            voted = known & (L[:, j] >= 0)
            support[j] = int(voted.sum())
            correct = float((L[voted, j] == y[voted]).sum())
            accs[j] = (correct + cls.PRIOR_ROWS * chance) / (voted.sum() + cls.PRIOR_ROWS)
        judged = support >= cls.MIN_SUPPORT
        if judged.any() and not judged.all():  # an unjudged program cannot outweigh a judged one
            accs[~judged] = np.minimum(accs[~judged], accs[judged].min())
        return cls(n_classes, np.clip(accs, chance, 0.99), prior)

    def fit(self, L: np.ndarray, class_balance: np.ndarray | None = None) -> "WeightedVote":
        """Its accuracies come from labeled rows (`from_labeled`); unlabeled votes add nothing."""
        if self.prior is None and class_balance is not None:
            self.prior = np.asarray(class_balance, dtype=float)
        return self

    def weights(self) -> np.ndarray:
        a, k = self.accuracies, self.n_classes
        return np.log(a * (k - 1) / (1 - a)) if k > 1 else np.zeros_like(a)

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        w = self.weights()
        scores = np.zeros((L.shape[0], self.n_classes))
        for c in range(self.n_classes):
            scores[:, c] = (L == c) @ w
        if self.prior is not None:
            scores += np.log(np.clip(self.prior, 1e-6, None))
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict(self, L: np.ndarray) -> np.ndarray:
        return self.predict_proba(L).argmax(axis=1)


def make_label_model(name: str, n_classes: int, seed: int = 0) -> LabelModel:
    if name == "snorkel":
        return SnorkelModel(n_classes, seed=seed)
    if name == "majority":
        return MajorityVote(n_classes)
    raise AlchemistError(f"unknown label model '{name}' (choose from snorkel, majority; the weighted vote "
                         "is built from labeled rows by WeightedVote.from_labeled)")
