"""`python main.py run` end to end against the local fake LLM server (real SDKs, real sandbox)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alchemist.cli import main
from alchemist.generate.prompts import angles
from alchemist.pipeline.settings import load_settings
from alchemist.testing.fake_llm import FakeLLM, program_for, smart_reply


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ALCHEMIST_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def server():
    with FakeLLM(smart_reply) as fake:
        yield fake


def run(env: Path, server: FakeLLM, capsys, *extra: str, provider: str = "openai") -> tuple[int, dict, str]:
    url = server.anthropic_url if provider == "anthropic" else server.openai_url
    report_path = env / f"report-{len(list(env.glob('report-*')))}.json"
    args = ["run", "--dataset", "demo", "--base-url", url, "--seeds", "1", "--out", str(env / "runs"),
            "--json", str(report_path), "--label-model", "majority", "--refine-rounds", "0", *extra]
    # refinement adds calls that depend on how programs score; tests/test_refine.py covers it
    code = main.main(args)
    err = capsys.readouterr().err
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return code, report, err


def manifest_of(report: dict) -> dict:
    return json.loads((Path(report["run_dir"]) / "manifest.json").read_text())


@pytest.mark.parametrize("mode,model,provider", [
    ("scriptoriumws", "gpt-4o-mini", "openai"),
    ("scriptoriumws", "claude-haiku-4-5", "anthropic"),
    ("alchemist", "gpt-4o-mini", "openai"),
    ("alchemist", "claude-haiku-4-5", "anthropic"),
])
def test_modes_and_providers(env, server, capsys, mode, model, provider):
    code, report, err = run(env, server, capsys, "--mode", mode, "--code-model", model, "--knowledge-model", model,
                            "--num-programs", "3", provider=provider)
    assert code == 0, err
    two_stage = mode == "alchemist"
    assert server.calls == 3 * (2 if two_stage else 1)
    path = "/v1/messages" if provider == "anthropic" else "/v1/chat/completions"
    assert {r["path"] for r in server.requests} == {path}
    manifest = manifest_of(report)
    assert manifest["status"] == "complete" and manifest["mode"] == mode
    stages = [c["stage"] for c in manifest["calls"]]
    assert stages == (["knowledge", "code"] * 3 if two_stage else ["code"] * 3)
    spec = load_settings().models[model]
    for call in manifest["calls"]:
        assert call["model"] == model and call["reply"] and call["prompt_sha256"]
        assert call["cost_usd"] == pytest.approx(spec.cost(call["input_tokens"], call["output_tokens"]))
    totals = manifest["totals"]
    assert totals["llm_calls"] == len(manifest["calls"]) and totals["cached_calls"] == 0
    assert totals["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in manifest["calls"])) and totals["cost_usd"] > 0
    assert [p["status"] for p in manifest["programs"]] == ["ok"] * 3
    assert report["llm_calls"] == totals["llm_calls"] and report["cached_calls"] == 0
    assert report["cost_usd"] == pytest.approx(totals["cost_usd"])
    assert [p["name"] for p in report["programs"]] == ["lf_01", "lf_02", "lf_03"]
    text = (Path(report["run_dir"]) / "lf_01.py").read_text()
    assert f"# code model: {model}" in text and "# prompt sha256:" in text and "# cost: $" in text
    assert "def label_function(comment):" in text
    if two_stage:
        assert manifest["programs"][0]["knowledge"].startswith("Links and requests")
        assert "<knowledge>" in manifest["calls"][1]["user"]


def test_programs_differ_each_written_from_its_own_angle(env, server, capsys):
    code, report, err = run(env, server, capsys, "--mode", "scriptoriumws", "--num-programs", "3")
    assert code == 0, err
    calls = manifest_of(report)["calls"]
    listed = angles()
    assert [c["program"] for c in calls] == ["lf_01", "lf_02", "lf_03"]  # listed in program order
    for i, call in enumerate(calls):  # prompt N names angle N and nothing of the other programs
        assert listed[i] in call["user"] and "already written" not in call["user"]
        assert not any(a in call["user"] for j, a in enumerate(listed) if j != i)
    sources = {(Path(report["run_dir"]) / f"lf_0{i}.py").read_text().split("\n\n", 1)[1] for i in (1, 2, 3)}
    assert len(sources) == 3


def test_rerun_is_answered_by_the_cache(env, server, capsys):
    args = ("--mode", "alchemist", "--num-programs", "2")
    first = run(env, server, capsys, *args)
    assert first[0] == 0 and server.calls == 4
    code, report, err = run(env, server, capsys, *args)
    assert code == 0, err
    assert server.calls == 4  # nothing new reached the server
    assert report["llm_calls"] == 4 and report["cached_calls"] == 4 and report["cost_usd"] == 0
    assert report["run_dir"] != first[1]["run_dir"]  # a new run never overwrites the old one
    assert all(c["cached"] for c in manifest_of(report)["calls"])


def test_offline_miss(env, server, capsys):
    code, _, err = run(env, server, capsys, "--offline", "--num-programs", "1")
    assert code == 2 and "offline: no cached reply" in err and server.calls == 0
    (run_dir,) = (env / "runs" / "demo" / "alchemist").iterdir()
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "failed"


def test_offline_replay_after_online_run(env, server, capsys):
    assert run(env, server, capsys, "--num-programs", "2")[0] == 0
    calls = server.calls
    code, report, err = run(env, server, capsys, "--num-programs", "2", "--offline")
    assert code == 0, err
    assert server.calls == calls and report["cached_calls"] == report["llm_calls"] == 4


def test_missing_key(env, server, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    code, _, err = run(env, server, capsys, "--code-model", "claude-haiku-4-5", "--knowledge-model", "claude-haiku-4-5",
                       provider="anthropic")
    assert code == 2 and "ANTHROPIC_API_KEY is not set" in err and err.count("\n") == 1
    assert server.calls == 0 and not (env / "runs").exists()


def test_unknown_model(env, server, capsys):
    code, _, err = run(env, server, capsys, "--code-model", "gpt-9000")
    assert code == 2 and "unknown model 'gpt-9000'" in err and "gpt-4o-mini" in err


def test_bad_replies_get_one_repair_and_are_never_dropped(env, server, capsys):
    good = program_for
    server.push(
        "I cannot help with code today.", good(0),  # no code -> repaired
        {"text": "```python\n# Strategy: cut\ndef label_function(comment):\n    if 'a' in", "truncated": True},
        good(1),  # cut off -> repaired
        "```python\ndef label_function(comment):\n    if 'x' in comment\n        return 1\n```",
        "```python\ndef label_function(comment)\n    return 1\n```",  # syntax error twice -> rejected
        "```python\ndef label(comment):\n    return 1\n```", good(3),  # wrong function name -> repaired
        "```python\ndef label_function(comment):\n    return comment.nope()\n```", good(4),  # fails every row
    )
    # one at a time: the scripted replies are a queue, served in the order requests arrive
    code, report, err = run(env, server, capsys, "--mode", "scriptoriumws", "--num-programs", "5",
                            "--concurrency", "1")
    assert code == 0, err
    assert server.calls == 10
    manifest = manifest_of(report)
    statuses = {p["name"]: p for p in manifest["programs"]}
    assert [statuses[f"lf_0{i}"]["status"] for i in range(1, 6)] == ["ok", "ok", "rejected", "ok", "ok"]
    assert "syntax error" in statuses["lf_03"]["reason"] and "after one repair" in statuses["lf_03"]["reason"]
    repairs = [c for c in manifest["calls"] if c["stage"] == "repair"]
    assert len(repairs) == 5
    assert "no Python code defining label_function" in repairs[0]["user"]
    assert "cut off" in repairs[1]["user"]
    assert "syntax error at line 2" in repairs[2]["user"]
    assert "no top-level 'def label_function(x)' found" in repairs[3]["user"]
    assert "AttributeError" in repairs[4]["user"] and "trial rows" in repairs[4]["user"]
    rejected = (Path(report["run_dir"]) / "lf_03.py").read_text()
    assert "# status: rejected" in rejected
    applied = {p["name"]: p for p in report["programs"]}
    assert applied["lf_03"]["status"] == "rejected" and applied["lf_01"]["status"] == "ok"
    assert report["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in manifest["calls"]))


def test_errors_are_retried_within_a_run(env, server, capsys):
    server.push({"status": 429, "headers": {"retry-after": "0"}}, {"status": 500, "headers": {"retry-after": "0"}})
    code, report, err = run(env, server, capsys, "--mode", "scriptoriumws", "--num-programs", "1")
    assert code == 0, err
    assert server.calls == 3 and manifest_of(report)["calls"][0]["attempts"] == 3


def test_retries_exhausted_keep_what_was_made(env, server, capsys):
    server.push(program_for(0), *[{"status": 503, "headers": {"retry-after": "0"}}] * 3)
    code, _, err = run(env, server, capsys, "--mode", "scriptoriumws", "--num-programs", "3", "--llm-retries", "2",
                       "--concurrency", "1")
    assert code == 2 and "gave up after 3 attempts" in err and "made so far (1 program(s)) is kept" in err
    (run_dir,) = (env / "runs" / "demo" / "scriptoriumws").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed" and [p["name"] for p in manifest["programs"]] == ["lf_01"]
    assert (run_dir / "lf_01.py").exists()


def test_budget_stops_cleanly(env, server, capsys):
    code, report, err = run(env, server, capsys, "--mode", "scriptoriumws", "--num-programs", "10",
                            "--max-cost", "0.002")
    assert code == 0, err
    manifest = manifest_of(report)
    assert manifest["status"] == "stopped: budget"
    assert 0 < len(manifest["programs"]) < 10 and manifest["totals"]["cost_usd"] <= 0.002
    assert any("stopped early" in w for w in report["warnings"])


def test_llm_calls_do_not_depend_on_dataset_size(env, server, capsys):
    small = env / "small.csv"
    big = env / "big.csv"
    rows = ["check out my channel http://x.ly", "love this song", "subscribe please", "great voice"]
    small.write_text("text\n" + "\n".join(rows) + "\n")
    big.write_text("text\n" + "\n".join(rows * 500) + "\n")
    counts = []
    for data in (small, big):
        before = server.calls
        code = main.main(["run", "--dataset", str(data), "--classes", "ham,spam", "--base-url", server.openai_url,
                          "--mode", "alchemist", "--num-programs", "3", "--seeds", "1", "--out", str(env / "runs"),
                          "--description", f"spam or ham ({data.name})"])
        assert code == 0, capsys.readouterr().err
        counts.append(server.calls - before)
    assert counts == [6, 6]


def test_examples_knowledge_comes_from_train_and_valid_never_test(env, server, capsys):
    data = env / "mine"
    data.mkdir()
    (data / "train.csv").write_text("text,label\n" + "".join(f"train spam {i} http://x,spam\ntrain ham {i},ham\n"
                                                             for i in range(10)))
    (data / "test.csv").write_text("text,label\nTESTROW spam http://y,spam\nTESTROW ham,ham\n")
    code = main.main(["run", "--dataset", str(data), "--base-url", server.openai_url, "--mode", "alchemist",
                      "--knowledge-type", "examples", "--num-programs", "1", "--seeds", "1", "--out", str(env / "runs")])
    assert code == 0, capsys.readouterr().err
    knowledge_prompts = [r["body"]["messages"][1]["content"] for r in server.requests
                         if "expert annotator" in r["body"]["messages"][0]["content"]]
    (prompt,) = knowledge_prompts
    assert "<examples>" in prompt and "[spam] train spam" in prompt and "[ham] train ham" in prompt
    assert "TESTROW" not in prompt
    assert prompt.count("[spam]") == 5 and prompt.count("[ham]") == 5


def test_code_prompts_show_a_fixed_sample_of_train_rows_never_test_or_labels(env, server, capsys):
    data = env / "grounded"
    data.mkdir()
    (data / "train.csv").write_text("text,label\n" + "".join(f"TRAINROW {i} check my channel,spam\n" for i in range(30)))
    (data / "test.csv").write_text("text,label\nTESTROW spam http://y,spam\nTESTROW ham,ham\n")
    args = ["run", "--dataset", str(data), "--classes", "ham,spam", "--base-url", server.openai_url, "--mode",
            "scriptoriumws", "--num-programs", "2", "--seeds", "1", "--out", str(env / "runs"), "--refine-rounds", "0"]
    assert main.main(args + ["--prompt-rows", "5"]) in (0, 1), capsys.readouterr().err  # what the prompts hold
    code_prompts = [r["body"]["messages"][1]["content"] for r in server.requests
                    if "labeling function" in r["body"]["messages"][1]["content"]]
    assert len(code_prompts) == 2
    for prompt in code_prompts:
        assert prompt.count("- TRAINROW") == 5 and "TESTROW" not in prompt and ",spam" not in prompt
    shown = [[line for line in p.splitlines() if line.startswith("- TRAINROW")] for p in code_prompts]
    assert shown[0] == shown[1]  # a fixed sample: the same rows for every program
    before = len(server.requests)
    assert main.main(args + ["--prompt-rows", "0", "--description", "other"]) in (0, 1)
    assert all("TRAINROW" not in r["body"]["messages"][1]["content"] for r in server.requests[before:])
