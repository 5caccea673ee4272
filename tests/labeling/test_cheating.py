"""Programs that try to cheat vetting and the label-model choice, as attacks: each must fail to do harm.

A program sees nothing but its rows, yet it can count its calls. If rows came in split order it could
tell valid (where it is judged) from train (where its labels are used) and behave only where judged."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO_PROGRAMS

import alchemist
from alchemist.labeling.label_models import WeightedVote
from alchemist.labeling.vetting import divergence, vet

# Honest on what it takes for valid (calls 401-480 in split order); inverted on train (the first 400).
POSITION_CHEAT = """
import re
URL = re.compile(r"(https?://|www\\\\.|\\\\.(com|net|ly)\\\\b)", re.IGNORECASE)
calls = 0

def label_function(comment):
    global calls
    calls += 1
    honest = 1 if URL.search(comment) else 0
    return 1 - honest if calls <= 400 else honest
"""


def test_rows_reach_programs_in_a_random_order_so_counting_calls_tells_nothing(write_programs):
    folder = write_programs({"lf_01": POSITION_CHEAT})
    data = alchemist.load_data("demo")
    votes = alchemist.apply(alchemist.load_programs(folder), data, cache=False)
    gold_valid, valid = data.splits["valid"].labels, votes.matrices["valid"][:, 0]
    gold_train, train = data.splits["train"].labels, votes.matrices["train"][:, 0]
    # in split order: train all inverted (accuracy ~0), valid all honest (~1); shuffled, the two look alike
    acc_train, acc_valid = (train == gold_train).mean(), (valid == gold_valid).mean()
    assert abs(acc_train - acc_valid) < 0.3 and acc_valid < 0.8


def test_the_cheater_cannot_win_the_run(write_programs):
    """Among honest programs, the position cheat now shows its train behaviour on valid too: left out. (In
    about one apply in 25 the random order lets its honest calls fall on valid as often as on train — then
    it is a mediocre program, alike on both splits, and kept; it never looks better where it is judged.)"""
    honest = {p.stem: p.read_text() for p in DEMO_PROGRAMS.glob("lf_*.py")}
    folder = write_programs({**honest, "lf_09": POSITION_CHEAT})
    data = alchemist.load_data("demo")
    votes = alchemist.apply(alchemist.load_programs(folder), data, cache=False)
    labels = alchemist.label(votes, data)
    cheat = votes.names.index("lf_09")
    if votes.statuses[cheat] == "ok":
        accuracy = {s: (votes.matrices[s][:, cheat] == data.splits[s].labels).mean() for s in ("train", "valid")}
        assert abs(accuracy["valid"] - accuracy["train"]) < 0.2, accuracy
    else:
        assert votes.statuses[cheat] in ("below chance", "inconsistent"), votes.reasons[cheat]
    assert labels.label_model["test"] > 0.85  # the honest programs' labels, not the cheat's


def _votes(n: int, rng, coverage: float, honest: np.ndarray) -> np.ndarray:
    return np.where(rng.random(n) < coverage, honest, -1)


def test_a_program_honest_on_valid_and_inverted_on_train_is_inconsistent():
    rng = np.random.default_rng(0)
    y_train, y_valid = rng.integers(0, 2, 2000), rng.integers(0, 2, 200)
    others = lambda y: np.stack([_votes(len(y), rng, 0.6, y) for _ in range(3)], axis=1)  # noqa: E731
    train = np.column_stack([others(y_train), _votes(2000, rng, 0.5, 1 - y_train)])
    valid = np.column_stack([others(y_valid), _votes(200, rng, 0.5, y_valid)])
    verdicts = vet(train, valid, y_valid, 2, ["a", "b", "c", "cheat"])
    assert [v.status for v in verdicts] == ["ok", "ok", "ok", "inconsistent"]
    assert "agrees with the other programs" in verdicts[3].reason or "class" in verdicts[3].reason


def test_a_program_that_abstains_on_every_valid_row_is_inconsistent_not_unjudged():
    rng = np.random.default_rng(1)
    y_train, y_valid = rng.integers(0, 2, 2000), rng.integers(0, 2, 200)
    train = np.column_stack([_votes(2000, rng, 0.6, y_train), _votes(2000, rng, 0.4, 1 - y_train)])
    valid = np.column_stack([_votes(200, rng, 0.6, y_valid), np.full(200, -1)])
    assert "of valid rows" in divergence(train, valid, 1, 2)
    assert vet(train, valid, y_valid, 2, ["a", "hider"])[1].status == "inconsistent"


def test_honest_programs_on_a_random_split_are_never_flagged():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 3000)
    L = np.column_stack([_votes(3000, rng, c, np.where(rng.random(3000) < a, y, rng.integers(0, 3, 3000)))
                         for c, a in ((0.1, 0.9), (0.5, 0.7), (0.9, 0.55), (0.3, 0.4))])
    order = rng.permutation(3000)
    train, valid = L[order[:2700]], L[order[2700:]]
    assert all(divergence(train, valid, j, 3) == "" for j in range(4))


def test_a_program_judged_on_a_few_rows_cannot_outweigh_the_judged():
    y = np.array([0, 1] * 60)
    judged = np.where(np.arange(120) % 5 == 0, 1 - y, y)  # 80% right on 120 rows
    lucky = np.full(120, -1)
    lucky[:6] = y[:6]  # 6 of 6 right: unjudged
    model = WeightedVote.from_labeled(np.column_stack([judged, lucky]), y, 2)
    assert model.accuracies[1] <= model.accuracies[0]


@pytest.mark.xfail(strict=True, reason="known gap (docs/labels.md): a program that memorised valid passes vetting")
def test_a_program_that_knows_valid_and_copies_the_others_elsewhere_is_caught():
    """Round 3's attack that got through (a known gap, docs/labels.md): a program that has memorised valid's
    texts answers them right, copies the other programs' majority where they vote on train (so coverage,
    class shares and agreement look the same on both splits) and inverts the rows only it votes on."""
    rng = np.random.default_rng(3)
    y_train, y_valid = rng.integers(0, 2, 2000), rng.integers(0, 2, 200)
    noisy = lambda y: np.where(rng.random(len(y)) < 0.85, y, 1 - y)  # noqa: E731
    others_t = np.stack([_votes(2000, rng, 0.5, noisy(y_train)) for _ in range(3)], axis=1)
    others_v = np.stack([_votes(200, rng, 0.5, noisy(y_valid)) for _ in range(3)], axis=1)
    counts = np.stack([(others_t == c).sum(1) for c in range(2)], axis=1)
    voted = (others_t >= 0).any(1)
    cheat_t = np.where(voted, counts.argmax(1), 1 - y_train)  # the majority where others vote; harm alone
    train, valid = np.column_stack([others_t, cheat_t]), np.column_stack([others_v, y_valid])
    assert vet(train, valid, y_valid, 2, ["a", "b", "c", "memoriser"])[3].status in ("inconsistent", "below chance")
