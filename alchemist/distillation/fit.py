"""Distillation: train a small classifier on the label model's labels, score it on `test`.

Features are chosen on valid (`--features auto`): TF-IDF + the paper's MLP (2 hidden layers x 32) and
MiniLM embeddings + logistic regression are each fitted on the covered train rows and scored against
valid's gold labels; the better one is kept (a tie keeps TF-IDF, which needs no model to predict).
A candidate is never scored on text it was trained on: valid rows whose text is also in train
(duplicates) are not scored, and when most of valid is in train (a dataset whose train split is its
valid split) candidates are scored by 3-fold cross-fitting: each fold of valid is predicted by a model
trained without that fold's texts. Test is only
ever scored. The chosen classifier is trained over `seeds` seeds (one fit if it is deterministic);
the first seed's model is saved with the run (model.py) and labels new text.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from alchemist.distillation.embeddings import EmbeddingError, TextEncoder
from alchemist.distillation.features import CombinedFeatures, Features, make_features
from alchemist.distillation.model import DistilledModel, full_proba
from alchemist.labeling.metrics import per_class, score

SELECTION_FOLDS = 3
PARALLEL_MIN_ROWS = 3000  # below this, starting worker processes costs more than it saves
MIN_UNSEEN = 50  # fewer valid rows unseen in train than this (or half of valid): cross-fit


# --- features ----------------------------------------------------------------------------------------
@dataclass
class FeatureSet:
    """One candidate's features for every split (valid/test None when the split is absent)."""

    features: Features
    train: object
    valid: object = None
    test: object = None


def candidates_for(requested: str) -> list[str]:
    return ["tfidf", "embeddings", "combined"] if requested == "auto" else [requested]


def prepare(names: Sequence[str], train_texts: Sequence[str], valid_texts: Sequence[str] = (),
            test_texts: Sequence[str] = (), encoder: TextEncoder | None = None,
            advance: Callable[[int], None] | None = None) -> tuple[list[FeatureSet], list[str]]:
    """Build each candidate's features; a candidate that cannot be built is left out with the reason."""
    sets, notes = [], []
    for name in names:
        built = {s.features.name: s for s in sets}
        if name == "combined" and {"tfidf", "embeddings"} <= set(built):  # both already built: join them
            sets.append(_joined(built["tfidf"], built["embeddings"]))
            continue
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


def _joined(tfidf: FeatureSet, emb: FeatureSet) -> FeatureSet:
    join = CombinedFeatures.join
    return FeatureSet(CombinedFeatures(tfidf.features, emb.features), join(tfidf.train, emb.train),
                      *(join(a, b) if a is not None else None for a, b in ((tfidf.valid, emb.valid),
                                                                            (tfidf.test, emb.test))))


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
    features: str = ""  # the chosen features
    labels: str = ""  # the chosen label model's name ("" when only one set of labels was offered)
    classifier: str = ""  # what it is, for people
    candidates: list[dict] = field(default_factory=list)  # {"labels", "features", "valid"} per candidate
    valid: float | None = None  # the chosen candidate's valid score
    reason: str = ""  # why the chosen one
    selection: str = ""  # how the valid scores were made

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.scores)) if self.scores else None

    def __repr__(self) -> str:
        test = "—" if self.mean is None else f"{self.mean:.3f}" + (f" ± {self.std:.3f}" if len(self.scores) > 1 else "")
        return (f"DistillResult({self.classifier or self.features or 'no model'}, trained on {self.trained_on:,} rows, "
                f"valid {self.valid if self.valid is None else round(self.valid, 3)}, test {test}"
                + (f"; {self.error}" if self.error else "") + ")")

    @property
    def std(self) -> float | None:
        return float(np.std(self.scores)) if self.scores else None


