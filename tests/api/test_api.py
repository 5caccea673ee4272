"""The public API: the session in docs/api.md, run exactly as written, and the functions one by one."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_PROGRAMS, ROOT

import alchemist


def docs_session() -> str:
    text = (ROOT / "docs" / "api.md").read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def test_the_session_in_the_docs_runs_as_written_and_scores(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # the session names examples/demo_programs from a clone
    session = docs_session()
    assert 8 <= len([line for line in session.splitlines() if line.strip()]) <= 12  # about ten lines
    names: dict = {}
    exec(compile(session, "docs/api.md", "exec"), names)  # our own documentation, not generated code
    out = capsys.readouterr().out
    assert names["labels"].label_model["test"] >= 0.9 and names["model"].mean >= 0.9
    assert list(names["votes"].statuses) == ["ok"] * 5 and "lf_05" in out
    predicted = alchemist.predict(names["model"], ["Win a free phone here: bit.ly/x"])
    assert predicted.label_name.tolist() == ["spam"]


def test_a_dataframe_with_its_own_splits_runs_through_every_function(tmp_path):
    demo = alchemist.load_data("demo")
    rows = [(text, demo.card.classes[label], name) for name, split in demo.splits.items()
            for text, label in zip(split.texts, split.labels, strict=True)]
    frame = pd.DataFrame(rows, columns=["comment", "kind", "split"])
    data = alchemist.load_data(frame, text_column="comment", label_column="kind", name="comments")
    assert data.card.classes == ["ham", "spam"] and {s: len(v) for s, v in data.splits.items()} == {
        s: len(v) for s, v in demo.splits.items()}
    votes = alchemist.apply(alchemist.load_programs(DEMO_PROGRAMS), data, cache=False)
    assert votes.frame("valid").shape == (len(data.splits["valid"]), 5)
    stats = alchemist.program_stats(votes, data)
    assert list(stats.name) == [f"lf_0{i}" for i in range(1, 6)] and (stats.valid_accuracy > 0.8).all()
    labels = alchemist.label(votes, data, label_model="majority")
    table = labels.frame(data, "test")
    assert list(table.columns) == ["id", "text", "label", "label_name", "confidence", "covered", "gold", "label_source"]
    assert ((table.label == -1) == ~table.covered).all() and labels.label_model["test"] > 0.85
    result = alchemist.distill(labels, data, features="tfidf", seeds=1)
    path = tmp_path / "model.skops"
    result.model.save(path)
    assert alchemist.predict(path, ["check out my channel http://x.co"]).label.tolist() == [1]


def test_a_dataframe_without_splits_is_held_out_and_bad_input_is_one_line():
    frame = pd.DataFrame({"text": [f"row {i} spam" if i % 2 else f"row {i}" for i in range(100)],
                          "label": ["spam" if i % 2 else "ham" for i in range(100)]})
    data = alchemist.load_data(frame)
    assert {s: len(v) for s, v in data.splits.items()} == {"train": 68, "valid": 16, "test": 16}  # 15% of each class, rounded
    with pytest.raises(alchemist.AlchemistError, match="no column 'body'"):
        alchemist.load_data(frame, text_column="body")
    with pytest.raises(alchemist.AlchemistError, match="unknown label model"):
        alchemist.label(None, data, label_model="best")
    with pytest.raises(alchemist.AlchemistError, match="unknown dataset"):
        alchemist.load_data("no-such-dataset")


def test_a_program_that_fails_is_reported_not_raised(write_programs):
    data = alchemist.load_data("demo")
    folder = write_programs({"lf_01": "def label_function(x):\n    return 1 // 0\n",
                             "lf_02": "import os\ndef label_function(x):\n    return 1\n",
                             "lf_03": "def label_function(x):\n    return 1 if 'http' in x else -1\n"})
    votes = alchemist.apply(alchemist.load_programs(folder), data, cache=False)
    assert votes.statuses[:2] == ["failed", "rejected"] and votes.statuses[2] == "ok"
    assert "failed on every row" in votes.reasons[0] and "os" in votes.reasons[1]
    assert (votes.matrices["train"][:, :2] == -1).all() and np.any(votes.matrices["train"][:, 2] == 1)
