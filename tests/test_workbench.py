"""The review screen's engine: a run's programs and evidence, turning programs off, before/after scores,
and the LLM actions (a fixed version, more programs) against the local stand-in server."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import main
import review
from alchemist.programs import load_program_dir
from alchemist.workbench import evidence, load_run, score_rows, set_enabled, weakest_classes
from config import load_settings
from fake_llm import FakeLLM, smart_reply

FIXED = ("```python\n# Strategy: links and channel plugs are spam.\ndef label_function(comment):\n"
         "    text = comment.lower()\n    return 1 if 'http' in text or 'channel' in text else -1\n```")


def responder(request: dict) -> str:
    prompt = FakeLLM._prompt_text(request["body"])
    return FIXED if "Improve this labeling function" in prompt else smart_reply(request)


@pytest.fixture
def made_run(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with FakeLLM(responder) as server:
        report_path = tmp_path / "r.json"
        code = main.main(["run", "--dataset", "demo", "--mode", "scriptoriumws", "--num-programs", "3",
                          "--base-url", server.openai_url, "--seeds", "1", "--refine-rounds", "0",
                          "--features", "tfidf", "--out", str(tmp_path / "runs"), "--json", str(report_path)])
        assert code == 0
        yield Path(json.loads(report_path.read_text())["run_dir"]), server


def test_a_run_is_seen_with_each_programs_evidence(made_run):
    run_dir, _ = made_run
    view = load_run(run_dir)
    assert [p.name for p in view.programs] == ["lf_01", "lf_02", "lf_03"] and view.report is not None
    assert all(p.enabled and p.result["status"] == "ok" for p in view.programs)
    ev = evidence(view, "lf_01")  # the keyword 'http' means spam
    assert ev.votes and all(vote == "spam" and "http" in text.lower() for text, vote in ev.votes)
    assert all(gold != answer for _, gold, answer in ev.mistakes)
    assert all(vote != lm for _, vote, lm in ev.disagreements)
    assert weakest_classes(view)[0][0] in ("ham", "spam")


def test_turning_a_program_off_leaves_it_out_of_the_next_apply(made_run):
    run_dir, _ = made_run
    view = load_run(run_dir)
    before = view.report
    set_enabled(view, "lf_02", False)
    assert (run_dir / "lf_02.py.disabled").exists() and not (run_dir / "lf_02.py").exists()
    assert [p.name for p in load_program_dir(run_dir)] == ["lf_01", "lf_03"]
    settings = load_settings()
    after = review.reapply(run_dir, settings, None, before)
    assert [p["name"] for p in after["programs"]] == ["lf_01", "lf_03"]
    rows = {what: (old, new) for what, old, new in score_rows(before, after)}
    assert rows["lf_02"][0] is not None and rows["lf_02"][1] is None  # shown as gone, side by side
    view = load_run(run_dir)
    assert not view.program("lf_02").enabled
    set_enabled(view, "lf_02", True)
    assert (run_dir / "lf_02.py").exists()


def test_a_fixed_version_is_priced_recorded_and_the_old_one_kept(made_run):
    run_dir, server = made_run
    from workbench_llm import RunLLM

    settings = load_settings()
    config = review.apply_config(run_dir, settings)
    view = load_run(run_dir)
    llm = RunLLM(run_dir, settings, review.load_data(config), config.limits)
    column = review._valid_column(view, "lf_03")
    summary, shown = llm.mistakes_of(column)
    price = llm.price_fix((run_dir / "lf_03.py").read_text(), summary, shown)
    assert 0 < price.typical < price.worst
    calls = len(json.loads((run_dir / "manifest.json").read_text())["calls"])
    old = (run_dir / "lf_03.py").read_text()
    program = llm.fix(3, old, summary, shown)
    assert program.status == "ok" and "channel" in program.code
    kept = llm.save_fixed(run_dir / "lf_03.py", program, old)
    assert kept.read_text() == old and "channel" in (run_dir / "lf_03.py").read_text()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert len(manifest["calls"]) == calls + 1 and manifest["calls"][-1]["stage"] == "refine"
    assert manifest["totals"]["llm_calls"] == calls + 1
    request = json.dumps(server.requests[-1]["body"])
    test_texts = [r["data"]["text"] for r in json.loads((Path(main.__file__).parent / "datasets" / "demo" /
                                                          "test.json").read_text()).values()]
    valid_texts = {r["data"]["text"] for s in ("train", "valid") for r in
                   json.loads((Path(main.__file__).parent / "datasets" / "demo" / f"{s}.json").read_text()).values()}
    assert not any(json.dumps(t)[1:-1] in request for t in test_texts if t not in valid_texts)  # never test rows


def test_more_programs_aimed_at_a_class_are_numbered_after_the_last(made_run):
    run_dir, server = made_run
    from workbench_llm import RunLLM

    settings = load_settings()
    config = review.apply_config(run_dir, settings)
    llm = RunLLM(run_dir, settings, review.load_data(config), config.limits)
    assert llm.price_more(2).worst > 0
    made = llm.more([4, 5], "Recognise the class 'ham' and abstain otherwise.")
    assert [p.name for p in made] == ["lf_04", "lf_05"] and (run_dir / "lf_05.py").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [p["name"] for p in manifest["programs"]][-2:] == ["lf_04", "lf_05"]
    assert all("Recognise the class 'ham'" in json.dumps(r["body"]) for r in server.requests[-2:])


def test_review_needs_a_terminal(tmp_path, capsys):
    assert main.main(["review", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "needs a terminal" in err and err.count("\n") == 1
