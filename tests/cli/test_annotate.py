"""`alchemist annotate`: a person's answers saved at once and resumed; the next run scores on them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import DEMO_PROGRAMS
from helpers import reviews_csv

from alchemist.cli import main

COLUMNS = ["--text-column", "review_text", "--id-column", "review_id", "--classes", "ham,spam"]


@pytest.fixture
def home(monkeypatch, tmp_path):
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    reviews_csv(tmp_path / "mine.csv", labeled=False)
    return tmp_path


def annotate(monkeypatch, capsys, keys: str, *extra: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(keys))
    code = main.main(["annotate", "--dataset", "mine.csv", *COLUMNS, "--from-stdin", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def records(home: Path) -> list[dict]:
    return [json.loads(line) for line in (home / "annotations" / "mine.jsonl").read_text().splitlines()]


def test_each_key_is_saved_at_once_and_the_next_session_resumes(home, monkeypatch, capsys):
    code, out, _ = annotate(monkeypatch, capsys, "1\n2\ns\nu\n2\nx\nq\n")
    assert code == 0 and "'x' is not a key here: press a class key (1..2)" in out and "1 ham  2 spam" in out
    kinds = [r["kind"] for r in records(home)]
    assert kinds == ["header", "answer", "answer", "skip", "undo", "answer"]
    answered = [r["row"] for r in records(home) if r["kind"] == "answer"]
    assert "3 rows answered this session; 3 in all (3 random, 0 chosen)" in out
    code, out, _ = annotate(monkeypatch, capsys, "1\nq\n")  # a new session: a row not seen before
    new = [r["row"] for r in records(home) if r["kind"] == "answer"][-1]
    assert new not in answered and "4 in all" in out


def test_back_shows_the_row_before_and_a_new_answer_replaces_the_old(home, monkeypatch, capsys):
    annotate(monkeypatch, capsys, "1\n1\nb\n2\nq\n")
    answers = [r for r in records(home) if r["kind"] == "answer"]
    assert [a["label"] for a in answers] == ["ham", "ham", "spam"] and answers[2]["row"] == answers[1]["row"]


def test_ctrl_d_keeps_everything_and_a_pipe_without_the_flag_is_refused(home, monkeypatch, capsys):
    code, _, _ = annotate(monkeypatch, capsys, "2\n")  # input ends (a closed terminal)
    assert code == 0 and len([r for r in records(home) if r["kind"] == "answer"]) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main.main(["annotate", "--dataset", "mine.csv", *COLUMNS]) == 2
    assert "run it in a terminal" in capsys.readouterr().err
    code, _, err = annotate(monkeypatch, capsys, "", "--pool", "chosen")
    assert code == 2 and "--pool chosen needs --programs" in err


def test_chosen_rows_come_from_the_programs_votes(home, monkeypatch, capsys):
    code, out, _ = annotate(monkeypatch, capsys, "1\nq\n", "--pool", "chosen", "--programs", str(DEMO_PROGRAMS))
    assert code == 0 and "(chosen pool)" in out
    assert [r["pool"] for r in records(home) if r["kind"] == "answer"] == ["chosen"]


def test_imported_answers_are_the_next_runs_valid_split(home, monkeypatch, capsys):
    (home / "gold.csv").write_text("id,label\n" + "".join(f"{i},{'spam' if i % 3 == 0 else 'ham'}\n"
                                                          for i in range(40)))
    code, out, _ = annotate(monkeypatch, capsys, "", "--import", "gold.csv")
    assert code == 0 and "40 answers imported" in out
    args = ["apply", str(DEMO_PROGRAMS), "--dataset", "mine.csv", *COLUMNS, "--seeds", "1", "--features", "tfidf",
            "--out", str(home / "out")]
    assert main.main([*args, "--json", str(home / "r.json")]) == 0
    report = json.loads((home / "r.json").read_text())
    err = capsys.readouterr().err
    assert report["splits"]["valid"] == 40 and report["gold_rows"]["source"] == "answers file"
    assert report["gold_rows"]["scores_vetting_choices"] == 40 and "40 random answers are valid rows" in err
    assert report["distilled"]["gold_only"]["rows"] == 40
    assert main.main([*args, "--no-answers", "--json", str(home / "r2.json")]) == 0
    assert "valid" not in json.loads((home / "r2.json").read_text())["splits"]


def test_answers_to_other_data_are_refused_naming_the_row(home, monkeypatch, capsys):
    annotate(monkeypatch, capsys, "2\nq\n")
    row = next(r["row"] for r in records(home) if r["kind"] == "answer")
    lines = (home / "mine.csv").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{row},"))
    lines[at] = f"{row},a different text now"
    (home / "mine.csv").write_text("\n".join(lines) + "\n")
    code = main.main(["apply", str(DEMO_PROGRAMS), "--dataset", "mine.csv", *COLUMNS, "--out", str(home / "o")])
    err = capsys.readouterr().err
    assert code == 2 and f"the text of row '{row}' changed" in err and err.count("\n") == 1
