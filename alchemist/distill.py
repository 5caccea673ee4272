"""Distillation: train a small classifier on the label model's labels, score it on `test`.

Features are TF-IDF (fit on all training text, no labels needed); the classifier is the paper's MLP
(2 hidden layers x 32, ReLU). Trained only on rows at least one program covered; scored as
mean +- std over seeds. The first seed's model is saved with the run and labels new text.
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neural_network import MLPClassifier

from alchemist.errors import AlchemistError
from alchemist.files import atomic_write_bytes
from alchemist.metrics import per_class, score

MODEL_FILE = "distilled_model.pkl"


@dataclass
class DistilledModel:
    """TF-IDF features + MLP, with the task's class names; labels raw text."""

    vectorizer: TfidfVectorizer
    classifier: MLPClassifier
    classes: list[str]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probs = self.classifier.predict_proba(self.vectorizer.transform(list(texts)))
        full = np.zeros((probs.shape[0], len(self.classes)))
        full[:, self.classifier.classes_] = probs  # classes the labels never showed get 0
        return full

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts).argmax(axis=1)

    def save(self, path: Path) -> None:
        atomic_write_bytes(path, pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))


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


@dataclass
class DistillResult:
    seeds: int
    scores: list[float] = field(default_factory=list)
    trained_on: int = 0
    model: DistilledModel | None = None
    error: str = ""
    per_class: dict | None = None  # saved model on test: per-class scores and confusion matrix

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def std(self) -> float | None:
        return float(np.std(self.scores)) if self.scores else None


def make_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=30_000,
                           dtype=np.float32)


EARLY_STOPPING_MIN_ROWS = 2000  # below this a 10% holdout is too small to stop on reliably


def make_classifier(seed: int, n_rows: int) -> MLPClassifier:
    return MLPClassifier(hidden_layer_sizes=(32, 32), activation="relu", random_state=seed, max_iter=200,
                         early_stopping=n_rows >= EARLY_STOPPING_MIN_ROWS, n_iter_no_change=10)


def distill(train_texts: Sequence[str], train_labels: np.ndarray, classes: list[str], seeds: int,
            test_texts: Sequence[str] = (), test_labels: np.ndarray | None = None,
            metric: str = "acc", positive_class: int = 1,
            on_seed: Callable[[int], None] | None = None) -> DistillResult:
    """`train_labels` are the label model's hard labels, -1 for rows no program covered."""
    result = DistillResult(seeds=seeds)
    covered = np.asarray(train_labels) >= 0
    result.trained_on = int(covered.sum())
    y = np.asarray(train_labels)[covered]
    if len(np.unique(y)) < 2:
        result.error = "the label model's labels on covered rows hold fewer than two classes"
        return result
    vectorizer = make_vectorizer()
    try:
        X_all = vectorizer.fit_transform(list(train_texts))
    except ValueError:  # e.g. every text empty: no vocabulary
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), dtype=np.float32)
        try:
            X_all = vectorizer.fit_transform(list(train_texts))
        except ValueError as e:
            result.error = f"no usable features in the training text ({e})"
            return result
    X = X_all[covered]
    X_test = vectorizer.transform(list(test_texts)) if len(test_texts) else None
    for seed in range(seeds):
        clf = make_classifier(seed, X.shape[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        model = DistilledModel(vectorizer, clf, list(classes))
        if result.model is None:
            result.model = model
        if X_test is not None and test_labels is not None:
            probs = np.zeros((X_test.shape[0], len(classes)))
            probs[:, clf.classes_] = clf.predict_proba(X_test)
            predicted = probs.argmax(axis=1)
            s = score(test_labels, predicted, metric, positive_class)
            if s is not None:
                result.scores.append(s)
            if result.per_class is None and s is not None:
                result.per_class = per_class(test_labels, predicted, list(classes))
        if on_seed is not None:
            on_seed(1)
    return result
