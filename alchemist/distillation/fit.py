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
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np
from scipy import sparse
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
    fold: np.ndarray | None = None  # cross-fitting: a fold per valid row (train rows with a held-out text are
    # left out of that fold's fit: same_text)
    description: str = "fitted on train, scored on valid"
    train_text: np.ndarray | None = None  # an id per distinct text, train rows ...
    valid_text: np.ndarray | None = None  # ... and valid rows: which train rows a valid row's text is
    groups: np.ndarray | None = None  # valid rows in clusters of similar texts: folds keep a cluster together

    def same_text(self, valid_rows: np.ndarray, n_train: int) -> np.ndarray:
        """Train rows whose text is that of one of these valid rows (bool mask over train)."""
        if self.train_text is None or self.valid_text is None:
            return np.zeros(n_train, dtype=bool)
        return np.isin(self.train_text, self.valid_text[valid_rows])


def selection(train_texts: Sequence[str], valid_texts: Sequence[str]) -> Selection:
    """Disjoint splits: score every valid row. A few valid texts also in train (duplicates in the data):
    score only the others. Mostly shared (train *is* valid): 3-fold cross-fitting."""
    ids: dict[str, int] = {}
    train_text = np.array([ids.setdefault(t, len(ids)) for t in train_texts], dtype=np.int64)
    known = len(ids)
    valid_text = np.array([ids.setdefault(t, len(ids)) for t in valid_texts], dtype=np.int64)
    seen = valid_text < known
    texts = {"train_text": train_text, "valid_text": valid_text}
    if not seen.any():
        return Selection(~seen, **texts)
    if (~seen).sum() >= max(MIN_UNSEEN, len(valid_texts) // 2):
        return Selection(~seen, description=f"fitted on train, scored on the {int((~seen).sum())} valid rows "
                                            f"whose text is not in train ({int(seen.sum())} are)", **texts)
    fold = np.random.default_rng(0).permutation(len(valid_texts)) % SELECTION_FOLDS
    return Selection(np.ones(len(valid_texts), dtype=bool), fold,
                     f"{SELECTION_FOLDS}-fold cross-fitting on valid: {int(seen.sum())} of its "
                     f"{len(valid_texts)} texts are also in train", **texts)


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
    valid_probs: np.ndarray | None = field(default=None, repr=False)  # the chosen candidate's probabilities of
    # the valid rows it did not learn from (out of fold where it learned from valid; NaN rows: not predicted)

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


def fit_one(feats, X, y, seed: int, weight: np.ndarray | None = None):
    """One classifier of these features fitted on (X, y) with this seed (convergence warnings are expected);
    `weight`: a weight per row (None: all 1)."""
    clf = feats.classifier(seed, X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y) if weight is None else clf.fit(X, y, sample_weight=weight)
    return clf


def _fit_all(jobs: list[tuple], advance: Callable[[int], None]) -> dict:
    """Fit every (key, feats, X, y, seed, weight) job; independent MLP fits run side by side on the machine's cores
    (processes: the MLP's sparse products hold the GIL) once the data is big enough to pay for them.
    Deterministic (logistic regression) fits take well under a second: here, not worth shipping X to a process."""
    pool = [job for job in jobs if not job[1].deterministic]
    if len(pool) < 2 or max(job[2].shape[0] for job in pool) < PARALLEL_MIN_ROWS or _cores() < 2:
        pool = []
    pooled = {job[0] for job in pool}
    out = {}
    for key, feats, X, y, seed, weight in jobs:
        if key not in pooled:
            out[key] = fit_one(feats, X, y, seed, weight)
            advance(1)
    if not pool:
        return out
    from joblib import Parallel, delayed

    def one(key, feats, X, y, seed, weight):
        return key, fit_one(feats, X, y, seed, weight)

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


@dataclass
class Recipe:
    """What one candidate learns from: a label model's train labels (the programs), the gold rows of
    valid, or both. A recipe that learns from gold is only ever scored on gold rows it did not see."""

    name: str  # shown: "weighted", "weighted + gold", "stacked + gold", "agreed + gold", "gold only"
    labels: np.ndarray | None  # train labels, -1 where unused (None: the gold rows alone)
    gold: bool = False
    stack: Stack | None = None  # labels the train rows by a model of the votes fitted on the gold rows
    agree: bool = False  # keep only the train labels a classifier of the gold rows (same features) agrees with
    _memo: dict = field(default_factory=dict, repr=False)

    def train_labels(self, use: np.ndarray | None, valid_labels: np.ndarray | None,
                     s: FeatureSet | None = None) -> np.ndarray | None:
        """The train labels this recipe learns from, given the gold rows it may use (and the features)."""
        if self.stack is None and not self.agree:
            return self.labels
        key = (use.tobytes(), s.features.name if self.agree and s is not None else "")
        if key not in self._memo:
            self._memo[key] = (self.stack.labels(use, valid_labels) if self.stack is not None
                               else _agreed(self.labels, s, use & (valid_labels >= 0), valid_labels))
        return self._memo[key]


def _agreed(labels: np.ndarray, s: FeatureSet, gold: np.ndarray, valid_labels: np.ndarray) -> np.ndarray:
    """The label model's train labels where a classifier fitted on the gold rows alone (these features) gives
    the same class; -1 elsewhere. Two views that err differently agree mostly where both are right."""
    if len(np.unique(valid_labels[gold])) < 2:
        return np.full(len(labels), -1)
    clf = fit_one(s.features, s.valid[gold], valid_labels[gold], 0)
    predicted = clf.classes_[clf.predict_proba(s.train).argmax(1)]
    return np.where((labels >= 0) & (labels == predicted), labels, -1)


@dataclass
class Stack:
    """A logistic regression over each row's votes (one-hot per class), the label model's probabilities
    and its sentence embedding, fitted on the gold rows; it labels the train rows some program voted on.
    Unlike a label model it learns from gold which programs to trust on which kind of text."""

    train: np.ndarray  # (train rows, inputs)
    valid: np.ndarray  # (valid rows, inputs)
    covered: np.ndarray  # train rows some program voted on

    def labels(self, use: np.ndarray, valid_labels: np.ndarray) -> np.ndarray:
        from sklearn.linear_model import LogisticRegression

        rows = np.flatnonzero(use & (valid_labels >= 0))
        out = np.full(len(self.covered), -1)
        if len(np.unique(valid_labels[rows])) < 2:
            return out
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(C=1.0, max_iter=1000).fit(self.valid[rows], valid_labels[rows])
        out[self.covered] = model.classes_[model.predict_proba(self.train[self.covered]).argmax(1)]
        return out


def stack_inputs(votes: np.ndarray, probs: np.ndarray, embedding: np.ndarray, n_classes: int) -> np.ndarray:
    """One row per text: its votes one-hot per class, the label model's probabilities, its embedding."""
    votes = np.asarray(votes)
    onehot = [(votes == c).astype(np.float32) for c in range(n_classes)]
    return np.hstack([*onehot, np.asarray(probs, dtype=np.float32), np.asarray(embedding, dtype=np.float32)])


def recipes_for(options: dict[str, np.ndarray], with_gold: bool, stack: Stack | None = None) -> list[Recipe]:
    """Each label model's labels; with gold rows to learn from, also the first (the label model chosen on
    its own) with the gold rows added, the stacked model's labels with the gold rows (given its inputs),
    the first's labels where a classifier of the gold rows agrees with them plus the gold rows, and the gold
    rows alone (the baseline, so it can win)."""
    out = [Recipe(name, labels) for name, labels in options.items()]
    if with_gold:
        first = next(iter(options))
        out.append(Recipe(f"{first} + gold" if first else "programs + gold", options[first], gold=True))
        if stack is not None:
            out.append(Recipe("stacked + gold", None, gold=True, stack=stack))
        out.append(Recipe("agreed + gold", options[first], gold=True, agree=True))
        out.append(Recipe("gold only", None, gold=True))
    return out


def fit_count(sets: Sequence[FeatureSet], seeds: int, select: bool, plan: Selection | None,
              label_options: int = 1, gold_recipes: int = 0) -> int:
    """How many classifier fits `distill` makes: the progress bar's total."""
    folds = plan is not None and plan.fold is not None
    pairs = len(sets) * (label_options + gold_recipes)
    selecting = select and pairs > 1
    per_candidate = (SELECTION_FOLDS if folds else 1) if selecting else 0
    gold_extra = len(sets) * gold_recipes * (0 if folds else SELECTION_FOLDS - 1) if selecting else 0
    chosen = max((1 if s.features.deterministic else seeds) for s in sets) if sets else 0
    reused = 1 if selecting and not folds else 0  # the chosen candidate's selection fit is its first seed
    return per_candidate * pairs + gold_extra + chosen - reused


def distill(sets: Sequence[FeatureSet], train_labels: np.ndarray | dict[str, np.ndarray], classes: list[str],
            seeds: int, valid_labels: np.ndarray | None = None, test_labels: np.ndarray | None = None,
            metric: str = "acc", positive_class: int = 1, plan: Selection | None = None,
            on_fit: Callable[[int], None] | None = None, with_gold: bool = False,
            stack: Stack | None = None) -> DistillResult:
    """`train_labels`: a label model's hard labels (-1 for rows no program covered), or several label
    models' labels by name (first = the preferred one), to choose from together with the features.
    `with_gold`: valid's gold rows are also candidates' training data (chosen by cross-fitting on valid);
    `stack`: the inputs of the stacked candidate (see Stack)."""
    options = train_labels if isinstance(train_labels, dict) else {"": np.asarray(train_labels)}
    first_labels = next(iter(options.values()))
    result = DistillResult(seeds=seeds)
    covered = np.asarray(first_labels) >= 0
    result.trained_on = int(covered.sum())
    options = {n: np.asarray(v) for n, v in options.items() if len(np.unique(np.asarray(v)[covered])) >= 2}
    if not sets:
        result.error = "no usable features in the training text"
        return result
    if not options:
        result.error = "the label model's labels on covered rows hold fewer than two classes"
        return result
    gold_ok = (with_gold and valid_labels is not None and sets[0].valid is not None
               and len(np.unique(valid_labels[valid_labels >= 0])) >= 2)
    recipes = recipes_for(options, gold_ok, stack)
    if gold_ok:
        plan = _clustered_plan(sets, plan or Selection(np.ones(len(valid_labels), dtype=bool)), valid_labels)
    advance = on_fit or (lambda n: None)
    first_models: dict[tuple[str, str], object] = {}
    out_of_fold: dict[tuple[str, str], np.ndarray] = {}
    recipe, chosen = _choose(sets, recipes, len(classes), valid_labels, metric, positive_class, plan, result,
                             first_models, advance, out_of_fold)
    feats = chosen.features
    result.features, result.labels, result.classifier = feats.name, recipe.name, feats.label
    result.seeds = 1 if feats.deterministic else seeds
    X, y, w = _training_set(chosen, recipe, valid_labels, plan, None)
    result.trained_on = len(y)
    fitted = {0: first_models[(recipe.name, feats.name)]} if (recipe.name, feats.name) in first_models else {}
    fitted.update(_fit_all([(seed, feats, X, y, seed, w) for seed in range(result.seeds) if seed not in fitted],
                           advance))
    result.valid_probs = out_of_fold.get((recipe.name, feats.name))
    if result.valid_probs is None and chosen.valid is not None and not recipe.gold and (plan is None or plan.fold is None):
        rows = plan.rows if plan is not None else np.ones(chosen.valid.shape[0], bool)  # texts not learned from
        result.valid_probs = np.full((len(rows), len(classes)), np.nan)
        result.valid_probs[rows] = full_proba(fitted[0], chosen.valid[rows], len(classes))
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


def _stack(parts: list):
    if any(sparse.issparse(p) for p in parts):
        return sparse.vstack([sparse.csr_matrix(p) for p in parts]).tocsr()
    return np.vstack(parts)


def _training_set(s: FeatureSet, recipe: Recipe, valid_labels: np.ndarray | None, plan: Selection | None,
                  held: np.ndarray | None) -> tuple[object, np.ndarray, np.ndarray | None]:
    """The recipe's rows and their weights: its train labels and, learning from gold, valid's gold rows — all
    but the valid rows `held` out (and the train rows with their text). A gold row's label replaces the
    programs' on train rows with its text; the gold rows weigh as much in all as the programs' rows (a
    few hundred gold rows would otherwise be lost among thousands of train rows)."""
    n_train = s.train.shape[0]
    drop = np.zeros(n_train, dtype=bool)
    if held is not None and plan is not None:  # never learn the held-out rows' texts from train either
        drop |= plan.same_text(np.flatnonzero(held), n_train)
    use = None
    if recipe.gold:
        use = (valid_labels >= 0) & (np.ones(len(valid_labels), bool) if held is None else ~held)
        if plan is not None:
            drop |= plan.same_text(np.flatnonzero(use), n_train)
    labels = recipe.train_labels(use, valid_labels, s)
    parts, ys = [], []
    if labels is not None:
        keep = (labels >= 0) & ~drop
        parts.append(s.train[keep])
        ys.append(labels[keep])
    if use is None:
        return _stack(parts), np.concatenate(ys), None
    parts.append(s.valid[use])
    ys.append(valid_labels[use])
    n_programs, n_gold = (len(ys[0]) if len(ys) == 2 else 0), int(use.sum())
    weight = np.ones(n_programs + n_gold)
    weight[n_programs:] = max(1.0, n_programs / max(1, n_gold))
    return _stack(parts), np.concatenate(ys), weight


def _choose(sets, recipes: list[Recipe], n_classes, valid_labels, metric, pos, plan, result, first_models,
            advance, out_of_fold: dict) -> tuple[Recipe, FeatureSet]:
    tfidf = next((s for s in sets if s.features.name == "tfidf"), sets[0])
    if len(sets) == 1 and len(recipes) == 1:
        result.reason = f"{sets[0].features.label}: as requested"
        return recipes[0], sets[0]
    if valid_labels is None or sets[0].valid is None:
        result.reason = "no valid labels to choose on: TF-IDF + MLP, the default"
        return recipes[0], tfidf
    plan = plan or Selection(np.ones(len(valid_labels), dtype=bool))
    result.selection = plan.description + ("; candidates that learn from gold rows are cross-fitted on them"
                                           if any(r.gold for r in recipes) and plan.fold is None else "")
    pairs = [(r, s) for r in recipes for s in sets]
    scores = _valid_scores(pairs, n_classes, valid_labels, metric, pos, plan, first_models, advance, out_of_fold)
    ranked = []
    for i, ((recipe, s), v) in enumerate(zip(pairs, scores, strict=True)):
        result.candidates.append({"labels": recipe.name, "features": s.features.name, "valid": v,
                                  "gold": recipe.gold})
        # ties: the programs' labels first (the label model chosen on its own first), then TF-IDF
        ranked.append(((-1.0 if v is None else v), -recipes.index(recipe), s.features.name == "tfidf", i))
    best = max(ranked)
    recipe, chosen = pairs[best[3]]
    result.valid = None if best[0] < 0 else best[0]
    shown = ", ".join(_candidate_name(c, len(recipes)) + (f" {c['valid']:.3f}" if c["valid"] is not None else " —")
                      for c in result.candidates)
    tied = [r for r in ranked if r[0] == best[0]]
    ties = ("" if len(tied) < 2 else "; a tie, kept by the label model chosen on its own, then TF-IDF"
            if len(recipes) > 1 else "; a tie, kept by TF-IDF")  # said only when it decided
    result.reason = f"best distilled {metric} on valid ({shown}){ties}"
    return recipe, chosen


def _candidate_name(c: dict, n_recipes: int) -> str:
    if n_recipes == 1:
        return c["features"]
    return f"{c['labels']}{'' if c.get('gold') else ' labels'} + {c['features']}"


def _folds(recipe: Recipe, plan: Selection, valid_labels: np.ndarray) -> list[np.ndarray] | None:
    """The valid rows held out of each fit (bool masks); None: one fit, on train alone, scored on plan.rows."""
    if plan.fold is not None:
        return [plan.fold == f for f in range(SELECTION_FOLDS)]
    if not recipe.gold:
        return None
    labels = np.where(plan.rows, valid_labels, -1)
    if plan.groups is not None:
        return grouped_folds(labels, plan.groups, SELECTION_FOLDS) or folds_of(labels, SELECTION_FOLDS)
    return folds_of(labels, SELECTION_FOLDS)


CLUSTERED_RATIO = 1.25  # valid's texts this much closer to each other than to train's: clustered
CLUSTER_MIN_ROWS = 200  # fewer gold rows: too few to tell, and to cluster
CLUSTERS = 20


def clustered_groups(tfidf: FeatureSet, rows: np.ndarray, seed: int = 0) -> tuple[np.ndarray | None, float]:
    """Clusters of similar texts among valid's gold `rows` (bool mask), when valid's texts are much closer to
    each other than to train's (reviews of the same films in one split): then a random fold would hold out
    rows whose near-twins trained the model, and crediting that would favour learning from gold. Returns a
    cluster per valid row (-1 elsewhere) or None, and the ratio of nearest-neighbour similarities."""
    idx = np.flatnonzero(rows)
    if len(idx) < CLUSTER_MIN_ROWS or tfidf.valid is None:
        return None, 0.0
    rng = np.random.default_rng(seed)
    n = min(2000, len(idx), tfidf.train.shape[0])
    sample = rng.choice(idx, n, replace=False)
    V = sparse.csr_matrix(tfidf.valid[sample])
    T = sparse.csr_matrix(tfidf.train[rng.choice(tfidf.train.shape[0], n, replace=False)])

    def nearest(S) -> float:
        S = np.asarray(S.todense()) if sparse.issparse(S) else np.asarray(S)
        S[S >= 0.999] = 0.0  # the same text (or the row itself): not a neighbour
        return float(S.max(axis=1).mean())

    within, across = nearest(V @ V.T), nearest(V @ T.T)
    ratio = within / across if across > 0 else 0.0
    if ratio < CLUSTERED_RATIO:
        return None, ratio
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD

    X = sparse.csr_matrix(tfidf.valid[idx])
    Z = TruncatedSVD(min(100, X.shape[1] - 1), random_state=seed).fit_transform(X)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True) + 1e-9
    groups = np.full(tfidf.valid.shape[0], -1)
    groups[idx] = KMeans(CLUSTERS, n_init=3, random_state=seed).fit_predict(Z)
    return groups, ratio


