"""The model catalogue: provider, API id and price of every model a run may use (from config.json)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from alchemist.core.errors import AlchemistError

PROVIDERS = ("openai", "anthropic", "openai-compatible")
KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
URL_ENV = {"openai": "OPENAI_BASE_URL", "openai-compatible": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}
DEFAULT_URL = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}
PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "openai-compatible": "an OpenAI-compatible server"}


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the catalogue's name for it (what users type)
    provider: str
    api_id: str  # what is sent to the API
    input_per_1m: float  # dollars per million input tokens
    output_per_1m: float
    base_url: str | None = None  # for openai-compatible servers (Ollama, vLLM, llama.cpp)
    temperature: bool = True  # False: the model rejects sampling parameters, so none are sent
    api_key_env: str | None = None  # variable holding the key; default by provider
    note: str = ""

    @property
    def key_env(self) -> str:
        return self.api_key_env or KEY_ENV.get(self.provider, "OPENAI_API_KEY")

    def endpoint(self, override: str | None = None) -> str:
        """Where this model's requests go: --base-url, else $OPENAI_BASE_URL / $ANTHROPIC_BASE_URL, else the
        catalogue's base_url, else the provider's own API. What the client is given, what the reply cache
        keys on, and what a run says before it sends anything."""
        url = override or os.environ.get(URL_ENV.get(self.provider, ""), "") or self.base_url or DEFAULT_URL.get(
            self.provider, "")
        return url.strip().rstrip("/")

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_1m + output_tokens * self.output_per_1m) / 1_000_000

    def to_dict(self) -> dict:
        return asdict(self)


def parse_catalogue(data: object, where: str = "config.json") -> dict[str, ModelSpec]:
    """Validate the `models` object of config.json; a bad entry is a one-line error naming it."""
    if not isinstance(data, dict):
        raise AlchemistError(f"{where}: 'models' must be an object of model name -> settings")
    catalogue = {}
    fields = set(ModelSpec.__dataclass_fields__) - {"name"}
    for name, entry in data.items():
        here = f"{where}: models.{name}"
        if not isinstance(entry, dict):
            raise AlchemistError(f"{here} must be an object")
        unknown = sorted(set(entry) - fields)
        if unknown:
            raise AlchemistError(f"{here}: unknown field(s) {', '.join(unknown)}")
        if entry.get("provider") not in PROVIDERS:
            raise AlchemistError(f"{here}: 'provider' must be one of {', '.join(PROVIDERS)}")
        if not isinstance(entry.get("api_id"), str) or not entry["api_id"]:
            raise AlchemistError(f"{here}: 'api_id' is required")
        for price in ("input_per_1m", "output_per_1m"):
            value = entry.get(price)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise AlchemistError(f"{here}: '{price}' must be a price in dollars per million tokens")
        if entry["provider"] == "openai-compatible" and not entry.get("base_url"):
            raise AlchemistError(f"{here}: an openai-compatible model needs a 'base_url'")
        catalogue[name] = ModelSpec(name=name, **entry)
    return catalogue


def destinations(models: list[ModelSpec | None], override: str | None = None) -> str:
    """Who receives a run's data, in one line: each provider and endpoint with the models sent there."""
    places: dict[tuple[str, str], list[str]] = {}
    for spec in models:
        if spec is not None:
            names = places.setdefault((PROVIDER_NAMES.get(spec.provider, spec.provider), spec.endpoint(override)), [])
            if spec.name not in names:
                names.append(spec.name)
    from alchemist.core.safe_text import safe_url

    return "; ".join(f"{who} at {safe_url(url) or '(no address)'} ({', '.join(names)})"
                     for (who, url), names in places.items())


def get_model(name: str, catalogue: dict[str, ModelSpec]) -> ModelSpec:
    if name not in catalogue:
        raise AlchemistError(f"unknown model '{name}' (known: {', '.join(sorted(catalogue))}; "
                             "add it to 'models' in config.json)")
    return catalogue[name]
