"""Shared fixtures. Tests never reach the internet; real datasets are optional (skipped if absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alchemist.core.paths import DEMO as DEMO_DIR  # noqa: F401 - the tests import it from here

ROOT = Path(__file__).resolve().parent.parent  # the clone: its entry points, docs and examples
DEMO_PROGRAMS = ROOT / "examples" / "demo_programs"


def shared_datasets() -> Path | None:
    """The real WRENCH-layout datasets beside the repo (../shared/datasets), if present."""
    for candidate in (os.environ.get("ALCHEMIST_SHARED_DATA"), ROOT.parent / "shared" / "datasets"):
        if candidate and (Path(candidate) / "youtube").is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def shared_data() -> Path:
    path = shared_datasets()
    if path is None:
        pytest.skip("../shared/datasets is absent (real WRENCH data); set ALCHEMIST_SHARED_DATA to run this")
    return path


@pytest.fixture
def write_programs(tmp_path):
    """Write {name: source} as a folder of program files; return the folder."""

    def _write(programs: dict[str, str], folder: str = "programs") -> Path:
        out = tmp_path / folder
        out.mkdir(exist_ok=True)
        for name, source in programs.items():
            (out / f"{name}.py").write_text(source)
        return out

    return _write


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path_factory, monkeypatch):
    """Every test starts with empty caches (LLM replies, columns, indexes), unless it sets its own."""
    if "ALCHEMIST_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("ALCHEMIST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def env(monkeypatch, tmp_path):
    """An OpenAI key for the SDK (the stand-in server ignores it), a cache of the test's own, no base URL
    from the environment. Test files with other needs define their own `env`."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ALCHEMIST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return tmp_path
