"""LLM clients: one interface over the official `openai` and `anthropic` SDKs.

System + user message in; text and token usage (read from the API's response) out. Our own retry
policy (the SDKs' retries are off): backoff on rate limits, 5xx, timeouts and dropped connections,
honouring Retry-After. Every call goes through the response cache; `offline` answers only from it.
Calls may be made from several threads at once (see concurrency.py): at most `concurrency` are in
flight, fewer while the provider answers 429. A budget cap reserves each call's worst-case cost before
it is sent and settles it with the real cost when the reply comes, so calls in flight together can
never pass the cap.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from alchemist.core.concurrency import AdaptiveLimit
from alchemist.core.errors import AlchemistError
from alchemist.core.safe_text import redact, safe_url
from alchemist.llm.cache import ResponseCache, request_key
from alchemist.llm.catalogue import ModelSpec

MESSAGE_OVERHEAD_TOKENS = 32  # role markers and framing a provider adds around the messages


class LLMError(AlchemistError):
    """A call could not be completed (no key, retries exhausted, offline miss, ...)."""


class BudgetExceeded(LLMError):
    """The next call could pass the run's --max-cost."""

    partial: object = None  # what a stage had finished when it stopped, if it hands that on


@dataclass
class LLMReply:
    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: float  # 0 when answered from the cache
    cached: bool
    stop_reason: str
    key: str
    seconds: float
    attempts: int = 1

    @property
    def truncated(self) -> bool:
        return self.stop_reason in ("length", "max_tokens")


@dataclass
class CallSettings:
    timeout_s: float = 120.0
    retries: int = 4  # attempts after the first
    backoff_s: float = 1.0  # first wait; doubles each retry (capped at 60 s)
    offline: bool = False
    base_url: str | None = None  # --base-url: overrides the provider's (or the SDK's env default)
    max_cost_usd: float | None = None
    concurrency: int = 8  # requests in flight at most
    use_cache: bool = True  # False (--no-cache): ask again even when the cache has the reply (and store the new one)


@dataclass
class _Raw:
    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str


def check_api_key(spec: ModelSpec) -> None:
    """Raise the one-line missing-key error now, before anything is spent or written."""
    _api_key(spec)


def _api_key(spec: ModelSpec) -> str:
    key = os.environ.get(spec.key_env, "")
    if key:
        return key
    if spec.provider == "openai-compatible" and spec.api_key_env is None:
        return "not-needed"  # local servers (Ollama, llama.cpp) ignore the key
    raise LLMError(f"{spec.key_env} is not set: put it in .env or the environment to use {spec.name}")


def _retryable(exc: Exception) -> tuple[bool, float | None, str]:
    """(retry?, server-suggested wait, one-line description) for an SDK exception."""
    import anthropic
    import openai

    if isinstance(exc, (openai.APITimeoutError, anthropic.APITimeoutError)):
        return True, None, "request timed out"
    if isinstance(exc, (openai.APIConnectionError, anthropic.APIConnectionError)):
        return True, None, f"connection failed ({exc.__class__.__name__}: {redact(str(exc.__cause__ or exc))[:120]})"
    if isinstance(exc, (openai.APIStatusError, anthropic.APIStatusError)):
        status = exc.status_code
        wait = None
        try:
            wait = float(exc.response.headers.get("retry-after", ""))
        except (TypeError, ValueError):
            pass
        message = _status_message(exc)
        return status in (408, 409, 429) or status >= 500, wait, f"HTTP {status}: {message}"
    return False, None, redact(f"{exc.__class__.__name__}: {exc}")[:300]


def _status_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return redact(str(err["message"]))[:200]
    return redact(str(getattr(exc, "message", exc)))[:200]


