"""Concurrent LLM work: requests side by side against a slow local stand-in server (real SDKs), the
order of what is saved, the budget with calls in flight, backing off on 429, and lazy start-up."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT

from alchemist.cli import main
from alchemist.core.concurrency import AdaptiveLimit, run_all
from alchemist.generate.prompts import angles
from alchemist.llm.catalogue import ModelSpec
from alchemist.llm.session import BudgetExceeded, CallSettings, LLMSession
from alchemist.testing.fake_llm import FakeLLM, program_for, smart_reply

SPEC = ModelSpec(name="m", provider="openai", api_id="m", input_per_1m=1.0, output_per_1m=1.0)


def session(server: FakeLLM, **settings) -> LLMSession:
    return LLMSession(CallSettings(base_url=server.openai_url, backoff_s=0.01, **settings), sleep=lambda s: None)


def ask(llm: LLMSession, i: int, max_tokens: int = 100) -> str:
    return llm.complete(SPEC, "system", f"question {i}", temperature=None, max_tokens=max_tokens, sample=i).text


# --- the pool and the limit --------------------------------------------------------------------------
def test_run_all_keeps_order_and_finishes_work_in_flight_after_a_failure():
    release = threading.Event()
    seen = []

    def work(i: int) -> int:
        if i == 0:
            raise ValueError("first fails")
        release.wait(5)  # still running when the failure arrives
        return i * 10

    def done(i: int, result: int) -> None:
        seen.append(i)
        release.set()

    assert run_all(range(5), lambda i: i * 10 if i else 0, 3) == [0, 10, 20, 30, 40]
    release.set()
    with pytest.raises(ValueError, match="first fails"):
        run_all(range(6), work, 3, done)
    assert sorted(seen) == [1, 2]  # started before the failure: finished and handed on; 3..5 never started


def test_adaptive_limit_halves_on_429_and_recovers():
    limit = AdaptiveLimit(8)
    for _ in range(2):
        limit.acquire()
        limit.release(throttled=True)
    assert limit.limit == 2 and limit.throttled == 2
    for _ in range(2 + 3):  # `limit` successes in a row raise it by one
        limit.acquire()
        limit.release()
    assert limit.limit == 4


# --- the session against a slow server ---------------------------------------------------------------
def test_requests_run_side_by_side_up_to_the_limit(env):
    with FakeLLM(lambda r: "ok") as server:
        server.delay = 0.3
        llm = session(server, concurrency=4)
        answers = run_all(range(10), lambda i: ask(llm, i), 8)
    assert answers == ["ok"] * 10 and server.calls == 10
    assert server.peak_in_flight == 4 and llm.limit.peak == 4  # never more than --concurrency


def test_budget_holds_with_calls_in_flight(env):
    # Each call's worst case is ~$0.00015 (prompt bytes + framing + 100 output tokens at $1/M): the cap
    # fits two at a time; each really costs ~$0.00008 (a 75-token reply), so the third or fourth is refused.
    cap = 0.0003
    with FakeLLM(lambda r: "word " * 60) as server:
        server.delay = 0.2
        llm = session(server, concurrency=8, max_cost_usd=cap)
        with pytest.raises(BudgetExceeded, match="max-cost"):
            run_all(range(20), lambda i: ask(llm, i), 8)
    assert server.peak_in_flight <= 2  # the third waited for the reservations of the first two to settle
    assert 2 <= server.calls < 20 and llm.spent_usd <= cap and llm.reserved_usd == pytest.approx(0)


def test_a_throttling_provider_gets_fewer_requests_in_flight(env):
    replies = [{"status": 429, "headers": {"retry-after": "0"}}] * 6
    with FakeLLM(lambda r: "ok") as server:
        server.push(*replies)
        server.delay = 0.05
        llm = session(server, concurrency=8, retries=8)
        assert run_all(range(8), lambda i: ask(llm, i), 8) == ["ok"] * 8
    assert llm.limit.throttled == 6 and llm.limit.limit < 8


# --- whole runs ----------------------------------------------------------------------------------------
def run(env: Path, server: FakeLLM, *extra: str) -> tuple[int, dict]:
    report_path = env / f"report-{len(list(env.glob('report-*')))}.json"
    code = main.main(["run", "--dataset", "demo", "--base-url", server.openai_url, "--seeds", "1",
                      "--out", str(env / "runs"), "--json", str(report_path), "--label-model", "majority",
                      "--refine-rounds", "0", "--features", "tfidf", *extra])
    return code, json.loads(report_path.read_text()) if report_path.exists() else {}


def slow_for_early_programs(request: dict) -> str:
    """Replies arrive in reverse order: the earlier the program's angle, the longer its reply takes."""
    import time

    from alchemist.testing.fake_llm import angle_index

    prompt = FakeLLM._prompt_text(request["body"])
    if "expert annotator" not in prompt:
        time.sleep(0.08 * (6 - angle_index(prompt)))
    return smart_reply(request)


