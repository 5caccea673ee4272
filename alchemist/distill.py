"""Distillation: train a small classifier on the label model's labels, score it on `test`.

Features are chosen on valid (`--features auto`): TF-IDF + the paper's MLP (2 hidden layers x 32) and
MiniLM embeddings + logistic regression are each fitted on the covered train rows and scored against
valid's gold labels; the better one is kept (a tie keeps TF-IDF, which needs no model to predict).
A candidate is never scored on text it was trained on: valid rows whose text is also in train
(duplicates) are not scored, and when most of valid is in train (a dataset whose train split is its
valid split) candidates are scored by 3-fold cross-fitting: each fold of valid is predicted by a model
trained without that fold's texts. Test is only
ever scored. The chosen classifier is trained over `seeds` seeds (one fit if it is deterministic);
the first seed's model is saved with the run and labels new text.
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from alchemist.embeddings import EmbeddingError, TextEncoder
from alchemist.errors import AlchemistError
from alchemist.features import EmbeddingFeatures, TfidfFeatures, make_features
from alchemist.files import atomic_write_bytes
from alchemist.metrics import per_class, score

MODEL_FILE = "distilled_model.pkl"
SELECTION_FOLDS = 3
MIN_UNSEEN = 50  # fewer valid rows unseen in train than this (or half of valid): cross-fit


@dataclass
class DistilledModel:
    """Features + classifier, with the task's class names; labels raw text."""

    features: TfidfFeatures | EmbeddingFeatures
    classifier: object
    classes: list[str]

    def __setstate__(self, state: dict) -> None:  # models saved before features were chosen held a bare vectorizer
        if "vectorizer" in state:
            state["features"] = TfidfFeatures(state.pop("vectorizer"))
        self.__dict__.update(state)

    def predict_proba(self, texts: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        return _full_proba(self.classifier, self.features.transform(list(texts), advance), len(self.classes))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts).argmax(axis=1)

    def save(self, path: Path) -> None:
        atomic_write_bytes(path, pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))


def _full_proba(clf, X, n_classes: int) -> np.ndarray:
    probs = np.zeros((X.shape[0], n_classes))
    probs[:, clf.classes_] = clf.predict_proba(X)  # classes the labels never showed get 0
    return probs


def load_model(path: Path) -> DistilledModel:
    """Load a model this tool saved (a pickle: only open files from your own runs)."""
    try:
        with open(path, "rb") as f:
            model = pickle.load(f)
    except FileNotFoundError:
        raise AlchemistError(f"{path}: no distilled model here") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
        raise AlchemistError(f"{path}: not a readable distilled model ({e})") from None
    if not isinstance(model, DistilledModel):
        raise AlchemistError(f"{path}: not a distilled model saved by this tool")
    return model


# --- features ----------------------------------------------------------------------------------------
@dataclass
class FeatureSet:
    """One candidate's features for every split (valid/test None when the split is absent)."""

    features: TfidfFeatures | EmbeddingFeatures
    train: object
    valid: object = None
    test: object = None


def candidates_for(requested: str) -> list[str]:
    return ["tfidf", "embeddings"] if requested == "auto" else [requested]


def prepare(names: Sequence[str], train_texts: Sequence[str], valid_texts: Sequence[str] = (),
            test_texts: Sequence[str] = (), encoder: TextEncoder | None = None,
            advance: Callable[[int], None] | None = None) -> tuple[list[FeatureSet], list[str]]:
    """Build each candidate's features; a candidate that cannot be built is left out with the reason."""
    sets, notes = [], []
    for name in names:
        feats = make_features(name, encoder)
        try:
            splits = [feats.fit_transform(train_texts, advance)]
            splits += [feats.transform(t, advance) if len(t) else None for t in (valid_texts, test_texts)]
        except EmbeddingError as e:
            notes.append(f"{e}; embeddings left out")
            continue
        except ValueError as e:
            notes.append(f"no usable {name} features in the training text ({e})")
            continue
        sets.append(FeatureSet(feats, *splits))
    return sets, notes


@dataclass
class Selection:
    """How candidates are scored on valid without crediting memorised rows."""

    rows: np.ndarray  # the valid rows that are scored
    fold: np.ndarray | None = None  # cross-fitting: a fold per valid row ...
    leave_out: list[np.ndarray] = field(default_factory=list)  # ... and per fold the train rows left out
    description: str = "fitted on train, scored on valid"


