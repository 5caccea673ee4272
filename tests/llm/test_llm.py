"""The LLM client layer against a local fake server, through the real openai and anthropic SDKs."""

from __future__ import annotations

import pytest

from alchemist.core.errors import AlchemistError
from alchemist.llm.cache import ResponseCache
from alchemist.llm.catalogue import ModelSpec, get_model, parse_catalogue
from alchemist.llm.session import BudgetExceeded, CallSettings, LLMError, LLMSession
from alchemist.pipeline.settings import load_settings
from alchemist.testing.fake_llm import FakeLLM, tokens

OPENAI = ModelSpec("oa", "openai", "gpt-test", input_per_1m=1.0, output_per_1m=2.0)
ANTHROPIC = ModelSpec("an", "anthropic", "claude-test", input_per_1m=3.0, output_per_1m=15.0)


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():
    with FakeLLM() as fake:
        yield fake


def session(server, spec, tmp_path=None, waits=None, **settings) -> LLMSession:
    url = server.anthropic_url if spec.provider == "anthropic" else server.openai_url
    cfg = CallSettings(base_url=url, backoff_s=0.01, timeout_s=settings.pop("timeout_s", 5.0), **settings)
    return LLMSession(cfg, cache=ResponseCache(tmp_path) if tmp_path else None,
                      sleep=(waits.append if waits is not None else (lambda s: None)))


def ask(llm: LLMSession, spec: ModelSpec, user: str = "hello", **kw):
    return llm.complete(spec, "system text", user, temperature=0.5, max_tokens=100, **kw)


def test_openai_round_trip(server):
    server.push("the reply")
    reply = ask(session(server, OPENAI), OPENAI)
    assert reply.text == "the reply" and not reply.cached
    assert reply.output_tokens == tokens("the reply") and reply.input_tokens > 0
    assert reply.cost_usd == pytest.approx((reply.input_tokens * 1.0 + reply.output_tokens * 2.0) / 1e6)
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer sk-test-openai"
    body = req["body"]
    assert body["model"] == "gpt-test" and body["max_completion_tokens"] == 100 and body["temperature"] == 0.5
    assert body["messages"] == [{"role": "system", "content": "system text"}, {"role": "user", "content": "hello"}]


def test_anthropic_round_trip(server):
    server.push("claude says")
    reply = ask(session(server, ANTHROPIC), ANTHROPIC)
    assert reply.text == "claude says" and reply.stop_reason == "end_turn"
    assert reply.cost_usd == pytest.approx((reply.input_tokens * 3.0 + reply.output_tokens * 15.0) / 1e6)
    req = server.requests[0]
    assert req["path"] == "/v1/messages"
    body = req["body"]
    assert body["system"] == "system text" and body["messages"] == [{"role": "user", "content": "hello"}]
    assert body["max_tokens"] == 100 and body["model"] == "claude-test" and body["temperature"] == 0.5


