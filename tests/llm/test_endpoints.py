"""Where requests go: a local code model keeps the data local, the address is said before any call, the
cache keys on it, and a server that is not an LLM API is named in one line."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest

from alchemist.cli import main
from alchemist.llm.cache import ResponseCache
from alchemist.llm.catalogue import ModelSpec
from alchemist.llm.session import CallSettings, LLMError, LLMSession
from alchemist.testing.fake_llm import FakeLLM, smart_reply
from alchemist.testing.local_server import LocalServer

LOCAL = ModelSpec("local", "openai-compatible", "llama3.1", 0.0, 0.0, base_url="http://127.0.0.1:9/v1")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path))
    monkeypatch.setenv("ALCHEMIST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a local model needs none; OpenAI would fail loudly
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def local_catalogue(home, url: str) -> None:
    (home / "config.json").write_text(json.dumps({"models": {"my-ollama": {
        "provider": "openai-compatible", "api_id": "llama3.1", "input_per_1m": 0, "output_per_1m": 0,
        "base_url": url}}}))


def test_a_local_code_model_writes_the_knowledge_too_and_says_where_data_goes(home, capsys):
    with FakeLLM(smart_reply) as server:
        local_catalogue(home, server.openai_url)
        code = main.main(["run", "--dataset", "demo", "--mode", "alchemist", "--code-model", "my-ollama",
                          "--num-programs", "2", "--refine-rounds", "0", "--seeds", "1", "--concurrency", "1",
                          "--out", str(home / "runs"), "--json", str(home / "r.json")])
        err = capsys.readouterr().err
        assert code == 0, err
        calls = server.calls
    report = json.loads((home / "r.json").read_text())
    manifest = json.loads((next((home / "runs").glob("demo/alchemist/*")) / "manifest.json").read_text())
    assert manifest["config"]["knowledge_model"]["name"] == "my-ollama"  # not config.json's gpt-4o-mini on OpenAI
    assert calls == report["llm_calls"] >= 4 and all(c["model"] == "my-ollama" for c in manifest["calls"])
    said = f"go to: an OpenAI-compatible server at {server.openai_url} (my-ollama)"
    assert said in err and report["sent_to"] == said.split("go to: ")[1]


def test_the_knowledge_model_stays_when_it_goes_where_the_code_model_goes(home):
    from alchemist.pipeline.run_config import run_config
    from alchemist.pipeline.settings import load_settings

    settings = load_settings()
    assert run_config(settings, dataset="demo", code_model="gpt-4o").knowledge_model == "gpt-4o-mini"
    assert run_config(settings, dataset="demo", code_model="ollama-llama3.1").knowledge_model == "ollama-llama3.1"
    assert run_config(settings, dataset="demo", code_model="ollama-llama3.1",
                      knowledge_model="gpt-4o-mini").knowledge_model == "gpt-4o-mini"  # named: as asked


def test_the_cache_keys_on_the_address_and_no_cache_asks_again(tmp_path):
    cache = ResponseCache(tmp_path)
    with FakeLLM() as first, FakeLLM() as second:
        first.push("one")
        second.push("two", "three")

        def ask(url: str, **kw) -> str:
            llm = LLMSession(CallSettings(base_url=url, **kw), cache=cache)
            return llm.complete(LOCAL, "system", "user", temperature=0.5, max_tokens=50).text

        assert ask(first.openai_url) == "one" and ask(first.openai_url) == "one"  # cached
        assert ask(second.openai_url) == "two"  # another server: another reply
        assert ask(second.openai_url, use_cache=False) == "three"
        assert ask(second.openai_url) == "three"  # the fresh reply replaced the cached one
        assert (first.calls, second.calls) == (1, 2)


def test_openai_base_url_is_honoured_for_openai_compatible_models(monkeypatch):
    with FakeLLM() as server:
        server.push("from the env's server")
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
        llm = LLMSession(CallSettings(retries=0))
        assert llm.complete(LOCAL, "s", "u", temperature=None, max_tokens=10).text == "from the env's server"


class _Html(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the stdlib's name
        body = b"<!doctype html><html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("spec", [LOCAL, ModelSpec("an", "anthropic", "claude", 1.0, 1.0, api_key_env="NONE_KEY")])
def test_a_server_that_answers_html_is_named_in_one_line(spec, monkeypatch):
    monkeypatch.setenv("NONE_KEY", "x")
    with LocalServer(_Html) as server:
        url = f"http://127.0.0.1:{server.port}" + ("/v1" if spec.provider != "anthropic" else "")
        llm = LLMSession(CallSettings(base_url=url, retries=0))
        with pytest.raises(LLMError) as e:
            llm.complete(spec, "s", "u", temperature=None, max_tokens=10)
    assert f"the server at {url} answered HTML, not JSON — check --base-url" in str(e.value)


def test_a_connection_error_names_the_address_tried():
    llm = LLMSession(CallSettings(base_url="http://127.0.0.1:9/v1", retries=0, timeout_s=5))
    with pytest.raises(LLMError, match=r"at http://127\.0\.0\.1:9/v1\).*connection failed"):
        llm.complete(LOCAL, "s", "u", temperature=None, max_tokens=10)
