"""Token counts for estimates: the model's own tokenizer when it is available offline, else a
stated approximation. tiktoken (OpenAI) fetches its encoding files from the internet on first use,
so they are used only once cached under our cache folder (`pricing.py --fetch-tokenizer`)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from alchemist.llm.catalogue import ModelSpec

CHARS_PER_TOKEN = 4
APPROXIMATION = f"approximation ({CHARS_PER_TOKEN} characters per token)"
ENCODING_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
OLDER_OPENAI = ("gpt-3.5", "gpt-4-", "gpt-4", "text-embedding")  # cl100k_base; newer models use o200k_base


def encoding_name(spec: ModelSpec) -> str | None:
    """The tiktoken encoding of an OpenAI model; None for other providers (no offline tokenizer)."""
    if spec.provider != "openai":
        return None
    api = spec.api_id
    if api.startswith(OLDER_OPENAI) and not api.startswith(("gpt-4o", "gpt-4.1")):
        return "cl100k_base"
    return "o200k_base"


def _cached(cache_dir: Path, name: str) -> bool:
    return (cache_dir / hashlib.sha1(ENCODING_URLS[name].encode()).hexdigest()).is_file()


class TokenCounter:
    """Counts tokens for one model; `method` says how (tokenizer name, or the approximation)."""

    def __init__(self, spec: ModelSpec, cache_dir: Path | None):
        self._encoding = None
        self.method = APPROXIMATION
        name = encoding_name(spec)
        if name and cache_dir is not None and _cached(cache_dir, name):
            try:
                import tiktoken

                os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
                self._encoding = tiktoken.get_encoding(name)
                self.method = f"tiktoken {name}"
            except Exception:  # noqa: BLE001 - any failure means: fall back to the approximation
                self._encoding = None
        elif spec.provider == "anthropic":
            self.method = APPROXIMATION + "; Anthropic's tokenizer is not available offline"

    def count(self, text: str) -> int:
        if self._encoding is not None:
            return len(self._encoding.encode(text, disallowed_special=()))
        return len(text) // CHARS_PER_TOKEN + 1


def fetch_encodings(cache_dir: Path) -> list[str]:
    """Download and cache the OpenAI encodings (needs the internet once)."""
    import tiktoken

    cache_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    for name in ENCODING_URLS:
        tiktoken.get_encoding(name)
    return list(ENCODING_URLS)
