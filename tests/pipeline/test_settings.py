"""Settings: the bundled config.json, overlaid by the project folder's own; the project folder itself."""

from __future__ import annotations

import json

import pytest

from alchemist.core.errors import AlchemistError
from alchemist.core.paths import DEFAULT_CONFIG, in_project, project_home
from alchemist.pipeline.settings import load_settings


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path))
    monkeypatch.delenv("ALCHEMIST_CACHE_DIR", raising=False)
    monkeypatch.delenv("ALCHEMIST_DATA_DIR", raising=False)
    return tmp_path


def test_without_a_config_of_its_own_a_project_gets_the_bundled_one_and_its_own_folders(home):
    settings = load_settings()
    bundled = json.loads(DEFAULT_CONFIG.read_text())
    assert set(settings.models) == set(bundled["models"]) and settings.defaults["code_model"] == "gpt-4o-mini"
    assert project_home() == home and in_project("x") == home / "x"
    assert settings.data_dir == home / "datasets" and settings.saved_dir == home / "generated_lfs"
    assert settings.cache_dir == home / ".cache" / "llm" and settings.cache_root == home / ".cache"


def test_the_projects_config_adds_models_overrides_defaults_and_paths(home):
    (home / "config.json").write_text(json.dumps({
        "LF_saved_dir": "runs", "defaults": {"seeds": 2, "code_model": "my-local"},
        "models": {"my-local": {"provider": "openai-compatible", "api_id": "llama3.1", "input_per_1m": 0,
                                "output_per_1m": 0, "base_url": "http://127.0.0.1:11434/v1"}}}))
    settings = load_settings()
    assert settings.defaults["seeds"] == 2 and settings.defaults["code_model"] == "my-local"
    assert "my-local" in settings.models and "gpt-4o-mini" in settings.models  # added, not replacing the catalogue
    assert settings.saved_dir == home / "runs" and settings.data_dir == home / "datasets"


@pytest.mark.parametrize("text, message", [("{", "not valid JSON"), ("[]", "expected a JSON object"),
                                           ('{"defaults": {"seeds": "five"}}', "defaults.seeds should be a int"),
                                           ('{"models": {"x": {"provider": "nope"}}}', "models.x")])
def test_a_broken_project_config_is_one_line_naming_it(home, text, message):
    (home / "config.json").write_text(text)
    with pytest.raises(AlchemistError, match=message) as e:
        load_settings()
    assert str(home / "config.json") in str(e.value) and "\n" not in str(e.value)


def test_the_project_env_file_is_read_without_overriding_the_environment(home, monkeypatch):
    monkeypatch.delenv("ALCHEMIST_TEST_KEY", raising=False)
    monkeypatch.setenv("ALCHEMIST_TEST_SET", "from the shell")
    (home / ".env").write_text("ALCHEMIST_TEST_KEY=from-env-file\nALCHEMIST_TEST_SET=from-env-file\n")
    load_settings()
    import os

    assert os.environ["ALCHEMIST_TEST_KEY"] == "from-env-file" and os.environ["ALCHEMIST_TEST_SET"] == "from the shell"
    monkeypatch.delenv("ALCHEMIST_TEST_KEY")
