"""Cost: the ledger over manifests, per-stage pricing, the zero-shot estimate and mode, the budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alchemist.cli import main, pricing
from alchemist.cli.parser import build_parser
from alchemist.data.tasks import card_for_classes
from alchemist.generate.ledger import scan, totals, zero_shot_usage
from alchemist.generate.prompts import TaskPrompts
from alchemist.generate.run_store import RunStore
from alchemist.generate.zero_shot import DEFAULT_BATCH_SIZE, batch_prompt, estimate, parse_labels, typical_reply
from alchemist.llm.catalogue import ModelSpec
from alchemist.llm.tokens import APPROXIMATION, TokenCounter
from alchemist.pipeline.run_config import RunConfig
from alchemist.pipeline.settings import load_settings
from alchemist.testing.fake_llm import FakeLLM, smart_reply


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
    assert est.output_tokens == 3 * counter.count('```json\n["spam"]\n```')
    assert est.usd == pytest.approx((est.input_tokens * 1.0 + est.output_tokens * 2.0) / 1e6)
    assert "Anthropic" in TokenCounter(ModelSpec("a", "anthropic", "c", 1, 1), tmp_path).method


def test_pricing_zero_shot_command(capsys):
    assert pricing.main(["--zero-shot", "demo", "--model", "gpt-4o-mini", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == 400 and data["calls"] == 40 and data["batch_size"] == 10 and data["usd"] > 0
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
    # priced the way `main.py zero-shot` labels: 10 rows per call, and the text says so
    assert zs["batch_size"] == 10 and zs["calls"] == 40
    assert "10 rows per call" in " ".join(out.split())


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


def test_zero_shot_is_priced_at_the_batch_size_main_py_sends():
    zero_shot = next(a for a in build_parser(load_settings().defaults)._subparsers._group_actions[0]
                     .choices["zero-shot"]._actions if a.dest == "batch_size")
    assert zero_shot.default == DEFAULT_BATCH_SIZE == RunConfig(dataset="x").batch_size
    assert pricing.build_parser().parse_args(["--zero-shot", "demo"]).batch_size == DEFAULT_BATCH_SIZE


class WordCounter:
    """A stand-in tokenizer: a token per word and per punctuation mark, like real ones on JSON."""
    method = "words"

    def count(self, text: str) -> int:
        import re

        return len(re.findall(r"\w+|[^\w\s]", text))


def test_zero_shot_output_is_the_reply_counted_with_the_tokenizer(tmp_path):
    card = card_for_classes("d", ["neoplasms", "general pathological conditions"], item="abstract")
    spec = ModelSpec("m", "openai", "gpt-4o-mini", 1.0, 2.0)
    counter = WordCounter()
    est = estimate(TaskPrompts(card), spec, ["some text"] * 23, counter, batch_size=10)
    reply = typical_reply(card.classes, 10, counter)
    assert json.loads(reply.removeprefix("```json").removesuffix("```")) == ["general pathological conditions"] * 10
    per_call = counter.count(reply)  # 3 words + 2 quotes + a comma per label, brackets and fence
    assert est.output_tokens == 2 * per_call + counter.count(typical_reply(card.classes, 3, counter))
    assert est.output_tokens_per_label == per_call / 10 > 5  # the old flat 5 per label undercounted it
    assert "10 rows per call" in est.output_assumption and f"{per_call} output tokens" in est.output_assumption
    short = estimate(TaskPrompts(card_for_classes("d", ["ham", "spam"])), spec, ["x"] * 10, counter, 10)
    assert short.output_tokens == counter.count('```json\n' + json.dumps(["spam"] * 10) + '\n```')


def zero_shot_run(root: Path, dataset: str, calls: list[tuple[str, list[int], int, str, bool]]) -> None:
    store = RunStore(root, dataset, "zero-shot", {"code_model": {"name": "gpt-4o-mini"}})
    for model, rows, tout, key, cached in calls:
        store.record_call({"model": model, "stage": "zero-shot", "rows": rows, "input_tokens": 100,
                           "output_tokens": tout, "cost_usd": 0.0 if cached else 0.001, "cached": cached, "key": key})
    store.finish("complete")


def test_pricing_reports_what_past_zero_shot_runs_spent_per_label(tmp_path, capsys):
    root = tmp_path / "runs"
    zero_shot_run(root, "demo", [("gpt-4o-mini", [0, 10], 40, "a", False), ("gpt-4o-mini", [10, 15], 25, "b", False),
                                 ("claude-haiku-4-5", [0, 10], 99, "c", False)])
    zero_shot_run(root, "demo", [("gpt-4o-mini", [0, 10], 40, "a", True)])  # a replay: the same reply again
    zero_shot_run(root, "sms", [("gpt-4o-mini", [0, 10], 99, "d", False)])
    used = zero_shot_usage(scan(root)[0], "demo", "gpt-4o-mini")
    assert (used.labels, used.calls, used.output_tokens, used.output_tokens_per_label) == (15, 2, 65, 4.33)
    assert pricing.main(["--zero-shot", "demo", "--model", "gpt-4o-mini", "--root", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["past_runs"]["output_tokens_per_label"] == 4.33 and data["past_runs"]["runs"] == 2
    assert data["past_runs"]["output_tokens_at_this_rate"] == round(4.33 * 400)
    assert pricing.main(["--zero-shot", "demo", "--model", "gpt-4o-mini", "--root", str(root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "15 labels in 2 call(s) took 4.33 output tokens per label" in out
    assert f"(assumed: {data['output_tokens_per_label']:g})" in out
    assert pricing.main(["--zero-shot", "demo", "--model", "gpt-4o", "--root", str(root)]) == 0
    assert "No past zero-shot runs of demo with gpt-4o" in capsys.readouterr().out


def test_real_zero_shot_run_is_measured_by_pricing(env, capsys):
    tmp, fake = env
    fake.default = lambda req: json.dumps(["ham"] * req["body"]["messages"][1]["content"].count("\n["))
    assert main.main(["zero-shot", "--dataset", "demo", "--limit", "10", "--yes", "--seeds", "1",
                      "--out", str(tmp / "runs"), "--label-model", "majority"]) == 0
    (manifest,) = [json.loads(p.read_text()) for p in (tmp / "runs").rglob("manifest.json")]
    capsys.readouterr()
    assert pricing.main(["--zero-shot", "demo", "--model", "gpt-4o-mini", "--root", str(tmp / "runs"), "--json"]) == 0
    past = json.loads(capsys.readouterr().out)["past_runs"]
    assert past["labels"] == 30 and past["calls"] == 3  # 3 splits of 10 rows, 10 rows per call
    assert past["output_tokens"] == manifest["totals"]["output_tokens"]


def test_pricing_zero_shot_reads_own_files_with_the_advice_it_gives(tmp_path, capsys):
    data = tmp_path / "own.csv"
    data.write_text("comment,y\n" + "".join(f"text number {i},{'spam' if i % 2 else 'ham'}\n" for i in range(25)))
    argv = ["--zero-shot", str(data), "--model", "gpt-4o-mini", "--root", str(tmp_path), "--json"]
    values = {"--text-column": "comment", "--classes": "ham,spam"}
    advised = []
    while (code := pricing.main(argv)) != 0:  # follow each piece of advice, as the user would
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        flag = next(f for f in values if f in err and f not in advised)
        advised.append(flag)
        argv += [flag, values[flag]]
    assert advised == ["--text-column", "--classes"]
    est = json.loads(capsys.readouterr().out)
    assert est["dataset"] == "own" and est["rows"] == 25 and est["calls"] == 3
    # with the labels' column named, the classes come from the labels, as in main.py
    assert pricing.main(argv[:6] + ["--json", "--text-column", "comment", "--label-column", "y"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 25
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"name": "mine", "classes": ["ham", "spam"], "item": "comment"}))
    assert pricing.main(argv[:6] + ["--json", "--text-column", "comment", "--task-card", str(card)]) == 0
    assert json.loads(capsys.readouterr().out)["dataset"] == "mine"


def test_pricing_root_that_does_not_exist_is_an_error(tmp_path, capsys):
    missing = tmp_path / "no" / "such"
    for extra in ([], ["--json"], ["--zero-shot", "demo", "--model", "gpt-4o-mini"]):
        assert pricing.main(["--root", str(missing), *extra]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and str(missing) in err and "no such folder" in err
    (tmp_path / "file").write_text("")
    assert pricing.main(["--root", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_pricing_empty_root_says_there_are_no_runs(tmp_path, runs, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert pricing.main(["--root", str(empty)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"No runs under {empty} yet") and "┏" not in out
    assert pricing.main(["--root", str(runs), "--dataset", "nope"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("None of the 4 run(s)") and "┏" not in out
