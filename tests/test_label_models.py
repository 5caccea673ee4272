"""Label models and matrix statistics on matrices whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from alchemist.analysis import matrix_stats, program_accuracy
from alchemist.errors import AlchemistError
from alchemist.label_models import MajorityVote, make_label_model
from alchemist.metrics import class_balance, score

L_KNOWN = np.array([
    [0, 0, -1],   # clear 0
    [1, 1, 1],    # clear 1
    [0, 1, 1],    # 1 wins 2:1
    [-1, -1, -1],  # no votes
    [2, -1, 2],   # clear 2
], dtype=np.int8)


def test_majority_vote_on_known_matrix():
    mv = MajorityVote(3).fit(L_KNOWN)
    pred = mv.predict(L_KNOWN)
    assert pred[[0, 1, 2, 4]].tolist() == [0, 1, 1, 2]
    proba = mv.predict_proba(L_KNOWN)
    assert np.allclose(proba.sum(axis=1), 1)
    assert np.allclose(proba[2], [1 / 3, 2 / 3, 0]) and np.allclose(proba[3], [1 / 3] * 3)


def test_majority_vote_equals_snorkel_majority_label_voter():
    from snorkel.labeling.model import MajorityLabelVoter

    rng = np.random.default_rng(0)
    for k in (2, 4):
        L = rng.integers(-1, k, size=(3000, 7)).astype(np.int8)
        L[rng.random(L.shape) < 0.6] = -1  # sparse votes: many ties and uncovered rows
        L[:50] = -1  # some rows nobody votes on
        ours = MajorityVote(k).predict(L)
        theirs = MajorityLabelVoter(cardinality=k).predict(L.astype(int), tie_break_policy="random")
        assert np.array_equal(ours, theirs)  # every row, uncovered ones included


def test_snorkel_recovers_labels_from_accurate_programs():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=4000)
    L = np.full((4000, 5), -1, dtype=np.int8)
    for j, acc in enumerate([0.9, 0.85, 0.8, 0.75, 0.7]):
        votes = rng.random(4000) < 0.6
        right = rng.random(4000) < acc
        L[votes, j] = np.where(right[votes], y[votes], 1 - y[votes])
    lm = make_label_model("snorkel", 2).fit(L, np.array([0.5, 0.5]))
    covered = (L >= 0).any(axis=1)
    acc = (lm.predict(L)[covered] == y[covered]).mean()
    mv_acc = (MajorityVote(2).predict(L)[covered] == y[covered]).mean()
    assert acc > 0.85 and acc >= mv_acc - 0.01
    assert lm.predict_proba(L).shape == (4000, 2)


def test_unknown_label_model():
    with pytest.raises(AlchemistError, match="unknown label model 'dawid'"):
        make_label_model("dawid", 2)


def test_matrix_stats_known_values():
    stats = matrix_stats(L_KNOWN, 3)
    assert stats.total_coverage == pytest.approx(4 / 5)
    assert stats.total_overlap == pytest.approx(4 / 5)
    assert stats.total_conflict == pytest.approx(1 / 5)
    assert stats.coverage.tolist() == pytest.approx([4 / 5, 3 / 5, 3 / 5])
    assert stats.conflict.tolist() == pytest.approx([1 / 5, 1 / 5, 1 / 5])


def test_program_accuracy_counts_only_labeled_votes():
    labels = np.array([0, 1, 1, -1, 0])
    accs, counts = program_accuracy(L_KNOWN, labels)
    assert counts == [4, 3, 3]
    assert accs[0] == pytest.approx(2 / 4) and accs[2] == pytest.approx(2 / 3)


def test_metrics_and_class_balance():
    y = np.array([1, 0, 1, 1, -1])
    assert score(y, np.array([1, 0, 0, 1, 0]), "acc") == pytest.approx(0.75)
    assert score(y, np.array([1, 0, 0, 1, 0]), "f1") == pytest.approx(0.8)
    assert score(np.array([-1, -1]), np.array([0, 1]), "acc") is None
    assert class_balance(np.array([0, 0, 1, -1]), 2).tolist() == pytest.approx([0.6, 0.4])
