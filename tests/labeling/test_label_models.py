"""Label models and matrix statistics on matrices whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from alchemist.core.errors import AlchemistError
from alchemist.labeling.analysis import matrix_stats
from alchemist.labeling.choice import choose
from alchemist.labeling.label_models import MajorityVote, WeightedVote, make_label_model
from alchemist.labeling.metrics import class_balance, distribution, per_class, score
from alchemist.labeling.vetting import chance_accuracy, vet

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


def test_vetting_counts_only_labeled_votes():
    labels = np.array([0, 1, 1, -1, 0])
    verdicts = vet(L_KNOWN, L_KNOWN, labels, 3, ["a", "b", "c"], min_support=100)
    assert [v.valid_support for v in verdicts] == [4, 3, 3]
    assert verdicts[0].valid_accuracy == pytest.approx(2 / 4) and verdicts[2].valid_accuracy == pytest.approx(2 / 3)
    assert all(v.status == "ok" for v in verdicts)  # too little support to condemn anyone


def _programs(rng, y, accs, coverage=0.6, k=2):
    L = np.full((len(y), len(accs)), -1, dtype=np.int8)
    for j, acc in enumerate(accs):
        votes = rng.random(len(y)) < coverage
        right = rng.random(len(y)) < acc
        L[votes, j] = np.where(right[votes], y[votes], (y[votes] + 1 + rng.integers(0, k - 1, votes.sum())) % k)
    return L


def test_vetting_flags_duplicates_empty_and_worse_than_chance_programs():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=600)
    L = _programs(rng, y, [0.9, 0.8, 0.3])
    L = np.concatenate([L, L[:, :1], np.full((600, 1), -1, np.int8)], axis=1)  # a copy of the first; no votes
    train, valid = L[:400], L[400:]
    verdicts = vet(train, valid, y[400:], 2, ["a", "b", "worse", "copy", "empty"])
    assert [v.status for v in verdicts] == ["ok", "ok", "below chance", "duplicate", "no coverage"]
    assert "same votes as a" in verdicts[3].reason and verdicts[2].valid_support > 50


def test_chance_follows_the_classes_a_program_votes():
    balance = np.array([0.87, 0.13])  # sms-like
    assert chance_accuracy(np.array([1, 1, 1]), balance) == pytest.approx(0.13)  # a spam-only keyword program
    assert chance_accuracy(np.array([0, 0, 0, 0]), balance) == pytest.approx(0.87)


def test_weighted_vote_trusts_accurate_programs_over_many_poor_ones():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, size=3000)
    L = _programs(rng, y, [0.95, 0.45, 0.45, 0.45], coverage=0.9, k=3)
    wv = WeightedVote.from_labeled(L[:500], y[:500], 3)
    assert wv.weights()[0] > 2 * wv.weights()[1]
    acc = (wv.predict(L[500:]) == y[500:]).mean()
    mv = (MajorityVote(3).predict(L[500:]) == y[500:]).mean()
    assert acc > mv + 0.05
    assert np.allclose(wv.predict_proba(L[:5]).sum(axis=1), 1)


def test_auto_choice_is_made_on_valid_and_reports_every_candidate():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=2400)
    L = _programs(rng, y, [0.95, 0.6, 0.6, 0.6, 0.6], coverage=0.8)
    train, valid, vy = L[:2000], L[2000:], y[2000:]
    choice = choose("auto", train, valid, vy, 2, "acc", 1, np.array([0.5, 0.5]))
    assert set(choice.candidates) == {"snorkel", "majority", "weighted"}
    assert choice.candidates[choice.name] == max(choice.candidates.values())
    assert choice.candidates["majority"] < max(choice.candidates.values())  # one strong program, four weak
    assert "covered valid rows" in choice.reason
    explicit = choose("majority", train, valid, vy, 2, "acc", 1, None)
    assert explicit.name == "majority" and explicit.reason == "as requested"
    fallback = choose("snorkel", train[:, :2], valid[:, :2], vy, 2, "acc", 1, None)
    assert fallback.name == "majority" and "at least 3" in fallback.reason
    unlabeled = choose("auto", train, valid, np.full(len(vy), -1), 2, "acc", 1, None)
    assert unlabeled.name == "snorkel" and "no valid split" in unlabeled.reason


def test_metrics_and_class_balance():
    y = np.array([1, 0, 1, 1, -1])
    assert score(y, np.array([1, 0, 0, 1, 0]), "acc") == pytest.approx(0.75)
    assert score(y, np.array([1, 0, 0, 1, 0]), "f1") == pytest.approx(0.8)
    assert score(np.array([-1, -1]), np.array([0, 1]), "acc") is None
    assert class_balance(np.array([0, 0, 1, -1]), 2).tolist() == pytest.approx([0.6, 0.4])


def test_per_class_report_and_distribution():
    rep = per_class(np.array([0, 0, 1, 1, -1]), np.array([0, 1, 1, 1, 0]), ["a", "b"])
    assert rep["confusion_matrix"] == [[1, 1], [0, 2]]
    assert rep["classes"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert distribution(np.array([0, 1, 1, -1]), ["a", "b"]) == {"a": pytest.approx(1 / 3), "b": pytest.approx(2 / 3)}


def test_majority_probabilities_break_ties_as_predict_does():
    rng = np.random.default_rng(6)
    L = rng.integers(-1, 3, size=(2000, 4)).astype(np.int8)
    mv = MajorityVote(3)
    assert np.array_equal(mv.predict_proba(L).argmax(axis=1), mv.predict(L))