def fit_one(feats, X, y, seed: int):
    """One classifier of these features fitted on (X, y) with this seed (convergence warnings are expected)."""
    clf = feats.classifier(seed, X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf


def _fit_all(jobs: list[tuple], advance: Callable[[int], None]) -> dict:
    """Fit every (key, feats, X, y, seed) job; independent MLP fits run side by side on the machine's cores
    (processes: the MLP's sparse products hold the GIL) once the data is big enough to pay for them.
    Deterministic (logistic regression) fits take well under a second: here, not worth shipping X to a process."""
    pool = [job for job in jobs if not job[1].deterministic]
    if len(pool) < 2 or max(job[2].shape[0] for job in pool) < PARALLEL_MIN_ROWS or _cores() < 2:
        pool = []
    pooled = {job[0] for job in pool}
    out = {}
    for key, feats, X, y, seed in jobs:
        if key not in pooled:
            out[key] = fit_one(feats, X, y, seed)
            advance(1)
    if not pool:
        return out
    from joblib import Parallel, delayed

    def one(key, feats, X, y, seed):
        return key, fit_one(feats, X, y, seed)

    with Parallel(n_jobs=min(len(pool), _cores()), return_as="generator_unordered") as parallel:
        for key, clf in parallel(delayed(one)(*job) for job in pool):
            out[key] = clf
            advance(1)
    return out


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def fit_count(sets: Sequence[FeatureSet], seeds: int, select: bool, plan: Selection | None,
              label_options: int = 1) -> int:
    """How many classifier fits `distill` makes: the progress bar's total."""
    folds = plan is not None and plan.fold is not None
    pairs = len(sets) * label_options
    selecting = select and pairs > 1
    per_candidate = (SELECTION_FOLDS if folds else 1) if selecting else 0
    chosen = max((1 if s.features.deterministic else seeds) for s in sets) if sets else 0
    reused = 1 if selecting and not folds else 0  # the chosen candidate's selection fit is its first seed
    return per_candidate * pairs + chosen - reused


def distill(sets: Sequence[FeatureSet], train_labels: np.ndarray | dict[str, np.ndarray], classes: list[str],
            seeds: int, valid_labels: np.ndarray | None = None, test_labels: np.ndarray | None = None,
            metric: str = "acc", positive_class: int = 1, plan: Selection | None = None,
            on_fit: Callable[[int], None] | None = None) -> DistillResult:
    """`train_labels`: a label model's hard labels (-1 for rows no program covered), or several label
    models' labels by name (first = the preferred one), to choose from together with the features."""
    options = train_labels if isinstance(train_labels, dict) else {"": np.asarray(train_labels)}
    first_labels = next(iter(options.values()))
    result = DistillResult(seeds=seeds)
    covered = np.asarray(first_labels) >= 0
    result.trained_on = int(covered.sum())
    options = {n: np.asarray(v)[covered] for n, v in options.items() if len(np.unique(np.asarray(v)[covered])) >= 2}
    if not sets:
        result.error = "no usable features in the training text"
        return result
    if not options:
        result.error = "the label model's labels on covered rows hold fewer than two classes"
        return result
    advance = on_fit or (lambda n: None)
    first_models: dict[tuple[str, str], object] = {}
    lname, chosen = _choose(sets, options, covered, len(classes), valid_labels, metric, positive_class, plan,
                            result, first_models, advance)
    feats, y = chosen.features, options[lname]
    result.features, result.labels, result.classifier = feats.name, lname, feats.label
    result.seeds = 1 if feats.deterministic else seeds
    X = chosen.train[covered]
    fitted = {0: first_models[(lname, feats.name)]} if (lname, feats.name) in first_models else {}
    fitted.update(_fit_all([(seed, feats, X, y, seed) for seed in range(result.seeds) if seed not in fitted],
                           advance))
    for seed in range(result.seeds):
        clf = fitted[seed]
        model = DistilledModel(feats, clf, list(classes))
        result.model = result.model or model
        if chosen.test is not None and test_labels is not None:
            predicted = full_proba(clf, chosen.test, len(classes)).argmax(axis=1)
            s = score(test_labels, predicted, metric, positive_class)
            if s is not None:
                result.scores.append(s)
                if result.per_class is None:
                    result.per_class = per_class(test_labels, predicted, list(classes))
    return result


def _choose(sets, options, covered, n_classes, valid_labels, metric, pos, plan, result, first_models,
            advance) -> tuple[str, FeatureSet]:
    first = next(iter(options))
    tfidf = next((s for s in sets if s.features.name == "tfidf"), sets[0])
    if len(sets) == 1 and len(options) == 1:
        result.reason = f"{sets[0].features.label}: as requested"
        return first, sets[0]
    if valid_labels is None or sets[0].valid is None:
        result.reason = "no valid labels to choose on: TF-IDF + MLP, the default"
        return first, tfidf
    plan = plan or Selection(np.ones(len(valid_labels), dtype=bool))
    result.selection = plan.description
    pairs = [(lname, s) for lname in options for s in sets]
    scores = _valid_scores(pairs, options, covered, n_classes, valid_labels, metric, pos, plan, first_models, advance)
    ranked = []
    for (lname, s), v in zip(pairs, scores, strict=True):
        result.candidates.append({"labels": lname, "features": s.features.name, "valid": v})
        # ties: the label model chosen on its own first, then TF-IDF
        ranked.append(((-1.0 if v is None else v), -list(options).index(lname), s.features.name == "tfidf", lname, s))
    best = max(ranked, key=lambda t: t[:3])
    result.valid = None if best[0] < 0 else best[0]
    shown = ", ".join(("" if len(options) == 1 else f"{c['labels']} labels + ") + c["features"]
                      + (f" {c['valid']:.3f}" if c["valid"] is not None else " —") for c in result.candidates)
    tied = [r for r in ranked if r[0] == best[0]]
    ties = ("" if len(tied) < 2 else "; a tie, kept by the label model chosen on its own, then TF-IDF"
            if len(options) > 1 else "; a tie, kept by TF-IDF")  # said only when it decided
    result.reason = f"best distilled {metric} on valid ({shown}){ties}"
    return best[3], best[4]


def _valid_scores(pairs, options, covered, n_classes, valid_labels, metric, pos, plan: Selection, first_models,
                  advance) -> list[float | None]:
    """Each (labels, features) candidate's valid score; all their fits run together (see _fit_all)."""
    labels_all = {lname: np.full(covered.shape[0], -1) for lname in options}
    for lname, y in options.items():
        labels_all[lname][covered] = y
    jobs, skipped = [], set()
    for lname, s in pairs:
        if plan.fold is None:
            jobs.append(((lname, s.features.name, -1), s.features, s.train[covered], options[lname], 0))
            continue
        for f in range(SELECTION_FOLDS):
            keep = covered & ~plan.leave_out[f]
            if len(np.unique(labels_all[lname][keep])) < 2:
                skipped.add((lname, s.features.name))
                advance(1)
                continue
            jobs.append(((lname, s.features.name, f), s.features, s.train[keep], labels_all[lname][keep], 0))
    fitted = _fit_all(jobs, advance)
    scores = []
    for lname, s in pairs:
        name = s.features.name
        if (lname, name) in skipped:
            scores.append(None)
        elif plan.fold is None:
            clf = first_models[(lname, name)] = fitted[(lname, name, -1)]  # reused as the first seed
            predicted = full_proba(clf, s.valid[plan.rows], n_classes).argmax(1)
            scores.append(score(valid_labels[plan.rows], predicted, metric, pos))
        else:
            predicted = np.zeros(len(valid_labels), dtype=int)
            for f in range(SELECTION_FOLDS):
                part = plan.fold == f
                predicted[part] = full_proba(fitted[(lname, name, f)], s.valid[part], n_classes).argmax(1)
            scores.append(score(valid_labels, predicted, metric, pos))
    return scores
