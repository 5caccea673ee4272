"""Cost: the ledger over manifests, per-stage pricing, the zero-shot estimate and mode, the budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import main
import pricing
from alchemist.ledger import scan, totals
from alchemist.models import ModelSpec
from alchemist.prompts import TaskPrompts
from alchemist.runs import RunStore
from alchemist.tasks import card_for_classes
from alchemist.tokens import APPROXIMATION, TokenCounter
from alchemist.zero_shot import batch_prompt, estimate, parse_labels
from config import load_settings
from fake_llm import FakeLLM, smart_reply


def fake_run(root: Path, dataset: str, mode: str, calls: list[tuple[str, int, int, float, bool]],
             code_model: str = "m1", knowledge_type: str | None = "rules", programs: int = 2) -> None:
    store = RunStore(root, dataset, mode, {"code_model": {"name": code_model}, "knowledge_type": knowledge_type})
    for model, tin, tout, cost, cached in calls:
        store.record_call({"model": model, "input_tokens": tin, "output_tokens": tout, "cost_usd": cost,
                           "cached": cached, "stage": "code"})
    store.manifest["programs"] = [{"name": f"lf_{i:02d}"} for i in range(programs)]
    store.finish("complete")


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    fake_run(root, "sms", "alchemist", [("m2", 100, 50, 0.002, False), ("m1", 200, 80, 0.001, False)])
    fake_run(root, "sms", "alchemist", [("m2", 100, 50, 0.0, True), ("m1", 200, 80, 0.0, True)])
    fake_run(root, "sms", "scriptoriumws", [("m1", 300, 90, 0.004, False)], knowledge_type=None, programs=1)
    fake_run(root, "imdb", "alchemist", [("m3", 10, 5, 0.5, False), ("m1", 20, 10, 0.25, False)],
             knowledge_type="keywords")
    return root


ALL_COST = 0.002 + 0.001 + 0.004 + 0.5 + 0.25


@pytest.mark.parametrize("by", [["dataset", "mode"], ["dataset"], ["mode"], ["model"], ["knowledge-type"],
                                ["dataset", "mode", "model", "knowledge-type"]])
def test_totals_equal_the_sum_over_manifests(runs, by):
    found, warnings = scan(runs)
    assert len(found) == 4 and warnings == []
    rows = totals(found, by)
    assert sum(r.cost_usd for r in rows) == pytest.approx(ALL_COST)
    assert sum(r.calls for r in rows) == 7 and sum(r.cached_calls for r in rows) == 2
    assert sum(r.input_tokens for r in rows) == 930 and sum(r.output_tokens for r in rows) == 365
    assert sum(r.programs for r in rows) == 7


def test_grouping_values(runs):
    rows = {tuple(r.key.values()): r for r in totals(scan(runs)[0], ["dataset", "mode"])}
    assert rows[("sms", "alchemist")].cost_usd == pytest.approx(0.003)
    assert len(rows[("sms", "alchemist")].runs) == 2 and rows[("sms", "alchemist")].cached_calls == 2
    by_model = {r.key["model"]: r for r in totals(scan(runs)[0], ["model"])}
    assert by_model["m2"].cost_usd == pytest.approx(0.002) and by_model["m2"].programs == 0
    assert by_model["m1"].programs == 7 and by_model["m3"].cost_usd == pytest.approx(0.5)


def test_pricing_json_filters_and_corrupt_manifest(runs, capsys):
    bad = runs / "sms" / "alchemist" / "broken"
    bad.mkdir(parents=True)
    (bad / "manifest.json").write_text("{not json")
    foreign = runs / "other" / "x" / "y"
    foreign.mkdir(parents=True)
    (foreign / "manifest.json").write_text(json.dumps({"name": "someone else's"}))
    assert pricing.main(["--root", str(runs), "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["total_usd"] == pytest.approx(ALL_COST)
    assert f"skipped {bad / 'manifest.json'}" in err and f"skipped {foreign / 'manifest.json'}" in err
    assert pricing.main(["--root", str(runs), "--json", "--dataset", "imdb"]) == 0
    assert json.loads(capsys.readouterr().out)["total_usd"] == pytest.approx(0.75)
    assert pricing.main(["--root", str(runs), "--json", "--model", "m2", "--by", "model"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [{"model": "m2", "runs": 2, "programs": 0, "llm_calls": 2,
                                                            "cached_calls": 1, "input_tokens": 200,
                                                            "output_tokens": 100, "cost_usd": 0.002}]
    assert pricing.main(["--root", str(runs), "--json", "--since", "2999-01-01"]) == 0
    assert json.loads(capsys.readouterr().out) == {"rows": [], "total_usd": 0}
    assert pricing.main(["--root", str(runs)]) == 0
    assert "Total: $0.7570" in capsys.readouterr().out
    assert pricing.main(["--root", str(runs), "--by", "colour"]) == 2


@pytest.fixture
def env(monkeypatch, tmp_path):
    with FakeLLM(smart_reply) as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.anthropic_url)
        monkeypatch.setenv("ALCHEMIST_CACHE_DIR", str(tmp_path / "cache"))
        yield tmp_path, fake


def test_two_stage_run_priced_per_stage_and_cached_calls_free(env, capsys):
    tmp, fake = env
    args = ["run", "--dataset", "demo", "--mode", "alchemist", "--code-model", "gpt-4o-mini",
            "--knowledge-model", "claude-haiku-4-5", "--num-programs", "2", "--seeds", "1",
            "--out", str(tmp / "runs"), "--label-model", "majority"]
    assert main.main(args) == 0 and main.main(args) == 0  # the second run is answered by the cache
    capsys.readouterr()
    models = load_settings().models
    assert pricing.main(["--root", str(tmp / "runs"), "--by", "model", "--json"]) == 0
    rows = {r["model"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    manifests = [json.loads(p.read_text()) for p in (tmp / "runs").rglob("manifest.json")]
    for name, row in rows.items():
        calls = [c for m in manifests for c in m["calls"] if c["model"] == name]
        fresh = [c for c in calls if not c["cached"]]
        assert row["cost_usd"] == pytest.approx(sum(models[name].cost(c["input_tokens"], c["output_tokens"])
                                                     for c in fresh))
        assert row["llm_calls"] == 4 and row["cached_calls"] == 2 and row["runs"] == 2
    assert set(rows) == {"gpt-4o-mini", "claude-haiku-4-5"}
    knowledge = [c for m in manifests for c in m["calls"] if c["stage"] == "knowledge" and not c["cached"]]
    assert all(c["model"] == "claude-haiku-4-5" and c["provider"] == "anthropic" for c in knowledge)


def test_zero_shot_estimate_counts_the_prompts_it_would_send(tmp_path):
    card = card_for_classes("d", ["ham", "spam"], item="comment", description="Spam or ham?")
    prompts = TaskPrompts(card)
    texts = ["x" * 400, "short one", "y" * 1234]
    spec = ModelSpec("m", "openai", "gpt-4o-mini", 1.0, 2.0)
    counter = TokenCounter(spec, tmp_path)
    assert counter.method == APPROXIMATION  # no tokenizer files offline: the stated approximation
    est = estimate(prompts, spec, texts, counter, batch_size=1)
    sent = sum(counter.count(s) + counter.count(u) for s, u in (batch_prompt(prompts, [t]) for t in texts))
    assert est.calls == 3 and abs(est.input_tokens - sent) <= 2 * est.calls
    assert est.output_tokens == 3 * 5 + 3 * 2
    assert est.usd == pytest.approx((est.input_tokens * 1.0 + est.output_tokens * 2.0) / 1e6)
    assert "Anthropic" in TokenCounter(ModelSpec("a", "anthropic", "c", 1, 1), tmp_path).method


def test_pricing_zero_shot_command(capsys):
    assert pricing.main(["--zero-shot", "demo", "--model", "gpt-4o-mini", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == 400 and data["calls"] == 400 and data["usd"] > 0
    assert data["token_method"] == APPROXIMATION and "per label" in data["output_assumption"]
    assert pricing.main(["--zero-shot", "demo", "--model", "nope"]) == 2


@pytest.mark.parametrize("reply,labels,problem", [
    ('["spam", "ham", "SPAM"]', [1, 0, 1], ""),
    ('```json\n["ham", null, 1]\n```', [0, -1, 1], ""),
    ('{"labels": ["ham", "eggs", 7]}', [0, -1, -1], ""),
    ("spam, ham, spam", [-1, -1, -1], "not JSON"),
    ('["spam", "ham"]', [-1, -1, -1], "array of 3"),
])
def test_zero_shot_answers_are_parsed_strictly(reply, labels, problem):
    got, why = parse_labels(reply, 3, card_for_classes("d", ["ham", "spam"]))
    assert got == labels and problem in why


def test_zero_shot_mode_end_to_end_with_parsing_failures(env, capsys):
    tmp, fake = env
    fake.push('["spam", "ham", "ham", "spam", "ham"]', "I think these are mostly spam.",
              '["ham", "ham"]', '["spam", "eggs", "ham", "ham", "ham"]')
    fake.default = lambda req: json.dumps(["ham"] * req["body"]["messages"][1]["content"].count("\n["))
    code = main.main(["zero-shot", "--dataset", "demo", "--limit", "10", "--batch-size", "5", "--yes",
                      "--seeds", "1", "--out", str(tmp / "runs"), "--json", str(tmp / "r.json"),
                      "--concurrency", "1"])  # the scripted replies are a queue: one batch at a time
    assert code == 0, capsys.readouterr().err
    assert fake.calls == 6  # 3 splits x 10 rows / 5 per call
    report = json.loads((tmp / "r.json").read_text())
    manifest = json.loads((Path(report["run_dir"]) / "manifest.json").read_text())
    assert manifest["mode"] == "zero-shot" and manifest["status"] == "complete"
    assert manifest["zero_shot"]["unparseable_replies"] == 2 and manifest["zero_shot"]["unknown_answers"] == 1
    assert report["programs"][0]["name"] == "zero_shot_gpt-4o-mini"
    assert "2 unparseable" in report["programs"][0]["reason"]
    assert report["label_model"]["test"] is not None and report["llm_calls"] == 6
    matrix = __import__("numpy").load(Path(report["output_dir"]) / "label_matrix.npz")
    assert (matrix["train"][5:10] == -1).all() and matrix["train"][0, 0] == 1


def test_zero_shot_needs_confirmation_off_a_terminal(env, capsys):
    tmp, fake = env
    code = main.main(["zero-shot", "--dataset", "demo", "--limit", "5", "--out", str(tmp / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and "pass --yes" in err and "≈$" in err and fake.calls == 0


def test_run_report_compares_with_zero_shot(env, capsys):
    tmp, _ = env
    code = main.main(["run", "--dataset", "demo", "--mode", "scriptoriumws", "--num-programs", "2", "--seeds", "1",
                      "--out", str(tmp / "runs"), "--json", str(tmp / "r.json"), "--label-model", "majority"])
    out = capsys.readouterr().out
    assert code == 0
    zs = json.loads((tmp / "r.json").read_text())["zero_shot_estimate"]
    assert zs["rows"] == 400 and zs["model"] == "gpt-4o-mini" and zs["times_more"] > 1
    assert "zero-shot labeling of these 400 rows with gpt-4o-mini" in out.replace("\n", " ")


def test_budget_stop_leaves_a_consistent_run(env, capsys):
    tmp, _ = env
    code = main.main(["run", "--dataset", "demo", "--mode", "scriptoriumws", "--num-programs", "10", "--seeds", "1",
                      "--max-cost", "0.002", "--out", str(tmp / "runs"), "--label-model", "majority"])
    assert code == 0
    (run_dir,) = (tmp / "runs" / "demo" / "scriptoriumws").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "stopped: budget" and "max-cost" in manifest["error"]
    files = sorted(p.name for p in run_dir.glob("lf_*.py"))
    assert files == [f"{p['name']}.py" for p in manifest["programs"]] and 0 < len(files) < 10
    assert manifest["totals"]["cost_usd"] <= 0.002 and not list(run_dir.glob(".*.tmp"))
    assert (run_dir / "results").is_dir()