def _clustered_plan(sets: Sequence[FeatureSet], plan: Selection, valid_labels: np.ndarray) -> Selection:
    """The plan with its gold folds kept by clusters of similar texts when valid is clustered (TF-IDF tells)."""
    tfidf = next((s for s in sets if s.features.name == "tfidf"), None)
    if tfidf is None or plan.fold is not None:
        return plan
    groups, ratio = clustered_groups(tfidf, plan.rows & (valid_labels >= 0))
    if groups is None:
        return plan
    return replace(plan, groups=groups, description=(
        f"{plan.description}; valid's texts are {ratio:.2f}x closer to each other than to train's, so the gold "
        f"folds keep {CLUSTERS} clusters of similar texts together"))


def grouped_folds(labels: np.ndarray, groups: np.ndarray, k: int = 3, seed: int = 0) -> list[np.ndarray] | None:
    """Stratified folds of the labeled rows that keep each cluster in one fold (None when that fails)."""
    from sklearn.model_selection import StratifiedGroupKFold

    rows = np.flatnonzero((labels >= 0) & (groups >= 0))
    if len(rows) < 4 or len(np.unique(labels[rows])) < 2 or len(np.unique(groups[rows])) < k:
        return None
    out = []
    for _, held in StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(rows, labels[rows], groups[rows]):
        mask = np.zeros(len(labels), bool)
        mask[rows[held]] = True
        out.append(mask)
    return out


