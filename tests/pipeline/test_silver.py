"""--silver N: the code LLM labels N random rows of data without gold; they stand in for gold in vetting
and choices only, marked silver, never trained on, never called gold."""

from __future__ import annotations

import json
import re

import pytest
from helpers import reviews_csv

from alchemist.cli import main
from alchemist.testing.fake_llm import FakeLLM, smart_reply


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path))
    return tmp_path


def reply(request: dict) -> str:
    """Zero-shot batches get a JSON array (spam when the item has a link or asks to subscribe)."""
    prompt = FakeLLM._prompt_text(request["body"])
    if "<items>" not in prompt:
        return smart_reply(request)
    items = re.findall(r"^\[\d+\] (.*)$", prompt.split("<items>", 1)[1], re.MULTILINE)
    return json.dumps(["spam" if re.search(r"http|subscri|check out|free", t, re.IGNORECASE) else "ham" for t in items])


def test_silver_rows_make_the_choices_are_marked_and_never_trained_on(env, capsys):
    data = reviews_csv(env / "mine.csv", labeled=False)
    with FakeLLM(reply) as server:
        code = main.main(["run", "--dataset", str(data), "--text-column", "review_text", "--classes", "ham,spam",
                          "--mode", "scriptoriumws", "--num-programs", "4", "--base-url", server.openai_url,
                          "--silver", "60", "--seeds", "1", "--refine-rounds", "0", "--features", "tfidf", "--out", str(env / "runs"),
                          "--json", str(env / "r.json")])
        calls = [r for r in server.requests if "<items>" in FakeLLM._prompt_text(r["body"])]
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads((env / "r.json").read_text())
    g = report["gold_rows"]
    assert g["source"] == "silver" and g["asked"] == 60 and g["labeled"] == 60 and g["scores_vetting_choices"] == 60
    assert len(calls) == 6 and report["splits"]["valid"] == 60  # 10 rows a call
    assert "gold_only" not in report["distilled"]  # silver is never a baseline of gold ...
    assert not any(c.get("gold") for c in report["distilled"]["features"]["candidates"])  # ... nor trained on
    assert "valid (silver)" in out and "Silver rows, not gold" in out
    assert report["cost_usd"] > 0 and report["llm_calls"] >= 10
    manifest = json.loads((__import__("pathlib").Path(report["run_dir"]) / "manifest.json").read_text())
    assert manifest["silver"]["labeled"] == 60
    assert sum(c.get("split") == "silver" for c in manifest["calls"]) == 6


def test_silver_is_not_used_when_valid_has_gold(env, capsys):
    with FakeLLM(reply) as server:
        code = main.main(["run", "--dataset", "demo", "--mode", "scriptoriumws", "--num-programs", "3",
                          "--base-url", server.openai_url, "--silver", "20", "--seeds", "1", "--refine-rounds", "0",
                          "--features", "tfidf", "--out", str(env / "runs"), "--json", str(env / "r.json")])
        calls = [r for r in server.requests if "<items>" in FakeLLM._prompt_text(r["body"])]
    assert code == 0 and not calls
    report = json.loads((env / "r.json").read_text())
    assert report["gold_rows"]["source"] == "the data's valid split"
    assert any("--silver 20 not used" in w for w in report["warnings"])
