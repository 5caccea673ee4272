"""End to end through the real command line: apply, --human, predict, datasets, and bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_PROGRAMS

from alchemist.cli import main

REPORT_KEYS = {"dataset", "metric", "coverage", "programs", "label_model", "majority_vote", "distilled", "timings_s"}


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def results_dir(base: Path) -> Path:
    (only,) = [p for p in base.iterdir() if p.is_dir()]
    return only


def test_apply_demo_programs_end_to_end(tmp_path, capsys):
    report_path = tmp_path / "report.json"
    code, out, err = run(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "2",
                          "--out", str(tmp_path / "runs"), "--json", str(report_path)], capsys)
    assert code == 0, err
    report = json.loads(report_path.read_text())
    assert REPORT_KEYS <= set(report)
    assert report["dataset"] == "demo" and report["metric"] == "acc" and report["status"] == "ok"
    assert [p["name"] for p in report["programs"]] == [f"lf_0{i}" for i in range(1, 6)]
    for p in report["programs"]:
        assert {"name", "status", "reason", "coverage", "valid_accuracy", "errors"} <= set(p)
        assert p["status"] == "ok" and 0 < p["coverage"] <= 1 and p["valid_accuracy"] > 0.8
    assert report["coverage"] > 0.9
    lm = report["label_model"]
    assert lm["requested"] == "auto" and set(lm["candidates"]) == {"snorkel", "majority", "weighted"}
    assert lm["candidates"][lm["name"]] == max(lm["candidates"].values()) and lm["test"] > 0.85
    assert set(lm["test_per_class"]["classes"]) == {"ham", "spam"} and sum(map(sum, lm["test_per_class"]["confusion_matrix"])) == 120
    assert abs(sum(lm["train_distribution"].values()) - 1) < 1e-9
    assert report["majority_vote"]["test"] > 0.8
    dist = report["distilled"]
    feats = dist["features"]  # chosen on valid; the MLP runs its seeds, logistic regression fits once
    assert feats["requested"] == "auto" and {c["features"] for c in feats["candidates"]} == {"tfidf", "embeddings", "combined"}
    programs_only = {c["labels"] for c in feats["candidates"] if not c["gold"]}
    assert programs_only <= set(lm["candidates"]) and lm["name"] in programs_only
    first = next(c["labels"] for c in feats["candidates"])  # with gold: that label model's labels + gold rows, ...
    assert {c["labels"] for c in feats["candidates"] if c["gold"]} == {f"{first} + gold", "stacked + gold", "agreed + gold",
                                                                          "gold only"}
    assert dist["valid"] == max(c["valid"] for c in feats["candidates"]) and feats["reason"]
    assert dist["seeds"] == (2 if feats["chosen"] == "tfidf" else 1) and len(dist["scores"]) == dist["seeds"]
    assert dist["test_mean"] > 0.7 and dist["test_std"] >= 0
    assert {"apply", "label_model", "distill", "total"} <= set(report["timings_s"]) <= {
        "apply", "label_model", "embeddings", "distill", "total"}
    folder = results_dir(tmp_path / "runs")
    assert {"report.json", "labels.csv", "label_matrix.npz", "distilled_model.skops"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "report.json").read_text())["label_model"] == report["label_model"]
    matrix = np.load(folder / "label_matrix.npz")
    assert matrix["train"].shape == (400, 5) and matrix["train"].dtype == np.int8
    rows = list(csv.DictReader(io.StringIO((folder / "labels.csv").read_text())))
    assert len(rows) == 600 and {r["split"] for r in rows} == {"train", "valid", "test"}
    assert "lf_01" in out and f"label model ({lm['name']})" in out  # the printed table


def test_rerun_never_overwrites(tmp_path, capsys):
    args = ["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--label-model", "majority",
            "--out", str(tmp_path)]
    assert run(args, capsys)[0] == 0
    first = results_dir(tmp_path)
    stamp = (first / "report.json").read_bytes()
    assert run(args, capsys)[0] == 0
    folders = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(folders) == 2 and (first / "report.json").read_bytes() == stamp


def test_predict_labels_new_text(tmp_path, capsys):
    assert run(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--out", str(tmp_path)], capsys)[0] == 0
    folder = results_dir(tmp_path)
    code, out, err = run(["predict", str(folder), "--text", "subscribe to my channel http://bit.ly/1",
                          "--text", "the chorus of this song is beautiful"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["label_name"] for r in rows] == ["spam", "ham"]
    texts = tmp_path / "new.jsonl"
    texts.write_text('{"text": "free gift card http://x.ly/2"}\n')
    code, out, _ = run(["predict", str(folder), "--input", str(texts), "--output", str(tmp_path / "o.csv")], capsys)
    assert code == 0 and "spam" in (tmp_path / "o.csv").read_text()


def test_bad_programs_are_reported_not_run(tmp_path, capsys, write_programs):
    marker = tmp_path / "executed"
    folder = write_programs({
        "lf_01": (DEMO_PROGRAMS / "lf_01.py").read_text(),
        "lf_02": f"import os\nos.system('touch {marker}')\ndef label_function(x):\n    return 1\n",
        "lf_03": "def label_function(x):\n    return x.nope()\n",
        "lf_04": "def label_function(x)\n    return 1\n",
    })
    code, out, err = run(["apply", str(folder), "--dataset", "demo", "--seeds", "1", "--label-model", "snorkel", "--json",
                          str(tmp_path / "r.json")], capsys)
    assert code == 0, err  # the one usable program only ever says spam: no signal, but labels were made
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "no signal"
    programs = {p["name"]: p for p in json.loads((tmp_path / "r.json").read_text())["programs"]}
    assert programs["lf_01"]["status"] == "ok"
    assert programs["lf_02"]["status"] == "rejected" and "import of 'os'" in programs["lf_02"]["reason"]
    assert programs["lf_03"]["status"] == "failed" and "AttributeError" in programs["lf_03"]["reason"]
    assert programs["lf_03"]["errors"]["exception"] == 600
    assert programs["lf_04"]["status"] == "rejected" and "syntax error" in programs["lf_04"]["reason"]
    assert not marker.exists()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["label_model"]["name"] == "majority"  # one usable program: Snorkel needs three
    assert any("needs at least 3" in w for w in report["warnings"])
    assert (folder / "results").is_dir()  # default output goes beside the programs


def test_human_votes_on_demo(tmp_path, capsys):
    code, _, err = run(["apply", "--human", "--dataset", "demo", "--seeds", "1", "--out", str(tmp_path),
                        "--json", str(tmp_path / "r.json")], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert [p["name"] for p in report["programs"]] == ["human_01", "human_02", "human_03"]
    assert report["label_model"]["test"] > 0.7


def test_unlabeled_csv_gives_labels_without_metrics(tmp_path, capsys):
    data = tmp_path / "comments.csv"
    data.write_text("text\n" + "\n".join(["check my channel http://a.b", "lovely song", "subscribe please",
                                           "the chorus is great"] * 10) + "\n")
    code, _, err = run(["apply", str(DEMO_PROGRAMS), "--dataset", str(data), "--classes", "ham,spam",
                        "--seeds", "1", "--out", str(tmp_path / "o"), "--json", str(tmp_path / "r.json")], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["label_model"]["test"] is None and report["distilled"]["test_mean"] is None
    assert any("no test split" in w for w in report["warnings"])
    rows = list(csv.DictReader(io.StringIO((results_dir(tmp_path / "o") / "labels.csv").read_text())))
    assert rows[0]["label_name"] == "spam" and rows[1]["label_name"] == "ham"


@pytest.mark.parametrize("args,expected", [
    (["apply", "/no/such/folder", "--dataset", "demo"], "no such folder of labeling programs"),
    (["apply", str(DEMO_PROGRAMS), "--dataset", "nope"], "unknown dataset 'nope'"),
    (["apply", str(DEMO_PROGRAMS), "--human", "--dataset", "demo"], "not both"),
    (["apply", "--dataset", "demo"], "PROGRAMS_DIR"),
    (["predict", "/no/such/run", "--text", "x"], "no distilled model"),
])
def test_bad_input_is_one_line_error(args, expected, capsys):
    code, out, err = run(args, capsys)
    assert code == 2
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1


def test_human_without_weak_labels(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("text,label\na,0\nb,1\n")
    code, _, err = run(["apply", "--human", "--dataset", str(data)], capsys)
    assert code == 2 and "has no weak_labels" in err


def test_bad_flags_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main.main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "0"])
    assert e.value.code == 2 and "must be at least 1" in capsys.readouterr().err


def test_datasets_command_lists_tasks_and_sources(tmp_path, capsys):
    code, out, _ = run(["datasets", "--data-dir", str(tmp_path)], capsys)
    assert code == 0
    for name in ("youtube", "sms", "imdb", "yelp", "agnews", "medabs", "cancer", "reddit", "french", "finance"):
        assert name in out
    assert "missing" in out and "WRENCH" in out and "Kaggle" in out


@pytest.mark.slow
def test_human_youtube_matches_wrench(shared_data, tmp_path, capsys):
    code, _, err = run(["apply", "--human", "--dataset", "youtube", "--data-dir", str(shared_data), "--seeds", "2",
                        "--out", str(tmp_path), "--json", str(tmp_path / "r.json")], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["label_model"]["test"] == pytest.approx(0.852, abs=0.02)  # WRENCH: 85.2
    assert report["majority_vote"]["test"] == pytest.approx(0.840, abs=0.005)  # WRENCH: 84.0
    assert report["distilled"]["test_mean"] > 0.75 and len(report["programs"]) == 10


@pytest.mark.slow
def test_human_sms_majority_vote_matches_wrench(shared_data, tmp_path, capsys):
    code, _, err = run(["apply", "--human", "--dataset", "sms", "--data-dir", str(shared_data), "--seeds", "1",
                        "--no-vetting", "--out", str(tmp_path), "--json", str(tmp_path / "r.json")], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["metric"] == "f1"
    assert report["majority_vote"]["test"] == pytest.approx(0.2397, abs=0.01)  # WRENCH MV: 23.97
    assert report["distilled"]["test_mean"] is not None


def test_output_piped_to_a_file_is_wide_and_never_breaks_a_word(tmp_path, capsys, write_programs):
    folder = write_programs({"lf_01": (DEMO_PROGRAMS / "lf_01.py").read_text(),
                             "lf_02": (DEMO_PROGRAMS / "lf_01.py").read_text()})  # a duplicate, with its reason
    code, out, err = run(["apply", str(folder), "--dataset", "demo", "--seeds", "1", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    header = next(line for line in out.splitlines() if "program" in line and "status" in line)
    assert "coverage" in header and "valid acc" in header and "errors / reason" in header
    assert "the same votes as lf_01 on every train and valid row" in out  # one cell, one line
    assert "\x1b[" not in out  # no colour codes in a file
