"""The label step as an engine function: vetting, then the label model, on votes with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alchemist.data.datasets import Dataset, Split
from alchemist.data.tasks import card_for_classes
from alchemist.labeling.labels import make_labels, vet_votes
from alchemist.programs.votes import Votes


def dataset(gold: dict[str, np.ndarray]) -> Dataset:
    splits = {name: Split(name, Path(name), [str(i) for i in range(len(y))], [f"row {i}" for i in range(len(y))],
                          np.asarray(y)) for name, y in gold.items()}
    return Dataset("toy", card_for_classes("toy", ["neg", "pos"]), Path("toy"), splits)


def votes_for(gold: dict[str, np.ndarray], rng) -> Votes:
    """Two good programs, one that copies the first, one that inverts the gold on valid."""
    matrices = {}
    for name, y in gold.items():
        good = np.where(rng.random(len(y)) < 0.85, y, 1 - y)
        other = np.where(rng.random(len(y)) < 0.8, y, 1 - y)
        matrices[name] = np.stack([good, other, good, 1 - y], axis=1).astype(np.int8)
    n = 4
    return Votes([f"lf_0{i}" for i in range(1, n + 1)], ["ok"] * n, [""] * n, matrices)


def test_vetting_leaves_out_the_copy_and_the_liar_and_the_label_model_scores():
    rng = np.random.default_rng(0)
    gold = {s: rng.integers(0, 2, n) for s, n in (("train", 400), ("valid", 100), ("test", 100))}
    data, votes = dataset(gold), votes_for(gold, rng)
    verdicts, notes = vet_votes(votes, data)
    assert votes.statuses == ["ok", "ok", "duplicate", "below chance"] and notes == []
    assert verdicts[3].valid_accuracy == 0.0 and "lf_01" in votes.reasons[2]
    labels = make_labels(votes, data, "majority")
    assert labels.label_model["name"] == "majority" and labels.label_model["test"] > 0.75
    assert labels.probs["train"].shape == (400, 2) and labels.covered["train"].all()
    assert set(labels.options) == {"majority"} and labels.no_signal == ""


def test_no_signal_when_every_program_abstains():
    gold = {"train": np.array([0, 1] * 20), "valid": np.array([0, 1] * 10)}
    votes = Votes(["lf_01"], ["ok"], [""], {s: np.full((len(y), 1), -1, np.int8) for s, y in gold.items()})
    labels = make_labels(votes, dataset(gold))
    assert labels.no_signal.startswith("no program voted") and labels.warnings[0].endswith("no scores are shown")
    assert labels.probs == {} and (labels.label_of("train") == -1).all()
