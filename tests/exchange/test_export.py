"""`alchemist export`: every target read back by its own library or format, the rows a reviewer sees
first, and bad input refused in one line with nothing half-written."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_PROGRAMS

from alchemist.cli import main
from alchemist.exchange.run_labels import load, pick


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """One applied run of the demo programs: its results folder."""
    home = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALCHEMIST_HOME", str(home))
        mp.setenv("ALCHEMIST_CACHE_DIR", str(home / "cache"))
        assert main.main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--features", "tfidf",
                          "--out", str(home / "out"), "--json", str(home / "r.json")]) == 0
    return Path(json.loads((home / "r.json").read_text())["output_dir"])


def export(run: Path, out: Path, *args: str) -> int:
    return main.main(["export", str(run), "--out", str(out), *args])


def test_hf_dataset_loads_back_with_the_same_rows_and_class_names(run, tmp_path):
    from datasets import load_from_disk

    assert export(run, tmp_path / "hf", "--to", "hf") == 0
    data = load_from_disk(str(tmp_path / "hf"))
    labels = load(run).frame
    assert sorted(data) == sorted(set(labels["split"]))
    train = data["train"]
    assert train.features["label"].names == ["ham", "spam"] and len(train) == (labels["split"] == "train").sum()
    mine = labels[labels["split"] == "train"]
    assert list(train["text"]) == list(mine["text"]) and list(train["label"]) == list(mine["label"])
    assert list(train["id"]) == list(mine["id"].astype(str))
    assert {"confidence", "covered", "gold", "label_source"} <= set(train.column_names)
    assert set(data["test"]["gold"]) <= {0, 1}


def test_label_studio_tasks_carry_predictions_votes_and_a_config_that_matches(run, tmp_path):
    assert export(run, tmp_path / "ls", "--to", "label-studio", "--limit", "30") == 0
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text())
    config = ET.fromstring((tmp_path / "ls" / "label_config.xml").read_text())
    choices = config.find("Choices")
    assert [c.get("value") for c in choices] == ["ham", "spam"]
    assert len(tasks) == 30 and all(t["data"]["alchemist_split"] == "train" for t in tasks)
    predicted = [t for t in tasks if t.get("predictions")]
    assert predicted
    for t in predicted:
        p = t["predictions"][0]
        assert p["model_version"] == run.name and 0 <= p["score"] <= 1
        r = p["result"][0]
        assert (r["from_name"], r["to_name"], r["type"]) == (choices.get("name"), choices.get("toName"), "choices")
        assert r["value"]["choices"][0] in ("ham", "spam")
        assert config.find(f"Text[@name='{r['to_name']}']").get("value") == "$text"
    assert any(t["data"]["votes_by_program"] for t in tasks) and all("votes" in t["data"] for t in tasks)


def test_argilla_records_and_settings_are_read_by_its_sdk(run, tmp_path, monkeypatch):
    from unittest.mock import MagicMock

    import argilla as rg
    from argilla.client import Argilla

    assert export(run, tmp_path / "ar", "--to", "argilla", "--limit", "10") == 0
    records = json.loads((tmp_path / "ar" / "records.json").read_text())
    parsed = [rg.Record.from_dict(r) for r in records]
    assert len(parsed) == 10
    s = parsed[0].suggestions["label"]
    assert s.value in ("ham", "spam") and s.agent == run.name and 0 <= s.score <= 1
    assert parsed[0].fields["text"] and parsed[0].metadata["alchemist_split"] == "train"
    monkeypatch.setattr(Argilla, "_default_client", MagicMock())  # settings objects want a client; none is contacted
    settings = rg.Settings._from_dict(json.loads((tmp_path / "ar" / "settings.json").read_text()))
    assert settings.questions["label"].labels == ["ham", "spam"] and settings.fields["text"] is not None


def test_uncertain_rows_come_first_and_disagree_keeps_only_conflicts(run):
    labels = load(run)
    rows = pick(labels, "uncertain", "train")
    confidence = np.nan_to_num(labels.frame["confidence"].to_numpy(float)[rows], nan=-1)
    assert (np.diff(confidence) >= 0).all()
    conflicted = pick(labels, "disagree", "train")
    for r in conflicted:
        cast = labels.votes[r][labels.votes[r] >= 0]
        assert len(set(cast)) > 1
    assert len(conflicted) < len(rows)


def test_a_random_sample_goes_to_the_random_pool_and_a_picked_one_to_chosen(run, tmp_path):
    assert export(run, tmp_path / "a.csv", "--to", "csv", "--limit", "5") == 0
    assert export(run, tmp_path / "u.csv", "--to", "csv", "--only", "uncertain", "--limit", "5") == 0
    assert "random" in (tmp_path / "a.csv" / "labels.csv").read_text().splitlines()[1]
    assert ",chosen," in (tmp_path / "u.csv" / "labels.csv").read_text().splitlines()[1]


def test_an_existing_folder_is_kept_unless_overwrite(run, tmp_path, capsys):
    out = tmp_path / "x"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert export(run, out, "--to", "csv") == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--overwrite" in err and err.count("\n") == 1
    assert (out / "mine.txt").read_text() == "keep me"
    assert export(run, tmp_path / "y", "--to", "csv", "--limit", "3") == 0
    assert export(run, tmp_path / "y", "--to", "csv", "--overwrite") == 0
    assert len((tmp_path / "y" / "labels.csv").read_text().splitlines()) > 4
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_overwrite_replaces_only_an_earlier_export(run, tmp_path, capsys):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    data = tmp_path / "data.csv"
    data.write_text("id,text\n")
    for target in (precious, data, run):
        assert export(run, target, "--to", "csv", "--overwrite") == 2
        err = capsys.readouterr().err
        assert "not an earlier export" in err and err.count("\n") == 1
    assert (precious / "notes.txt").read_text() == "mine" and data.read_text() == "id,text\n"
    assert (run / "report.json").is_file()
    assert export(run, tmp_path / "e", "--to", "csv") == 0
    assert export(run, tmp_path / "e", "--to", "csv", "--only", "uncertain", "--overwrite") == 0
    assert json.loads((tmp_path / "e" / "alchemist-export.json").read_text())["only"] == "uncertain"


def test_export_folders_are_readable_as_the_umask_allows(run, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        assert export(run, tmp_path / "shared", "--to", "csv", "--limit", "3") == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o755


def test_a_run_without_results_is_one_line(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    assert main.main(["export", str(tmp_path / "run"), "--to", "hf"]) == 2
    err = capsys.readouterr().err
    assert "no results here" in err and err.count("\n") == 1


def test_the_run_reports_calibration_for_both_models_and_keeps_the_raw_confidence(run):
    report = json.loads((run / "report.json").read_text())
    for key in ("label_model", "distilled"):
        c = report["calibration"][key]
        assert c["calibrated"] and c["rows"] >= 30 and c["ece_after"] <= c["ece_before"] + 0.05
        assert sum(b["rows"] for b in c["bins_after"]) == c["rows"]
    html = (run / "report.html").read_text()
    assert 'id="calibration"' in html and "<svg" in html
    frame = load(run).frame
    labeled = frame[frame["label"] >= 0]
    assert {"confidence", "raw_confidence"} <= set(frame.columns)
    assert (labeled["confidence"] != labeled["raw_confidence"]).any()  # calibrated, not copied


def test_without_gold_labels_the_confidence_is_said_to_be_uncalibrated():
    import numpy as np

    from alchemist.data.datasets import Dataset, Split
    from alchemist.data.tasks import TaskCard
    from alchemist.labeling.labels import make_labels
    from alchemist.programs.votes import Votes

    card = TaskCard(name="toy", classes=["a", "b"], description="")
    texts = [f"row {i}" for i in range(60)]
    splits = {"train": Split("train", Path("."), [str(i) for i in range(60)], texts, np.full(60, -1)),
              "valid": Split("valid", Path("."), [str(i) for i in range(60)], texts, np.full(60, -1))}
    L = np.stack([np.arange(60) % 2, (np.arange(60) + (np.arange(60) % 7 == 0)) % 2], axis=1)
    votes = Votes(names=["p1", "p2"], matrices={"train": L, "valid": L}, statuses=["ok", "ok"], reasons=["", ""])
    labels = make_labels(votes, Dataset("toy", card, Path("."), splits), "majority")
    assert not labels.calibration["label_model"]["calibrated"]
    assert "no gold labels" in labels.calibration["label_model"]["reason"]
    _, confidence, _ = labels.final("train", 60)
    assert np.allclose(confidence, labels.probs["train"].max(1))