class _Provider:
    """Builds the SDK client lazily and makes one raw call."""

    def _not_json(self, resp: object) -> str:
        body = str(resp).lstrip()[:200]
        what = "HTML" if body[:1] == "<" else "text" if body else "an empty reply"
        return f"{self.spec.name}: the server at {safe_url(self.url)} answered {what}, not JSON — check --base-url " \
               f"(or the model's base_url in config.json)"

    def __init__(self, spec: ModelSpec, settings: CallSettings):
        self.spec, self.settings = spec, settings
        self._client = None

    @property
    def url(self) -> str:
        return self.spec.endpoint(self.settings.base_url)

    def client(self):
        if self._client is None:
            base_url = self.url or None  # always explicit: the same address the cache keys on
            key = _api_key(self.spec)
            if self.spec.provider == "anthropic":
                import anthropic

                self._client = anthropic.Anthropic(api_key=key, base_url=base_url,
                                                   timeout=self.settings.timeout_s, max_retries=0)
            else:
                import openai

                self._client = openai.OpenAI(api_key=key, base_url=base_url,
                                             timeout=self.settings.timeout_s, max_retries=0)
        return self._client

    def call(self, system: str, user: str, params: dict) -> _Raw:
        if self.spec.provider == "anthropic":
            return self._anthropic(system, user, params)
        return self._openai(system, user, params)

    def _openai(self, system: str, user: str, params: dict) -> _Raw:
        # OpenAI's own API wants max_completion_tokens; compatible servers know max_tokens.
        limit = "max_completion_tokens" if self.spec.provider == "openai" else "max_tokens"
        extra = {"temperature": params["temperature"]} if "temperature" in params else {}
        resp = self.client().chat.completions.create(
            model=self.spec.api_id, messages=[{"role": "system", "content": system},
                                              {"role": "user", "content": user}],
            **{limit: params["max_tokens"]}, **extra)
        if not hasattr(resp, "choices"):  # the SDK hands back what was not JSON as it came
            raise LLMError(self._not_json(resp))
        if not resp.choices:
            raise LLMError(f"{self.spec.name}: the reply had no choices")
        choice = resp.choices[0]
        usage = resp.usage
        return _Raw(choice.message.content or "", getattr(usage, "prompt_tokens", 0) or 0,
                    getattr(usage, "completion_tokens", 0) or 0, choice.finish_reason or "")

    def _anthropic(self, system: str, user: str, params: dict) -> _Raw:
        # The SDK no longer has sampling parameters in its signature; older models still take one.
        extra = {"extra_body": {"temperature": params["temperature"]}} if "temperature" in params else {}
        resp = self.client().messages.create(
            model=self.spec.api_id, system=system, messages=[{"role": "user", "content": user}],
            max_tokens=params["max_tokens"], **extra)
        if not hasattr(resp, "content") or not hasattr(resp, "usage"):
            raise LLMError(self._not_json(resp))
        text = "".join(getattr(b, "text", "") for b in resp.content if getattr(b, "type", "") == "text")
        return _Raw(text, resp.usage.input_tokens or 0, resp.usage.output_tokens or 0, resp.stop_reason or "")


