"""Response cache: every LLM call stored under a hash of the request, so runs replay for free.

The key covers provider, endpoint (where the request goes: another server is another reply), model,
messages, sampling parameters and the sample index (the same prompt asked twice in one run is two samples). One JSON file per call, written atomically.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from alchemist.core.files import atomic_write_json


def request_key(provider: str, api_id: str, system: str, user: str, params: dict, sample: int,
                endpoint: str = "") -> str:
    payload = {"provider": provider, "endpoint": endpoint, "model": api_id,
               "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
               "params": params, "sample": sample}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ResponseCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored reply, or None (a missing or unreadable entry is a miss, never an error)."""
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        reply = entry.get("reply") if isinstance(entry, dict) else None
        if not isinstance(reply, dict) or not isinstance(reply.get("text"), str):
            return None
        return reply

    def put(self, key: str, request: dict, reply: dict) -> None:
        atomic_write_json(self._path(key), {"key": key, "request": request, "reply": reply})