def selection(train_texts: Sequence[str], valid_texts: Sequence[str]) -> Selection:
    """Disjoint splits: score every valid row. A few valid texts also in train (duplicates in the data):
    score only the others. Mostly shared (train *is* valid): 3-fold cross-fitting."""
    train_set = set(train_texts)
    seen = np.array([t in train_set for t in valid_texts], dtype=bool)
    if not seen.any():
        return Selection(~seen)
    if (~seen).sum() >= max(MIN_UNSEEN, len(valid_texts) // 2):
        return Selection(~seen, description=f"fitted on train, scored on the {int((~seen).sum())} valid rows "
                                            f"whose text is not in train ({int(seen.sum())} are)")
    fold = np.random.default_rng(0).permutation(len(valid_texts)) % SELECTION_FOLDS
    text_folds: dict[str, set[int]] = {}
    for text, f in zip(valid_texts, fold, strict=True):
        text_folds.setdefault(text, set()).add(int(f))
    leave_out = [np.array([f in text_folds.get(t, ()) for t in train_texts], dtype=bool)
                 for f in range(SELECTION_FOLDS)]
    return Selection(np.ones(len(valid_texts), dtype=bool), fold, leave_out,
                     f"{SELECTION_FOLDS}-fold cross-fitting on valid: {int(seen.sum())} of its "
                     f"{len(valid_texts)} texts are also in train")


# --- training ----------------------------------------------------------------------------------------
@dataclass
class DistillResult:
    seeds: int
    scores: list[float] = field(default_factory=list)
    trained_on: int = 0
    model: DistilledModel | None = None
    error: str = ""
    per_class: dict | None = None  # saved model on test: per-class scores and confusion matrix
    features: str = ""  # the chosen candidate
    classifier: str = ""  # what it is, for people
    candidates: dict[str, float | None] = field(default_factory=dict)  # valid score of each candidate
    reason: str = ""  # why the chosen one
    selection: str = ""  # how the valid scores were made

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def std(self) -> float | None:
        return float(np.std(self.scores)) if self.scores else None


def _fit(feats, X, y, seed: int):
    clf = feats.classifier(seed, X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf


def fit_count(sets: Sequence[FeatureSet], seeds: int, select: bool, plan: Selection | None) -> int:
    """How many classifier fits `distill` makes: the progress bar's total."""
    folds = plan is not None and plan.fold is not None
    per_candidate = (SELECTION_FOLDS if folds else 1) if select and len(sets) > 1 else 0
    chosen = max((1 if s.features.deterministic else seeds) for s in sets) if sets else 0
    return per_candidate * len(sets) + chosen


def distill(sets: Sequence[FeatureSet], train_labels: np.ndarray, classes: list[str], seeds: int,
            valid_labels: np.ndarray | None = None, test_labels: np.ndarray | None = None,
            metric: str = "acc", positive_class: int = 1,
            plan: Selection | None = None,
            on_fit: Callable[[int], None] | None = None) -> DistillResult:
    """`train_labels` are the label model's hard labels, -1 for rows no program covered."""
    result = DistillResult(seeds=seeds)
    covered = np.asarray(train_labels) >= 0
    result.trained_on = int(covered.sum())
    y = np.asarray(train_labels)[covered]
    if not sets:
        result.error = "no usable features in the training text"
        return result
    if len(np.unique(y)) < 2:
        result.error = "the label model's labels on covered rows hold fewer than two classes"
        return result
    advance = on_fit or (lambda n: None)
    first_models: dict[str, object] = {}
    chosen = _choose(sets, covered, y, len(classes), valid_labels, metric, positive_class, plan, result,
                     first_models, advance)
    feats = chosen.features
    result.features, result.classifier = feats.name, feats.label
    result.seeds = 1 if feats.deterministic else seeds
    X = chosen.train[covered]
    for seed in range(result.seeds):
        clf = first_models.get(feats.name) if seed == 0 else None
        if clf is None:
            clf = _fit(feats, X, y, seed)
            advance(1)
        model = DistilledModel(feats, clf, list(classes))
        result.model = result.model or model
        if chosen.test is not None and test_labels is not None:
            predicted = _full_proba(clf, chosen.test, len(classes)).argmax(axis=1)
            s = score(test_labels, predicted, metric, positive_class)
            if s is not None:
                result.scores.append(s)
                if result.per_class is None:
                    result.per_class = per_class(test_labels, predicted, list(classes))
    return result


def _choose(sets, covered, y, n_classes, valid_labels, metric, pos, plan, result, first_models,
            advance) -> FeatureSet:
    if len(sets) == 1:
        result.reason = f"{sets[0].features.label}: as requested"
        return sets[0]
    if valid_labels is None or sets[0].valid is None:
        result.reason = "no valid labels to choose on: TF-IDF + MLP, the default"
        return next(s for s in sets if s.features.name == "tfidf")
    plan = plan or Selection(np.ones(len(valid_labels), dtype=bool))
    result.selection = plan.description
    for s in sets:
        result.candidates[s.features.name] = _valid_score(s, covered, y, n_classes, valid_labels, metric, pos,
                                                          plan, first_models, advance)
    def rank(s: FeatureSet) -> tuple[float, bool]:
        v = result.candidates[s.features.name]
        return (-1.0 if v is None else v, s.features.name == "tfidf")

    best = max(sets, key=rank)
    scores = ", ".join(f"{n} {v:.3f}" if v is not None else f"{n} —" for n, v in result.candidates.items())
    result.reason = f"best on valid ({scores}); a tie keeps TF-IDF"
    return best


def _valid_score(s: FeatureSet, covered, y, n_classes, valid_labels, metric, pos, plan: Selection, first_models,
                 advance) -> float | None:
    feats, rows = s.features, plan.rows
    if plan.fold is None:
        clf = _fit(feats, s.train[covered], y, 0)
        advance(1)
        first_models[feats.name] = clf  # the same fit the final model starts from: not repeated
        predicted = _full_proba(clf, s.valid[rows], n_classes).argmax(1)
        return score(valid_labels[rows], predicted, metric, pos)
    predicted = np.zeros(len(valid_labels), dtype=int)
    labels_all = np.full(covered.shape[0], -1)
    labels_all[covered] = y
    for f in range(SELECTION_FOLDS):
        keep = covered & ~plan.leave_out[f]
        if len(np.unique(labels_all[keep])) < 2:
            advance(1)
            return None
        clf = _fit(feats, s.train[keep], labels_all[keep], 0)
        advance(1)
        part = plan.fold == f
        predicted[part] = _full_proba(clf, s.valid[part], n_classes).argmax(1)
    return score(valid_labels, predicted, metric, pos)
