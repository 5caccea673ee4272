"""The gold-only baseline and the candidates that learn from gold rows: chosen on valid by cross-fitting,
never scored on a gold row they learned from."""

from __future__ import annotations

import numpy as np

from alchemist.distillation.fit import Stack, distill, folds_of, prepare, selection, stack_inputs
from alchemist.distillation.gold import gold_only

WORDS = {0: ["awful", "boring", "bad", "dull"], 1: ["great", "lovely", "fine", "superb"]}


def rows(n: int, seed: int, noise: float = 0.0, unique: str = ""):
    """Texts whose class is told by its words; `noise` of the labels flipped; `unique`: a token per row."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = [" ".join(rng.choice(WORDS[int(c)], 3)) + (f" {unique}{seed}x{i}" if unique else "")
             for i, c in enumerate(y)]
    flipped = np.where(rng.random(n) < noise, 1 - y, y)
    return texts, flipped, y


def test_gold_only_is_cross_validated_and_scored_on_test():
    train, valid, test = rows(200, 0), rows(120, 1), rows(100, 2)
    sets, _ = prepare(["tfidf"], train[0], valid[0], test[0])
    g = gold_only(sets[0], valid[1], test[1], ["neg", "pos"], 2)
    assert g.rows == 120 and g.valid_cv > 0.9 and len(g.scores) == 2 and g.mean > 0.9
    one_class = np.zeros(120, dtype=int)
    assert gold_only(sets[0], one_class, test[1], ["neg", "pos"], 1) is None


def test_folds_cover_every_labeled_row_once_and_refuse_a_class_of_one():
    labels = np.array([0, 1, -1, 0, 1, 0, 1, -1, 0, 1])
    folds = folds_of(labels, 3)
    assert folds is not None and sum(f.astype(int) for f in folds).tolist() == [int(x >= 0) for x in labels]
    assert folds_of(np.array([0, 0, 0, 1])) is None


def test_bad_programs_lose_to_gold_and_gold_candidates_win():
    """The programs' labels are noise; valid's gold rows are clean: a candidate learning from gold wins."""
    train, valid, test = rows(300, 0, noise=0.5), rows(150, 1), rows(200, 2)
    sets, _ = prepare(["tfidf"], train[0], valid[0], test[0])
    result = distill(sets, {"majority": train[1]}, ["neg", "pos"], 1, valid[1], test[1],
                     plan=selection(train[0], valid[0]), with_gold=True)
    names = [c["labels"] for c in result.candidates]
    assert names == ["majority", "majority + gold", "agreed + gold", "gold only"]
    assert result.labels in ("majority + gold", "agreed + gold", "gold only") and result.mean > 0.9
    assert result.trained_on >= 150  # the gold rows are in what it trained on


def test_no_candidate_is_scored_on_a_gold_row_it_learned_from():
    """Every valid row carries a token of its own and a random label: a model that saw a row can recite
    it, one that did not can only guess. Scored honestly, no candidate gets far above chance."""
    train = rows(200, 0)
    rng = np.random.default_rng(5)
    valid_texts = [f"memo{i} memo{i} plain" for i in range(160)]
    valid_labels = rng.integers(0, 2, 160)
    test = rows(100, 2)
    sets, _ = prepare(["tfidf"], train[0], valid_texts, test[0])
    result = distill(sets, {"majority": train[1]}, ["neg", "pos"], 1, valid_labels, test[1],
                     plan=selection(train[0], valid_texts), with_gold=True)
    gold_scores = [c["valid"] for c in result.candidates if c["gold"]]
    assert gold_scores and max(gold_scores) < 0.7


def test_cross_fitting_when_train_is_valid_leaves_each_fold_out_of_train_too():
    """A dataset whose train split is its valid split: a held-out fold's texts must not be learnt from train."""
    rng = np.random.default_rng(3)
    texts = [f"tok{i} tok{i} common" for i in range(150)]
    gold = rng.integers(0, 2, 150)
    sets, _ = prepare(["tfidf"], texts, texts, texts)
    result = distill(sets, {"majority": gold.copy()}, ["neg", "pos"], 1, gold, None,
                     plan=selection(texts, texts), with_gold=True)
    assert all(c["valid"] is None or c["valid"] < 0.7 for c in result.candidates)


def test_the_stack_learns_which_program_to_trust_from_gold():
    """Program 0 is right, program 1 always wrong; a label model without gold cannot tell, the stack can."""
    rng = np.random.default_rng(0)
    y_train, y_valid = rng.integers(0, 2, 300), rng.integers(0, 2, 80)
    votes = lambda y: np.stack([y, 1 - y], axis=1)
    half = lambda n: np.full((n, 2), 0.5)
    emb = lambda n: np.zeros((n, 4))
    covered = np.ones(300, bool)
    covered[:10] = False
    stack = Stack(stack_inputs(votes(y_train), half(300), emb(300), 2),
                  stack_inputs(votes(y_valid), half(80), emb(80), 2), covered)
    labels = stack.labels(np.ones(80, bool), y_valid)
    assert (labels[:10] == -1).all() and (labels[10:] == y_train[10:]).mean() == 1.0
    assert (stack.labels(np.zeros(80, bool), y_valid) == -1).all()  # no gold rows: no labels


def test_agreed_labels_keep_only_the_rows_a_gold_classifier_confirms():
    """Half the programs' labels are flipped: a classifier of the clean gold rows disagrees with the flipped
    ones, so the agreed recipe's train labels are far cleaner than the programs'."""
    from alchemist.distillation.fit import Recipe

    train, valid, _ = rows(400, 0, noise=0.3), rows(200, 1), rows(10, 2)
    sets, _ = prepare(["tfidf"], train[0], valid[0], [])
    truth = train[2]
    recipe = Recipe("agreed + gold", train[1], gold=True, agree=True)
    use = np.ones(len(valid[1]), bool)
    agreed = recipe.train_labels(use, valid[1], sets[0])
    kept = agreed >= 0
    assert 0.3 < kept.mean() < 0.95
    assert (agreed[kept] == truth[kept]).mean() > (train[1] == truth).mean() + 0.1


def test_folds_keep_clusters_of_near_twin_valid_texts_together():
    """Valid holds reviews of a few films, each with words of its own (train never shows them): random folds
    would put a film's reviews on both sides; the gold folds keep each cluster in one fold."""
    from alchemist.distillation.fit import clustered_groups, grouped_folds

    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(400)]
    films = [list(rng.choice(vocab, 12, replace=False)) for _ in range(330)]  # each film: words of its own mix
    valid_texts = [" ".join(rng.choice(films[i % 30], 8)) for i in range(300)]  # 30 films, 10 reviews each
    train_texts = [" ".join(rng.choice(films[30 + i % 300], 8)) for i in range(600)]  # 300 other films
    sets, _ = prepare(["tfidf"], train_texts, valid_texts, [])
    labels = rng.integers(0, 2, 300)
    groups, ratio = clustered_groups(sets[0], np.ones(300, bool))
    assert groups is not None and ratio > 1.25
    folds = grouped_folds(labels, groups)
    for held in folds:
        assert not set(groups[held]) & set(groups[~held & (groups >= 0)])
    plain, _ = prepare(["tfidf"], train_texts, train_texts[:300], [])
    assert clustered_groups(plain[0], np.ones(300, bool))[0] is None  # valid like train: random folds
