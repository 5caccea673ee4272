"""A local HTTP server speaking the OpenAI chat-completions and Anthropic messages APIs.

The real `openai` and `anthropic` SDKs are pointed at it (base_url), so tests exercise our real
client code. Replies are scripted: a queue of items, then a default responder.

Script items:
    "text"                          a reply with this text
    {"status": 429, "headers": {...}, "message": "..."}   an HTTP error
    {"delay": 2.0, "text": "..."}   answer after a delay (for timeouts); `delay` sets one for every request
    {"text": "...", "truncated": True}   finish_reason length / stop_reason max_tokens
    callable(request) -> str        computed reply
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Callable

from alchemist.testing.local_server import LocalServer


def tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeLLM(LocalServer):
    def __init__(self, default: Callable[[dict], str] | None = None, port: int = 0):
        self.script: deque = deque()
        self.requests: list[dict] = []  # {"path", "headers", "body"}
        self.embedding_requests: list[dict] = []
        self.default = default or (lambda req: "no script")
        self.delay = 0.0  # seconds every chat request takes (a slow provider)
        self.in_flight = 0
        self.peak_in_flight = 0  # the most chat requests it was answering at once
        self._lock = threading.Lock()
        super().__init__(self._handler(), port)

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"  # the Anthropic SDK appends /v1/messages itself

    def push(self, *items) -> None:
        self.script.extend(items)

    @property
    def calls(self) -> int:
        return len(self.requests)

    # --- the handler ------------------------------------------------------------------------------
    def _next(self, request: dict):
        with self._lock:
            self.requests.append(request)
            item = self.script.popleft() if self.script else self.default
        if callable(item):
            item = item(request)
        return {"text": item} if isinstance(item, str) else item

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                if self.path.endswith("/embeddings"):  # not scripted: embeddings are computed
                    with fake._lock:
                        fake.embedding_requests.append(request)
                    return self._send(200, fake._embeddings_body(body))
                with fake._lock:
                    fake.in_flight += 1
                    fake.peak_in_flight = max(fake.peak_in_flight, fake.in_flight)
                try:
                    item = fake._next(request)
                    time.sleep(item.get("delay", fake.delay))
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                if "status" in item:
                    return self._send(item["status"], {"error": {"type": "error", "message":
                                      item.get("message", "scripted error")}}, item.get("headers", {}))
                if self.path.endswith("/chat/completions"):
                    return self._send(200, fake._openai_body(body, item))
                if self.path.endswith("/messages"):
                    return self._send(200, fake._anthropic_body(body, item))
                if self.path.endswith("/embeddings"):
                    return self._send(200, fake._embeddings_body(body))
                return self._send(404, {"error": {"message": f"no route {self.path}"}})

            def _send(self, status: int, payload: dict, headers: dict | None = None):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, str(v))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        return Handler

    @staticmethod
    def _prompt_text(body: dict) -> str:
        parts = [body.get("system", "")] if isinstance(body.get("system"), str) else []
        parts += [m.get("content", "") for m in body.get("messages", []) if isinstance(m.get("content"), str)]
        return "\n".join(parts)

    @staticmethod
    def _embeddings_body(body: dict) -> dict:
        """Deterministic 16-d bag-of-words vectors: texts sharing words are close."""
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        data = []
        for i, text in enumerate(texts):
            vec = [0.0] * 16
            for word in str(text).lower().split():
                vec[sum(map(ord, word)) % 16] += 1.0
            norm = sum(v * v for v in vec) ** 0.5 or 1.0
            data.append({"object": "embedding", "index": i, "embedding": [v / norm for v in vec]})
        used = sum(tokens(str(t)) for t in texts)
        return {"object": "list", "data": data, "model": body.get("model"),
                "usage": {"prompt_tokens": used, "total_tokens": used}}

    def _openai_body(self, body: dict, item: dict) -> dict:
        text = item["text"]
        prompt = tokens(self._prompt_text(body))
        return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model"), "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                "finish_reason": "length" if item.get("truncated") else "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": tokens(text),
                          "total_tokens": prompt + tokens(text)}}

    def _anthropic_body(self, body: dict, item: dict) -> dict:
        text = item["text"]
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model"),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "max_tokens" if item.get("truncated") else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": tokens(self._prompt_text(body)), "output_tokens": tokens(text)}}


# --- responders used by the tests -------------------------------------------------------------------
KEYWORDS = ["http", "subscribe", "check out", "free", "channel", "song", "love", "voice", "chorus", "melody"]


def program_for(n: int) -> str:
    """A distinct, valid labeling program for the demo task (the n-th keyword)."""
    word = KEYWORDS[n % len(KEYWORDS)]
    label = 1 if n % len(KEYWORDS) < 5 else 0
    return (f"Here is a program.\n\n```python\n# Strategy: the keyword '{word}' means class {label}.\n"
            f"def label_function(comment):\n    return {label} if '{word}' in comment.lower() else -1\n```\n")


def angle_index(prompt: str) -> int:
    """Which of prompts/angles.txt the prompt names (0 when none): program N gets angle N."""
    from alchemist.generate.prompts import angles

    return next((i for i, angle in enumerate(angles()) if angle in prompt), 0)


def smart_reply(request: dict) -> str:
    """Knowledge requests get rules; code requests get a program chosen by the angle their prompt names,
    so program N gets the same program whatever order the requests arrive in."""
    body = request["body"]
    system = body.get("system") or next((m["content"] for m in body.get("messages", []) if m["role"] == "system"), "")
    if "expert annotator" in system:
        return "Links and requests to subscribe indicate spam. Talk about the song indicates ham."
    return program_for(angle_index(FakeLLM._prompt_text(body)))
