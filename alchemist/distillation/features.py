"""What the distilled classifier sees: TF-IDF with the paper's MLP, MiniLM sentence embeddings with
logistic regression, or both side by side with logistic regression (image runs: CLIP image embeddings
with logistic regression). None wins everywhere (embeddings
help on short topical text, TF-IDF on text whose class hangs on particular words, the two together on
long reviews), so `--features auto` picks on valid (see distill.py).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from alchemist.distillation.embeddings import TextEncoder

EARLY_STOPPING_MIN_ROWS = 2000  # below this a 10% holdout is too small to stop on reliably


class TfidfFeatures:
    name = "tfidf"
    label = "TF-IDF + MLP"
    deterministic = False  # the MLP depends on its seed

    def __init__(self, vectorizer: TfidfVectorizer | None = None):
        self.vectorizer = vectorizer

    def fit_transform(self, texts: Sequence[str], advance: Callable[[int], None] | None = None):
        """Word uni+bigrams; text with no usable words (e.g. all empty) falls back to characters."""
        self.vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=30_000,
                                          dtype=np.float32)
        try:
            return self.vectorizer.fit_transform(list(texts))
        except ValueError:
            self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), dtype=np.float32)
            return self.vectorizer.fit_transform(list(texts))  # a ValueError here means: no features at all

    def transform(self, texts: Sequence[str], advance: Callable[[int], None] | None = None):
        return self.vectorizer.transform(list(texts))

    def classifier(self, seed: int, n_rows: int) -> MLPClassifier:
        return MLPClassifier(hidden_layer_sizes=(32, 32), activation="relu", random_state=seed, max_iter=200,
                             early_stopping=n_rows >= EARLY_STOPPING_MIN_ROWS, n_iter_no_change=10)


def _short(encoder: TextEncoder) -> str:
    """How people call the embedding model: MiniLM, or the named model's last part."""
    return "MiniLM" if encoder.model is None else str(encoder.model).rstrip("/").rsplit("/", 1)[-1]


class EmbeddingFeatures:
    name = "embeddings"
    deterministic = True  # one fit; seeds would repeat it

    def __init__(self, encoder: TextEncoder):
        self.encoder = encoder

    @property
    def label(self) -> str:
        return f"{_short(self.encoder)} embeddings + logistic regression"

    def fit_transform(self, texts: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        return self.transform(texts, advance)  # nothing to learn: the embedding model is fixed

    def transform(self, texts: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        return self.encoder.encode(texts, advance)

    def classifier(self, seed: int, n_rows: int) -> LogisticRegression:
        return LogisticRegression(C=1.0, max_iter=1000)


class CombinedFeatures:
    """TF-IDF and embeddings in one sparse matrix (both rows have unit norm, so neither drowns the other)."""

    name = "combined"
    deterministic = True

    def __init__(self, tfidf: TfidfFeatures, embeddings: EmbeddingFeatures):
        self.tfidf, self.embeddings = tfidf, embeddings

    @property
    def label(self) -> str:
        return f"TF-IDF + {_short(self.embeddings.encoder)} embeddings + logistic regression"

    @staticmethod
    def join(sparse, dense: np.ndarray):
        return hstack([sparse, csr_matrix(dense)], format="csr", dtype=np.float32)

    def fit_transform(self, texts: Sequence[str], advance: Callable[[int], None] | None = None):
        return self.join(self.tfidf.fit_transform(texts), self.embeddings.transform(texts, advance))

    def transform(self, texts: Sequence[str], advance: Callable[[int], None] | None = None):
        return self.join(self.tfidf.transform(texts), self.embeddings.transform(texts, advance))

    def classifier(self, seed: int, n_rows: int) -> LogisticRegression:
        # weaker regularisation than embeddings alone: tens of thousands of sparse columns, each small
        return LogisticRegression(C=4.0, max_iter=2000)


class ClipFeatures:
    """Image runs: CLIP image embeddings (cached with the dataset's concept scores) + logistic regression.
    Reads image paths, so a saved model labels new images by their paths."""

    name = "clip"
    label = "CLIP image embeddings + logistic regression"
    deterministic = True

    def __init__(self, encoder):  # a clip.ClipEncoder (imported lazily: text runs never load it)
        self.encoder = encoder

    def fit_transform(self, paths: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        return self.transform(paths, advance)

    def transform(self, paths: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        return self.encoder.images(paths, advance)

    def classifier(self, seed: int, n_rows: int) -> LogisticRegression:
        return LogisticRegression(C=1.0, max_iter=2000)


Features = TfidfFeatures | EmbeddingFeatures | CombinedFeatures | ClipFeatures


def make_features(name: str, encoder: TextEncoder | None) -> Features:
    if name == "embeddings":
        return EmbeddingFeatures(encoder or TextEncoder())
    if name == "combined":
        return CombinedFeatures(TfidfFeatures(), EmbeddingFeatures(encoder or TextEncoder()))
    return TfidfFeatures()
