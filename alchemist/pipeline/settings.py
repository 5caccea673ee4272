"""Settings of an installation: the model catalogue, the defaults, and where data, runs and caches go.

Read from the bundled `config.json` (alchemist/bundled/), then from the project folder's own
`config.json` when there is one (core/paths.py: $ALCHEMIST_HOME, else the current folder): its
`models` are added to the catalogue (or replace entries of the same name), its `defaults` override
ours, and its paths win. Relative paths are read from the project folder. The project folder's
`.env` is read for environment variables (API keys, `ALCHEMIST_DATA_DIR`) without overriding what
is already set.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.core.paths import DEFAULT_CONFIG, in_project, project_home
from alchemist.llm.catalogue import ModelSpec, parse_catalogue

DEFAULTS = {"label_model": "auto", "seeds": 5, "row_timeout_s": 1.0, "memory_mb": 1024,
            "workers": 0, "chunk_rows": 2000, "program_budget_s": 20.0, "program_budget_ms_per_row": 10.0, "mode": "alchemist", "code_model": "gpt-4o-mini",
            "knowledge_model": "gpt-4o-mini", "knowledge_type": "rules", "num_programs": 10,
            "temperature": 0.7, "max_output_tokens": 2048, "llm_timeout_s": 120.0, "llm_retries": 4,
            "trial_rows": 20, "prompt_rows": 8, "features": "auto", "refine_rounds": 1, "concurrency": 8,
            "embedding_model": None, "device": "auto", "own_split_valid": 0.15, "own_split_test": 0.15, "own_split_seed": 0}


@dataclass
class Settings:
    data_dir: Path
    saved_dir: Path  # LF_saved_dir: where runs are written
    defaults: dict = field(default_factory=lambda: dict(DEFAULTS))
    models: dict[str, ModelSpec] = field(default_factory=dict)  # the model catalogue
    cache_dir: Path = field(default_factory=lambda: in_project(".cache/llm"))  # LLM replies
    cache_root: Path = field(default_factory=lambda: in_project(".cache"))  # columns, embeddings, indexes, ...


def _read_config(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise AlchemistError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except OSError as e:
        raise AlchemistError(f"{path}: cannot read it ({e.strerror or e})") from None
    if not isinstance(data, dict):
        raise AlchemistError(f"{path}: expected a JSON object")
    return data


def _project_config(path: Path | None) -> Path | None:
    """The project's own config.json (or the one given), unless it is the bundled file itself."""
    path = path or project_home() / "config.json"
    if not path.is_file() or (DEFAULT_CONFIG.is_file() and path.resolve() == DEFAULT_CONFIG.resolve()):
        return None
    return path


def load_settings(path: Path | None = None) -> Settings:
    """The bundled config.json overlaid with the project's (or `path`); a broken one is a one-line error."""
    _load_dotenv()
    base = _read_config(DEFAULT_CONFIG)
    models = parse_catalogue(base.get("models", {}), str(DEFAULT_CONFIG))
    user_defaults = dict(base.get("defaults", {}))
    data, where = dict(base), str(DEFAULT_CONFIG)
    own = _project_config(path)
    if own is not None:
        mine, where = _read_config(own), str(own)
        if not isinstance(mine.get("defaults", {}), dict):
            raise AlchemistError(f"{where}: 'defaults' must be an object")
        user_defaults.update(mine.get("defaults", {}))
        models.update(parse_catalogue(mine.get("models", {}), where))
        data.update({k: v for k, v in mine.items() if k not in ("defaults", "models")})
    return Settings(data_dir=in_project(str(data.get("data_dir", "datasets"))),
                    saved_dir=in_project(str(data.get("LF_saved_dir", "generated_lfs"))),
                    defaults=_checked_defaults(user_defaults, where), models=models, **_cache_places(data))


def _checked_defaults(given: dict, where: str) -> dict:
    for key, value in given.items():
        if key in DEFAULTS and not isinstance(value, type(DEFAULTS[key])) and not (
                isinstance(DEFAULTS[key], float) and isinstance(value, int)):
            raise AlchemistError(f"{where}: defaults.{key} should be a {type(DEFAULTS[key]).__name__}")
    cap = given.get("max_cost")
    if cap is not None and (not isinstance(cap, (int, float)) or isinstance(cap, bool) or cap <= 0):
        raise AlchemistError(f"{where}: defaults.max_cost must be a positive number of dollars, or null")
    return {**DEFAULTS, **given}


def _cache_places(data: dict) -> dict:
    """Where caches go. ALCHEMIST_CACHE_DIR names one folder for all of them (LLM replies in its llm/);
    otherwise config.json's cache_dir holds the LLM replies and cache_root (default .cache) the rest
    (columns, embeddings, RAG indexes, tokenizers, the wizard's remembered answers)."""
    env = os.environ.get("ALCHEMIST_CACHE_DIR")
    if env:
        root = in_project(env)
        return {"cache_dir": root / "llm", "cache_root": root}
    return {"cache_dir": in_project(str(data.get("cache_dir", ".cache/llm"))),
            "cache_root": in_project(str(data.get("cache_root", ".cache")))}


def _load_dotenv() -> None:
    try:
        from dotenv import load_dotenv
    except ImportError:  # the engine works without it; keys can come from the environment
        return
    load_dotenv(project_home() / ".env", override=False)


def resolve_data_dir(flag: str | None, settings: Settings) -> Path:
    """--data-dir, else ALCHEMIST_DATA_DIR, else config.json's data_dir."""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get("ALCHEMIST_DATA_DIR")
    return Path(env).expanduser() if env else settings.data_dir