def test_programs_written_side_by_side_are_numbered_saved_and_cached_as_in_sequence(env, capsys):
    with FakeLLM(slow_for_early_programs) as server:
        code, report = run(env, server, "--mode", "alchemist", "--num-programs", "6", "--concurrency", "6")
        err = capsys.readouterr().err
        assert code == 0, err
        assert server.peak_in_flight >= 4
        run_dir = Path(report["run_dir"])
        manifest = json.loads((run_dir / "manifest.json").read_text())
        listed = angles()
        for n in range(1, 7):  # program N is the one written from prompt N, whatever order replies came in
            source = (run_dir / f"lf_{n:02d}.py").read_text()
            assert program_for(n - 1).split("```python\n")[1].split("```")[0] in source
        assert [p["name"] for p in manifest["programs"]] == [f"lf_{n:02d}" for n in range(1, 7)]
        calls = manifest["calls"]
        assert [(c["program"], c["stage"]) for c in calls] == [
            (f"lf_{n:02d}", stage) for n in range(1, 7) for stage in ("knowledge", "code")]
        assert [c["index"] for c in calls] == list(range(12))
        assert all(listed[n] in calls[2 * n + 1]["user"] for n in range(6))
        assert manifest["programs"][2]["calls"] == [4, 5]
        assert "in flight" in err and "calls done" in err  # the live line
        before = server.calls
        code, again = run(env, server, "--mode", "alchemist", "--num-programs", "6", "--concurrency", "3")
        assert code == 0 and server.calls == before and again["cached_calls"] == again["llm_calls"] == 12
        replay = json.loads((Path(again["run_dir"]) / "manifest.json").read_text())
        assert [c["key"] for c in replay["calls"]] == [c["key"] for c in calls]


def test_a_budget_stop_with_requests_in_flight_keeps_what_finished(env, capsys):
    # worst case per call ~$0.0005 (a token per prompt byte, 200 output tokens): a few fit in flight at once;
    # each really costs ~$0.0001, so the cap stops the run after a few programs
    with FakeLLM(smart_reply) as server:
        server.delay = 0.1
        code, report = run(env, server, "--mode", "scriptoriumws", "--num-programs", "10", "--max-cost", "0.001",
                           "--max-output-tokens", "200")
    assert code == 0, capsys.readouterr().err
    assert server.peak_in_flight >= 2  # side by side, as many as the cap allows
    run_dir = Path(report["run_dir"])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "stopped: budget" and manifest["totals"]["cost_usd"] <= 0.001
    saved = sorted(p.stem for p in run_dir.glob("lf_*.py"))
    assert saved == [p["name"] for p in manifest["programs"]] and 0 < len(saved) < 10
    assert server.calls == len(manifest["calls"])  # every call paid for is recorded


def test_zero_shot_batches_run_side_by_side_and_land_on_their_rows(env, capsys):
    def label_by_content(request: dict) -> str:
        prompt = FakeLLM._prompt_text(request["body"])
        items = [line for line in prompt.splitlines() if line.startswith("[") and "] " in line]
        return json.dumps(["spam" if "http" in line.lower() else "ham" for line in items])

    with FakeLLM(label_by_content) as server:
        server.delay = 0.1
        report_path = env / "zs.json"
        code = main.main(["zero-shot", "--dataset", "demo", "--base-url", server.openai_url, "--limit", "40",
                          "--yes", "--seeds", "1", "--out", str(env / "runs"), "--json", str(report_path),
                          "--concurrency", "4"])
        assert code == 0, capsys.readouterr().err
        assert server.peak_in_flight == 4
    report = json.loads(report_path.read_text())
    manifest = json.loads((Path(report["run_dir"]) / "manifest.json").read_text())
    assert report["label_model"]["valid"] == 1.0 or report["zero_shot"]["unparseable_replies"] == 0
    keys = [(c.get("split"), c["rows"][0]) for c in manifest["calls"]]
    assert keys == sorted(keys) and len(keys) == len(set(keys))


# --- start-up --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["--help"], ["datasets"], ["run", "--help"]])
def test_help_and_datasets_import_no_llm_rag_or_model_stacks(argv):
    heavy = ("openai", "anthropic", "langchain", "langchain_core", "torch", "transformers", "sklearn", "snorkel",
             "faiss", "pandas", "questionary")
    code = ("import runpy, sys; sys.argv = ['main.py', *sys.argv[1:]]\n"
            "try:\n    runpy.run_path('main.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))")
    out = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True,
                         timeout=60).stdout
    assert "LOADED []" in out, out[-500:]