def _valid_scores(pairs, n_classes, valid_labels, metric, pos, plan: Selection, first_models,
                  advance, out_of_fold: dict) -> list[float | None]:
    """Each (recipe, features) candidate's valid score; all their fits run together (see _fit_all). Its
    probabilities of the scored valid rows go to `out_of_fold` (calibration learns from them)."""
    jobs, folds, skipped = [], {}, set()
    for recipe, s in pairs:
        key = (recipe.name, s.features.name)
        folds[key] = _folds(recipe, plan, valid_labels)
        if folds[key] is None:
            if recipe.gold:  # too few gold rows of some class to hold any out
                skipped.add(key)
                continue
            jobs.append(((*key, -1), s.features, *_training_set(s, recipe, valid_labels, plan, None)[:2], 0, None))
            continue
        for f, held in enumerate(folds[key]):
            X, y, w = _training_set(s, recipe, valid_labels, plan, held)
            if len(np.unique(y)) < 2:
                skipped.add(key)
                advance(1)
                continue
            jobs.append(((*key, f), s.features, X, y, 0, w))
    fitted = _fit_all(jobs, advance)
    scored = np.where(plan.rows, valid_labels, -1)
    scores = []
    for recipe, s in pairs:
        key = (recipe.name, s.features.name)
        if key in skipped:
            scores.append(None)
            continue
        probs = out_of_fold[key] = np.full((len(valid_labels), n_classes), np.nan)
        if folds[key] is None:
            clf = first_models[key] = fitted[(*key, -1)]  # reused as the first seed
            probs[plan.rows] = full_proba(clf, s.valid[plan.rows], n_classes)
            scores.append(score(valid_labels[plan.rows], probs[plan.rows].argmax(1), metric, pos))
        else:
            for f, held in enumerate(folds[key]):
                probs[held] = full_proba(fitted[(*key, f)], s.valid[held], n_classes)
            predicted = np.where(np.isnan(probs).any(1), -1, np.nan_to_num(probs).argmax(1))
            scores.append(score(scored, predicted, metric, pos))
    return scores


def folds_of(labels: np.ndarray, k: int = 5, seed: int = 0) -> list[np.ndarray] | None:
    """Stratified folds of the labeled rows (each a bool mask over all rows); None when some class has too
    few rows for two folds."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    rows = np.flatnonzero(labels >= 0)
    counts = np.bincount(labels[rows]) if len(rows) else np.zeros(0, int)
    if len(rows) < 4 or len(np.unique(labels[rows])) < 2 or counts[counts > 0].min() < 2:
        return None
    out = []
    splitter = StratifiedKFold(min(k, int(counts[counts > 0].min())), shuffle=True, random_state=seed)
    for _, held in splitter.split(rows, labels[rows]):
        mask = np.zeros(len(labels), bool)
        mask[rows[held]] = True
        out.append(mask)
    return out
