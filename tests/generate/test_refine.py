"""Refinement from mistakes: the pure parts (halves of valid, scores, mistakes) and whole runs against
the local fake LLM server (real SDKs, real sandbox)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_DIR

from alchemist.cli import main
from alchemist.data.tasks import card_for_classes
from alchemist.generate.estimate import estimate_run
from alchemist.generate.mistakes import mistakes, net_score, split_valid, weakness
from alchemist.generate.prompts import TaskPrompts
from alchemist.llm.catalogue import get_model
from alchemist.pipeline.settings import load_settings
from alchemist.testing.fake_llm import FakeLLM, angle_index, program_for

WEAK = ("```python\n# Strategy: the letter e means spam.\ndef label_function(comment):\n"
        "    return 1 if 'e' in comment else -1\n```")
BETTER = ("```python\n# Strategy: links, subscriptions and offers are spam; talk about the music is ham.\n"
          "def label_function(comment):\n    t = comment.lower()\n"
          "    if any(w in t for w in ('http', 'subscribe', 'check out', 'free', 'channel', 'win ', '.com')):\n"
          "        return 1\n"
          "    if any(w in t for w in ('song', 'melody', 'voice', 'lyrics', 'solo', 'chorus', 'verse')):\n"
          "        return 0\n    return -1\n```")
WORSE = "```python\n# Strategy: everything is ham.\ndef label_function(comment):\n    return 0\n```"


def test_valid_halves_are_disjoint_stratified_and_fixed():
    gold = np.array([0] * 30 + [1] * 10 + [-1] * 4)
    shown, decide = split_valid(gold)
    assert not (shown & decide).any() and not (shown | decide)[-4:].any()  # unlabeled rows in neither
    assert shown[:30].sum() == 15 and shown[30:40].sum() == 5 and decide.sum() == 20
    assert (split_valid(gold)[0] == shown).all()


def test_net_score_rewards_right_votes_and_ignores_abstentions():
    gold = np.array([0, 1, 0, 1])
    rows = np.ones(4, dtype=bool)
    assert net_score(np.array([0, 1, 0, 1]), gold, rows, 2) == 0.5
    assert net_score(np.array([-1, -1, -1, -1]), gold, rows, 2) == 0.0
    assert net_score(np.array([0, 0, 0, 0]), gold, rows, 2) == 0.0  # one class for everything: chance
    assert net_score(np.array([0, -1, -1, -1]), gold, rows, 2) == 0.125
    assert net_score(np.array([1, 0, -1, -1]), gold, rows, 2) == -0.25
    skewed = np.array([0, 0, 0, 1])
    assert net_score(np.zeros(4, dtype=int), skewed, rows, 2) == 0.0  # even when one class is most rows
    assert net_score(skewed, skewed, rows, 2) > 0


def test_weakness_and_mistakes_come_from_the_shown_rows_only():
    gold = np.array([0, 1] * 20)
    shown = np.arange(40) < 20
    good = gold.copy()
    assert weakness(good, gold, shown, 2) == ""
    assert "votes on 0%" in weakness(np.full(40, -1), gold, shown, 2)
    coin = np.where(np.arange(40) % 4 < 2, 0, 1)
    assert "accuracy 0.50" in weakness(coin, gold, shown, 2)
    assert "chance 0.50" in weakness(np.zeros(40, dtype=int), gold, shown, 2)  # always one class
    texts = [f"row {i}\u202e" for i in range(40)]
    picked = mistakes(coin, gold, texts, shown, ["ham", "spam"], k=4)
    assert len(picked) == 4 and all(int(m.text.split()[1]) < 20 for m in picked)  # never the deciding half
    assert all(m.answer != m.gold for m in picked) and {m.gold for m in picked} == {"ham", "spam"}
    assert all("\u202e" not in m.text for m in picked)  # shown text is cleaned


def test_estimate_counts_refinement_requests():
    card = card_for_classes("t", ["a", "b"])
    spec = get_model("gpt-4o-mini", load_settings().models)
    base = estimate_run(TaskPrompts(card), spec, None, None, 10, 1000)
    refined = estimate_run(TaskPrompts(card), spec, None, None, 10, 1000, refine_rounds=2)
    assert refined.max_calls == base.max_calls + 20 and refined.worst_usd > base.worst_usd
    assert refined.typical_usd > base.typical_usd


# --- whole runs --------------------------------------------------------------------------------
def responder(refined: str):
    def reply(request: dict) -> str:
        prompt = FakeLLM._prompt_text(request["body"])
        if "Improve this labeling function" in prompt:
            return refined
        written = angle_index(prompt)  # program N is written from angle N
        return WEAK if written == 0 else program_for(written)
    return reply


def run(env: Path, server: FakeLLM, capsys, *extra: str) -> tuple[int, dict]:
    report_path = env / f"report-{len(list(env.glob('report-*')))}.json"
    code = main.main(["run", "--dataset", "demo", "--mode", "scriptoriumws", "--num-programs", "3",
                      "--base-url", server.openai_url, "--seeds", "1", "--features", "tfidf",
                      "--out", str(env / "runs"), "--json", str(report_path), *extra])
    capsys.readouterr()
    return code, json.loads(report_path.read_text()) if report_path.exists() else {}


def test_a_weak_program_is_replaced_by_a_better_version_and_both_are_kept(env, capsys):
    with FakeLLM(responder(BETTER)) as server:
        code, report = run(env, server, capsys)
        assert code == 0
        run_dir = Path(report["run_dir"])
        manifest = json.loads((run_dir / "manifest.json").read_text())
        section = manifest["refinement"]
        assert section["rounds"] == 1 and "other half" in section["guard"]
        assert section["valid_rows"] == {"shown": 40, "decide": 40}
        (request,) = [r for r in section["requests"] if "program" in r]
        assert request["program"] == "lf_01" and request["kept"] == "new"
        assert request["new_score"] > request["old_score"] and request["mistakes_shown"] > 0
        assert "'http'" in (run_dir / "lf_01.py").read_text()  # the kept version is what apply runs
        assert "letter e" in (run_dir / "refinement" / "lf_01.round0.py").read_text()
        assert "'http'" in (run_dir / "refinement" / "lf_01.round1.py").read_text()
        assert report["refinement"]["requests"] == section["requests"]
        assert [c["stage"] for c in manifest["calls"]].count("refine") == 1
        # what the LLM saw: valid rows with their gold class; never a test row
        prompts = [json.dumps(r["body"]) for r in server.requests]
        refine_prompt = next(p for p in prompts if "Improve this labeling function" in p)
        texts = {s: [r["data"]["text"] for r in json.loads((DEMO_DIR / f"{s}.json").read_text()).values()]
                 for s in ("train", "valid", "test")}
        only_test = set(texts["test"]) - set(texts["train"]) - set(texts["valid"])  # the demo repeats some texts
        assert any(json.dumps(t)[1:-1] in refine_prompt for t in texts["valid"]) and "correct: " in refine_prompt
        assert len(only_test) > 50 and not any(json.dumps(t)[1:-1] in p for p in prompts for t in only_test)
        calls = server.calls
        code, again = run(env, server, capsys)  # the same run again: answered from the cache
        assert code == 0 and server.calls == calls and again["cached_calls"] == again["llm_calls"]


def test_a_worse_version_is_not_kept(env, capsys):
    with FakeLLM(responder(WORSE)) as server:
        code, report = run(env, server, capsys)
    assert code == 0
    run_dir = Path(report["run_dir"])
    (request,) = [r for r in report["refinement"]["requests"] if "program" in r]
    assert request["kept"] == "old" and request["new_score"] <= request["old_score"]
    assert "letter e" in (run_dir / "lf_01.py").read_text()
    assert "everything is ham" in (run_dir / "refinement" / "lf_01.round1.py").read_text()


def test_no_refinement_requested_means_no_request(env, capsys):
    with FakeLLM(responder(BETTER)) as server:
        code, report = run(env, server, capsys, "--refine-rounds", "0")
        assert code == 0 and server.calls == 3 and "refinement" not in report
    with pytest.raises(SystemExit):
        main.main(["run", "--dataset", "demo", "--refine-rounds", "x"])
    assert main.main(["run", "--dataset", "demo", "--refine-rounds", "9", "--base-url", "http://127.0.0.1:9"]) == 2
    assert "--refine-rounds must be between 0 and 5" in capsys.readouterr().err


def test_a_budget_that_stops_refinement_is_said_not_taken_for_no_weak_programs(env, capsys):
    with FakeLLM(responder(BETTER)) as server:
        code = main.main(["run", "--dataset", "demo", "--mode", "scriptoriumws", "--num-programs", "3",
                          "--base-url", server.openai_url, "--seeds", "1", "--features", "tfidf", "--concurrency", "1",
                          "--max-cost", "0.0019", "--out", str(env / "runs"), "--json", str(env / "r.json")])
        out = capsys.readouterr().out
        refine_calls = sum("Improve this labeling function" in FakeLLM._prompt_text(r["body"]) for r in server.requests)
    report = json.loads((env / "r.json").read_text())
    assert code == 0 and report["programs_written"] == 3 and refine_calls == 0
    assert "could cost up to" in report["refinement"]["stopped"]
    text = " ".join(out.split())
    assert "Stopped by the budget" in text and "no weak programs" not in text


def test_a_persons_chosen_answers_are_shown_as_mistakes_never_deciding(env, capsys, monkeypatch):
    """annotate --pool chosen: those rows join the shown half of refinement (the deciding half stays valid's)."""
    from alchemist.data.datasets import load_dataset

    monkeypatch.setenv("ALCHEMIST_HOME", str(env))  # the answers file goes to this project folder
    train = load_dataset("demo").train
    picked = [i for i, t in enumerate(train.texts) if "e" in t and train.labels[i] == 0][:5]  # WEAK says spam
    rows = "".join(f"{train.ids[i]},ham\n" for i in picked)
    (env / "mine.csv").write_text("id,label\n" + rows)
    assert main.main(["annotate", "--dataset", "demo", "--import", str(env / "mine.csv"), "--pool", "chosen"]) == 0
    with FakeLLM(responder(BETTER)) as server:
        code, report = run(env, server, capsys)
        assert code == 0
        section = json.loads((Path(report["run_dir"]) / "manifest.json").read_text())["refinement"]
        assert section["valid_rows"] == {"shown": 40, "decide": 40} and section["chosen_rows_shown"] == 5
        refine_prompt = next(json.dumps(r["body"]) for r in server.requests
                             if "Improve this labeling function" in json.dumps(r["body"]))
        assert any(json.dumps(train.texts[i])[1:-1] in refine_prompt for i in picked)
    assert report["gold_rows"]["training_only"] == 5
    labels = (Path(report["output_dir"]) / "labels.csv").read_text()
    assert labels.count(",person") == 5
