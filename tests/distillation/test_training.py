"""Distillation at any size: a training sample above the cap, embeddings chosen by what they would cost,
predictions a chunk at a time, the rows no program voted on labeled by the distilled model."""

from __future__ import annotations

import csv
import json

import numpy as np

from alchemist.api import load_data
from alchemist.cli import main
from alchemist.distillation.training import plan_features, predict_rows, training_sample
from conftest import DEMO_PROGRAMS


class SlowEncoder:
    """Stands in for the embedding model: every row missing from the cache, embedded at a given speed."""

    description = "stand-in"

    def __init__(self, rows_per_s: float):
        self.rows_per_s = rows_per_s

    def missing(self, texts):
        return len(list(texts))

    def rate(self, texts, probe=128):
        return self.rows_per_s


def test_training_sample_caps_the_rows_and_keeps_their_labels():
    data = load_data("demo")
    labels = np.where(np.arange(len(data.train)) % 4 == 0, -1, np.arange(len(data.train)) % 2)
    same, options, note, _ = training_sample(data, {"snorkel": labels}, cap=10_000)
    assert same is data and note == ""
    sampled, options, note, kept = training_sample(data, {"snorkel": labels, "majority": 1 - labels}, cap=100)
    assert len(sampled.train) == 100 and (options["snorkel"] >= 0).all() and set(options) == {"snorkel", "majority"}
    kept = {row_id: i for i, row_id in enumerate(data.train.ids)}
    assert all(options["snorkel"][k] == labels[kept[row_id]] for k, row_id in enumerate(sampled.train.ids))
    assert "random sample of 100 of the 300 train rows" in note and sampled.splits["valid"] is data.splits["valid"]


def test_embeddings_are_left_out_when_they_would_take_too_long_and_said_so():
    data = load_data("demo")
    names, notes = plan_features(data, "auto", True, SlowEncoder(rows_per_s=10_000))
    assert names == ["tfidf", "embeddings", "combined"] and notes == []
    names, notes = plan_features(data, "auto", True, SlowEncoder(rows_per_s=1.0), also_embedded=["x"] * 400)
    assert names == ["tfidf"] and "embedding 1,000 rows would take about 17 min" in notes[0]
    assert "--features embeddings" in notes[0]
    names, notes = plan_features(data, "embeddings", True, SlowEncoder(rows_per_s=1.0))
    assert names == ["embeddings"] and notes == []  # asked for by name: kept


def test_predictions_come_a_chunk_at_a_time():
    class Model:
        classes = ["a", "b"]
        seen: list[int] = []

        def predict_proba(self, texts):
            self.seen.append(len(texts))
            return np.tile([0.25, 0.75], (len(texts), 1))

    model = Model()
    probs = predict_rows(model, [f"t{i}" for i in range(25)], chunk=10)
    assert model.seen == [10, 10, 5] and probs.shape == (25, 2) and (probs.argmax(1) == 1).all()


def test_rows_no_program_voted_on_get_the_distilled_models_label_marked(tmp_path, capsys):
    out = tmp_path / "o"
    assert main.main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--features", "tfidf",
                      "--out", str(out), "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    rows = list(csv.DictReader(next(out.iterdir()).joinpath("labels.csv").open()))
    by_model = [r for r in rows if r["label_source"] == "distilled model"]
    assert by_model and all(r["covered"] == "0" and r["label"] in ("0", "1") and r["confidence"] for r in by_model)
    assert all(r["label_source"] == "programs" for r in rows if r["covered"] == "1")
    assert report["distilled"]["labeled_uncovered"] == len(by_model)
    capsys.readouterr()
    skip = tmp_path / "s"
    assert main.main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--no-distill", "--out", str(skip),
                      "--json", str(tmp_path / "s.json")]) == 0
    report = json.loads((tmp_path / "s.json").read_text())
    folder = next(skip.iterdir())
    assert report["distilled"]["skipped"] and not (folder / "distilled_model.skops").exists()
    assert "--no-distill" in capsys.readouterr().out
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    assert {r["label_source"] for r in rows if r["covered"] == "0"} == {""}
