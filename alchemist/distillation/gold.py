"""The bar every weak-supervision score must clear: the same features and classifier trained on the gold
labels alone ("Weaker Than You Think", ACL 2023). Cross-validated on the gold rows (each fold predicted by
a model that never saw it), scored on test like the distilled model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alchemist.distillation.fit import FeatureSet, fit_one, folds_of
from alchemist.distillation.model import DistilledModel, full_proba
from alchemist.labeling.metrics import score

FOLDS = 5
GOLD_ROWS_MAX = 50_000  # a random sample of the gold rows beyond this, as for the distilled model


@dataclass
class GoldResult:
    rows: int  # gold rows it trained on
    features: str
    classifier: str
    valid_cv: float | None = None  # cross-validated on the gold rows
    scores: list[float] = field(default_factory=list)  # on test, one per seed
    model: DistilledModel | None = None

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def std(self) -> float | None:
        return float(np.std(self.scores)) if self.scores else None

    def to_dict(self) -> dict:
        return {"rows": self.rows, "features": self.features, "classifier": self.classifier,
                "valid_cv": self.valid_cv, "test_mean": self.mean, "test_std": self.std, "scores": self.scores}


def gold_only(chosen: FeatureSet, valid_labels: np.ndarray, test_labels: np.ndarray | None, classes: list[str],
              seeds: int, metric: str = "acc", positive_class: int = 1, seed: int = 0,
              valid_cv: float | None = None) -> GoldResult | None:
    """The chosen features' classifier trained on valid's gold rows alone; None without two classes there.
    `valid_cv`: its cross-fitted valid score when the distillation choice already made one (not redone)."""
    feats = chosen.features
    gold = np.flatnonzero(np.asarray(valid_labels) >= 0)
    if chosen.valid is None or len(np.unique(valid_labels[gold])) < 2:
        return None
    if len(gold) > GOLD_ROWS_MAX:
        gold = np.sort(np.random.default_rng(seed).choice(gold, GOLD_ROWS_MAX, replace=False))
    labels = np.full(len(valid_labels), -1)
    labels[gold] = valid_labels[gold]
    result = GoldResult(rows=len(gold), features=feats.name, classifier=feats.label, valid_cv=valid_cv)
    folds = folds_of(labels) if valid_cv is None else None
    if folds is not None:
        predicted = np.full(len(labels), -1)
        for held in folds:
            train = (labels >= 0) & ~held
            clf = fit_one(feats, chosen.valid[train], labels[train], 0)
            predicted[held] = full_proba(clf, chosen.valid[held], len(classes)).argmax(1)
        result.valid_cv = score(labels, predicted, metric, positive_class)
    runs = 1 if feats.deterministic else seeds
    for s in range(runs):
        clf = fit_one(feats, chosen.valid[gold], labels[gold], s)
        result.model = result.model or DistilledModel(feats, clf, list(classes))
        if chosen.test is not None and test_labels is not None:
            value = score(test_labels, full_proba(clf, chosen.test, len(classes)).argmax(1), metric, positive_class)
            if value is not None:
                result.scores.append(value)
    return result
