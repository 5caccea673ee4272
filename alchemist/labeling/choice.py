"""Choose the label model on `valid` (`--label-model auto`).

Candidates: Snorkel's LabelModel with the class balance estimated from valid (fitted on train votes,
no labels), the majority vote, and the vote weighted by each program's valid accuracy. Each is
scored with the task's metric on the valid rows some program voted on (the rows whose labels the
distilled model learns from). The weighted vote learns from valid itself, so its score is
cross-fitted: each fifth of valid is predicted with accuracies from the other four fifths. Test
labels are never read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alchemist.labeling.label_models import LabelModel, MajorityVote, WeightedVote, make_label_model
from alchemist.labeling.metrics import score

SNORKEL_MIN_PROGRAMS = 3  # Snorkel's LabelModel refuses fewer
FOLDS = 5
PREFERENCE = ("majority", "weighted", "snorkel")  # exact ties of the valid score go to the simplest
FINALIST_SLACK = 0.05  # label models this close to the best on valid are also tried through distillation
FINALIST_AGREEMENT = 0.99  # ... unless their train labels are (almost) the same as a better one's


@dataclass
class LabelChoice:
    name: str
    model: LabelModel
    candidates: dict[str, float | None] = field(default_factory=dict)  # valid score on covered rows
    reason: str = ""
    models: dict[str, LabelModel] = field(default_factory=dict)  # every fitted candidate (auto)

    def finalists(self, train_L: np.ndarray, slack: float = FINALIST_SLACK, agree: float = FINALIST_AGREEMENT
                  ) -> dict[str, np.ndarray]:
        """Train labels (-1 where no program voted) of the chosen model, then of the other candidates within
        `slack` of its valid score whose labels differ from every earlier finalist's on more than
        1 - `agree` of the covered rows: the label models worth distilling from."""
        covered = (train_L >= 0).any(axis=1)

        def hard(name: str) -> np.ndarray:
            return np.where(covered, self.models.get(name, self.model).predict_proba(train_L).argmax(1), -1)

        labels = {self.name: hard(self.name)}
        best = self.candidates.get(self.name)
        if best is None:
            return labels
        ranked = sorted((n for n in self.models if n != self.name and self.candidates.get(n) is not None),
                        key=lambda n: -self.candidates[n])
        for n in ranked:
            if self.candidates[n] < best - slack:
                continue
            mine = hard(n)
            if all((mine[covered] == other[covered]).mean() < agree for other in labels.values()):
                labels[n] = mine
        return labels


def _fit(name: str, train_L: np.ndarray, valid_L: np.ndarray | None, valid_y: np.ndarray | None,
         n_classes: int, balance: np.ndarray | None, seed: int) -> LabelModel:
    if name == "weighted":
        return WeightedVote.from_labeled(valid_L, valid_y, n_classes, balance)
    return make_label_model(name, n_classes, seed).fit(train_L, balance)


def _crossfit_weighted(valid_L: np.ndarray, valid_y: np.ndarray, n_classes: int,
                       balance: np.ndarray | None, seed: int) -> np.ndarray:
    """Probabilities of valid rows (all labeled) in which no row's own label informed the weights that label it."""
    order = np.random.default_rng(seed).permutation(len(valid_y))
    out = np.zeros((len(valid_y), n_classes))
    for f in range(FOLDS):
        held = order[f::FOLDS]
        rest = np.setdiff1d(order, held)
        out[held] = WeightedVote.from_labeled(valid_L[rest], valid_y[rest], n_classes, balance).predict_proba(valid_L[held])
    return out


def valid_proba(name: str, model: LabelModel, valid_L: np.ndarray, valid_y: np.ndarray, n_classes: int,
                balance: np.ndarray | None, seed: int = 0) -> np.ndarray:
    """The label model's probabilities of the valid rows, none of them from weights its own label informed
    (the weighted vote is cross-fitted as for its score): what calibration may learn from."""
    out = model.predict_proba(valid_L)
    if name == "weighted":
        labeled = valid_y >= 0
        out[labeled] = _crossfit_weighted(valid_L[labeled], valid_y[labeled], n_classes, balance, seed)
    return out


def choose(requested: str, train_L: np.ndarray, valid_L: np.ndarray | None, valid_y: np.ndarray | None,
           n_classes: int, metric: str, positive_class: int, balance: np.ndarray | None,
           seed: int = 0) -> LabelChoice:
    """The label model to use: `requested` itself, or (for 'auto') the best candidate on valid."""
    m = train_L.shape[1]
    labeled = valid_L is not None and valid_y is not None and bool((valid_y >= 0).any())
    possible = [n for n in PREFERENCE if (n != "snorkel" or m >= SNORKEL_MIN_PROGRAMS) and (n != "weighted" or labeled)]
    if requested != "auto":
        if requested in possible:
            return LabelChoice(requested, _fit(requested, train_L, valid_L, valid_y, n_classes, balance, seed),
                               reason="as requested")
        why = (f"Snorkel's label model needs at least {SNORKEL_MIN_PROGRAMS} programs (there are {m})"
               if requested == "snorkel" else "the weighted vote needs a valid split with gold labels")
        return LabelChoice("majority", MajorityVote(n_classes), reason=f"{requested} unavailable: {why}; majority vote used")
    if not labeled:
        name = "snorkel" if "snorkel" in possible else "majority"
        return LabelChoice(name, _fit(name, train_L, valid_L, valid_y, n_classes, balance, seed),
                           reason="no valid split with gold labels to choose on: "
                                  + ("Snorkel by default" if name == "snorkel" else "majority vote (too few programs for Snorkel)"))
    covered = (valid_L >= 0).any(axis=1) & (valid_y >= 0)
    models: dict[str, LabelModel] = {}
    scores: dict[str, float | None] = {}
    for name in possible:
        models[name] = _fit(name, train_L, valid_L, valid_y, n_classes, balance, seed)
        if name == "weighted":
            pred = _crossfit_weighted(valid_L[covered], valid_y[covered], n_classes, balance, seed).argmax(1)
        else:
            pred = models[name].predict_proba(valid_L[covered]).argmax(1)
        scores[name] = score(valid_y[covered], pred, metric, positive_class) if covered.any() else None
    ranked = sorted(possible, key=lambda n: (-(scores[n] if scores[n] is not None else -1.0), PREFERENCE.index(n)))
    best = ranked[0]
    shown = ", ".join(f"{n} {scores[n]:.3f}" if scores[n] is not None else f"{n} —" for n in possible)
    reason = (f"best {metric} on the {int(covered.sum())} covered valid rows ({shown}"
              + ("; the weighted vote's score is cross-fitted in 5 folds" if "weighted" in possible else "") + ")")
    return LabelChoice(best, models[best], scores, reason, models)
