"""`alchemist import-labels`: reviewers' answers from Label Studio, Argilla or a CSV become gold labels of
the run's data; the next apply uses them; a file that does not fit is refused naming the row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import DEMO_PROGRAMS

from alchemist.cli import main

APPLY = ["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--features", "tfidf"]


@pytest.fixture
def home(monkeypatch, tmp_path):
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path))
    return tmp_path


def apply(home: Path, name: str) -> dict:
    assert main.main([*APPLY, "--out", str(home / "out"), "--json", str(home / f"{name}.json")]) == 0
    return json.loads((home / f"{name}.json").read_text())


def answers(home: Path) -> list[dict]:
    return [json.loads(x) for x in (home / "annotations" / "demo.jsonl").read_text().splitlines()][1:]


def flip(label: str) -> str:
    return "ham" if label == "spam" else "spam"


def label_studio_review(tasks: list[dict], answer) -> list[dict]:
    """What a reviewer's Label Studio JSON export looks like: each task with the reviewer's annotation."""
    out = []
    for n, t in enumerate(tasks, start=1):
        predicted = t["predictions"][0]["result"][0]["value"]["choices"][0] if t.get("predictions") else "ham"
        out.append({"id": n, "data": t["data"], "predictions": t.get("predictions", []), "annotations": [
            {"id": n, "completed_by": 1, "was_cancelled": False, "created_at": "2026-12-08T10:00:00Z",
             "result": [{"from_name": "label", "to_name": "text", "type": "choices",
                         "value": {"choices": [answer(t, predicted)]}}]}]})
    return out


def test_round_trip_a_random_sample_reviewed_in_label_studio_scores_the_next_apply(home, capsys):
    before = apply(home, "before")
    results = Path(before["output_dir"])
    assert main.main(["export", str(results), "--to", "label-studio", "--limit", "40", "--out", str(home / "ls")]) == 0
    tasks = json.loads((home / "ls" / "tasks.json").read_text())
    # an adversarial reviewer: every answer the opposite of the run's label
    (home / "export.json").write_text(json.dumps(label_studio_review(tasks, lambda t, p: flip(p))))
    capsys.readouterr()
    assert main.main(["import-labels", str(results), str(home / "export.json")]) == 0
    out = capsys.readouterr().out
    assert "40 reviewed rows imported" in out and "40 random" in out and "40 differ from the run's label" in out
    assert {a["source"] for a in answers(home)} == {"review"} and {a["pool"] for a in answers(home)} == {"random"}
    after = apply(home, "after")
    assert after["splits"]["valid"] == before["splits"]["valid"] + 40
    assert after["gold_rows"]["from_review"] == 40
    assert after["label_model"]["valid"] < before["label_model"]["valid"] - 0.1  # the reviewers disagree with it


def test_chosen_rows_corrected_in_argilla_become_those_rows_labels(home, capsys):
    import argilla as rg

    before = apply(home, "before")
    results = Path(before["output_dir"])
    assert main.main(["export", str(results), "--to", "argilla", "--only", "uncertain", "--limit", "6",
                      "--out", str(home / "ar")]) == 0
    records = json.loads((home / "ar" / "records.json").read_text())
    reviewed = []
    for r in records:
        record = rg.Record.from_dict(r)
        record.responses.add(rg.Response("label", "spam", user_id="00000000-0000-0000-0000-000000000001",
                                         status="submitted"))
        reviewed.append(record.to_dict())
    (home / "reviewed.json").write_text(json.dumps(reviewed, default=str))
    assert main.main(["import-labels", str(results), str(home / "reviewed.json")]) == 0
    assert {a["pool"] for a in answers(home)} == {"chosen"}
    after = apply(home, "after")
    assert after["gold_rows"]["training_only"] == 6 and after["splits"]["valid"] == before["splits"]["valid"]
    rows = {r["metadata"]["alchemist_id"] for r in records}
    with open(Path(after["output_dir"]) / "labels.csv", newline="") as f:
        person = {r["id"]: r for r in csv.DictReader(f) if r["split"] == "train" and r["id"] in rows}
    assert len(person) == 6 and {(r["label_name"], r["label_source"]) for r in person.values()} == {("spam", "person")}


def test_a_csv_of_id_label_is_read_and_unknown_labels_rows_and_runs_are_refused(home, capsys):
    results = Path(apply(home, "before")["output_dir"])
    (home / "ok.csv").write_text("id,label\n3,spam\n5,ham\n")
    assert main.main(["import-labels", str(results), str(home / "ok.csv")]) == 0
    assert [(a["row"], a["label"]) for a in answers(home)] == [("3", "spam"), ("5", "ham")]
    for body, expected in (("id,label\n3,maybe\n", "line 2 (row '3'): label 'maybe' is not one of the classes"),
                           ("id,label\nnope,ham\n", "row 'nope' is not a train row"),
                           ("split,id,label\ntest,3,ham\n", "is in the run's test split"),
                           ("id,label,run\n3,ham,20990101-000000\n", "exported from results 20990101-000000")):
        (home / "bad.csv").write_text(body)
        capsys.readouterr()
        assert main.main(["import-labels", str(results), str(home / "bad.csv")]) == 2
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1
    assert len(answers(home)) == 2  # nothing of a refused file was written


def test_a_csv_export_imports_only_the_rows_a_reviewer_filled_in(home, capsys):
    results = Path(apply(home, "before")["output_dir"])
    assert main.main(["export", str(results), "--to", "csv", "--limit", "10", "--out", str(home / "c")]) == 0
    with open(home / "c" / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["review"] for r in rows} == {""}
    rows[0]["review"], rows[3]["review"] = flip(rows[0]["label_name"]), rows[3]["label_name"]
    with open(home / "reviewed.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()
    assert main.main(["import-labels", str(results), str(home / "reviewed.csv")]) == 0
    out = capsys.readouterr().out
    assert "2 reviewed rows imported" in out and "1 differs" in out
    assert [a["row"] for a in answers(home)] == [rows[0]["id"], rows[3]["id"]]
    assert main.main(["import-labels", str(results), str(home / "reviewed.csv")]) == 0  # again: nothing new
    assert "had this very answer already" in capsys.readouterr().out and len(answers(home)) == 2


def test_an_export_of_earlier_results_of_the_same_run_still_comes_back(home, capsys):
    first = Path(apply(home, "first")["output_dir"])
    assert main.main(["export", str(first), "--to", "label-studio", "--limit", "5", "--out", str(home / "ls")]) == 0
    later = Path(apply(home, "later")["output_dir"])
    assert later != first and later.parent == first.parent
    tasks = json.loads((home / "ls" / "tasks.json").read_text())
    (home / "export.json").write_text(json.dumps(label_studio_review(tasks, lambda t, p: p)))
    assert main.main(["import-labels", str(later), str(home / "export.json")]) == 0
    assert len(answers(home)) == 5


def test_own_file_answers_keep_the_held_out_rows_and_chosen_answers_train(home, monkeypatch, capsys):
    """A labeled file without splits: valid and test are held out the same way with or without answers; a
    random answer adds to valid, a chosen one labels its train row."""
    from helpers import reviews_csv

    monkeypatch.chdir(home)
    reviews_csv(home / "mine.csv", labeled=True)
    args = ["apply", str(DEMO_PROGRAMS), "--dataset", "mine.csv", "--text-column", "review_text", "--id-column",
            "review_id", "--label-column", "sentiment", "--classes", "ham,spam", "--seeds", "1", "--features", "tfidf",
            "--out", str(home / "o")]
    assert main.main([*args, "--json", str(home / "a.json")]) == 0
    before = json.loads((home / "a.json").read_text())
    results = Path(before["output_dir"])
    with open(results / "labels.csv", newline="") as f:
        train = [r for r in csv.DictReader(f) if r["split"] == "train"]
    (home / "r.csv").write_text(f"id,label,pool\n{train[0]['id']},spam,random\n{train[1]['id']},spam,chosen\n")
    assert main.main(["import-labels", str(results), str(home / "r.csv")]) == 0
    assert main.main([*args, "--json", str(home / "b.json")]) == 0
    after = json.loads((home / "b.json").read_text())
    assert after["splits"]["valid"] == before["splits"]["valid"] + 1
    assert after["splits"]["test"] == before["splits"]["test"] and after["gold_rows"]["training_only"] == 1
    with open(Path(after["output_dir"]) / "labels.csv", newline="") as f:
        mine = {r["id"]: r for r in csv.DictReader(f) if r["split"] == "train"}
    assert (mine[train[1]["id"]]["label_name"], mine[train[1]["id"]]["label_source"]) == ("spam", "person")