def test_openai_compatible_needs_no_key_and_sends_max_tokens(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    local = ModelSpec("local", "openai-compatible", "llama3", 0.0, 0.0, base_url=server.openai_url)
    server.push("local reply")
    llm = LLMSession(CallSettings(backoff_s=0.01))
    reply = ask(llm, local)
    assert reply.text == "local reply" and reply.cost_usd == 0
    assert server.requests[0]["body"]["max_tokens"] == 100


def test_no_temperature_for_models_that_reject_it(server):
    spec = ModelSpec("new", "anthropic", "claude-new", 1.0, 1.0, temperature=False)
    server.push("ok")
    ask(session(server, spec), spec)
    assert "temperature" not in server.requests[0]["body"]


def test_rate_limit_and_server_errors_are_retried(server):
    waits: list[float] = []
    server.push({"status": 429, "headers": {"retry-after": "0.25"}}, {"status": 500}, {"status": 503}, "finally")
    reply = ask(session(server, OPENAI, waits=waits), OPENAI)
    assert reply.text == "finally" and reply.attempts == 4 and server.calls == 4
    assert waits[0] == pytest.approx(0.25)  # the server's Retry-After is honoured
    assert len(waits) == 3


def test_anthropic_overloaded_is_retried(server):
    server.push({"status": 529, "message": "Overloaded"}, "ok")
    assert ask(session(server, ANTHROPIC), ANTHROPIC).text == "ok" and server.calls == 2


def test_retries_run_out_with_a_clear_error(server):
    server.push(*[{"status": 500, "message": "boom"}] * 3)
    with pytest.raises(LLMError, match=r"gave up after 3 attempts; last error: HTTP 500: boom"):
        ask(session(server, OPENAI, retries=2), OPENAI)
    assert server.calls == 3


def test_timeout_is_retried_then_reported(server):
    server.push({"delay": 1.5, "text": "late"}, {"delay": 1.5, "text": "late"})
    with pytest.raises(LLMError, match="timed out"):
        ask(session(server, OPENAI, retries=1, timeout_s=0.3), OPENAI)
    assert server.calls == 2


def test_client_errors_are_not_retried(server):
    server.push({"status": 401, "message": "invalid x-api-key"})
    with pytest.raises(LLMError, match="HTTP 401: invalid x-api-key"):
        ask(session(server, ANTHROPIC), ANTHROPIC)
    assert server.calls == 1


def test_keys_in_provider_errors_are_redacted(server):
    server.push({"status": 401, "message": "Incorrect API key provided: sk-test-openai. Also sk-proj-ab12****cd34."})
    with pytest.raises(LLMError) as err:
        ask(session(server, OPENAI), OPENAI)
    assert "sk-test-openai" not in str(err.value) and "sk-proj" not in str(err.value)
    assert "[redacted]" in str(err.value)


def test_cache_answers_identical_request_for_free(server, tmp_path):
    server.push("first")
    llm = session(server, OPENAI, tmp_path)
    one = ask(llm, OPENAI, sample=1)
    two = ask(session(server, OPENAI, tmp_path), OPENAI, sample=1)
    assert server.calls == 1
    assert two.cached and two.cost_usd == 0 and two.text == "first" and two.input_tokens == one.input_tokens
    server.push("another sample")
    assert ask(llm, OPENAI, sample=2).text == "another sample"  # another sample index is another request
    assert server.calls == 2


def test_offline_miss_fails_clearly(server, tmp_path):
    with pytest.raises(LLMError, match="offline: no cached reply"):
        ask(session(server, OPENAI, tmp_path, offline=True), OPENAI)
    assert server.calls == 0


def test_missing_key_names_the_variable(server, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(LLMError, match="ANTHROPIC_API_KEY is not set"):
        ask(session(server, ANTHROPIC), ANTHROPIC)
    assert server.calls == 0


def test_budget_refuses_a_call_that_could_pass_it(server):
    pricey = ModelSpec("pricey", "openai", "gpt-pricey", 1000.0, 1000.0)
    with pytest.raises(BudgetExceeded, match="max-cost"):
        ask(session(server, pricey, max_cost_usd=0.01), pricey)
    assert server.calls == 0


def test_calls_are_recorded(server):
    records: list[dict] = []
    llm = session(server, OPENAI)
    llm.on_call = records.append
    server.push("x")
    ask(llm, OPENAI, meta={"stage": "code", "program": "lf_01"})
    (rec,) = records
    assert rec["stage"] == "code" and rec["program"] == "lf_01" and rec["reply"] == "x"
    assert rec["cost_usd"] > 0 and rec["cached"] is False and len(rec["prompt_sha256"]) == 64


def test_catalogue_in_config_json():
    models = load_settings().models
    for name in ("gpt-3.5-turbo-0125", "gpt-4-0613", "claude-2.1", "claude-3-sonnet-20240229", "gpt-4o-mini",
                 "gpt-4o", "gpt-5-mini", "claude-haiku-4-5", "claude-sonnet-4-5"):
        assert name in models
    assert models["gpt-4o-mini"].input_per_1m == 0.15 and models["gpt-4o-mini"].output_per_1m == 0.60
    assert {m.provider for m in models.values()} == {"openai", "anthropic", "openai-compatible"}


def test_unknown_model_lists_known_ones():
    with pytest.raises(AlchemistError, match=r"unknown model 'gpt-9'.*gpt-4o-mini"):
        get_model("gpt-9", load_settings().models)


@pytest.mark.parametrize("entry,expected", [
    ({"provider": "acme", "api_id": "x", "input_per_1m": 1, "output_per_1m": 1}, "provider"),
    ({"provider": "openai", "input_per_1m": 1, "output_per_1m": 1}, "api_id"),
    ({"provider": "openai", "api_id": "x", "input_per_1m": -1, "output_per_1m": 1}, "input_per_1m"),
    ({"provider": "openai-compatible", "api_id": "x", "input_per_1m": 0, "output_per_1m": 0}, "base_url"),
    ({"provider": "openai", "api_id": "x", "input_per_1m": 1, "output_per_1m": 1, "colour": 1}, "unknown field"),
])
def test_bad_catalogue_entries(entry, expected):
    with pytest.raises(AlchemistError, match=expected):
        parse_catalogue({"m": entry})
