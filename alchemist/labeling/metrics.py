"""Task metrics: accuracy, or binary F1 of the positive class (sms)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score


def score(y_true: np.ndarray, y_pred: np.ndarray, metric: str, positive_class: int = 1) -> float | None:
    """Score predictions on the rows that have a gold label (-1 = none); None when there are none."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    mask = y_true >= 0
    if not mask.any():
        return None
    if metric == "f1":
        return float(f1_score(y_true[mask], y_pred[mask], pos_label=positive_class,
                              average="binary", zero_division=0))
    return float((y_true[mask] == y_pred[mask]).mean())


def class_balance(labels: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Smoothed class frequencies of gold labels (from `valid`, never `test`)."""
    labels = np.asarray(labels)
    labels = labels[labels >= 0]
    if labels.size == 0:
        return None
    counts = np.bincount(labels, minlength=n_classes).astype(float) + 1.0
    return counts / counts.sum()


def per_class(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict | None:
    """Precision, recall, F1 and support of each class, and the confusion matrix (rows gold,
    columns predicted), over the rows that have a gold label; None when there are none."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    mask = y_true >= 0
    if not mask.any():
        return None
    labels = list(range(len(classes)))
    p, r, f, n = precision_recall_fscore_support(y_true[mask], y_pred[mask], labels=labels, zero_division=0)
    return {"classes": {name: {"precision": float(p[c]), "recall": float(r[c]), "f1": float(f[c]), "support": int(n[c])}
                        for c, name in enumerate(classes)},
            "confusion_matrix": confusion_matrix(y_true[mask], y_pred[mask], labels=labels).tolist()}


def distribution(labels: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Share of each class among the given hard labels (-1, no label, left out)."""
    labels = np.asarray(labels)
    labels = labels[labels >= 0]
    counts = np.bincount(labels, minlength=len(classes))[: len(classes)] if labels.size else np.zeros(len(classes))
    total = max(1, int(labels.size))
    return {name: float(counts[c] / total) for c, name in enumerate(classes)}


def group_scores(gold: np.ndarray, predicted: np.ndarray, groups: list[str]) -> dict | None:
    """Accuracy per group of rows (e.g. Waterbirds' bird type x background), the worst group and the
    average over all rows: a model that leans on a spurious feature shows it in its worst group."""
    gold, predicted, groups = np.asarray(gold), np.asarray(predicted), np.asarray(groups, dtype=object)
    labeled = gold >= 0
    per = {}
    for g in sorted({str(x) for x in groups[labeled]}):
        mask = labeled & (groups == g)
        per[g] = {"accuracy": float((predicted[mask] == gold[mask]).mean()), "rows": int(mask.sum())}
    if not per:
        return None
    worst = min(per, key=lambda g: (per[g]["accuracy"], g))
    return {"groups": per, "worst_group": worst, "worst_group_accuracy": per[worst]["accuracy"],
            "average_accuracy": float((predicted[labeled] == gold[labeled]).mean())}