@dataclass
class LLMSession:
    """All LLM calls of one run: clients per model, cache, retries, budget, and a record of each call.
    Safe to call from several threads."""

    settings: CallSettings
    cache: ResponseCache | None = None
    on_call: Callable[[dict], None] | None = None  # receives each call's record (for the manifest)
    on_send: Callable[[], None] | None = None  # a request was sent (the live line shows what is in flight)
    sleep: Callable[[float], None] = time.sleep
    spent_usd: float = 0.0
    reserved_usd: float = 0.0  # worst cases of the calls in flight
    calls: int = 0
    cached_calls: int = 0
    _providers: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.limit = AdaptiveLimit(self.settings.concurrency)
        self._lock = threading.RLock()
        self._settled = threading.Condition(self._lock)  # a reservation was let go

    @property
    def in_flight(self) -> int:
        return self.limit.in_flight

    @staticmethod
    def prompt_sha256(system: str, user: str) -> str:
        return hashlib.sha256((system + "\x00" + user).encode()).hexdigest()

    def estimate(self, spec: ModelSpec, system: str, user: str, max_tokens: int) -> float:
        """Worst-case dollars of a call: a token per byte of prompt (no tokenizer makes more) plus
        framing, and every output token it may write."""
        prompt = len(system.encode()) + len(user.encode()) + MESSAGE_OVERHEAD_TOKENS
        return spec.cost(prompt, max_tokens)

    def params(self, spec: ModelSpec, temperature: float | None, max_tokens: int) -> dict:
        params: dict = {"max_tokens": max_tokens}
        if spec.temperature and temperature is not None:
            params["temperature"] = temperature
        return params

    def complete(self, spec: ModelSpec, system: str, user: str, *, temperature: float | None,
                 max_tokens: int, sample: int = 0, meta: dict | None = None) -> LLMReply:
        params = self.params(spec, temperature, max_tokens)
        endpoint = spec.endpoint(self.settings.base_url)
        key = request_key(spec.provider, spec.api_id, system, user, params, sample, endpoint)
        record = {"model": spec.name, "provider": spec.provider, "api_id": spec.api_id, "endpoint": safe_url(endpoint),
                  "sample": sample,
                  "params": params, "key": key, "system": system, "user": user,
                  "prompt_sha256": self.prompt_sha256(system, user), **(meta or {})}
        stored = self.cache.get(key) if self.cache and self.settings.use_cache else None
        if stored is not None:
            reply = LLMReply(stored["text"], int(stored.get("input_tokens", 0)), int(stored.get("output_tokens", 0)),
                             0.0, True, str(stored.get("stop_reason", "")), key, 0.0, 0)
            return self._finish(record, reply)
        if self.settings.offline:
            raise LLMError(f"offline: no cached reply for this {record.get('stage', 'LLM')} request to "
                           f"{spec.name}; run it once online (without --offline) first")
        worst = self._reserve(spec, self.estimate(spec, system, user, max_tokens))
        try:
            raw, seconds, attempts = self._call_with_retries(spec, system, user, params)
            reply = LLMReply(raw.text, raw.input_tokens, raw.output_tokens,
                             spec.cost(raw.input_tokens, raw.output_tokens), False, raw.stop_reason, key, seconds,
                             attempts)
            if self.cache:
                self.cache.put(key, {k: record[k] for k in ("model", "provider", "api_id", "endpoint", "params",
                                                            "sample", "system", "user")},
                               {"text": raw.text, "input_tokens": raw.input_tokens,
                                "output_tokens": raw.output_tokens, "stop_reason": raw.stop_reason})
            return self._finish(record, reply)  # spent before the reservation is let go: never both absent
        finally:
            self._settle(worst)

    def _reserve(self, spec: ModelSpec, worst: float) -> float:
        """Hold a call's worst case against the budget until its reply settles it. A call that could pass
        the cap even with nothing else in flight is refused; one that only could with the calls in flight
        at their worst waits for them to settle (they usually cost far less than their worst)."""
        cap = self.settings.max_cost_usd
        with self._settled:
            while True:
                if cap is not None and self.spent_usd + worst > cap:
                    raise BudgetExceeded(f"the next call to {spec.name} could cost up to ${worst:.4f} and pass "
                                         f"--max-cost ${cap:g} (spent ${self.spent_usd:.4f})")
                if cap is None or self.spent_usd + self.reserved_usd + worst <= cap:
                    self.reserved_usd += worst
                    return worst
                self._settled.wait()

    def _settle(self, worst: float) -> None:
        with self._settled:
            self.reserved_usd -= worst
            self._settled.notify_all()

    def _finish(self, record: dict, reply: LLMReply) -> LLMReply:
        record.update(reply=reply.text, input_tokens=reply.input_tokens, output_tokens=reply.output_tokens,
                      cost_usd=reply.cost_usd, cached=reply.cached, stop_reason=reply.stop_reason,
                      seconds=round(reply.seconds, 3), attempts=reply.attempts)
        with self._lock:  # one writer of the totals and the manifest at a time
            self.calls += 1
            self.cached_calls += reply.cached
            self.spent_usd += reply.cost_usd
            if self.on_call:
                self.on_call(record)
        return reply

    def _provider(self, spec: ModelSpec) -> _Provider:
        with self._lock:
            if spec.name not in self._providers:
                self._providers[spec.name] = _Provider(spec, self.settings)
                self._providers[spec.name].client()  # a missing key fails here, once, before any waiting
            return self._providers[spec.name]

    def _call_with_retries(self, spec: ModelSpec, system: str, user: str, params: dict) -> tuple[_Raw, float, int]:
        provider = self._provider(spec)
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            self.limit.acquire()
            if self.on_send:
                self.on_send()
            start = time.monotonic()
            try:
                raw = provider.call(system, user, params)
            except LLMError:
                self.limit.release()
                raise
            except Exception as exc:  # noqa: BLE001 - classified below; anything unknown is final
                self.limit.release(throttled=getattr(exc, "status_code", None) == 429)
                retry, wait, what = _retryable(exc)
                if not retry:
                    raise LLMError(f"{spec.name} ({spec.provider} at {safe_url(provider.url)}): {what}") from None
                if attempt == attempts:
                    hint = ("; is the server running there?" if "connection failed" in what
                            and spec.provider == "openai-compatible" else "")
                    raise LLMError(f"{spec.name} ({spec.provider} at {safe_url(provider.url)}): gave up after "
                                   f"{attempts} attempts; last error: {what}{hint}") from None
                delay = wait if wait is not None else self.settings.backoff_s * 2 ** (attempt - 1)
                self.sleep(min(60.0, delay) * (1 if wait is not None else 0.5 + random.random() / 2))
            else:
                self.limit.release()
                return raw, time.monotonic() - start, attempt
        raise AssertionError("unreachable")
